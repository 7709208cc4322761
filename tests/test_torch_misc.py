"""torch's remaining conveniences (ember/torch_misc.py, ember/tensor_misc.py) against torch:
layout queries, the conjugate family for reals, Python-callable fills, post-accumulate hooks,
creation, dtype information, switches, RNG state, printing and the top-level in-place forms.
Windows, draws, padding and the RNN cells are in test_torch_misc_more.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.torch_pairs import check, leaves, rand, same_error


def _pair(torch, *shape, dtype=np.float32):
    a = rand(*shape, dtype=dtype)
    return ember.tensor(a), torch.tensor(a)


# ---------------------------------------------------------------- Tensor: layout
@pytest.mark.parametrize("view", ["plain", "T", "slice", "step", "expand"])
def test_stride_offset_sizes(torch, view):
    e, t = _pair(torch, 3, 4, 5)
    ops = {
        "plain": lambda x: x,
        "T": lambda x: x.transpose(0, 2),
        "slice": lambda x: x[1:, 2:],
        "step": lambda x: x[:, ::2],
        "expand": lambda x: x[:, :1].expand(3, 6, 5),
    }
    ev, tv = ops[view](e), ops[view](t)
    assert ev.stride() == tv.stride()
    assert [ev.stride(d) for d in (0, -1)] == [tv.stride(d) for d in (0, -1)]
    assert ev.storage_offset() == tv.storage_offset()
    assert (ev.itemsize, ev.nbytes) == (tv.itemsize, tv.nbytes)
    assert ev.data_ptr() - e.data_ptr() == (tv.data_ptr() - t.data_ptr())
    same_error(torch, lambda: ev.stride(3), lambda: tv.stride(3))


def test_device_queries_and_flags(torch):
    e, t = _pair(torch, 2, 3)
    on_gpu = ember.backend.ON_GPU  # a process on the GPU: its tensors live on cuda:0
    expected = (False, 0) if on_gpu else (t.is_cpu, t.get_device())
    assert (e.is_cpu, e.get_device(), e.is_inference()) == (*expected, False)
    assert (e.is_conj(), e.is_neg(), e.conj() is e, e.resolve_conj() is e) == (
        False, False, True, True,
    )  # fmt: skip
    assert e.resolve_neg() is e
    for dt, tdt in ((np.int32, torch.int32), (np.float64, torch.float64), (np.bool_, torch.bool)):
        er, tr = ember.zeros(2, 3, dtype=dt).isreal(), torch.zeros(2, 3, dtype=tdt).isreal()
        np.testing.assert_array_equal(er.array, tr.numpy())
        assert er.dtype == np.bool_
    assert ember.isreal(e).array.all() and not ember.is_conj(e) and not ember.is_neg(e)
    assert ember.conj(e) is e and ember.resolve_conj(e) is e and ember.resolve_neg(e) is e


def test_retains_grad(torch):
    (e,), (t,) = leaves(torch, rand(3))
    ey, ty = e * 2, t * 2
    assert (ey.retains_grad, e.retains_grad) == (ty.retains_grad, t.retains_grad) == (False,) * 2
    ey.retain_grad()
    ty.retain_grad()
    assert ey.retains_grad and ty.retains_grad
    e.retain_grad()  # a leaf: no effect, as in torch
    t.retain_grad()
    assert e.retains_grad == t.retains_grad == False  # noqa: E712


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3)])
def test_conjugate_transposes(torch, shape):
    (e,), (t,) = leaves(torch, rand(*shape))
    check(torch, [e.mH, e.adjoint()], [t.mH, t.adjoint()], [e], [t], np.float64)
    if len(shape) == 2:
        (e,), (t,) = leaves(torch, rand(*shape))
        check(torch, e.H, t.H, [e], [t], np.float64)
    else:
        same_error(torch, lambda: e.H, lambda: t.H)
    e1, t1 = _pair(torch, 3)
    for name in ("H", "mH"):
        same_error(torch, lambda n=name: getattr(e1, n), lambda n=name: getattr(t1, n))
    same_error(torch, e1.adjoint, t1.adjoint)
    with pytest.warns(UserWarning, match="deprecated on 0-D"):
        assert ember.tensor(1.0).mH.item() == 1.0


def test_broadcast_to_and_narrow_copy(torch):
    (e,), (t,) = leaves(torch, rand(3, 1))
    check(torch, e.broadcast_to((2, 3, 4)), t.broadcast_to((2, 3, 4)), [e], [t], np.float64)
    (e,), (t,) = leaves(torch, rand(3, 4))
    for args in ((0, 1, 2), (1, -2, 2), (1, 0, 0)):
        (e,), (t,) = leaves(torch, rand(3, 4))
        # torch's narrow_copy has no derivative before 2.13 (and fails for a negative start or
        # length 0 in 2.13): the gradient is narrow's, then a copy
        eo, to = e.narrow_copy(*args), t.narrow(*args).clone()
        np.testing.assert_array_equal(eo.array, t.detach().narrow_copy(*args).numpy())
        check(torch, eo, to, [e], [t], np.float64)
        assert not np.shares_memory(eo.array, e.array)
    e1, t1 = _pair(torch, 3)
    same_error(torch, lambda: e1.narrow_copy(0, 4, 1), lambda: t1.narrow_copy(0, 4, 1))
    same_error(torch, lambda: e1.narrow_copy(0, 1, 3), lambda: t1.narrow_copy(0, 1, 3))


def test_sampling_methods():
    p = ember.full((4000,), 0.3)
    draws = p.bernoulli()
    assert draws.shape == (4000,) and draws.dtype == np.float32
    assert abs(draws.array.mean() - 0.3) < 0.03
    assert abs(ember.zeros(4000).bernoulli(0.7).array.mean() - 0.7) < 0.03
    g1, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    assert np.array_equal(p.bernoulli(generator=g1).array, p.bernoulli(generator=g2).array)
    w = ember.tensor([[0.0, 1.0, 3.0], [1.0, 0.0, 0.0]])
    idx = w.multinomial(2000, replacement=True)
    assert idx.shape == (2, 2000) and idx.dtype == np.int64
    assert abs((idx.array[0] == 2).mean() - 0.75) < 0.04 and (idx.array[1] == 0).all()
    assert sorted(w[0].multinomial(2).tolist()) == [1, 2]


@pytest.mark.parametrize("name", ["bfloat16", "chalf"])
def test_missing_dtypes_refused(name):
    with pytest.raises(TypeError, match=f"{name}\\(\\): ember has no .* dtype"):
        getattr(ember.ones(2), name)()


# ---------------------------------------------------------------- Tensor: Python fills, hooks
def test_apply_and_map(torch):
    if ember.backend.ON_GPU:  # as torch: CPU tensors only
        with pytest.raises(TypeError, match="apply_ is only implemented on CPU tensors"):
            ember.ones(2).apply_(abs)
        return
    e, t = _pair(torch, 2, 3, dtype=np.float64)
    f = lambda v: v * v + 1  # noqa: E731
    np.testing.assert_array_equal(e.apply_(f).array, t.apply_(f).numpy())
    ei = ember.tensor([[1, 2, 3], [4, 5, 6]])
    ti = torch.tensor([[1, 2, 3], [4, 5, 6]])
    g = lambda a, b: a * 10 + b  # noqa: E731
    eo, to = ei.map_(ember.tensor([7, 8, 9]), g), ti.map_(torch.tensor([7, 8, 9]), g)
    assert eo is ei and eo.dtype == np.int64
    np.testing.assert_array_equal(eo.array, to.numpy())
    (el,), (tl,) = leaves(torch, rand(3))
    same_error(torch, lambda: el.apply_(f), lambda: tl.apply_(f))
    same_error(torch, lambda: (el * 2).apply_(f), lambda: (tl * 2).apply_(f))
    same_error(torch, lambda: ember.zeros(3).map_(el, g), lambda: torch.zeros(3).map_(tl, g))


def test_post_accumulate_grad_hook(torch):
    (e,), (t,) = leaves(torch, rand(3))
    seen = {"e": [], "t": []}
    he = e.register_post_accumulate_grad_hook(lambda x: seen["e"].append(x.grad.array.copy()))
    ht = t.register_post_accumulate_grad_hook(lambda x: seen["t"].append(x.grad.numpy().copy()))
    for _ in range(2):  # fires once per backward, after the accumulation
        (e * e).sum().backward()
        (t * t).sum().backward()
    assert len(seen["e"]) == len(seen["t"]) == 2
    for a, b in zip(seen["e"], seen["t"]):
        np.testing.assert_allclose(a, b)
    he.remove()
    ht.remove()
    (e * 3).sum().backward()
    assert len(seen["e"]) == 2
    same_error(
        torch,
        lambda: (e * 2).register_post_accumulate_grad_hook(print),
        lambda: (t * 2).register_post_accumulate_grad_hook(print),
    )
    same_error(
        torch,
        lambda: ember.zeros(2).register_post_accumulate_grad_hook(print),
        lambda: torch.zeros(2).register_post_accumulate_grad_hook(print),
    )


def test_post_accumulate_hook_can_step():
    """The hook sees the gradient of this backward and may act on the tensor (an in-backward
    optimiser step, as torch's tutorial does)."""
    w = ember.tensor([1.0, 2.0], requires_grad=True)

    def step(p):
        with ember.no_grad():
            p.sub_(0.5 * p.grad)
        p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.array, [0.0, 0.0])
    assert w.grad is None


