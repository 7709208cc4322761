"""Randomized differential test of in-place operations, views and autograd, against torch.

Each seed makes a small program over float64 tensors: a leaf ``x`` and a leaf ``y`` that require
grad, a non-leaf ``h = x * c`` (sometimes ``hy = h * y``), plain buffers ``b`` and ``p``; then
3-12 random statements mixing out-of-place ops (mul, add, exp, tanh, sum over dims, matmul,
clone, advanced indexing, and MORE_OUT_OF_PLACE: sigmoid, softmax, cumsum, where, cat, stack,
abs, pow, /, amax, norm, flip, roll), views (indexing and slices with steps, t/transpose/
permute, view/reshape, unsqueeze/squeeze, narrow, select, as_strided, detach, .data, and
_more_view: movedim, swapaxes, flatten, unflatten, view_as, mT, pieces of unbind/chunk/split),
in-place ops (add_, sub_, mul_, tanh_, relu_, clamp_, copy_, fill_, zero_, masked_fill_,
t[idx] = v with basic and advanced indices, +=, *=, t_, squeeze_, unsqueeze_, and
MORE_IN_PLACE: div_, addcmul_, addcdiv_, lerp_, sigmoid_, neg_, abs_, exp_, square_, pow_,
copysign_, fmod_, alpha=, clamp_ by a tensor, index_add_, index_copy_, index_fill_, scatter_,
masked_scatter_; some under no_grad, writes through a temporary diagonal() or expand()) and
uses of earlier results. The generator runs each statement in torch as it goes, so every
statement is valid there or raises one of torch's in-place/view refusals (then it is the last
statement). The same text runs with ``lib`` = ember and with ``lib`` = torch, and must agree
on:
- which statement raises, if any (ember must refuse what torch refuses at the statement);
- the values, shapes and requires_grad of every live tensor (to 1e-10);
- after a backward of Σ (t·w) over a few live tensors that require grad, the gradients of x
  and y (to 1e-10).
Where torch raises at backward because of its version counters ("modified by an inplace
operation"), ember raising the same is right only for a write that autograd does not record;
for the others ember completing is by design: its gradients must then equal torch's with every
saved tensor copied when saved (torch.autograd.graph.saved_tensors_hooks), the gradient of what
was computed, and, where every write is one autograd tracks (no no_grad, .data or .detach()),
central finite differences of the same program in ember.

The sample avoids the differences that a fuzz campaign found: 4,000 programs of a wider
generator, of which 96% agree at commit 7a780a6 (tests/test_inplace_fuzz.py was written against
it). Below, h = x * 1 is a non-leaf that requires grad and x, y leaves; the generator's rule
for each is marked (n) in the code:
1. Writes through unfold() windows that share elements (step < size) are refused with torch's
   "more than one element ... refers to a single memory location" (torch writes them, in an
   order it does not define); windows apart are written through, as torch. The windows, and
   the pieces of split()/chunk()/
   unbind(), show their base's later changes, as torch's (tests/test_inplace_views.py); torch
   then refuses to differentiate through such a piece, where ember differentiates the piece
   of the new base.
2. as_strided: in-place writes through views with overlapping or unsorted strides are refused
   with torch's "more than one element ... refers to a single memory location", also where no
   element repeats (``h.as_strided((2, 3), (3, 2)).relu_()`` on a 3x4 h), while torch writes
   them. An as_strided view of a view that reaches outside that view (``h[3].as_strided((3,),
   (1,), 3)``) and is then changed in place: torch sends the gradient of its old values to the
   storage's places (CopySlices on the base), ember through the view it was taken from, where
   those places are not (not generated: as_strided of a view stays inside it here). (Mended:
   such views hang from the tensor at the top and are written and refreshed there, as the
   storage-wide geometry means: ``h.as_strided((2, 2), (3, 1)).as_strided((2,), (2,))[1] = 0``
   and ``v = h[:, 1:]; a = v.as_strided((2,), (2,), 1); v.clamp_(min=3.5)`` agree.)
3. Writes into the expanded (stride-0) memory of a tensor in the graph that torch performs
   are refused: fill_, zero_, masked_fill_, copy_, ``e[0] = v``, ``e[[1]] = v`` on ``e =
   h.expand(2, 3)``, and writes into a part that repeats nothing (``e[0].mul_(2)``). For plain
   tensors ember writes what torch writes (constants, index assignments, views that repeat
   nothing) and refuses elementwise writes into repeated memory with torch's message, as
   torch (masked_fill_ writes the masked places, with torch's deprecation warning).
4. Plain aliases. A plain tensor that takes a value needing grad does not write it into memory
   shared with a graph tensor: ``a = h.data; a.mul_(x)`` and ``a = h.detach(); a[0, 0] =
   h.sum()`` leave h unchanged. ``x.data.add_(h)``, ``zeros(6).view(2, 3).add_(x)`` and
   ``p.unsqueeze_(0); p[0] = y`` raise ("memory is a view of other memory"). Views taken
   earlier of such a plain tensor keep requires_grad False (documented: torch makes them
   differentiable views). An alias of a plain view of a plain tensor is not re-pointed, and
   NumPy arrays (``.numpy()``) cannot follow. (Mended: aliases of views of h in the graph,
   ``h[0].detach()``; views and aliases of h's aliases, ``h.detach()[0]``, ``h.data.data``;
   views of h taken under no_grad (tensor_memory_aliases.NOTED); aliases of h across writes
   through its diagonal, ``h.diagonal().mul_(2); a = h.detach(); h.mul_(2)``, which make h a
   view; tests/test_inplace_alias_views.py. Generated again: 6,000 programs agree.)
5. A write through a ``.data`` alias into memory that a recorded op saved changes the gradient,
   as in torch, which counts no version for it (``hy = h * y; y.data.clamp_(min=0.1)``).
   Where torch then raises at backward for another reason (``h.squeeze_()``), its gradient
   with saved copies keeps the old y and ember's uses the new one, so such programs are left
   out. Other
   writes that autograd does not record (under no_grad, into a plain tensor, through detach())
   raise torch's "modified by an inplace operation" at backward where the op saved the memory
   written (ember/autograd_saved_writes.py); in 2,000 generated programs at the commit that
   added it, all 82 where torch raises for such a write agree.
6. A leaf that requires grad whose shape changes under no_grad (``x.unsqueeze_(-1)``) after
   an op used it: torch's backward gives x a gradient of the old shape ((3, 4) for x made
   (3, 4, 1)), or that gradient broadcast to the new shape ((1, 4) for x made (1, 4) from
   (4,)), and refuses the new shape in later graphs; ember's backward broadcasts where NumPy
   can and fails otherwise. Not generated.
   (Mended since the campaign: shape-only in-place ops on a view of a leaf that requires
   grad, and any in-place op on an empty view of one, are refused as torch refuses them; a
   shape change under no_grad of a tensor in the graph raises torch's "expected shape
   compatible with" where a gradient of the new shape reaches the op that made it. These
   programs are generated again: 2,000 of them agree at the commit that mended them.)
7. An in-place op whose operand overlaps self in part (``h.add_(h[:, 1:2])``): ember reads the
   operand before writing; torch's result depends on its iteration order.
8. (Mended: a write through diagonal(offset, d1, d2) with dims other than (0, 1) leaves h
   row-major, as torch's; recorded writes into a transposed tensor in the graph (``h.t_(); h +=
   c``) and out-of-place results of transposed inputs keep torch's strides. Generated again:
   4,000 programs, all agree.)
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

N_PROGRAMS = 200
TOL = 1e-10
#: torch's refusals at a statement that the generator keeps (as the program's last statement)
KEEP = re.compile(
    r"leaf Variable|in-place|inplace|more than one element of the written-to|is a"
    r" view|view size is not compatible|requires grad",
    re.I,
)
VERSION = "modified by an inplace operation"
SCALARS = ["0.5", "-0.7", "1.3", "2.0", "-1.1", "0.25"]


# ------------------------------------------------------------------------------- generation
class _Program:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.D: dict[str, np.ndarray] = {}
        self.stmts: list[str] = []
        self.loss: list[tuple[str, str]] = []
        self.n = 0
        self.reshaped: set[str] = set()  # plain tensors changed by t_/squeeze_/unsqueeze_
        self.untracked = False  # a write that autograd does not record (no_grad, plain tensor)
        # views: what made them ("diag", "diag_odd": dims other than (0, 1), "expand",
        # "strided": as_strided with overlapping or unsorted strides), inherited by their views
        self.tags: dict[str, set[str]] = {}
        self.made: set[str] | None = None  # the tags of the view being made (None: no view)

    def data(self, prefix, shape, mask=False):
        name = f"{prefix}{len(self.D)}"
        rs = np.random.RandomState(self.r.randrange(2**31))
        self.D[name] = rs.rand(*shape) < 0.5 if mask else np.asarray(rs.randn(*shape))
        return name

    def const(self, shape):
        return f"lib.tensor(D['{self.data('c', shape)}'], dtype=lib.float64)"

    def mask(self, shape):
        return f"lib.tensor(D['{self.data('m', shape, True)}'])"


def _run_torch(stmts, D):
    env = {"lib": torch, "D": D}
    for s in stmts:
        exec(s, env)
    return env


def _tensors(env):
    return {k: v for k, v in env.items() if isinstance(v, torch.Tensor)}


def _storage(t):
    return t.untyped_storage().data_ptr()


def _shares(env, name):
    """The other live tensors over name's memory (views of it, its base, aliases)."""
    ts = _tensors(env)
    t = ts[name]

    def related(v):
        if v._base is t or t._base is v or (t._base is not None and v._base is t._base):
            return True
        return bool(t.numel() and v.numel() and _storage(v) == _storage(t))

    return [k for k, v in ts.items() if k != name and related(v)]


