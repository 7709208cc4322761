"""histogramdd and segment_reduce against torch: values, shapes and dtypes, the return type,
segment_reduce's gradients (and gradcheck), and the errors for bad input."""

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand, same_error, tol


def same_hist(torch, e, t, dtype):
    assert type(e).__name__ == "histogramdd" and e._fields == ("hist", "bin_edges")
    assert isinstance(e.bin_edges, tuple) and len(e.bin_edges) == len(t.bin_edges)
    assert e.hist.shape == tuple(t.hist.shape) and e.hist.array.dtype == dtype
    np.testing.assert_allclose(e.hist.array, t.hist.numpy(), **tol(dtype))
    for a, b in zip(e.bin_edges, t.bin_edges):
        assert a.array.dtype == dtype
        np.testing.assert_allclose(a.array, b.numpy(), **tol(dtype))


# ---------------------------------------------------------------- histogramdd
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bins", [4, [2, 3, 5], (1, 1, 1)])
@pytest.mark.parametrize("density", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_histogramdd_bin_counts_match_torch(torch, dtype, bins, density, weighted):
    x = rand(4, 25, 3, dtype=dtype)
    w = np.abs(rand(4, 25, dtype=dtype, seed=1)) if weighted else None
    kw = dict(density=density)
    e = ember.histogramdd(
        ember.tensor(x), bins, weight=None if w is None else ember.tensor(w), **kw
    )
    t = torch.histogramdd(
        torch.tensor(x), bins, weight=None if w is None else torch.tensor(w), **kw
    )
    same_hist(torch, e, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_histogramdd_range_and_edge_tensors_match_torch(torch, dtype):
    x = rand(60, 2, dtype=dtype)
    rng = [-1.0, 1.0, 0.0, 2.5]
    for bins in (3, [2, 4]):
        for density in (False, True):
            e = ember.histogramdd(ember.tensor(x), bins, range=rng, density=density)
            t = torch.histogramdd(torch.tensor(x), bins, range=rng, density=density)
            same_hist(torch, e, t, dtype)
    edges = [np.array([-2.0, -0.5, 0.0, 0.3, 2.0]), np.array([-1.0, 1.0, 1.5])]
    edges = [a.astype(dtype) for a in edges]
    w = rand(60, dtype=dtype, seed=2) ** 2
    for density in (False, True):
        e = ember.histogramdd(ember.tensor(x), [ember.tensor(a) for a in edges],
                              weight=ember.tensor(w), density=density)  # fmt: skip
        t = torch.histogramdd(torch.tensor(x), [torch.tensor(a) for a in edges],
                              weight=torch.tensor(w), density=density)  # fmt: skip
        same_hist(torch, e, t, dtype)
    # range is ignored beside edge tensors, as torch; points on the last edge count
    x2 = np.array([[2.0, 1.5], [-2.0, -1.0], [0.0, 1.0], [3.0, 0.0]], dtype=dtype)
    e = ember.histogramdd(ember.tensor(x2), [ember.tensor(a) for a in edges], range=rng)
    t = torch.histogramdd(torch.tensor(x2), [torch.tensor(a) for a in edges], range=rng)
    same_hist(torch, e, t, dtype)


def test_histogramdd_degenerate_inputs_match_torch(torch):
    cases = [
        (np.ones((4, 2)), 2),  # min = max: widened by ±0.5
        (np.empty((0, 3)), 3),  # no points: [0, 1]
        (rand(7, 1), 5),  # one dimension
        (np.round(rand(30, 2), 1), [3, 3]),  # values on the edges
        (np.empty((0, 0), np.float32), 2),  # no dimensions: a 0-d zero
    ]
    for x, bins in cases:
        e = ember.histogramdd(ember.tensor(x), bins)
        t = torch.histogramdd(torch.tensor(x), bins)
        same_hist(torch, e, t, x.dtype.type)
    e = ember.histogramdd(ember.tensor(rand(5, 2)), 2)
    assert not e.hist.requires_grad


def test_histogramdd_errors_match_torch(torch):
    x = rand(10, 3)
    f64 = [np.array([0.0, 1.0])] * 3
    cases = [
        lambda m, a: m.histogramdd(a, bins=[2, 3]),
        lambda m, a: m.histogramdd(a, bins=4, range=[0.0, 1.0]),
        lambda m, a: m.histogramdd(a[:, 0], bins=3),
        lambda m, a: m.histogramdd(a, bins=0),
        lambda m, a: m.histogramdd(a, bins=[2, 0, 1]),
        lambda m, a: m.histogramdd(a, bins=3, range=(0.0, 1.0, 1.0, 0.0, 0.0, 1.0)),
        lambda m, a: m.histogramdd(a, 3, range=[0, 1, 0, 1, 0, float("inf")]),
        lambda m, a: m.histogramdd(a.int(), bins=3),
        lambda m, a: m.histogramdd(a.half(), bins=3),
        lambda m, a: m.histogramdd(a, bins=3, weight=m.ones(9, dtype=a.dtype)),
        lambda m, a: m.histogramdd(a, bins=3, weight=m.ones(10)),
        lambda m, a: m.histogramdd(a, bins=[m.tensor(e) for e in f64[:2]]),
        lambda m, a: m.histogramdd(a, bins=[m.tensor(e).float() for e in f64]),
        lambda m, a: m.histogramdd(a, bins=[m.tensor(e[:1]) for e in f64]),
        lambda m, a: m.histogramdd(a, bins=[m.tensor(e[None]) for e in f64]),
    ]
    for call in cases:
        e_call = lambda c=call: c(ember, ember.tensor(x))  # noqa: E731
        same_error(torch, e_call, lambda c=call: c(torch, torch.tensor(x)))
    with pytest.raises(TypeError):
        ember.histogramdd(ember.tensor(x), ember.tensor([0.0, 1.0]))


# ---------------------------------------------------------------- segment_reduce
REDUCTIONS = ["sum", "mean", "max", "min", "prod"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("initial", [None, 0.5, -2.0])
@pytest.mark.parametrize("given", ["lengths", "offsets"])
def test_segment_reduce_1d_axis_matches_torch(torch, dtype, reduce, initial, given):
    x = rand(7, 3, dtype=dtype)
    lengths = np.array([2, 0, 3, 1, 1])
    seg = {"lengths": lengths, "offsets": np.concatenate([[0], np.cumsum(lengths)])}[given]
    (e,), (t,) = leaves(torch, x)
    out_e = ember.segment_reduce(e, reduce, initial=initial, **{given: ember.tensor(seg)})
    out_t = torch.segment_reduce(t, reduce, initial=initial, **{given: torch.tensor(seg)})
    np.testing.assert_allclose(out_e.array, out_t.detach().numpy(), **tol(dtype))
    # the empty segment's nan / ±inf are not differentiable: weigh only the finite ones
    w = np.where(np.isfinite(out_t.detach().numpy()), rand(5, 3, dtype=dtype, seed=1), 0)
    ok = np.isfinite(out_t.detach().numpy())
    (ember.where(ember.tensor(ok), out_e, 0.0) * ember.tensor(w)).sum().backward()
    (torch.where(torch.tensor(ok), out_t, 0.0) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(e.grad.array, t.grad.numpy(), **tol(dtype))


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_segment_reduce_batched_lengths_and_offsets_match_torch(torch, reduce):
    x = rand(2, 6, 4)
    lengths = np.array([[1, 2, 3], [3, 0, 3]])
    (e,), (t,) = leaves(torch, x)
    check(torch, ember.segment_reduce(e, reduce, lengths=ember.tensor(lengths), axis=1,
                                      initial=1.0),
          torch.segment_reduce(t, reduce, lengths=torch.tensor(lengths), axis=1, initial=1.0),
          [e], [t], np.float64)  # fmt: skip
    # offsets need not start at 0 nor end at the axis' size; axis given negatively
    offsets = np.array([[1, 2, 5], [0, 0, 4]])
    check(torch, ember.segment_reduce(ember.tensor(x), reduce, offsets=ember.tensor(offsets),
                                      axis=-2),
          torch.segment_reduce(torch.tensor(x), reduce, offsets=torch.tensor(offsets), axis=-2),
          [], [], np.float64, grad=False)  # fmt: skip
    # the reduced axis last
    x2 = rand(3, 5)
    lengths2 = np.array([[2, 3], [5, 0], [1, 4]])
    (e,), (t,) = leaves(torch, x2)
    check(torch, ember.segment_reduce(e, reduce, lengths=ember.tensor(lengths2), axis=1,
                                      initial=0.0),
          torch.segment_reduce(t, reduce, lengths=torch.tensor(lengths2), axis=1, initial=0.0),
          [e], [t], np.float64)  # fmt: skip


def test_segment_reduce_prod_with_zeros_and_max_ties(torch):
    x = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0], [0.0, 5.0], [4.0, 4.0], [4.0, -1.0]])
    lengths = np.array([3, 0, 1, 2])
    (e,), (t,) = leaves(torch, x)
    check(torch, ember.segment_reduce(e, "prod", lengths=ember.tensor(lengths), initial=2.0),
          torch.segment_reduce(t, "prod", lengths=torch.tensor(lengths), initial=2.0),
          [e], [t], np.float64)  # fmt: skip
    # ties of max with a positive upstream gradient: shared equally, as torch
    (e,), (t,) = leaves(torch, x)
    ember.segment_reduce(e, "max", lengths=ember.tensor([4, 2])).sum().backward()
    torch.segment_reduce(t, "max", lengths=torch.tensor([4, 2])).sum().backward()
    np.testing.assert_allclose(e.grad.array, t.grad.numpy())


def test_segment_reduce_gradcheck():
    x = rand(6, 2)
    for reduce in REDUCTIONS:
        f = lambda a, r=reduce: ember.segment_reduce(a, r, lengths=ember.tensor([2, 3, 1]))  # noqa: E731
        assert ember.gradcheck(f, (ember.tensor(x, requires_grad=True),))


def test_segment_reduce_errors_match_torch(torch):
    x = np.arange(12.0).reshape(6, 2)
    L = [2, 0, 3, 1]
    cases = [
        lambda m, a: m.segment_reduce(a, "sum", lengths=m.tensor([2, 1])),
        lambda m, a: m.segment_reduce(a, "sum", lengths=m.tensor([2, -1, 5])),
        lambda m, a: m.segment_reduce(a, "sum", indices=m.tensor(L)),
        lambda m, a: m.segment_reduce(a, "sum"),
        lambda m, a: m.segment_reduce(a, "std", lengths=m.tensor(L)),
        lambda m, a: m.segment_reduce(a.T, "sum", lengths=m.tensor(L), axis=1),
        lambda m, a: m.segment_reduce(a, "sum", lengths=m.tensor(L), axis=2),
        lambda m, a: m.segment_reduce(a.int(), "sum", lengths=m.tensor(L)),
        lambda m, a: m.segment_reduce(a, "sum", lengths=m.tensor(L).float()),
        lambda m, a: m.segment_reduce(a, "sum", offsets=m.tensor([0.0, 6.0])),
        lambda m, a: m.segment_reduce(a, "sum", lengths=m.tensor([], dtype=m.int64)),
    ]
    for call in cases:
        e_call = lambda c=call: c(ember, ember.tensor(x))  # noqa: E731
        same_error(torch, e_call, lambda c=call: c(torch, torch.tensor(x)))
    with pytest.raises(RuntimeError, match="non-decreasing"):
        ember.segment_reduce(ember.tensor(x), "sum", offsets=ember.tensor([0, 2, 1, 6]))
    with pytest.raises(RuntimeError, match="leading dims"):  # torch crashes here
        ember.segment_reduce(ember.ones(4, 3), "max", lengths=ember.tensor([[1, 2]] * 2), axis=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_segment_reduce_dtypes_and_int32_lengths(torch, dtype):
    x = rand(5, dtype=dtype)
    e = ember.segment_reduce(
        ember.tensor(x), "mean", lengths=ember.tensor(np.array([2, 3], np.int32))
    )
    t = torch.segment_reduce(torch.tensor(x), "mean", lengths=torch.tensor([2, 3]).int())
    check(torch, e, t, [], [], dtype, grad=False)
