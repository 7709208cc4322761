"""Sorting, searching, set and cumulative operations where ember used to differ from torch 2.13
(found by fuzzing both side by side): the order in which quantile and nanquantile check their
arguments, and their refusal of float16."""

import numpy as np
import pytest

import ember

X = np.array([[1.0, -2.0, 3.5, 0.5], [4.0, 2.0, -1.0, 7.0], [0.25, 5.0, 6.0, -3.0]])


def _quantile_mistakes(lib):
    """Each call makes two mistakes; torch names the first of its checks."""
    x, e = lib.tensor(X), lib.zeros(0, 3, dtype=lib.float64)
    h, q64 = lib.tensor(X, dtype=lib.float16), lib.tensor([0.5], dtype=lib.float64)
    return [
        ("float16 input", lambda: lib.quantile(h, 0.5), RuntimeError),
        ("float16 input, dim out of range", lambda: lib.quantile(h, 0.5, dim=5), RuntimeError),
        ("float16 nanquantile", lambda: lib.nanquantile(h, 0.5), RuntimeError),
        ("empty input, dim out of range", lambda: lib.quantile(e, 0.5, dim=5), RuntimeError),
        (
            "empty input, bad interpolation",
            lambda: lib.quantile(e, 0.5, 0, False, interpolation="cubic"),
            RuntimeError,
        ),
        (
            "q out of range, bad interpolation",
            lambda: lib.nanquantile(x, 2.0, interpolation="cubic"),
            RuntimeError,
        ),
        (
            "q tensor out of range, dim out of range",
            lambda: lib.quantile(x, lib.tensor([1.5], dtype=lib.float64), dim=5),
            IndexError,
        ),
        (
            "q tensor of nan",
            lambda: lib.nanquantile(x, lib.tensor([float("nan")], dtype=lib.float64)),
            RuntimeError,
        ),
        (
            "2-d q, float16 input",
            lambda: lib.quantile(h, lib.tensor([[0.5]], dtype=lib.float16)),
            RuntimeError,
        ),
        ("float16 input, q of another dtype", lambda: lib.quantile(h, q64), RuntimeError),
        (
            "int input, dim out of range",
            lambda: lib.quantile(lib.tensor([1, 2]), 0.5, 3),
            RuntimeError,
        ),
    ]


@pytest.mark.parametrize("k", range(11))
def test_quantile_checks_its_arguments_in_torchs_order(torch, k):
    (name, call, cls), (tname, tcall, _) = (
        _quantile_mistakes(ember)[k],
        _quantile_mistakes(torch)[k],
    )
    assert name == tname
    with pytest.raises(cls) as t_err:
        tcall()
    with pytest.raises(cls) as e_err:
        call()
    assert str(e_err.value).split("\n")[0] == str(t_err.value).split("\n")[0]


# ------------------------------------------------------------ searchsorted and bucketize
def _search_mistakes(lib):
    flags, rows = lib.tensor([False, True]), lib.zeros(2, 3)
    return [
        ("bool in bool", lambda: lib.searchsorted(flags, lib.tensor([True]))),
        ("bool bucketize", lambda: lib.bucketize(lib.tensor(True), flags)),
        ("0-d value in rows", lambda: lib.searchsorted(rows, lib.tensor(1.0))),
        ("number in rows", lambda: lib.searchsorted(rows, 1.0, right=True)),
    ]


@pytest.mark.parametrize(
    "k, cls",
    [(0, NotImplementedError), (1, NotImplementedError), (2, RuntimeError), (3, RuntimeError)],
)
def test_searchsorted_refuses_bools_and_a_scalar_in_rows(refused_alike, k, cls):
    refused_alike(_search_mistakes, k, cls)


# ------------------------------------------------------------ histograms
def _half_histograms(lib):
    x = lib.tensor([0.5, 1.0, 2.0], dtype=lib.float16)
    return [
        ("bins from the data", lambda: lib.histogram(x, 3)),
        ("as a method", lambda: x.histogram(3, density=True)),
        ("and a weight of another shape", lambda: lib.histogram(x, 2, weight=x[:2])),
    ]


@pytest.mark.parametrize("k", range(3))
def test_histogram_of_float16_over_the_datas_range_is_refused(refused_alike, k):
    """torch has no float16 kernel for the data's range; with range= or edges it counts."""
    refused_alike(_half_histograms, k, NotImplementedError)