def _graph_alias(env, name):
    """name is plain and shares memory with a tensor that requires grad (.data, .detach())."""
    ts = _tensors(env)
    return not ts[name].requires_grad and any(ts[k].requires_grad for k in _shares(env, name))


def _fits(b, a):
    try:
        return tuple(torch.broadcast_shapes(b, a)) == tuple(a)
    except RuntimeError:
        return False


def _operand(g, env, shape, target=None):
    """An expression that broadcasts to ``shape``, and whether it requires grad. Never a tensor
    that overlaps ``target`` in part (7)."""
    r, ts = g.r, _tensors(env)
    avoid = set(_shares(env, target)) if target else set()
    cands = [k for k, v in ts.items() if _fits(tuple(v.shape), shape) and k not in avoid]
    u = r.random()
    if u < 0.2:
        return r.choice(SCALARS), False
    if u < 0.75 and cands:
        k = r.choice(cands)
        return (f"{k}.tanh()" if u > 0.65 else k), ts[k].requires_grad
    return g.const(shape), False


def _index(r, shape):
    nd, s0 = len(shape), shape[0]
    a, step = r.randrange(max(s0, 1)), r.choice([1, 2, 2, 3])
    opts = [f"{a}::{step}", f":{max(1, s0 - 1)}", f"{a}:{r.randrange(a, s0 + 1)}:{step}"]
    if s0:
        opts += [str(r.randrange(-s0, s0)), f"None, {r.randrange(s0)}"]
    if nd >= 2 and shape[1] and s0:
        s1 = shape[1]
        opts += [
            f":, {r.randrange(-s1, s1)}",
            f"::{step}, {r.randrange(s1)}::2",
            f"{r.randrange(s0)}, {r.randrange(s1)}",
            f"..., {r.randrange(shape[-1])}",
        ]
    return r.choice(opts)


