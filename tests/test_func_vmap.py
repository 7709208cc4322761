"""ember.func.vmap (and ember.vmap, stack_module_state) against torch.func.vmap: values and
shapes for the in_dims/out_dims forms, nesting, per-sample gradients, ensembles, gradients
through vmap, and torch's errors (float64, 1e-10). Randomness: test_func_vmap_random.py."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import ember
from ember.func import functional_call, grad, grad_and_value, stack_module_state, vmap

RNG = np.random.default_rng(5)


def arr(*shape):
    return RNG.standard_normal(shape)


def close(e, t):
    """Two output trees alike: the same containers, the same tensors' shapes and values."""
    if isinstance(t, (tuple, list)):
        assert type(e).__name__ == type(t).__name__ or hasattr(t, "_fields"), (e, t)
        assert len(e) == len(t)
        for a, b in zip(e, t):
            close(a, b)
    elif isinstance(t, dict):
        assert type(e) is dict and list(e) == list(t)
        for k in t:
            close(e[k], t[k])
    elif hasattr(t, "detach"):
        assert tuple(e.shape) == tuple(t.shape)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(e.array, t.detach().numpy(), rtol=0, atol=1e-10)
    else:
        assert e == t


def both(torch, tree):
    """A tree of NumPy arrays as (ember tree, torch tree)."""

    def conv(lib, x):
        if isinstance(x, np.ndarray):
            return lib.tensor(x.copy())
        if isinstance(x, (tuple, list)):
            items = [conv(lib, v) for v in x]
            return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
        if isinstance(x, dict):
            return {k: conv(lib, v) for k, v in x.items()}
        return x

    return conv(ember, tree), conv(torch, tree)


# ------------------------------------------------------------ in_dims / out_dims forms
Pair = namedtuple("Pair", "a b")

