"""torch.Tensor methods of ember/tensor_torch_more.py against torch: the random fills
(distributions by moments and KS distances with fixed seeds, dtypes, bounds, errors,
reproducibility), the flags and properties of a dense tensor, dim_order, nonzero_static, the
unsafe_ splits and hardshrink / prelu as methods."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember

N = 200_000


def errors_alike(f_ember, f_torch):
    """Both raise, the same exception class; returns (ember's, torch's) messages."""
    with pytest.raises(Exception) as te:
        f_torch()
    with pytest.raises(te.type) as ee:
        f_ember()
    return str(ee.value), str(te.value)


def ks_distance(sample, cdf) -> float:
    """sup |F_n(x) − F(x)|, the Kolmogorov–Smirnov statistic of a sample against a CDF."""
    x = np.sort(np.asarray(sample, dtype=np.float64))
    f = cdf(x)
    n = len(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


# with n = 200 000 draws, a KS distance above 1.95/√n has probability < 0.1 % under H0
KS_BOUND = 1.95 / math.sqrt(N)


def within(sample_mean, mean, var, n=N, k=4.0):
    assert abs(sample_mean - mean) < k * math.sqrt(var / n), (sample_mean, mean)


# ------------------------------------------------------------ random_
@pytest.mark.parametrize(
    "dtype,low,high",
    [
        ("float32", 0, 10),
        ("float64", -5, 5),
        ("int64", 3, 9),
        ("int8", -128, 128),
        ("uint8", 0, 256),
        ("int16", -7, -2),
        ("int32", 0, 2),
    ],  # fmt: skip
)
def test_random_from_to_uniform(dtype, low, high):
    ember.manual_seed(0)
    x = ember.zeros(N, dtype=getattr(ember, dtype))
    assert x.random_(low, high) is x
    assert x.dtype == getattr(ember, dtype)
    v = x.numpy().astype(np.int64)
    assert v.min() == low and v.max() == high - 1  # both ends reached, nothing outside
    counts = np.bincount(v - low, minlength=high - low) / N
    p = 1 / (high - low)
    assert np.all(np.abs(counts - p) < 4 * math.sqrt(p * (1 - p) / N) + 1e-12)


def test_random_forms_and_default_bounds():
    ember.manual_seed(1)
    x = ember.zeros(N)
    v = x.random_(7).numpy()  # random_(to): [0, to)
    assert set(np.unique(v)) == set(range(7))
    v = x.random_().numpy()  # float32: [0, 2^24]
    assert v.min() >= 0 and v.max() <= 2**24 and v.max() > 2**24 * 0.99
    assert np.all(v == np.round(v))
    within(v.mean(), 2**23, (2**24) ** 2 / 12)
    v = ember.zeros(N, dtype=ember.float64).random_().numpy()
    assert v.max() <= 2**53 and v.max() > 2**53 * 0.99
    v = ember.zeros(N, dtype=ember.float16).random_().numpy().astype(np.float64)
    assert v.max() <= 2**11 and v.min() >= 0
    v = ember.zeros(N, dtype=ember.int8).random_().numpy()
    assert v.min() == 0 and v.max() == 127
    v = ember.zeros(N, dtype=ember.uint8).random_().numpy()
    assert v.min() == 0 and v.max() == 255
    v = ember.zeros(N, dtype=ember.bool).random_().numpy()
    within(v.mean(), 0.5, 0.25)
    v = ember.zeros(N, dtype=ember.int64).random_(**{"from": -3}).numpy()
    assert v.min() >= -3 and v.mean() > 2**61  # up to int64's max
    v = ember.zeros(N, dtype=ember.int8).random_(120, None).numpy()
    assert set(np.unique(v)) == set(range(120, 128))


@pytest.mark.parametrize(
    "dtype,args",
    [
        ("float32", (5, 3)),
        ("float32", (3, 3)),
        ("float32", (-5,)),
        ("uint8", (0, 300)),
        ("int8", (-200, 3)),
        ("uint8", (-1, 3)),
        ("bool", (0, 3)),
        ("float32", (2**24 + 5, None)),
        ("complex64", ()),
    ],  # fmt: skip
)
def test_random_errors_as_torch(dtype, args):
    e, t = errors_alike(
        lambda: ember.zeros(3, dtype=getattr(ember, dtype)).random_(*args),
        lambda: torch.zeros(3, dtype=getattr(torch, dtype)).random_(*args),
    )
    assert e == t or dtype == "complex64"


def test_random_warns_beyond_the_exact_integers():
    with pytest.warns(UserWarning, match="to - 1 is out of bounds"):
        torch.zeros(3).random_(0, 2**25)
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
        v = ember.zeros(3).random_(0, 2**25).numpy()
    assert v.max() < 2**25


def test_random_float_argument_refused():
    errors_alike(lambda: ember.zeros(3).random_(2.5), lambda: torch.zeros(3).random_(2.5))


# ------------------------------------------------------------ continuous fills
def test_exponential_distribution():
    ember.manual_seed(2)
    lam = 2.5
    v = ember.zeros(N, dtype=ember.float64).exponential_(lam).numpy()
    assert v.min() >= 0
    within(v.mean(), 1 / lam, 1 / lam**2)
    assert ks_distance(v, lambda x: 1 - np.exp(-lam * x)) < KS_BOUND
    assert ember.zeros(4, dtype=ember.float16).exponential_().dtype == ember.float16


def test_geometric_distribution():
    ember.manual_seed(3)
    p = 0.3
    v = ember.zeros(N).geometric_(p).numpy()
    assert v.min() == 1 and np.all(v == np.round(v))
    within(v.mean(), 1 / p, (1 - p) / p**2)
    for k in (1, 2, 5):
        pk = (1 - p) ** (k - 1) * p
        within(np.mean(v == k), pk, pk * (1 - pk))
    w = ember.zeros(N, dtype=ember.int64).geometric_(0.9)
    assert w.dtype == ember.int64
    within(w.numpy().mean(), 1 / 0.9, 0.1 / 0.81)


def test_log_normal_distribution():
    ember.manual_seed(4)
    mean, std = 0.5, 0.75
    v = ember.zeros(N, dtype=ember.float64).log_normal_(mean, std).numpy()
    assert v.min() > 0
    logs = np.log(v)
    within(logs.mean(), mean, std**2)
    within(v.mean(), math.exp(mean + std**2 / 2),
           (math.exp(std**2) - 1) * math.exp(2 * mean + std**2))  # fmt: skip
    z = ember.zeros(N).log_normal_().numpy()  # defaults: mean 1, std 2 of the log
    within(np.log(z).mean(), 1.0, 4.0)


def test_cauchy_distribution():
    ember.manual_seed(5)
    median, sigma = 1.5, 0.5
    v = ember.zeros(N, dtype=ember.float64).cauchy_(median, sigma).numpy()
    within(np.median(v), median, (math.pi * sigma) ** 2 / 4)  # the median's variance
    cdf = lambda x: 0.5 + np.arctan((x - median) / sigma) / math.pi  # noqa: E731
    assert ks_distance(v, cdf) < KS_BOUND


@pytest.mark.parametrize(
    "call",
    [
        "exponential_(0)",
        "exponential_(-1)",
        "geometric_(0)",
        "geometric_(1)",
        "geometric_(1.5)",
        "log_normal_(0, 0)",
        "log_normal_(0, -1)",
        "cauchy_(0, 0)",
        "cauchy_(0, -1)",
    ],  # fmt: skip
)
def test_parameter_errors_as_torch(call):
    e, t = errors_alike(lambda: eval(f"ember.zeros(3).{call}"),
                        lambda: eval(f"torch.zeros(3).{call}"))  # fmt: skip
    assert e == t


@pytest.mark.parametrize(
    "dtype,call",
    [
        ("int64", "exponential_()"),
        ("complex64", "exponential_()"),
        ("int64", "cauchy_()"),
        ("int64", "log_normal_()"),
        ("bool", "geometric_(0.5)"),
    ],  # fmt: skip
)
def test_dtype_errors_as_torch(dtype, call):
    e, t = errors_alike(lambda: eval(f"ember.zeros(3, dtype=ember.{dtype}).{call}"),
                        lambda: eval(f"torch.zeros(3, dtype=torch.{dtype}).{call}"))  # fmt: skip
    assert e == t


FILLS = ["random_(0, 100)", "random_()", "exponential_()", "geometric_(0.4)", "log_normal_()",
         "cauchy_()"]  # fmt: skip


def with_generator(call: str) -> str:
    """ "f(a)" → "f(a, generator=gen)"; "f()" → "f(generator=gen)"."""
    return call[:-1] + (", " if call[-2] != "(" else "") + "generator=gen)"


@pytest.mark.parametrize("call", FILLS)
def test_fills_repeat_under_a_seed_and_a_generator(call):
    def draw(gen=None):
        x = ember.zeros(50, dtype=ember.float64)  # noqa: F841 - read by eval
        return eval(f"x.{call if gen is None else with_generator(call)}").numpy().copy()

    ember.manual_seed(11)
    a = draw()
    ember.manual_seed(11)
    b, c = draw(), draw()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    g = ember.Generator().manual_seed(7)
    d = draw(g)
    g.manual_seed(7)
    ember.manual_seed(11)
    np.testing.assert_array_equal(d, draw(g))
    np.testing.assert_array_equal(draw(), a)  # the generator's draws left the default alone


@pytest.mark.parametrize("call", FILLS)
def test_fills_refuse_tensors_requiring_grad(call):
    p = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        eval(f"p.{call}")
    with pytest.raises(RuntimeError):
        eval(f"torch.zeros(3, requires_grad=True).{call}")
    with ember.no_grad():
        assert eval(f"p.{call}") is p  # allowed under no_grad, as in torch


def test_fills_write_through_views():
    base = ember.zeros(4, 5)
    base[1].exponential_()
    assert np.all(base.numpy()[1] > 0) and np.all(base.numpy()[[0, 2, 3]] == 0)
    with pytest.raises(RuntimeError):
        ember.zeros(3).expand(2, 3).cauchy_()  # one memory location, many elements


# ------------------------------------------------------------ flags and properties
FLAGS = ["is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested", "is_mkldnn",
         "is_xpu", "is_mps", "is_vulkan", "is_ipu", "is_xla", "is_maia", "is_mtia"]  # fmt: skip


def test_flags_as_torch():
    x, t = ember.zeros(2, 3), torch.zeros(2, 3)
    for name in FLAGS:
        assert getattr(x, name) is getattr(t, name) is False  # attributes, not methods
    for name in ("is_distributed", "is_pinned", "is_shared"):
        assert getattr(x, name)() is getattr(t, name)() is False
    assert x.name is t.name is None
    assert x.layout is ember.strided
    assert repr(x.layout) == "ember.strided" and str(t.layout) == "torch.strided"


def test_pin_memory_refused_as_torch():
    e, t = errors_alike(lambda: ember.zeros(2).pin_memory(), lambda: torch.zeros(2).pin_memory())
    assert e == t


def test_output_nr():
    p = ember.randn(4, requires_grad=True)
    q = torch.randn(4, requires_grad=True)
    assert p.output_nr == q.output_nr == 0
    assert [t.output_nr for t in p.split(2)] == [t.output_nr for t in q.split(2)] == [0, 1]
    (a, _), (c, _) = ember.randn(2, 3).max(1), torch.randn(2, 3).max(1)
    assert a.output_nr == c.output_nr == 0


# ------------------------------------------------------------ dim_order
@pytest.mark.parametrize(
    "make",
    [
        "x",
        "x.transpose(0, 2)",
        "x.permute(1, 2, 0)",
        "x.transpose(1, 2)",
        "x[:, :1]",
        "x[:1, :, :1]",
        "x[:, 0]",
        "x.expand(2, 2, 3, 4)",
        "x.unsqueeze(1).expand(2, 5, 3, 4)",
        "x.permute(0, 2, 1).unsqueeze(3)",
        "x.reshape(2, 3, 2, 2).permute(0, 2, 3, 1)",
        "x[::2, ::2]",
        "x.sum()",
    ],  # fmt: skip
)
def test_dim_order_as_torch(make):
    e = eval(make, {"x": ember.zeros(2, 3, 4)})
    t = eval(make, {"x": torch.zeros(2, 3, 4)})
    assert e.dim_order() == t.dim_order()
    for check in (True, []):
        try:
            expected = t.dim_order(ambiguity_check=check)
        except RuntimeError as err:
            with pytest.raises(RuntimeError, match="does not have unique dim order"):
                e.dim_order(ambiguity_check=check)
            assert "unique dim order" in str(err)
        else:
            assert e.dim_order(ambiguity_check=check) == expected


def test_unsafe_split_takes_an_int():
    e, t = errors_alike(lambda: ember.zeros(4).unsafe_split([1, 3]),
                        lambda: torch.zeros(4).unsafe_split([1, 3]))  # fmt: skip
    assert e == t


def test_dim_order_argument_checked():
    errors_alike(lambda: ember.zeros(2, 3).dim_order(ambiguity_check="ILLEGAL"),
                 lambda: torch.zeros(2, 3).dim_order(ambiguity_check="ILLEGAL"))  # fmt: skip


# ------------------------------------------------------------ nonzero_static, unsafe_ splits
@pytest.mark.parametrize(
    "values,size,fill",
    [
        (np.arange(6.0), 8, -1),
        (np.arange(6.0).reshape(2, 3), 2, 7),
        (np.array(3.0), 2, -1),
        (np.array(0.0), 2, -1),
        (np.zeros((2, 2)), 3, 0),
        (np.arange(6.0) > 2, 0, -1),
    ],  # fmt: skip
)
def test_nonzero_static_as_torch(values, size, fill):
    e = ember.tensor(values).nonzero_static(size=size, fill_value=fill)
    t = torch.tensor(values).nonzero_static(size=size, fill_value=fill)
    assert e.dtype == ember.int64 and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_nonzero_static_errors():
    e, t = errors_alike(lambda: ember.arange(6.0).nonzero_static(size=-1),
                        lambda: torch.arange(6.0).nonzero_static(size=-1))  # fmt: skip
    assert e == t
    errors_alike(lambda: ember.arange(6.0).nonzero_static(2),
                 lambda: torch.arange(6.0).nonzero_static(2))  # fmt: skip


@pytest.mark.parametrize(
    "call",
    [
        "unsafe_chunk(3)",
        "unsafe_chunk(2, 1)",
        "unsafe_split(2)",
        "unsafe_split(3, 1)",
        "unsafe_split_with_sizes([2, 1, 1])",
        "unsafe_split_with_sizes([4, 1], 1)",
    ],  # fmt: skip
)
def test_unsafe_splits_as_torch(call):
    a = np.random.default_rng(0).standard_normal((4, 5))
    x = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    es, ts = eval(f"x.{call}"), eval(f"t.{call}")
    assert len(es) == len(ts)
    for e, u in zip(es, ts):
        np.testing.assert_array_equal(e.detach().numpy(), u.detach().numpy())
    sum((e * (i + 1)).sum() for i, e in enumerate(es)).backward()
    sum((u * (i + 1)).sum() for i, u in enumerate(ts)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ------------------------------------------------------------ activations as methods
@pytest.mark.parametrize("lambd", [0.5, 1.0])
def test_hardshrink_method(lambd):
    a = np.array([-2.0, -1.0, -0.3, 0.0, 0.4, 1.0, 3.0, np.nan])
    x, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    e, u = x.hardshrink(lambd), t.hardshrink(lambd)
    np.testing.assert_array_equal(e.detach().numpy(), u.detach().numpy())
    e[:-1].sum().backward()
    u[:-1].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("shape,wshape", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((5,), (1,))])
def test_prelu_method(shape, wshape):
    rng = np.random.default_rng(1)
    a, w = rng.standard_normal(shape), rng.uniform(0, 1, wshape)
    x, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    we, wt = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    e, u = x.prelu(we), t.prelu(wt)
    np.testing.assert_allclose(e.detach().numpy(), u.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(shape)
    e.backward(ember.tensor(g))
    u.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_map2_as_subclass_and_orgqr_as_torch(torch):
    for lib in (ember, torch):
        x, y, z = lib.ones(3), lib.arange(3.0), lib.full((3,), 2.0)
        assert x.map2_(y, z, lambda a, b, c: a + b * c).tolist() == [1.0, 3.0, 5.0]
        with pytest.raises(RuntimeError, match="Can't call map2_"):
            lib.ones(2, requires_grad=True).map2_(y[:2], z[:2], lambda a, b, c: a)

        class Sub(lib.Tensor):
            pass

        w = lib.ones(2, requires_grad=True)
        s = (w * 2).as_subclass(Sub)
        s.sum().backward()
        assert type(s) is Sub and w.grad.tolist() == [2.0, 2.0]
    a, tau = np.random.default_rng(0).standard_normal((3, 2)), np.array([0.3, 0.7])
    want = torch.tensor(a).orgqr(torch.tensor(tau)).numpy()
    np.testing.assert_allclose(ember.tensor(a).orgqr(ember.tensor(tau)).array, want, atol=1e-12)