def _adv_index(g, shape):
    if g.r.random() < 0.5 or not shape[0]:
        return g.mask(shape)
    return str(sorted({g.r.randrange(shape[0]) for _ in range(g.r.randrange(1, 3))}))


def _new_shape(r, shape):
    n = int(np.prod(shape)) if shape else 1
    outs = [(-1,), (n,), (1, *shape), (*shape, 1)]
    outs += [(d, -1) for d in range(2, n) if n % d == 0]
    return r.choice(outs)


def _as_strided(g, name, t):
    """Inside t's storage (counted from t's own offset unless one is given); mostly
    non-overlapping with sorted strides, else tagged "strided" (no writes through it: 2)."""
    r, N = g.r, t.untyped_storage().nbytes() // t.element_size()
    for _ in range(10):
        if r.random() < 0.5:
            size = (r.randrange(1, 5),)
            stride = (r.choice([1, 2, 3]),)
        else:
            size = (r.randrange(1, 4), r.randrange(1, 4))
            s1 = r.choice([1, 2])
            stride = (size[1] * s1 + r.choice([0, 1, 2]), s1)
        if r.random() < 0.25:  # overlapping or unsorted
            stride = tuple(r.choice([0, 1, 2, 3]) for _ in size)
            g.made = {"strided"}
        off = r.randrange(N) if r.random() < 0.4 else None
        reach = sum((s - 1) * st for s, st in zip(size, stride))
        if t._base is not None and (off is not None or reach >= t.numel()):
            continue  # of a view: only inside the view's own (contiguous) elements (2)
        start = t.storage_offset() if off is None else off
        if start + reach < N:
            tail = "" if off is None else f", {off}"
            return f"{name}.as_strided({size}, {stride}{tail})"
    g.made = set()
    return f"{name}.flatten()"


