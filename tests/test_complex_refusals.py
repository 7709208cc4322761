"""Forwards that torch refuses for complex input are refused by ember too, at the call (not
later in backward), with torch's exception class and a message naming the op and the dtype:
the ops that need an order (max/min and their dim, amax/amin/aminmax, maximum/minimum,
sort/argsort/topk/msort, clamp/clip, cummax/cummin, median, torch.argmax/argmin,
scatter_reduce's amax/amin) and softmax/log_softmax/softmin, which torch 2.13 does not
implement for complex numbers. Each case runs in torch first, so a torch that starts
accepting one fails here and the refusal can be revisited."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

Z0 = np.array([[1 + 2j, 3 - 1j, -0.5j], [2 + 0j, -1 + 1j, 0.5 + 0.5j]])


def _fn(lib):
    return F if lib is ember else lib.nn.functional


def _index(lib):
    return lib.tensor(np.array([[0, 1, 0], [1, 0, 1]]))


# name → (op name in the message, f(lib, z)); z is a complex (2, 3) tensor
CASES = {
    "max": ("max", lambda lib, z: z.max()),
    "min": ("min", lambda lib, z: lib.min(z)),
    "max_dim": ("max", lambda lib, z: z.max(1)),
    "max_dim_keepdim": ("max", lambda lib, z: lib.max(z, 0, keepdim=True)),
    "min_dim": ("min", lambda lib, z: z.min(dim=1)),
    "amax": ("max", lambda lib, z: z.amax(1)),
    "amin": ("min", lambda lib, z: lib.amin(z, (0, 1))),
    "aminmax": ("min", lambda lib, z: lib.aminmax(z)),
    "maximum": ("maximum", lambda lib, z: lib.maximum(z, z)),
    "maximum_real_complex": ("maximum", lambda lib, z: lib.maximum(z.real, z)),
    "minimum": ("minimum", lambda lib, z: z.minimum(z)),
    "max_other": ("maximum", lambda lib, z: z.max(z)),
    "min_other": ("minimum", lambda lib, z: lib.min(z, z)),
    "sort": ("sort", lambda lib, z: z.sort()),
    "sort_descending": ("sort", lambda lib, z: lib.sort(z, dim=0, descending=True)),
    "sort_0d": ("sort", lambda lib, z: z[0, 0].sort()),
    "argsort": ("sort", lambda lib, z: z.argsort(1)),
    "argsort_fn": ("sort", lambda lib, z: lib.argsort(z, descending=True)),
    "msort": ("sort", lambda lib, z: lib.msort(z)),
    "topk": ("topk", lambda lib, z: z.topk(2)),
    "topk_smallest": ("topk", lambda lib, z: lib.topk(z, 1, dim=0, largest=False)),
    "topk_0d": ("topk", lambda lib, z: z[0, 0].topk(1)),
    "softmax": ("softmax", lambda lib, z: _fn(lib).softmax(z, dim=1)),
    "softmax_method": ("softmax", lambda lib, z: z.softmax(0)),
    "softmax_torch": ("softmax", lambda lib, z: lib.softmax(z, 1)),
    "log_softmax": ("log_softmax", lambda lib, z: _fn(lib).log_softmax(z, dim=1)),
    "log_softmax_method": ("log_softmax", lambda lib, z: z.log_softmax(-1)),
    "softmin": ("softmax", lambda lib, z: _fn(lib).softmin(z, dim=0)),
    "clamp": ("clamp", lambda lib, z: z.clamp(0, 1)),
    "clamp_min": ("clamp", lambda lib, z: lib.clamp(z, min=0.5)),
    "clip": ("clamp", lambda lib, z: lib.clip(z, max=1)),
    "cummax": ("cummax", lambda lib, z: z.cummax(1)),
    "cummin": ("cummin", lambda lib, z: lib.cummin(z, 0)),
    "median": ("median", lambda lib, z: z.median()),
    "median_dim": ("median", lambda lib, z: lib.median(z, 1)),
    "argmax": ("argmax", lambda lib, z: lib.argmax(z)),
    "argmin": ("argmin", lambda lib, z: lib.argmin(z, 1)),
    "scatter_reduce_amax": ("scatter_reduce", lambda lib, z: z.scatter_reduce(
        1, _index(lib), z, "amax")),
    "scatter_reduce_amin": ("scatter_reduce", lambda lib, z: lib.zeros_like(z).scatter_reduce(
        1, _index(lib), z, "amin", include_self=False)),
}  # fmt: skip


def _torch_error(torch, f):
    z = torch.tensor(Z0, requires_grad=True)
    with pytest.raises(RuntimeError) as info:  # NotImplementedError is a RuntimeError
        f(torch, z)
    return info.type


def assert_refused_as_torch(torch, op: str, f, dtype) -> None:
    """f(lib, z) raises in torch first; ember must raise the same class, at the call, with a
    message ``op(): …`` naming complex and the dtype, and leave z without a gradient."""
    want = _torch_error(torch, f)
    z = ember.tensor(Z0.astype(dtype), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        f(ember, z)
    assert info.type is want, (op, info.type, want)
    message = str(info.value)
    assert message.startswith(f"{op}(): ") and "complex" in message, message
    assert np.dtype(dtype).name in message, message
    assert z.grad is None


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_at_the_call_as_torch(torch, name, dtype):
    assert_refused_as_torch(torch, *CASES[name], dtype)


@pytest.mark.parametrize("name", ["max", "sort", "softmax", "clamp", "maximum"])
def test_refused_without_grad_too(name):
    op, f = CASES[name]
    with ember.no_grad(), pytest.raises(RuntimeError, match=rf"^{op}\(\): .*complex128"):
        f(ember, ember.tensor(Z0))


def test_real_inputs_are_unchanged(torch):
    # the same calls on the real parts still run, and match torch
    x0 = Z0.real + np.arange(6).reshape(2, 3) * 0.1  # no ties
    for name in ("max", "amax", "max_dim", "sort", "topk", "softmax", "clamp", "cummax",
                 "median_dim", "argmin", "scatter_reduce_amax", "maximum"):  # fmt: skip
        f = CASES[name][1]
        got, want = f(ember, ember.tensor(x0)), f(torch, torch.tensor(x0))
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, err_msg=name)


def test_equality_and_sgn_stay_supported_as_torch(torch):
    # torch accepts these for complex input, so ember must not refuse them
    for f in (lambda lib, z: z == z, lambda lib, z: z != z, lambda lib, z: z.sgn(),
              lambda lib, z: lib.logsumexp(z, 1), lambda lib, z: z.abs().max()):  # fmt: skip
        np.testing.assert_allclose(
            f(ember, ember.tensor(Z0)).numpy(), f(torch, torch.tensor(Z0)).numpy(), rtol=1e-12
        )