# ---------------------------------------------------------------- creation
def test_empty_like_scalar_tensor_empty_strided(torch):
    e, t = _pair(torch, 2, 3, dtype=np.float64)
    el, tl = ember.empty_like(e), torch.empty_like(t)
    assert el.shape == tuple(tl.shape) and el.dtype == np.float64
    assert ember.empty_like(e, dtype=ember.int64).dtype == np.int64
    assert ember.empty_like(e, requires_grad=True).requires_grad
    for s, kw in ((3, {}), (True, {}), (2.5, {}), (3, {"dtype": ember.int64})):
        tkw = {"dtype": torch.int64} if kw else {}
        es, ts = ember.scalar_tensor(s, **kw), torch.scalar_tensor(s, **tkw)
        assert es.shape == () and es.dtype == ts.numpy().dtype and es.item() == ts.item()
    for size, stride in (((2, 3), (1, 2)), ((2, 3), (3, 1)), ((4,), (2,)), ((2, 0), (1, 1))):
        es, ts = ember.empty_strided(size, stride), torch.empty_strided(size, stride)
        assert (es.shape, es.stride(), es.dtype) == (tuple(ts.shape), ts.stride(), np.float32)
    assert ember.empty_strided((2, 2), (2, 1), dtype=ember.float64).dtype == np.float64