def _view(g, env, name, t):
    r, sh, nd = g.r, tuple(t.shape), t.dim()
    opts = ["unsqueeze", "index", "detach", "data"] + (
        ["index", "view", "reshape", "narrow", "select", "squeeze"] if nd else []
    )
    if nd == 2:
        opts.append("t")
    if nd >= 2:
        opts += ["transpose", "permute"]
        opts += ["diagonal", "expand"]
    if t.numel() and t.is_contiguous() and (t if t._base is None else t._base).is_contiguous():
        opts.append("as_strided")  # (not of a transposed result: its layout differs, 8)
    if nd and r.random() < 0.3:
        return _more_view(g, name, t)
    k = r.choice(opts)
    g.made = set()
    if k in ("detach", "data"):  # aliases of plain views of plain tensors go stale (4)
        plain_view = t._base is not None and not t.requires_grad and not _graph_alias(env, name)
        if plain_view:
            g.made = None
            return f"{name}.clone()"
        return f"{name}.detach()" if k == "detach" else f"{name}.data"
    if k == "diagonal":
        a, b = r.sample(range(nd), 2)
        g.made = {"diag"} if (a, b) == (0, 1) else {"diag", "diag_odd"}
        return f"{name}.diagonal({r.choice([0, 0, 1, -1])}, {a}, {b})"
    if k == "expand":
        g.made = {"expand"}
        ones = [i for i, s in enumerate(sh) if s == 1]
        if ones and r.random() < 0.5:
            new = list(sh)
            new[r.choice(ones)] = 3
            return f"{name}.expand{tuple(new)}"
        return f"{name}.expand(2, *{name}.shape)"
    if k == "unsqueeze":
        return f"{name}.unsqueeze({r.randrange(-nd - 1, nd + 1)})"
    if k == "index":
        return f"{name}[{_index(r, sh) if nd else '...'}]"
    if k in ("view", "reshape"):
        return f"{name}.{k}{_new_shape(r, sh)}"
    if k in ("narrow", "select"):
        d = r.randrange(nd)
        if not sh[d]:
            g.made = None
            return f"{name}.clone()"
        if k == "select":
            return f"{name}.select({d}, {r.randrange(-sh[d], sh[d])})"
        s = r.randrange(sh[d])
        return f"{name}.narrow({d}, {s}, {r.randrange(1, sh[d] - s + 1)})"
    if k == "squeeze":
        ones = [i for i, s in enumerate(sh) if s == 1]
        return f"{name}.squeeze({r.choice(ones)})" if ones else f"{name}.squeeze()"
    if k == "t":
        return f"{name}.t()"
    if k == "transpose":
        a, b = r.sample(range(nd), 2)
        return f"{name}.transpose({a}, {b})"
    if k == "permute":
        p = list(range(nd))
        r.shuffle(p)
        return f"{name}.permute{tuple(p)}"
    return _as_strided(g, name, t)


def _more_view(g, name, t):
    """A view by one of torch's further view ops (movedim, swapaxes, flatten, unflatten,
    view_as, mT, T), or a copy of a piece of unbind/chunk/split (pieces are not written
    through: 1)."""
    r, sh, nd = g.r, tuple(t.shape), t.dim()
    g.made = set()
    k = r.choice(
        ["movedim", "swapaxes", "flatten", "unflatten", "view_as", "mT", "unfold", "piece"]
    )
    if k in ("movedim", "swapaxes", "mT") and nd >= 2:
        a, b = r.randrange(nd), r.randrange(nd)
        return f"{name}.mT" if k == "mT" else f"{name}.{k}({a}, {b})"
    if k == "flatten":
        return f"{name}.flatten({r.randrange(nd)})"
    if k == "unflatten" and sh[0] in (4, 6, 12):
        return f"{name}.unflatten(0, {({4: (2, 2), 6: (2, 3), 12: (3, 4)})[sh[0]]})"
    if k == "view_as":
        return f"{name}.view_as({name})"
    if k == "unfold" and nd and sh[-1] >= 2:  # windows apart: written through (1)
        size = r.randint(1, 2)
        return f"{name}.unfold({nd - 1}, {size}, {size + r.randint(0, 1)})"
    g.made = None
    if sh[0] and r.random() < 0.5:
        return f"{name}.unbind(0)[{r.randrange(sh[0])}] * 1"
    return f"{name}.{r.choice(['chunk(2)', 'split(1)'])}[0] * 1"


#: further out-of-place ops that read the live tensors (format strings of ``n``, ``d``: a dim)
MORE_OUT_OF_PLACE = [
    "{n}.sigmoid()", "{n}.softmax({d})", "{n}.cumsum({d})", "lib.where({n} > 0, {n}, {n} * 0.1)",
    "lib.cat([{n}, {n} * 2], {d})", "lib.stack([{n}, {n}.tanh()])", "({n} + 0.1).abs()",
    "{n}.pow(2)", "{n} / 2.5", "{n}.amax({d})", "{n}.norm()", "{n}.flip({d})", "{n}.roll(1, {d})",
]  # fmt: skip


