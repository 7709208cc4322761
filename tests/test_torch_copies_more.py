"""randint_like, empty_permuted, typename, the anomaly and warn-always switches, get_device,
set_flush_denormal, DLPack, frombuffer, conv_transpose3d, max_pool1d_with_indices and
is_inference (ember/torch_copies_more.py) against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import torch_copies_more
from tests.torch_pairs import check, leaves, rand, same_error


def test_randint_like(torch):
    x, tx = ember.ones(400, 5), torch.ones(400, 5)
    for args, kwargs in [((10,), {}), ((3, 10), {}), ((), {"high": 4}),
                         ((), {"low": 1, "high": 4}), ((ember.tensor(6),), {})]:  # fmt: skip
        e = ember.randint_like(x, *args, **kwargs)
        t_args = [torch.tensor(6) if isinstance(a, ember.Tensor) else a for a in args]
        t = torch.randint_like(tx, *t_args, **kwargs)
        assert e.shape == tuple(t.shape) and e.dtype == t.numpy().dtype == np.float32
        low = args[0] if len(args) == 2 else kwargs.get("low", 0)
        high = args[-1] if args else kwargs["high"]
        high = int(high.item()) if isinstance(high, ember.Tensor) else high
        assert e.array.min() == low and e.array.max() == high - 1  # 2000 draws cover the range
        assert (e.array == np.round(e.array)).all()
    i = ember.randint_like(ember.ones(3, dtype=ember.int32), 3, 10)
    assert i.dtype == torch.randint_like(torch.ones(3, dtype=torch.int32), 3, 10).numpy().dtype
    assert ember.randint_like(x, 10, dtype=ember.int64).dtype == np.int64
    assert ember.randint_like(x, 10, requires_grad=True).requires_grad
    g1, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    assert ember.randint_like(x, 9, generator=g1).tolist() == \
        ember.randint_like(x, 9, generator=g2).tolist()  # fmt: skip
    for dtype, args in [("float32", (0,)), ("float32", (5, 2)), ("uint8", (300,)),
                        ("uint8", (-1, 3)), ("int8", (-200, 3)), ("int16", (0, 2**20)),
                        ("bool", (0, 3)), ("float16", (0, 2**20))]:  # fmt: skip
        same_error(torch, lambda d=dtype, a=args: ember.randint_like(
                       ember.ones(2, dtype=getattr(ember, d)), *a),
                   lambda d=dtype, a=args: torch.randint_like(
                       torch.ones(2, dtype=getattr(torch, d)), *a))  # fmt: skip


@pytest.mark.parametrize(
    "size,layout", [((2, 3, 5, 7), (0, 2, 3, 1)), ((2, 3), (1, 0)), ((), ()), ((4,), (0,))]
)
def test_empty_permuted(torch, size, layout):
    e, t = ember.empty_permuted(size, layout), torch.empty_permuted(size, layout)
    assert e.shape == tuple(t.shape) and e.stride() == t.stride() and e.dtype == np.float32
    d = ember.empty_permuted(size, layout, dtype=ember.int64, requires_grad=False)
    assert d.dtype == np.int64 and d.stride() == t.stride()
    assert ember.empty_permuted(size, layout, dtype=ember.float64, requires_grad=True).requires_grad


def test_empty_permuted_empty(torch):
    # ember's Tensor.stride reports 0s for an empty array; shape and dtype as torch
    e = ember.empty_permuted((2, 0, 3), (2, 0, 1))
    assert e.shape == (2, 0, 3) and e.dtype == np.float32


def test_empty_permuted_errors(torch):
    for size, layout in [((2, 3), (0, 0)), ((2, 3), (0,)), ((2, 3), (0, 2)), ((2, 3), (-1, 0))]:
        same_error(torch, lambda s=size, p=layout: ember.empty_permuted(s, p),
                   lambda s=size, p=layout: torch.empty_permuted(s, p))  # fmt: skip


DTYPES = ["float32", "float64", "float16", "int8", "uint8", "int16", "int32", "int64", "bool",
          "complex64", "complex128"]  # fmt: skip


def test_typename(torch):
    for name in DTYPES:
        e = ember.zeros(1, dtype=getattr(ember, name) if hasattr(ember, name) else name)
        assert ember.typename(e) == torch.typename(torch.zeros(1, dtype=getattr(torch, name)))
    for obj in (3, [1], None, "s", np.ones(2), ember.float32):
        assert ember.typename(obj) == torch.typename(obj)
    assert ember.typename(ember.nn.Linear(1, 1)) == "ember.nn.linear.Linear"  # module.qualname
    assert ember.typename(ember.nn.Parameter(ember.ones(1))) == "torch.FloatTensor"


def _nan_grad_raises() -> bool:
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    try:
        ember.sqrt(x * 0).sum().backward()  # d√u/du at 0 is inf
    except RuntimeError:
        return True
    return False


def test_anomaly_switches(torch):
    seen = []
    try:
        for args in [(True, False), (False,), (False, False), (True,), (False, True)]:
            ember.set_anomaly_enabled(*args)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.set_anomaly_enabled(*args)
            state = (ember.is_anomaly_enabled(), ember.is_anomaly_check_nan_enabled())
            assert state == (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
            seen.append((state, _nan_grad_raises()))
        with ember.autograd.detect_anomaly(check_nan=False):
            assert (ember.is_anomaly_enabled(), ember.is_anomaly_check_nan_enabled()) == (
                True,
                False,
            )
        assert (ember.is_anomaly_enabled(), ember.is_anomaly_check_nan_enabled()) == (False, True)
    finally:
        ember.set_anomaly_enabled(False)
        torch.set_anomaly_enabled(False)
    # the switch drives the machinery: only (on, check_nan) raises at the NaN gradient
    assert [raised for _, raised in seen] == [False, False, False, True, False]


def test_warn_always_and_frombuffer_warning(torch):
    assert ember.is_warn_always_enabled() is torch.is_warn_always_enabled() is False
    try:
        ember.set_warn_always(True)
        assert ember.is_warn_always_enabled()
        for _ in range(2):  # given every time while warn-always is on
            with pytest.warns(UserWarning, match="not writable"):
                t = ember.frombuffer(b"abcd", dtype=ember.uint8)
        assert t.tolist() == [97, 98, 99, 100]
        ember.set_warn_always(False)
        torch_copies_more._warned_readonly[0] = True  # once given, silent as torch's
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ember.frombuffer(b"abcd", dtype=ember.uint8)
    finally:
        ember.set_warn_always(False)
    assert not ember.is_warn_always_enabled()


def test_frombuffer(torch):
    buf = bytearray(np.arange(6, dtype=np.float32).tobytes())
    e = ember.frombuffer(buf, dtype=ember.float32, count=3, offset=4)
    t = torch.frombuffer(bytearray(buf), dtype=torch.float32, count=3, offset=4)
    assert e.tolist() == t.tolist() and e.dtype == np.float32 and e.shape == (3,)
    buf[4:8] = np.float32(9).tobytes()  # memory shared with the buffer
    assert e.tolist()[0] == 9.0
    e.fill_(2.0)
    assert np.frombuffer(buf, dtype=np.float32)[1] == 2.0
    assert ember.frombuffer(buf, dtype=ember.float32, requires_grad=True).requires_grad
    cases = [(bytearray(), {}), (bytearray(10), {}), (bytearray(16), {"offset": 16}),
             (bytearray(16), {"offset": -1}), (bytearray(16), {"count": 5}),
             (bytearray(16), {"count": 0}), ([1, 2], {}),
             (np.arange(4, dtype=np.float32)[::2], {})]  # fmt: skip
    for b, kw in cases:
        same_error(torch, lambda b=b, kw=kw: ember.frombuffer(b, dtype=ember.float32, **kw),
                   lambda b=b, kw=kw: torch.frombuffer(b, dtype=torch.float32, **kw))  # fmt: skip
    same_error(torch, lambda: ember.frombuffer(bytearray(16), dtype=ember.int32,
                                               requires_grad=True),
               lambda: torch.frombuffer(bytearray(16), dtype=torch.int32,
                                        requires_grad=True))  # fmt: skip


def test_dlpack(torch):
    t = torch.arange(6.0).reshape(2, 3)
    e = ember.from_dlpack(t)
    assert e.tolist() == t.tolist() and e.dtype == np.float32
    t[0, 0] = 7.0  # shares torch's memory
    assert e.tolist()[0][0] == 7.0
    a = np.arange(4.0)
    e = ember.from_dlpack(a)
    assert e.dtype == np.float64 and np.shares_memory(e.numpy(), a)
    assert not np.shares_memory(ember.from_dlpack(a, copy=True).numpy(), a)
    back = torch.from_dlpack(ember.to_dlpack(e))  # a capsule, as torch.to_dlpack
    assert back.tolist() == a.tolist() and np.shares_memory(back.numpy(), a)
    e2 = ember.from_dlpack(torch.to_dlpack(t))  # torch's capsule
    assert e2.tolist() == t.tolist() and np.shares_memory(e2.numpy(), t.numpy())
    x = ember.tensor([1.0, 2.0])
    assert np.shares_memory(ember.from_dlpack(x).numpy(), x.numpy())
    same_error(torch, lambda: ember.from_dlpack(3), lambda: torch.from_dlpack(3))


def test_device_and_flags(torch):
    x = ember.ones(2)
    assert ember.get_device(x) == torch.get_device(torch.ones(2)) == -1
    same_error(torch, lambda: ember.get_device(3), lambda: torch.get_device(3))
    assert ember.set_flush_denormal(True) is False and ember.set_flush_denormal(False) is False
    assert ember.is_inference(x) is torch.is_inference(torch.ones(2)) is False
    same_error(torch, lambda: ember.is_inference(3), lambda: torch.is_inference(3))
    assert ember.is_inference_mode_enabled() is torch.is_inference_mode_enabled() is False


def test_conv_transpose3d(torch):
    (x, w, b), (tx, tw, tb) = leaves(torch, rand(1, 2, 3, 3, 3), rand(2, 2, 2, 2, 2, seed=1),
                                     rand(2, seed=2))  # fmt: skip
    kw = dict(stride=2, padding=1, output_padding=1)
    check(torch, ember.conv_transpose3d(x, w, b, **kw), torch.conv_transpose3d(tx, tw, tb, **kw),
          [x, w, b], [tx, tw, tb], np.float64)  # fmt: skip


@pytest.mark.parametrize("args", [(3,), (3, 2, 1, 1, True), (2, [], 0), (3, 1, 1, 2)])
def test_max_pool1d_with_indices(torch, args):
    (e,), (t,) = leaves(torch, rand(2, 3, 10))
    ev, ei = ember.max_pool1d_with_indices(e, *args)
    tv, ti = torch.max_pool1d_with_indices(t, *args)
    assert ei.dtype == np.int64 and ei.tolist() == ti.tolist()
    check(torch, ev, tv, [e], [t], np.float64)
    x = ember.tensor(rand(2, 3, 10), requires_grad=True)
    assert ember.gradcheck(lambda x: ember.max_pool1d_with_indices(x, *args)[0], (x,))
