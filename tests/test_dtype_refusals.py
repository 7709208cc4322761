"""Where torch refuses a dtype (bool, integer) or has a default, ember does the same: the same
exception class and message, checked against torch itself; the dtype= keywords of the
reductions and softmax cast first, as torch's; nonzero of a 0-d tensor, square of bool,
histogram's default bins and clamp without bounds as torch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

B = [[True, False, True], [False, True, True], [True, True, False]]
INT_DTYPES = ["int8", "uint8", "int16", "int32", "int64"]


def both(data, dtype=None):
    """The same tensor in ember and in torch."""
    a = np.asarray(data, dtype=dtype)
    return ember.tensor(a), torch.tensor(a)


def same_error(f, e, t):
    """f(ember tensor) raises what f(torch tensor) raises: class and message."""
    with pytest.raises(Exception) as want:
        f(t)
    with pytest.raises(type(want.value)) as got:
        f(e)
    assert str(got.value) == str(want.value)


BOOL_REFUSED = {
    "abs": lambda x: x.abs(),
    "absolute": lambda x: x.absolute(),
    "ceil": lambda x: x.ceil(),
    "floor": lambda x: x.floor(),
    "trunc": lambda x: x.trunc(),
    "fix": lambda x: x.fix(),
    "round": lambda x: x.round(),
    "frac": lambda x: x.frac(),
    "median": lambda x: x.median(),
    "median_dim": lambda x: x.median(0),
    "nanmedian": lambda x: x.nanmedian(),
    "nanmedian_dim": lambda x: x.nanmedian(1),
    "trace": lambda x: x.trace(),
    "relu": lambda x: x.relu(),
    "argmax": lambda x: x.argmax(),
    "argmax_dim": lambda x: x.argmax(1),
    "argmin": lambda x: x.argmin(),
    "argmin_dim": lambda x: x.argmin(0, keepdim=True),
    "cov": lambda x: x.cov(),
    "corrcoef": lambda x: x.corrcoef(),
    "neg_operator": lambda x: -x,
    "neg": lambda x: x.neg(),
    "negative": lambda x: x.negative(),
    "mean": lambda x: x.mean(),
    "std": lambda x: x.std(),
    "var": lambda x: x.var(),
    "norm": lambda x: x.norm(),
}


@pytest.mark.parametrize("name", sorted(BOOL_REFUSED))
def test_bool_refused_as_torch(name):
    e, t = both(B)
    same_error(BOOL_REFUSED[name], e, t)


TOP_LEVEL = [
    "abs", "absolute", "ceil", "floor", "trunc", "fix", "frac", "median", "nanmedian", "trace",
    "relu", "argmax", "argmin", "cov", "corrcoef", "neg", "negative", "mean", "std", "var",
    "norm", "clamp", "clip", "std_mean", "var_mean",
]  # fmt: skip


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_forms_refuse_bool_as_torch(name):
    e, t = both(B)
    same_error(lambda x: getattr(ember if isinstance(x, ember.Tensor) else torch, name)(x), e, t)


def test_functional_relu_refuses_bool():
    e, t = both(B)
    same_error(
        lambda x: (
            ember.nn.functional if isinstance(x, ember.Tensor) else torch.nn.functional
        ).relu(x),
        e,
        t,
    )


INT_REFUSED = {
    "frac": lambda x: x.frac(),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(0),
    "std": lambda x: x.std(),
    "var": lambda x: x.var(1),
    "norm": lambda x: x.norm(),
    "norm_1": lambda x: x.norm(1),
    "norm_dim": lambda x: x.norm(dim=0),
}


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", sorted(INT_REFUSED))
def test_integers_refused_as_torch(name, dtype):
    e, t = both([[1, 2, 3], [4, 5, 6]], dtype)
    same_error(INT_REFUSED[name], e, t)


@pytest.mark.parametrize("name", ["mean", "std", "var", "std_mean", "var_mean", "norm", "frac"])
def test_top_level_integers_refused_as_torch(name):
    e, t = both([1, 2, 3])
    same_error(lambda x: getattr(ember if isinstance(x, ember.Tensor) else torch, name)(x), e, t)


def test_mean_dtype_casts_first_as_torch():
    e, t = both([[1, 2, 3], [4, 5, 7]])
    for f in (
        lambda x, m: x.mean(dtype=m.float32),
        lambda x, m: x.mean(1, dtype=m.float64),
        lambda x, m: x.mean(dim=0, keepdim=True, dtype=m.float32),
        lambda x, m: m.mean(x, 1, dtype=m.float64),
    ):
        r, w = f(e, ember), f(t, torch)
        assert str(r.dtype).split(".")[-1] in str(w.dtype)
        np.testing.assert_allclose(r.numpy(), w.numpy(), rtol=1e-6)
    eb, tb = both(B)
    np.testing.assert_allclose(
        eb.mean(dtype=ember.float32).numpy(), tb.mean(dtype=torch.float32).numpy()
    )
    # an integer dtype is refused, as torch
    same_error(lambda x: x.mean(dtype=ember.int64 if isinstance(x, ember.Tensor) else torch.int64),
               e, t)  # fmt: skip


def test_mean_dtype_gradient():
    x = ember.tensor([1.0, 2.0, 4.0], requires_grad=True)
    x.mean(dtype=ember.float64).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 1 / 3))
    assert x.grad.dtype == ember.float32


DTYPE_REDUCTIONS = {
    "sum": lambda x, m: x.sum(dtype=m.float32),
    "sum_dim": lambda x, m: x.sum(1, dtype=m.float64),
    "top_sum": lambda x, m: m.sum(x, 0, dtype=m.int32),
    "prod": lambda x, m: x.prod(dtype=m.float32),
    "prod_dim": lambda x, m: x.prod(1, dtype=m.float64),
    "top_prod": lambda x, m: m.prod(x, 0, dtype=m.float32),
    "cumsum": lambda x, m: x.cumsum(1, dtype=m.float32),
    "top_cumsum": lambda x, m: m.cumsum(x, 0, dtype=m.float64),
    "cumprod": lambda x, m: x.cumprod(0, dtype=m.float32),
    "cumsum_int32": lambda x, m: x.cumsum(0, dtype=m.int32),
    "prod_int32": lambda x, m: x.prod(1, dtype=m.int32),
    "sum_int16": lambda x, m: x.sum(dtype=m.int16),
    "nansum": lambda x, m: x.nansum(dtype=m.float32),
    "softmax": lambda x, m: x.softmax(1, dtype=m.float32),
    "log_softmax": lambda x, m: x.log_softmax(0, dtype=m.float64),
    "top_softmax": lambda x, m: m.softmax(x, 1, dtype=m.float64),
}


@pytest.mark.parametrize("name", sorted(DTYPE_REDUCTIONS))
def test_dtype_keyword_casts_first_as_torch(name):
    e, t = both([[1, 2, 3], [4, 5, 6]], "int64")
    r, w = DTYPE_REDUCTIONS[name](e, ember), DTYPE_REDUCTIONS[name](t, torch)
    assert str(r.dtype).split(".")[-1].strip("'>") in str(w.dtype)
    np.testing.assert_allclose(r.numpy(), w.numpy(), rtol=1e-6)


def test_nanmean_refuses_integers_even_with_dtype():
    e = ember.tensor([1, 2, 3])
    with pytest.raises(TypeError):
        e.nanmean(dtype=ember.float32)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 3]).nanmean(dtype=torch.float32)


def test_norm_dtype_of_a_float_tensor():
    e, t = both([3.0, 4.0], "float32")
    r, w = e.norm(dtype=ember.float64), t.norm(dtype=torch.float64)
    assert r.dtype == ember.float64 and w.dtype == torch.float64
    np.testing.assert_allclose(r.numpy(), w.numpy())


@pytest.mark.parametrize("form", ["clamp", "clip", "top_clamp", "top_clip", "none_none"])
def test_clamp_without_bounds_refused_as_torch(form):
    e, t = both([1.0, -2.0])

    def f(x):
        m = ember if isinstance(x, ember.Tensor) else torch
        if form == "none_none":
            return x.clamp(None, None)
        if form.startswith("top_"):
            return getattr(m, form[4:])(x)
        return getattr(x, form)()

    same_error(f, e, t)
    np.testing.assert_allclose(e.clamp(max=0.5).numpy(), t.clamp(max=0.5).numpy())


@pytest.mark.parametrize("value", [5, 0, 2.5, 0.0, True, False])
@pytest.mark.parametrize("as_tuple", [False, True])
def test_nonzero_of_a_0d_tensor_as_torch(value, as_tuple):
    e, t = ember.tensor(value), torch.tensor(value)
    pairs = [(e.nonzero(as_tuple=as_tuple), t.nonzero(as_tuple=as_tuple))]
    pairs.append((ember.nonzero(e, as_tuple=as_tuple), torch.nonzero(t, as_tuple=as_tuple)))
    for r, w in pairs:
        if as_tuple:
            assert len(r) == len(w) == 1
            r, w = r[0], w[0]
        assert tuple(r.shape) == tuple(w.shape)
        assert r.dtype == ember.int64
        np.testing.assert_array_equal(r.numpy(), w.numpy())


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "float32"])
def test_square_dtype_as_torch(dtype):
    e, t = both([1, 0, 1], dtype)
    for r, w in ((e.square(), t.square()), (ember.square(e), torch.square(t))):
        assert str(r.dtype).split(".")[-1].strip("'>") in str(w.dtype)
        np.testing.assert_array_equal(r.numpy(), w.numpy())


def test_histogram_default_bins_as_torch():
    rng = np.random.default_rng(0)
    e, t = both(rng.standard_normal(50), "float32")
    for r, w in ((e.histogram(), t.histogram()), (ember.histogram(e), torch.histogram(t))):
        assert r[0].shape == (100,) and r[1].shape == (101,)
        np.testing.assert_allclose(r[0].numpy(), w[0].numpy())
        np.testing.assert_allclose(r[1].numpy(), w[1].numpy(), rtol=1e-6, atol=1e-6)
    r, w = e.histogram(range=(-1.0, 1.0)), t.histogram(range=(-1.0, 1.0))
    np.testing.assert_allclose(r[0].numpy(), w[0].numpy())


def test_happy_paths_unchanged():
    e, t = both([[-1.5, 2.0], [0.25, -3.0]], "float32")
    for f in (
        lambda x: x.abs(), lambda x: -x, lambda x: x.relu(), lambda x: x.mean(),
        lambda x: x.std(), lambda x: x.norm(), lambda x: x.floor(), lambda x: x.frac(),
    ):  # fmt: skip
        np.testing.assert_allclose(f(e).numpy(), f(t).numpy(), rtol=1e-6)
    assert e.argmax().item() == t.argmax().item()
    i, ti = both([[-1, 2], [3, -4]], "int64")
    for f in (lambda x: x.abs(), lambda x: -x, lambda x: x.relu(), lambda x: x.floor()):
        r, w = f(i), f(ti)
        assert r.dtype == ember.int64
        np.testing.assert_array_equal(r.numpy(), w.numpy())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss"])
def test_integer_losses_as_torch(loss, reduction):
    """mse_loss has no integer kernel; l1_loss refuses only the mean (mean's refusal)."""
    e, t = both([[1, 2], [3, 5]])
    e2, t2 = both([[0, 2], [1, 1]])

    def f(x):
        if isinstance(x, ember.Tensor):
            return getattr(ember.nn.functional, loss)(x, e2, reduction=reduction)
        return getattr(torch.nn.functional, loss)(x, t2, reduction=reduction)

    try:
        want = f(t)
    except Exception:
        same_error(f, e, t)
    else:
        got = f(e)
        assert got.dtype == ember.int64 and want.dtype == torch.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())