def _out_of_place(g, env, name, t):
    r, sh, nd = g.r, tuple(t.shape), t.dim()
    if nd and r.random() < 0.3:
        return r.choice(MORE_OUT_OF_PLACE).format(n=name, d=r.randrange(-nd, nd))
    k = r.choice(["mul", "mul", "add", "exp", "tanh", "sum", "matmul", "clone", "adv"])
    if k in ("mul", "add"):
        return f"{name} {'*' if k == 'mul' else '+'} {_operand(g, env, sh)[0]}"
    if k == "exp":
        return f"({name} * 0.5).exp()"
    if k == "tanh" or not nd:
        return f"{name}.tanh()"
    if k == "sum":
        if r.random() < 0.2:
            return f"{name}.sum()"
        keep = ", keepdim=True" if r.random() < 0.3 else ""
        return f"{name}.sum({r.randrange(-nd, nd)}{keep})"
    if k == "matmul":
        n = sh[-1]
        if nd == 1:
            return f"{name} @ {g.const((n, r.choice([2, 3])))}"
        ts = _tensors(env)
        cands = [j for j, v in ts.items() if v.dim() in (1, 2) and v.shape[0] == n]
        if cands and r.random() < 0.6:
            return f"{name} @ {r.choice(cands)}"
        return f"{name} @ {g.const((n,) if r.random() < 0.4 else (n, 2))}"
    if k == "clone":
        return f"{name}.clone()"
    return f"{name}[{_adv_index(g, sh)}]"


SHAPE_ONLY = ("t_", "squeeze_", "unsqueeze_")
#: further in-place ops, values and index writes (first generated at 4743c98: 3,946 programs
#: with ~4,000 of them agreed with torch)
MORE_IN_PLACE = (
    "div_ addcmul_ addcdiv_ lerp_ sigmoid_ neg_ abs_ exp_ square_ pow_ copysign_ fmod_ sub_alpha"
    " clamp_t index_add_ index_copy_ index_fill_ scatter_ masked_scatter_"
).split()


#: MORE_IN_PLACE's ops without a tensor operand: (statement, constants for {c})
PLAIN_IN_PLACE = {
    "sigmoid_": ("{n}.sigmoid_()", [""]), "neg_": ("{n}.neg_()", [""]),
    "abs_": ("{n}.abs_()", [""]), "square_": ("{n}.square_()", [""]),
    "exp_": ("{n}.tanh_().exp_()", [""]), "pow_": ("{n}.pow_({c})", ["2", "3", "2.0"]),
    "fmod_": ("{n}.fmod_({c})", ["0.7", "1.5"]),
}  # fmt: skip
#: and those with one tensor operand {a}
OPERAND_IN_PLACE = {
    "div_": ("{n}.div_({a}.tanh() * 0.5 + {c})", ["2.0", "-1.5"]),
    "lerp_": ("{n}.lerp_({a}, {c})", ["0.3", "0.75"]),
    "copysign_": ("{n}.copysign_({a})", [""]),
    "sub_alpha": ("{n}.{c}", ["sub_({a}, alpha=2.0)", "add_({a}, alpha=-0.5)"]),
    "clamp_t": ("{n}.clamp_({c}={a})", ["min", "max"]),
}


