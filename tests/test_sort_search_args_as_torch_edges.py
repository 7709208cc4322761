"""Sorting, searching and scan functions' arguments where ember used to differ from torch 2.13
(found by fuzzing both side by side): the tensor given as input=, ints given as floats or
bools (k, bins, dim), q given as a string, a dim given as a NumPy integer or a 0-d tensor."""

import numpy as np
import pytest

import ember

X = np.array([[1.0, -2.0, 3.5, 0.5], [4.0, 2.0, -1.0, 7.0], [0.25, 5.0, 6.0, -3.0]])


def _same_values(got, want):
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)


# ------------------------------------------------------------ keywords
KEYWORD_CALLS = {
    "sort": lambda m, x: m.sort(input=x, dim=0, descending=True, stable=True).values,
    "argsort": lambda m, x: m.argsort(input=x, dim=0, stable=True),
    "topk": lambda m, x: m.topk(input=x, k=2, dim=0, largest=False).values,
    "kthvalue": lambda m, x: m.kthvalue(input=x, k=1, dim=0, keepdim=True).values,
    "median": lambda m, x: m.median(input=x, dim=0).values,
    "nanmedian": lambda m, x: m.nanmedian(input=x, dim=1).values,
    "mode": lambda m, x: m.mode(input=x, dim=0).values,
    "quantile": lambda m, x: m.quantile(input=x, q=0.5, dim=0, interpolation="lower"),
    "nanquantile": lambda m, x: m.nanquantile(input=x, q=0.25, dim=1),
    "cumsum": lambda m, x: m.cumsum(input=x, dim=0, dtype=m.float32),
    "cumprod": lambda m, x: m.cumprod(input=x, dim=1),
    "cummax": lambda m, x: m.cummax(input=x, dim=0).values,
    "logcumsumexp": lambda m, x: m.logcumsumexp(input=x, dim=1),
    "diff": lambda m, x: m.diff(input=x, n=1, dim=0),
    "count_nonzero": lambda m, x: m.count_nonzero(input=x, dim=0),
    "argmax": lambda m, x: m.argmax(input=x, dim=0, keepdim=True),
    "max": lambda m, x: m.max(input=x, dim=0).values,
    "searchsorted": lambda m, x: m.searchsorted(m.arange(4.0, dtype=m.float64), input=x),
}


@pytest.mark.parametrize("name", KEYWORD_CALLS)
def test_input_is_taken_by_keyword_as_torch(torch, name):
    """torch names the tensor input= (ember's wrappers named it self, a TypeError)."""
    got = KEYWORD_CALLS[name](ember, ember.tensor(X))
    want = KEYWORD_CALLS[name](torch, torch.tensor(X))
    _same_values(got, want)


# ------------------------------------------------------------ argument types
def _not_ints(lib):
    x = lib.tensor(X)
    return [
        ("topk of k = 2.5", lambda: lib.topk(x, 2.5)),
        ("topk of k = True", lambda: x.topk(True)),
        ("kthvalue of k = 1.0", lambda: lib.kthvalue(x, 1.0)),
        ("kthvalue of a float tensor k", lambda: x.kthvalue(lib.tensor(1.0))),
        ("histc of bins = 2.5", lambda: lib.histc(x, 2.5)),
        ("quantile of q = '0.5'", lambda: lib.quantile(x, "0.5")),
    ]


@pytest.mark.parametrize("k", range(6))
def test_int_and_number_arguments_are_checked_as_torchs_parser(refused_alike, k):
    """torch's TypeError where ember truncated k or bins with int() (2.5 became 2) or read
    q = '0.5' as a number."""
    refused_alike(_not_ints, k, TypeError)


DIM_CALLS = {
    "median": lambda m, x, d: m.median(x, d).values,
    "nanmedian": lambda m, x, d: x.nanmedian(d).values,
    "mode": lambda m, x, d: m.mode(x, d).values,
    "kthvalue": lambda m, x, d: m.kthvalue(x, 2, d).values,
    "quantile": lambda m, x, d: m.quantile(x, 0.5, d),
    "nanquantile": lambda m, x, d: x.nanquantile(0.5, d),
}


@pytest.mark.parametrize("name", DIM_CALLS)
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_a_dim_given_as_a_numpy_or_0d_integer_is_an_int(torch, name, kind):
    """torch's parser reads a NumPy integer or a 0-d integer tensor as the int (ember failed
    in squeeze: 'numpy.int64' object is not iterable)."""
    got, want = (
        DIM_CALLS[name](m, m.tensor(X), np.int64(1) if kind == "numpy" else m.tensor(1))
        for m in (ember, torch)
    )
    _same_values(got, want)


def _bool_dims(lib):
    x = lib.tensor(X)
    return [
        ("sort", lambda: lib.sort(x, True)),
        ("cumsum", lambda: lib.cumsum(x, True)),
        ("cummax", lambda: x.cummax(True)),
        ("logcumsumexp", lambda: lib.logcumsumexp(x, True)),
        ("median", lambda: lib.median(x, True)),
        ("mode", lambda: x.mode(True)),
        ("quantile", lambda: lib.quantile(x, 0.5, True)),
    ]


@pytest.mark.parametrize("k", range(7))
def test_a_bool_dim_is_refused_as_torch(refused_alike, k):
    """torch's TypeError (ember read True as dim 1)."""
    refused_alike(_bool_dims, k, TypeError)


REDUCE_DIMS = {
    "count_nonzero": lambda m, x, d: m.count_nonzero(x, d),
    "sum": lambda m, x, d: m.sum(x, d),
    "amax": lambda m, x, d: x.amax(d),
    "nansum": lambda m, x, d: m.nansum(x, d),
}


@pytest.mark.parametrize("name", REDUCE_DIMS)
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_reductions_read_a_numpy_or_0d_integer_dim_as_torch(torch, name, kind):
    """ember's dims went through a check that took only Python ints (a TypeError for these)."""

    got, want = (
        REDUCE_DIMS[name](m, m.tensor(X), np.int64(1) if kind == "numpy" else m.tensor(1))
        for m in (ember, torch)
    )
    _same_values(got, want)


@pytest.mark.parametrize("name", REDUCE_DIMS)
def test_reductions_refuse_a_bool_dim_as_torch(torch, name):
    with pytest.raises(TypeError):
        REDUCE_DIMS[name](torch, torch.tensor(X), True)
    with pytest.raises(TypeError):
        REDUCE_DIMS[name](ember, ember.tensor(X), True)