CASES = {
    "dot": (lambda x, y: (x * y).sum(), (arr(4, 5), arr(4, 5)), {}),
    "in_dims=1": (lambda x, y: (x * y).sum(), (arr(5, 4), arr(5, 4)), {"in_dims": 1}),
    "(0, None)": (lambda x, y: x @ y, (arr(4, 3, 5), arr(5)), {"in_dims": (0, None)}),
    "negative": (lambda x, y: x * y, (arr(5, 4), arr(4, 5)), {"in_dims": (-1, 0)}),
    "out_dims=1": (lambda x: x * 2, (arr(3, 4, 2),), {"out_dims": 1}),
    "out_dims=-1": (lambda x: x.exp(), (arr(3, 4, 2),), {"out_dims": -1}),
    "out_dims=(2,)": (lambda x: x.exp(), (arr(3, 4, 2),), {"out_dims": (2,)}),
    "tuple out": (lambda x: (x.sin(), x.sum()), (arr(3, 4),), {"out_dims": (1, 0)}),
    "list out": (lambda x: [x.sin(), x * x], (arr(3, 4),), {"out_dims": [1, 0]}),
    "dict out": (
        lambda x: {"a": x.cos(), "b": x.t()},
        (arr(3, 4, 2),),
        {"out_dims": {"a": 1, "b": 0}},
    ),
    "nested out": (lambda x: (x, [x * 2, {"c": x.outer(x)}]), (arr(3, 2),), {"out_dims": (0, 1)}),
    "dict arg": (
        lambda d: d["x"] @ d["y"],
        ({"x": arr(3, 4), "y": arr(4, 2)},),
        {"in_dims": ({"x": 0, "y": None},)},
    ),
    "tuple arg": (
        lambda p, s: p[0] * s + p[1],
        ((arr(3, 2), arr(2)), 2.0),
        {"in_dims": ((0, None), None)},
    ),
    "int over a tuple": (lambda p: p[0] - p[1], ((arr(3, 2), arr(3, 2)),), {}),
    "None over a tuple": (
        lambda x, p: x + p[0] * p[1],
        (arr(3, 2), [arr(2), arr(2)]),
        {"in_dims": (0, None)},
    ),
    "namedtuple arg": (lambda p: p.a / p.b, (Pair(arr(2, 3), arr(2, 3) ** 2 + 1),), {}),
    "unmapped out": (
        lambda x, y: (x * y, y + 1),
        (arr(3, 2), arr(2)),
        {"in_dims": (0, None), "out_dims": (0, None)},
    ),
    "python number out": (lambda x: (x, 1.5, "s"), (arr(3, 2),), {"out_dims": (0, None, None)}),
    "0-d out": (lambda x: x.max(), (arr(4, 3),), {}),
    "empty out": (lambda x: (), (arr(4, 3),), {}),
    "integer and bool out": (lambda x: ((x > 0).long(), x > 0), (arr(4, 3),), {"out_dims": (1, 0)}),
    "empty batch": (lambda x, w: (x @ w).relu(), (arr(0, 3), arr(3, 2)), {"in_dims": (0, None)}),
    "empty batch out_dims=1": (lambda x: x * 2, (arr(2, 0, 3),), {"in_dims": 1, "out_dims": 1}),
    "chunk_size=2": (lambda x, y: x.outer(y), (arr(5, 3), arr(5, 2)), {"chunk_size": 2}),
    "chunk_size=9": (lambda x, y: x.outer(y), (arr(5, 3), arr(5, 2)), {"chunk_size": 9}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_in_dims_and_out_dims_forms_as_torch(torch, case):
    fn, args, options = CASES[case]
    ea, ta = both(torch, args)
    close(vmap(fn, **options)(*ea), torch.func.vmap(fn, **options)(*ta))


def test_kwargs_are_not_mapped_and_namedtuple_outputs_kept(torch):
    x, s = arr(2, 5), arr(3, 1, 5)
    fn = lambda x, scale=4.0: x * scale  # noqa: E731
    close(vmap(fn)(ember.tensor(x), scale=ember.tensor(s)),
          torch.func.vmap(fn)(torch.tensor(x), scale=torch.tensor(s)))  # fmt: skip
    e = vmap(lambda x: x.max(0))(ember.tensor(arr(4, 3, 2)))
    assert type(e).__name__ == "max" and e.values.shape == (4, 2) and e.indices.shape == (4, 2)


def test_dict_in_dims_are_matched_by_key():
    """torch pairs a dict's in_dims with its entries by position when the key orders differ
    (here it would map y, size 4, and not x); ember matches them by key."""
    x, y = ember.ones(3, 4), ember.ones(4)
    out = vmap(lambda d: d["x"] + d["y"], in_dims=({"y": None, "x": 0},))({"x": x, "y": y})
    assert out.shape == (3, 4)


def test_vmap_is_ember_vmap_and_keeps_the_name():
    def dot(x, y):
        return (x * y).sum()

    assert ember.vmap is vmap and "vmap" in ember.func.__all__
    assert vmap(dot).__name__ == "dot"


def test_inplace_on_a_mapped_input_reaches_it_as_torch(torch):
    x = arr(3, 4)
    ex, tx = ember.tensor(x.copy()), torch.tensor(x.copy())
    close(
        vmap(lambda a: a.mul_(2), in_dims=1)(ex),
        torch.func.vmap(lambda a: a.mul_(2), in_dims=1)(tx),
    )
    close(ex, tx)  # fmt: skip


# ------------------------------------------------------------ nesting
def test_nested_vmap_as_torch(torch):
    dot = lambda x, y: (x * y).sum()  # noqa: E731
    (ex, ey), (tx, ty) = both(torch, (arr(2, 3, 5), arr(2, 3, 5)))
    close(vmap(vmap(dot))(ex, ey), torch.func.vmap(torch.func.vmap(dot))(tx, ty))
    # an outer product of maps: every row of x against every row of y
    (ex, ey), (tx, ty) = both(torch, (arr(4, 5), arr(3, 5)))
    e = vmap(vmap(dot, in_dims=(None, 0)), in_dims=(0, None), out_dims=1)(ex, ey)
    t = torch.func.vmap(torch.func.vmap(dot, in_dims=(None, 0)), in_dims=(0, None), out_dims=1)
    close(e, t(tx, ty))
    assert e.shape == (3, 4)


# ------------------------------------------------------------ per-sample gradients, ensembles
def twin_mlps(torch, sizes=(3, 6, 4)):
    em = ember.nn.Sequential(ember.nn.Linear(sizes[0], sizes[1]), ember.nn.Tanh(),
                             ember.nn.Linear(sizes[1], sizes[2])).double()  # fmt: skip
    tm = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.Tanh(),
                             torch.nn.Linear(sizes[1], sizes[2])).double()  # fmt: skip
    tm.load_state_dict({k: torch.tensor(v.array) for k, v in em.state_dict().items()})
    return em, tm


@pytest.mark.parametrize("detached", [True, False])
def test_per_sample_gradients_of_an_mlp_as_torch(torch, detached):
    em, tm = twin_mlps(torch)
    x, y = arr(5, 3), RNG.integers(0, 4, 5)

    def loss_of(lib, model, F):
        def loss(params, xi, yi):
            out = functional_call(model, params, (xi.unsqueeze(0),)) if lib is ember else (
                torch.func.functional_call(model, params, (xi.unsqueeze(0),)))  # fmt: skip
            return F.cross_entropy(out, yi.unsqueeze(0))

        return loss

    pe = {k: v.detach() if detached else v for k, v in em.named_parameters()}
    pt = {k: v.detach() if detached else v for k, v in tm.named_parameters()}
    le, lt = loss_of(ember, em, ember.nn.functional), loss_of(torch, tm, torch.nn.functional)
    ge = vmap(grad(le), in_dims=(None, 0, 0))(pe, ember.tensor(x), ember.tensor(y))
    gt = torch.func.vmap(torch.func.grad(lt), in_dims=(None, 0, 0))(pt, torch.tensor(x),
                                                                     torch.tensor(y))  # fmt: skip
    close(ge, gt)
    assert ge["0.weight"].shape == (5, 6, 3)
    # grad_and_value: the per-sample losses too, and the mean of the per-sample gradients is
    # the batch gradient
    ge, ve = vmap(grad_and_value(le), in_dims=(None, 0, 0))(pe, ember.tensor(x), ember.tensor(y))
    gt, vt = torch.func.vmap(torch.func.grad_and_value(lt), in_dims=(None, 0, 0))(
        pt, torch.tensor(x), torch.tensor(y))  # fmt: skip
    close(ve, vt)
    batch = torch.func.grad(lambda p: torch.nn.functional.cross_entropy(
        torch.func.functional_call(tm, p, (torch.tensor(x),)), torch.tensor(y)))(pt)  # fmt: skip
    for k in batch:
        close(ge[k].mean(0), batch[k])


@pytest.mark.parametrize("minibatches", [False, True])
def test_model_ensemble_with_stacked_weights_as_torch(torch, minibatches):
    pairs = [twin_mlps(torch) for _ in range(3)]
    pe, be = stack_module_state([e for e, _ in pairs])
    pt, bt = torch.func.stack_module_state([t for _, t in pairs])
    close(pe, pt)
    assert all(v.requires_grad and v.is_leaf for v in pe.values())
    x = arr(3, 5, 3) if minibatches else arr(5, 3)
    dims = (0, 0, 0 if minibatches else None)
    base_e, base_t = pairs[0]
    fe = lambda p, b, x: functional_call(base_e, (p, b), (x,))  # noqa: E731
    ft = lambda p, b, x: torch.func.functional_call(base_t, (p, b), (x,))  # noqa: E731
    ye = vmap(fe, in_dims=dims)(pe, be, ember.tensor(x))
    yt = torch.func.vmap(ft, in_dims=dims)(pt, bt, torch.tensor(x))
    close(ye, yt)
    assert ye.shape == (3, 5, 4)
    (ye**2).sum().backward()
    (yt**2).sum().backward()
    for k in pt:
        close(pe[k].grad, pt[k].grad)


def test_stack_module_state_errors_as_torch(torch):
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
        stack_module_state([])
    a, b = ember.nn.Linear(2, 2), ember.nn.Linear(2, 2).eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state([a, b])
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([a, ember.nn.Tanh()])
    b.train().bias.requires_grad_(False)
    with pytest.raises(RuntimeError, match="Expected bias from each model to have the same"):
        stack_module_state([a, b])


# ------------------------------------------------------------ gradients through vmap
@pytest.mark.parametrize("dims", [(0, None, 0), (1, None, 1)])
def test_backward_through_vmap_reaches_mapped_and_unmapped_inputs(torch, dims):
    in_dim, _, out_dim = dims
    x, w, c = arr(4, 4), arr(4, 3), arr(3)
    outs = []
    for lib in (ember, torch):
        xs = lib.tensor(x.copy(), requires_grad=True)
        ws = lib.tensor(w.copy(), requires_grad=True)
        cs = lib.tensor(c.copy(), requires_grad=True)  # captured, not an argument
        f = lambda xi, w, cs=cs: ((xi @ w).tanh() * cs, (xi * xi).sum())  # noqa: E731
        mapped = lib.func.vmap if lib is torch else vmap
        y, s = mapped(f, in_dims=(in_dim, None), out_dims=(out_dim, 0))(xs, ws)
        ((y**2).sum() + s.sin().sum()).backward()
        outs.append((y, s, xs.grad, ws.grad, cs.grad))
    for e, t in zip(*outs):
        close(e, t)


def test_empty_batch_gradients_and_a_module_as_func_as_torch(torch):
    """A mapped size of 0: func runs once on zero slices (x.sum(0), still on x's graph), so x
    gets its empty gradient and w its zeros, as torch's; a Module is a function too."""
    grads = []
    for lib, v in ((ember, vmap), (torch, torch.func.vmap)):
        x = lib.zeros(0, 3, dtype=lib.float64, requires_grad=True)
        w = lib.ones(3, 2, dtype=lib.float64, requires_grad=True)
        y = v(lambda a, w: (a @ w).tanh(), in_dims=(0, None))(x, w)
        y.sum().backward()
        grads.append((y, x.grad, w.grad))
    for e, t in zip(*grads):
        close(e, t)
    em, tm = twin_mlps(torch)
    x = arr(5, 3)
    close(vmap(em)(ember.tensor(x)), torch.func.vmap(tm)(torch.tensor(x)))


def test_grad_of_a_function_that_uses_vmap_as_torch(torch):
    w, x = arr(3), arr(5, 3)
    f = lambda w, xi: (w * xi).sum().sin()  # noqa: E731
    ge = grad(lambda w, x: vmap(f, in_dims=(None, 0))(w, x).pow(2).sum())(
        ember.tensor(w), ember.tensor(x)
    )
    tf = torch.func
    gt = tf.grad(lambda w, x: tf.vmap(f, in_dims=(None, 0))(w, x).pow(2).sum())(
        torch.tensor(w), torch.tensor(x)
    )
    close(ge, gt)  # fmt: skip
    # second derivatives per sample: x ↦ ∇(Σ ∇h)(x) for each row, vmap(grad(… grad …))
    h = lambda v: (v**3).sum().sin()  # noqa: E731
    g2 = lambda G: G(lambda v: G(h)(v).sum())  # noqa: E731
    close(vmap(g2(grad))(ember.tensor(x)), tf.vmap(g2(tf.grad))(torch.tensor(x)))


def test_jacobian_by_vmap_over_autograd_grad_as_torch_docs(torch):
    """torch's docstring example: each slice calls autograd.grad on one graph from outside, so
    ember (which calls it once per slice) keeps that graph by default inside vmap."""
    x = arr(4)
    xe = ember.tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x.copy(), requires_grad=True)
    ye, yt = xe.sin() * xe, xt.sin() * xt
    je = vmap(lambda v: ember.autograd.grad(ye, xe, v))(ember.eye(4, dtype=ember.float64))
    jt = torch.func.vmap(lambda v: torch.autograd.grad(yt, xt, v))(
        torch.eye(4, dtype=torch.float64)
    )
    close(je, jt)  # fmt: skip
    with pytest.raises(RuntimeError):  # outside vmap the default frees it again
        ember.autograd.grad(ye, xe, ember.ones(4, dtype=ember.float64))
        ember.autograd.grad(ye, xe, ember.ones(4, dtype=ember.float64))