def _more_in_place(g, env, name, t, k):
    """A statement of ``MORE_IN_PLACE``'s op ``k`` on ``name``, and whether its operands
    require grad. Divisors keep away from 0; index writes go along dim 0."""
    r, sh, nd = g.r, tuple(t.shape), t.dim()

    def operand(shape=sh):
        value, needs = _operand(g, env, shape, name)
        return f"({value}) * lib.ones({shape}, dtype=lib.float64)", needs  # a tensor, always

    if k in PLAIN_IN_PLACE:  # no tensor operand: a format and the constants to pick from
        form, constants = PLAIN_IN_PLACE[k]
        return form.format(n=name, c=r.choice(constants)), False
    if k in ("index_fill_", "index_add_", "index_copy_", "scatter_"):
        if not nd or not sh[0] or not t.numel():
            return f"{name}.neg_()", False
        rows = sorted({r.randrange(sh[0]) for _ in range(r.randrange(1, 3))})
        if k == "index_fill_":
            return f"{name}.index_fill_(0, lib.tensor({rows}), {r.choice(SCALARS)})", False
        if k != "scatter_":
            b, needs = operand((len(rows), *sh[1:]))
            return f"{name}.{k}(0, lib.tensor({rows}), {b})", needs
        shape = (1, *sh[1:])  # one row index per element of the source
        idx = [r.randrange(sh[0]) for _ in range(int(np.prod(shape)))]
        b, needs = operand(shape)
        return f"{name}.scatter_(0, lib.tensor({idx}).reshape{shape}, {b})", needs
    a, needs = operand()
    if k in ("addcmul_", "addcdiv_"):
        b, needs_b = operand()
        b = f"({b}.tanh() * 0.5 + 2.0)" if k == "addcdiv_" else b
        return f"{name}.{k}({a}, {b}, value={r.choice(['0.5', '-1.5'])})", needs or needs_b
    if k in OPERAND_IN_PLACE:
        form, constants = OPERAND_IN_PLACE[k]
        return form.format(n=name, a=a, c=r.choice(constants).format(a=a)), needs
    return f"{name}.masked_scatter_({g.mask(sh)}, {a})", needs


def _in_place(g, env, name, t, no_grad=False):
    """An in-place statement on ``name``, or None where it would meet a known difference."""
    r, sh, nd = g.r, tuple(t.shape), t.dim()
    tags = g.tags.get(name, set())
    if "strided" in tags:
        return None  # (2)
    opts = (
        "add_ add_ mul_ sub_ relu_ tanh_ clamp_ copy_ fill_ zero_ masked_fill_ setitem setitem"
        " setitem_adv iadd imul no_grad unsqueeze_ diagonal expand"
    ).split()
    if nd == 2:
        opts.append("t_")
    if nd:
        opts.append("squeeze_")
    if "expand" not in tags and r.random() < 0.4:
        opts = MORE_IN_PLACE
    k = r.choice(opts)
    if "expand" in tags and t.requires_grad:
        if not any(st == 0 and n > 1 for n, st in zip(sh, t.stride())):
            return None  # a view of an expanded tensor in the graph that repeats nothing (3)
        if k not in ("add_", "mul_", "sub_", "relu_", "tanh_", "iadd", "imul"):
            return None  # torch writes into the graph's repeated memory by these (3)
    if k in SHAPE_ONLY:
        if _shares(env, name) or (no_grad and t.is_leaf and t.requires_grad):
            return None  # (4), (6)
        if not t.requires_grad:
            g.reshaped.add(name)
        g.untracked |= no_grad  # torch counts a version for it, and so does ember
        if k == "t_":
            return f"{name}.t_()"
        if k == "unsqueeze_":
            return f"{name}.unsqueeze_({r.randrange(-nd - 1, nd + 1)})"
        ones = [i for i, s in enumerate(sh) if s == 1]
        return f"{name}.squeeze_({r.choice(ones)})" if ones else f"{name}.squeeze_()"
    if k == "no_grad":
        if no_grad:
            return None
        inner = _in_place(g, env, name, t, no_grad=True)
        return None if inner is None else f"with lib.no_grad():\n    {inner}"
    if k == "diagonal":  # a write through a diagonal view made for it
        if nd < 2:
            return None
        g.untracked |= no_grad or not t.requires_grad
        return f"{name}.diagonal({r.choice([0, 0, 1, -1])}, 0, 1).mul_({r.choice(SCALARS)})"
    if k == "expand":  # refused by both: several elements share one memory location
        return f"{name}.expand(2, *{name}.shape).add_({r.choice(SCALARS)})"
    value, needs_grad = None, False
    if k in MORE_IN_PLACE:
        stmt, needs_grad = _more_in_place(g, env, name, t, k)
    elif k in ("add_", "mul_", "sub_", "copy_", "iadd", "imul"):
        value, needs_grad = _operand(g, env, sh, name)
        op = {"iadd": "+=", "imul": "*="}.get(k)
        stmt = f"{name} {op} {value}" if op else f"{name}.{k}({value})"
    elif k in ("relu_", "tanh_", "zero_"):
        stmt = f"{name}.{k}()"
    elif k == "clamp_":
        stmt = f"{name}.clamp_({r.choice(['-0.5, 0.5', 'min=0.1', 'max=-0.2', '-1.0, 0.3'])})"
    elif k == "fill_":
        stmt = f"{name}.fill_({r.choice(SCALARS)})"
    elif k == "masked_fill_":
        stmt = f"{name}.masked_fill_({g.mask(sh)}, {r.choice(SCALARS)})"
    else:  # index assignment
        if not nd:
            idx = "..."
        else:
            idx = _index(r, sh) if k == "setitem" else _adv_index(g, sh)
        if k == "setitem_adv" and r.random() < 0.5:
            value = r.choice(SCALARS)
        else:
            part = eval(f"t[{idx}]", {"t": t.detach(), "lib": torch, "D": g.D})
            value, needs_grad = _operand(g, env, tuple(part.shape), name)
        stmt = f"{name}[{idx}] = {value}"
    recorded = not no_grad and (needs_grad or t.requires_grad)
    if recorded and not t.requires_grad and (_shares(env, name) or name in g.reshaped):
        return None  # a plain tensor with aliases, or reshaped in place, takes a grad value (4)
    g.untracked |= not recorded
    return stmt


