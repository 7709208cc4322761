"""F.pad's non-constant modes as torch 2.13's kernels compute and check them.

For output position j of an axis of size n padded (l, r), with o = max(l, 0), i = max(−l, 0):

    reflect:    s = 2l − j               if j < l
                s = j                    if l ≤ j < n + l
                s = 2(n + l − 1) − j     otherwise;          source = s − o + i
    replicate:  s = clamp(j, l, n + l − 1);                  source = s − o + i
    circular:   the axis cropped by the negative pads, then wrapped around:
                source = (j − l) mod (n + min(l, 0) + min(r, 0)) + i  (the crop's start)

so a negative pad crops before the mirror or the edge is taken, as torch's index arithmetic
does (reflect (−3, 2) of [a b c d] is [d c b]). Each mode is a gather (index_select) along
every padded axis, so the gradient sums the copies of each element, as torch's backward.
F.pad accepts reflect and replicate for 1, 2 or 3 padded dims of a (batched or not) input of
that many dims plus one or two; circular likewise, without reflect's and replicate's rule
that every dim but the batch be non-empty.
"""

from __future__ import annotations

import functools

from ..backend import xp
from ..errors import InputError
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor

MODES = ("constant", "reflect", "replicate", "circular")

#: torch's kernels by mode and number of padded dims (their names in its dtype errors)
_KERNELS = {"reflect": "reflection_pad{}d", "replicate": "replication_pad{}d"}


def check_pad_arguments(x: Tensor, pad, mode: str) -> None:
    """torch's at::pad checks, in its order: the mode, then the pad's length."""
    if mode not in MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise InputError("Padding length must be divisible by 2")
    if len(pad) > 2 * x.ndim:
        raise InputError(
            "Padding length should be less than or equal to two times the input dimension but"
            f" got padding length {len(pad)} and input of dimension {x.ndim}"
        )


def pad_non_constant(x: Tensor, pad, mode: str) -> Tensor:
    """x padded by ``pad`` ((left, right) pairs from the last dim backwards) in mode 'reflect',
    'replicate' or 'circular', with torch's refusals."""
    k = len(pad) // 2
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    pairs = [(int(pad[2 * a]), int(pad[2 * a + 1])) for a in range(k)]  # W, H, D order
    dims = [x.ndim - 1 - a for a in range(k)]
    if mode == "circular":
        return _circular(x, pairs, dims)
    batched = x.ndim == k + 2
    if 0 in x.shape[int(batched) :]:
        raise InputError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and"
            f" other non-zero dimensions for input, but got: {list(x.shape)}"
        )
    if x.dtype.kind == "b":  # no bool kernel (NumPy would gather bools happily)
        raise not_implemented_for(_KERNELS[mode].format(k), x.dtype)
    if mode == "reflect":
        for a, ((lo, hi), d) in enumerate(zip(pairs, dims)):
            if not (lo < x.shape[d] and hi < x.shape[d]):
                raise InputError(
                    f"Argument #{4 + 2 * a}: Padding size should be less than the corresponding"
                    f" input dimension, but got: padding ({lo}, {hi}) at dimension {d} of input"
                    f" {list(x.shape)}"
                )
    sizes = [x.shape[d] + lo + hi for (lo, hi), d in zip(pairs, dims)]
    if max(sizes) < 1 or min(sizes) < 0:  # torch's kernels allow an empty dim beside others
        names = "WHD"[:k][::-1]
        given = ", ".join(f"{n}: {x.shape[d]}" for n, d in zip(names, dims[::-1]))
        got = " ".join(f"{n}: {s}" for n, s in zip(names, sizes[::-1]))
        raise InputError(f"input ({given}) is too small. Calculated output {got}")
    for (lo, hi), d in zip(pairs, dims):
        if lo or hi:
            x = x.index_select(d, _source(x.shape[d], lo, hi, mode))
    return x


@functools.lru_cache(maxsize=256)
def _source(n: int, lo: int, hi: int, mode: str):
    """Source index of every output position along one axis (the equations above). Kept per
    (size, pads, mode), as a conv with padding_mode="reflect" asks for the same ones every
    step; only index_select reads them."""
    j = xp.arange(n + lo + hi)
    if mode == "reflect":
        s = xp.where(j < lo, 2 * lo - j, xp.where(j < n + lo, j, 2 * (n + lo - 1) - j))
    else:
        s = xp.clip(j, lo, n + lo - 1)
    return (s - max(lo, 0) + max(-lo, 0)).astype(xp.int64)


def _circular(x: Tensor, pairs, dims) -> Tensor:
    for (lo, hi), d in zip(pairs[::-1], dims[::-1]):  # torch checks every dim, outermost
        n = x.shape[d]  # first, before it pads any
        if lo > n or hi > n:
            raise InputError("Padding value causes wrapping around more than once.")
        if n + lo + hi < 0:
            raise InputError("Negative padding value is resulting in an empty dimension")
    empty = 0 in x.shape or any(x.shape[d] + lo + hi == 0 for (lo, hi), d in zip(pairs, dims))
    for (lo, hi), d in zip(pairs, dims):
        n = x.shape[d]
        start, m = max(-lo, 0), n + min(lo, 0) + min(hi, 0)
        # torch: an overlapping copy's RuntimeError, or uninitialised memory (nothing left to
        # wrap), unless the output is empty
        if (m < max(lo, 0) or m < max(hi, 0)) and not empty:
            raise InputError(
                f"circular padding ({lo}, {hi}) of dim {d} of size {n} wraps the {m} elements"
                " left after its negative pad crops more than once"
            )
        if lo or hi:
            j = xp.arange(n + lo + hi)
            i = xp.minimum((j - max(lo, 0)) % max(m, 1) + start, max(n - 1, 0))  # (clipped
            x = x.index_select(d, i.astype(xp.int64))  # for an empty x only: nothing is read)
    return x