# ------------------------------------------------------------ errors, with torch's messages
def _f(x, y=None):
    return x


ERRORS = {
    "sizes differ": (lambda v: v(_f)(X(3, 4), X(4, 4))),
    "in_dims list": (lambda v: v(_f, in_dims=[0])(X(3))),
    "in_dims None": (lambda v: v(_f, in_dims=None)(X(3))),
    "in_dims too long": (lambda v: v(_f, in_dims=(0, 0))(X(3))),
    "in_dims dict keys": (
        lambda v: v(lambda d: d["a"], in_dims=({"a": 0},))({"a": X(3), "b": X(3)})
    ),
    "in_dims list vs tuple": (lambda v: v(lambda p: p[0], in_dims=([0, None],))((X(3), X(3)))),
    "in_dim float": (lambda v: v(_f, in_dims=(1.0,))(X(3))),
    "in_dim out of range": (lambda v: v(_f, in_dims=2)(X(3, 4))),
    "in_dim negative out of range": (lambda v: v(_f, in_dims=-3)(X(3, 4))),
    "0-d input": (lambda v: v(_f)(X())),
    "non-tensor mapped": (lambda v: v(_f, in_dims=(0, 0))(X(3), 2.0)),
    "None mapped": (lambda v: v(_f)(X(3), None)),
    "nothing mapped": (lambda v: v(_f, in_dims=(None,))(X(3))),
    "no inputs": (lambda v: v(_f)()),
    "python number out": (lambda v: v(lambda x: 1.0)(X(3))),
    "None out": (lambda v: v(lambda x: (x, None))(X(3))),
    "str out": (lambda v: v(lambda x: "s")(X(3))),
    "mapped out with out_dim None": (lambda v: v(_f, out_dims=None)(X(3, 2))),
    "out_dims float": (lambda v: v(_f, out_dims=1.0)(X(3))),
    "out_dims too long": (lambda v: v(_f, out_dims=(0, 0))(X(3))),
    "out_dims list for a tensor": (lambda v: v(_f, out_dims=[1])(X(3))),
    "out_dims tuple for a list": (lambda v: v(lambda x: [x, x], out_dims=(1, 0))(X(3))),
    "out_dim out of range": (lambda v: v(_f, out_dims=2)(X(3, 4))),
    "out_dim negative out of range": (lambda v: v(_f, out_dims=-3)(X(3, 4))),
    "randomness": (lambda v: v(_f, randomness="foo")),
    "chunk_size": (lambda v: v(_f, chunk_size=0)),
    "backward inside": (lambda v: v(lambda x: x.sum().backward())(X(3, 2, grad=True))),
}
X = None  # the tensor maker of the library under test, set by the test


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_as_torch(torch, case):
    global X
    raised = []
    for lib, v in ((torch, torch.func.vmap), (ember, vmap)):
        X = lambda *s, grad=False, lib=lib: lib.tensor(RNG.standard_normal(s), requires_grad=grad)  # noqa: E731
        with pytest.raises(Exception) as info:
            ERRORS[case](v)
        raised.append((type(info.value), str(info.value)))
    (tt, tm), (et, em) = raised
    assert et is tt
    # torch prints a TreeSpec over several lines; ember on one: the words before it must agree
    assert " ".join(em.split()).split("TreeSpec")[0] == " ".join(tm.split()).split("TreeSpec")[0]


def test_outputs_that_depend_on_the_values_are_refused():
    """torch runs func once, so its outputs cannot differ in shape or structure between
    slices; ember, running it per slice, says so."""
    x = ember.tensor([[1.0, -1.0], [1.0, 1.0]])
    with pytest.raises(RuntimeError, match="shape .* for slice 0 and of shape .* for slice 1"):
        vmap(lambda r: r[r > 0])(x)
    with pytest.raises(RuntimeError, match="structure .* for slice 0 and .* for slice 1"):
        vmap(lambda r: (r,) if r.sum().item() == 0 else (r, r))(x)