def generate(seed: int) -> _Program:
    g = _Program(seed)
    r = g.r
    xs = r.choice([(3, 4), (4, 4), (2, 3, 4), (4, 3)])
    pre = [
        f"x = lib.tensor(D['{g.data('x', xs)}'], dtype=lib.float64, requires_grad=True)",
        f"y = lib.tensor(D['{g.data('y', xs[-1:])}'], dtype=lib.float64, requires_grad=True)",
        f"h = x * {g.const(xs)}",
        f"b = {g.const(xs)}",
        f"p = lib.zeros({xs[-1]}, dtype=lib.float64)",
    ]
    if r.random() < 0.5:
        pre.append("hy = h * y")
    g.stmts = list(pre)
    env = _run_torch(g.stmts, g.D)
    n, tries = r.randrange(3, 13), 0
    while len(g.stmts) - len(pre) < n and tries < 200:
        tries += 1
        ts = _tensors(env)
        graph = [k for k, v in ts.items() if v.requires_grad]
        name = r.choice(graph if graph and r.random() < 0.6 else list(ts))
        t, u = ts[name], r.random()
        g.made = None
        if u < 0.3:
            g.n += 1
            s = f"t{g.n} = {_view(g, env, name, t)}"
        elif u < 0.5:
            g.n += 1
            s = f"t{g.n} = {_out_of_place(g, env, name, t)}"
        else:
            s = _in_place(g, env, name, t)
            if s is None:
                continue
        try:
            exec(s, env)
            g.stmts.append(s)
            if g.made is not None:
                g.tags[f"t{g.n}"] = g.tags.get(name, set()) | g.made
        except Exception as e:  # noqa: BLE001 - torch refused it: keep it as the last one, or not
            if KEEP.search(str(e)) and r.random() < 0.35:
                g.stmts.append(s)
                break
            env = _run_torch(g.stmts, g.D)  # the statement may have half run
    ts = _tensors(env)
    graph = sorted(k for k, v in ts.items() if v.requires_grad)
    r.shuffle(graph)
    for k in sorted(graph[: r.randrange(1, 4)]):
        g.loss.append((k, g.data("w", tuple(ts[k].shape))))
    return g


# ------------------------------------------------------------------------------- running
def run(lib, prog, D=None, want_grad=True):
    """Runs the program; what it raised, the live tensors, the loss, the leaves' gradients."""
    D = prog.D if D is None else D
    env = {"lib": lib, "D": D}
    out = {"raised_at": None, "values": {}, "rg": {}, "loss": None, "bw_err": None, "grads": {}}
    for i, s in enumerate(prog.stmts):
        try:
            exec(s, env)
        except Exception as e:  # noqa: BLE001
            out["raised_at"] = (i, f"{type(e).__name__}: {e}")
            break
    for k, v in env.items():
        if isinstance(v, lib.Tensor):
            out["values"][k] = np.array(v.detach().tolist(), dtype=np.float64)
            out["rg"][k] = bool(v.requires_grad)
    terms = [
        (env[k] * lib.tensor(D[w], dtype=lib.float64)).sum()
        for k, w in prog.loss
        if isinstance(env.get(k), lib.Tensor) and env[k].requires_grad
    ]
    if not terms:
        return out
    try:
        loss = sum(terms[1:], terms[0])
        out["loss"] = float(loss.item())
        if want_grad:
            loss.backward()
            for leaf in ("x", "y"):
                gr = env[leaf].grad
                out["grads"][leaf] = None if gr is None else np.array(gr.tolist())
    except Exception as e:  # noqa: BLE001
        out["bw_err"] = f"{type(e).__name__}: {e}"
    return out


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and np.allclose(a, b, rtol=TOL, atol=TOL, equal_nan=True)