def test_asarray_shares_memory(torch):
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    e, t = ember.asarray(a), torch.asarray(a)
    assert e.dtype == t.numpy().dtype == np.float64
    a[0, 0] = 100.0
    if not ember.backend.ON_GPU:  # on the GPU the array is copied to the device
        assert e.array[0, 0] == t[0, 0].item() == 100.0
    assert not np.shares_memory(ember.asarray(a, copy=True).array, a)
    assert ember.asarray(a, dtype=ember.float32).dtype == np.float32
    same_error(
        torch,
        lambda: ember.asarray(a, dtype=ember.float32, copy=False),
        lambda: torch.asarray(a, dtype=torch.float32, copy=False),
    )
    x = ember.ones(3)
    assert ember.asarray(x) is x
    assert ember.asarray([1.5, 2.0]).dtype == torch.asarray([1.5, 2.0]).numpy().dtype
    assert ember.asarray([1, 2]).dtype == np.int64
    assert ember.asarray([1.0], requires_grad=True).requires_grad


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
def test_range(torch):
    for args in ((0, 1, 0.25), (0, 4), (1, -2, -0.5), (0, 1, 0.3), (2.5, 2.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e, t = ember.range(*args), torch.range(*args)
        assert e.dtype == t.numpy().dtype == np.float32
        np.testing.assert_allclose(e.array, t.numpy(), rtol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ember.range(0, 2, dtype=ember.float64).dtype == np.float64
    assert "torch.range is deprecated" in str(caught[0].message)
    same_error(torch, lambda: ember.range(0, 4, 0), lambda: torch.range(0, 4, 0))
    same_error(torch, lambda: ember.range(0, 3, -1), lambda: torch.range(0, 3, -1))


# ---------------------------------------------------------------- dtype info and predicates
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo(torch, name):
    e, t = ember.finfo(getattr(np, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(e, field) == getattr(t, field), field
    assert ember.finfo().dtype == torch.finfo().dtype == "float32"
    same_error(torch, lambda: ember.finfo(np.int32), lambda: torch.finfo(torch.int32))


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(torch, name):
    e, t = ember.iinfo(getattr(np, name)), torch.iinfo(getattr(torch, name))
    assert (e.bits, e.max, e.min, e.dtype) == (t.bits, t.max, t.min, t.dtype)
    same_error(torch, lambda: ember.iinfo(np.float32), lambda: torch.iinfo(torch.float32))
    same_error(torch, lambda: ember.iinfo(ember.bool), lambda: torch.iinfo(torch.bool))


def test_predicates(torch):
    for dt, tdt in ((np.float32, torch.float32), (np.uint8, torch.uint8), (np.int16, torch.int16),
                    (np.bool_, torch.bool)):  # fmt: skip
        e, t = ember.zeros(2, dtype=dt), torch.zeros(2, dtype=tdt)
        assert ember.is_signed(e) == torch.is_signed(t)
        assert ember.is_complex(e) == torch.is_complex(t) == False  # noqa: E712
    assert ember.is_nonzero(ember.tensor([2.0])) and not ember.is_nonzero(ember.tensor(0))
    for n in (0, 2):
        same_error(torch, lambda n=n: ember.is_nonzero(ember.zeros(n)),
                   lambda n=n: torch.is_nonzero(torch.zeros(n)))  # fmt: skip
    assert ember.is_same_size(ember.zeros(2, 3), ember.ones(2, 3))
    assert not ember.is_same_size(ember.zeros(2, 3), ember.ones(3, 2))
    same_error(torch, lambda: ember.is_same_size(ember.zeros(2), 3),
               lambda: torch.is_same_size(torch.zeros(2), 3))  # fmt: skip
    same_error(torch, lambda: ember.is_complex(3), lambda: torch.is_complex(3))


def test_masked_fill_and_fill(torch):
    (e,), (t,) = leaves(torch, rand(2, 3))
    m = rand(2, 3) > 0
    eo, to = ember.masked_fill(e, ember.tensor(m), 2.5), torch.masked_fill(t, torch.tensor(m), 2.5)
    check(torch, eo, to, [e], [t], np.float64)
    (e, v), (t, tv) = leaves(torch, rand(2, 3), np.array(1.5))
    check(torch, ember.fill(e, v), torch.fill(t, tv), [e, v], [t, tv], np.float64)
    assert e.array[0, 0] != 1.5  # a new tensor: input unchanged
    ei, ti = (
        ember.fill(ember.zeros(2, dtype=ember.int64), 3.7),
        torch.fill(torch.zeros(2, dtype=torch.int64), 3.7),
    )
    assert ei.dtype == np.int64 and ei.tolist() == ti.tolist()
    same_error(torch, lambda: ember.fill(ember.zeros(2), ember.ones(2)),
               lambda: torch.fill(torch.zeros(2), torch.ones(2)))  # fmt: skip
