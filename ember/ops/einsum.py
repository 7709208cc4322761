"""einsum: a sum of products over named indices, with its gradient as another einsum.

    out[o] = Σ_{indices not in o} Π_k A_k[s_k]

The gradient of operand k is the same sum with A_k's place taken by the upstream gradient:

    ∂L/∂A_k[s_k] = Σ_{indices not in s_k} g[o] · Π_{j≠k} A_j[s_j]

("ij,jk->ik": ∂A = einsum("ik,jk->ij", g, B)). Two cases need more than that one einsum: an
index repeated within s_k (a diagonal, "ii->i") writes the gradient onto the diagonal only,
done by multiplying with identity matrices δ(i, i'); an index that appears in s_k alone (summed
out, "ij->i") leaves the gradient constant along it, done by broadcasting.
"""

from __future__ import annotations

import string

from ..backend import get_array_module
from ..errors import InputError
from ..function import Function

_LETTERS = string.ascii_letters


def diagonal_spread(s: str, unique: str) -> tuple[str, list[str]]:
    """The einsum that puts a gradient over an operand's distinct indices ``unique`` back onto
    the operand's subscripts ``s``, where an index repeats (a diagonal, as in "ii"): each
    repeat gets a fresh letter tied to the first by a Kronecker delta δ (an identity matrix).
    Returns the equation (gradient, then one δ per repeat) and the δs' subscripts."""
    spare = iter(c for c in _LETTERS if c not in set(s))
    subs, deltas = [], []
    for i, c in enumerate(s):
        if c in s[:i]:
            fresh = next(spare)
            subs.append(fresh)
            deltas.append(c + fresh)
        else:
            subs.append(c)
    return ",".join([unique, *deltas]) + "->" + "".join(subs), deltas


def parse_equation(equation: str, shapes: list) -> tuple[list[str], str]:
    """(input subscripts, output subscripts) in explicit form, each "..." replaced by letters.

    Implicit mode ("ij,jk") becomes explicit as NumPy and torch read it: the output is the
    broadcast dims of "..." followed by the indices that appear once, in alphabetical order.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(
            f"einsum {equation!r}: the equation names {len(ins)} operands, {len(shapes)} given"
        )
    for s in ins + [out]:
        bad = set(s.replace("...", "")) - set(_LETTERS)
        if bad or s.count("...") > 1:
            raise ValueError(
                f"einsum {equation!r}: subscripts are letters a-z, A-Z and at most one '...'"
                f" per operand; got {s!r}"
            )
    used = set(eq) & set(_LETTERS)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for s, shape in zip(ins, shapes):
        named = len(s.replace("...", ""))
        if "..." in s:
            n_ell = max(n_ell, len(shape) - named)
        elif named != len(shape):
            raise ValueError(
                f"einsum {equation!r}: operand {s!r} names {named} dims, but its shape is {shape}"
            )
    ell = "".join(spare[:n_ell])
    ins = [
        s.replace("...", ell[n_ell - (len(shape) - len(s) + 3) :]) if "..." in s else s
        for s, shape in zip(ins, shapes)
    ]
    if not arrow:
        joined = "".join(ins)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return ins, out


class Einsum(Function):
    """out = einsum(equation, *operands) (NumPy's and torch's meaning, "..." included)."""

    def forward(self, *arrays, equation):
        xp = get_array_module(*arrays)
        self.ins, self.out = parse_equation(equation, [a.shape for a in arrays])
        self.arrays = arrays
        eq = ",".join(self.ins) + "->" + self.out
        try:
            return xp.einsum(eq, *arrays, optimize=True)
        except ValueError as e:  # sizes that disagree for a letter: torch's RuntimeError
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise InputError(f"einsum {equation!r} of shapes {shapes}: {e}") from None

    def backward(self, g):
        arrays, ins = self.arrays, self.ins
        sizes = {}
        for s, a in zip(ins, arrays):
            for c, n in zip(s, a.shape):
                sizes[c] = max(sizes.get(c, 1), n)
        return tuple(
            self._grad(k, g, sizes) if need else None
            for k, need in enumerate(self.needs_input_grad)
        )

    def _grad(self, k, g, sizes):
        xp = get_array_module(g)
        a, s = self.arrays[k], self.ins[k]
        others = [t for j, t in enumerate(self.arrays) if j != k]
        other_subs = [t for j, t in enumerate(self.ins) if j != k]
        seen = set(self.out).union(*other_subs)
        unique = "".join(dict.fromkeys(s))  # s's indices, each once, in order
        kept = "".join(c for c in unique if c in seen)
        eq = ",".join([self.out, *other_subs]) + "->" + kept
        gk = xp.einsum(eq, g, *others, optimize=True)
        if kept != unique:  # indices summed out of a alone: the gradient is constant along them
            shape = tuple(sizes[c] if c in kept else 1 for c in unique)
            gk = xp.broadcast_to(gk.reshape(shape), tuple(sizes[c] for c in unique))
        if len(unique) != len(s):  # a repeated index: the gradient lives on the diagonal
            equation, deltas = diagonal_spread(s, unique)
            eyes = [xp.eye(sizes[d[0]], dtype=g.dtype) for d in deltas]
            gk = xp.einsum(equation, gk, *eyes)
        # a dim of size 1 that broadcast against a longer one gets the sum over it
        axes = tuple(i for i, (n, m) in enumerate(zip(a.shape, gk.shape)) if n == 1 and m != 1)
        if axes:
            gk = gk.sum(axis=axes, keepdims=True)
        if gk.dtype.kind == "c" and a.dtype.kind != "c":
            gk = gk.real  # a real operand of a complex product keeps the real part
        return gk.astype(a.dtype, copy=False)