def _untracked_writes(prog) -> bool:
    """Whether the program writes outside autograd: under no_grad, or into a plain tensor (which
    may be a .data/.detach() alias of a tensor in the graph)."""
    return prog.untracked


def _directional_difference(prog, directions, eps=1e-6):
    """Central finite difference of the program's loss (in ember) along ``directions``, a
    perturbation of each leaf's data: (L(d + εv) - L(d - εv)) / 2ε."""
    keys = {
        leaf: next(
            re.search(r"D\['(\w+)'\]", s)[1] for s in prog.stmts if s.startswith(leaf + " =")
        )
        for leaf in directions
    }
    f = []
    for sign in (1, -1):
        D = dict(prog.D)
        for leaf, v in directions.items():
            D[keys[leaf]] = prog.D[keys[leaf]] + sign * eps * v
        f.append(run(ember, prog, D, want_grad=False)["loss"])
    return (f[0] - f[1]) / (2 * eps)


def in_sample(prog) -> bool:
    """Known difference 5, decided by torch alone: torch finds at backward that a saved tensor
    was overwritten, and the program writes through a .data alias (whose writes neither torch
    nor ember counts) outside autograd."""
    bw = run(torch, prog)["bw_err"]
    text = "\n".join(prog.stmts)
    return not (bw is not None and VERSION in bw and _untracked_writes(prog) and ".data" in text)


def compare(prog):
    """The differences between ember and torch on ``prog`` (an empty list where they agree)."""
    want, got = run(torch, prog), run(ember, prog)
    w_at, g_at = want["raised_at"], got["raised_at"]
    if (w_at and w_at[0]) != (g_at and g_at[0]):
        return [f"raised at: ember {g_at}, torch {w_at}"]
    bad = [
        f"{k}: ember {got['values'].get(k)} ({got['rg'].get(k)}), torch {v} ({want['rg'][k]})"
        for k, v in want["values"].items()
        if not _close(got["values"].get(k), v) or got["rg"].get(k) != want["rg"][k]
    ]
    if bad:
        return bad
    if want["bw_err"] is not None and VERSION in want["bw_err"]:
        if got["bw_err"] is not None:  # only for a write autograd does not record, as torch
            if VERSION in got["bw_err"] and _untracked_writes(prog):
                return []
            return [f"ember raised at backward: {got['bw_err']}"]
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            ref = run(torch, prog)
        bad = [
            f"grad {k}: ember {got['grads'][k]}, torch with saved copies {ref['grads'][k]}"
            for k in ("x", "y")
            if not _close(got["grads"][k], ref["grads"][k])
        ]
        text = "\n".join(prog.stmts)
        if bad or _untracked_writes(prog) or ".data" in text or ".detach()" in text:
            return bad  # finite differences would also see what autograd does not (detached)
        rs = np.random.RandomState(0)
        for _ in range(2):  # two random directions through (x, y)
            v = {k: rs.randn(*want["values"][k].shape) for k in ("x", "y")}
            fd = _directional_difference(prog, v)
            g = sum(float(np.sum(got["grads"][k] * v[k])) for k in v if got["grads"][k] is not None)
            if not np.isclose(g, fd, rtol=1e-6, atol=1e-6):
                bad.append(f"∇L·v: ember {g}, finite differences {fd}")
        return bad
    if (want["bw_err"] is None) != (got["bw_err"] is None):
        return [f"backward: ember {got['bw_err']}, torch {want['bw_err']}"]
    if want["loss"] is not None and not _close(np.array(got["loss"]), np.array(want["loss"])):
        return [f"loss: ember {got['loss']}, torch {want['loss']}"]
    return [
        f"grad {k}: ember {got['grads'].get(k)}, torch {want['grads'].get(k)}"
        for k in ("x", "y")
        if not _close(got["grads"].get(k), want["grads"].get(k))
    ]


def _sample():
    torch.set_num_threads(1)
    seeds, seed = [], 0
    while len(seeds) < N_PROGRAMS:
        if in_sample(generate(seed)):
            seeds.append(seed)
        seed += 1
    return seeds


@pytest.fixture(scope="module")
def sample():
    return _sample()


@pytest.mark.parametrize("chunk", range(8))
def test_random_in_place_programs_agree_with_torch(sample, chunk):
    failures = []
    for seed in sample[chunk::8]:
        prog = generate(seed)
        diff = compare(prog)
        if diff:
            text = "\n  ".join(prog.stmts)
            losses = [k for k, _ in prog.loss]
            failures.append(
                f"seed {seed}:\n  {text}\n  loss over {losses}\n  -> " + "\n  -> ".join(diff)
            )
    assert not failures, "\n\n".join(failures)
