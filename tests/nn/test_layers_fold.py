"""unfold/fold, adaptive max pooling and embedding_bag against torch (float64 values and
gradients), gradcheck, the modules (EmbeddingBag loading torch's state_dict) and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import layers_fold as F
from ember.nn import layers_fold as L
from tests.core_reference import check_gradients, compare_with_torch, randn

# ---------------------------------------------------------------- unfold / fold

UNFOLD_CASES = [
    ((2, 3, 5, 6), dict(kernel_size=2)),
    ((2, 3, 5, 6), dict(kernel_size=(2, 3), stride=2)),
    ((1, 2, 7, 5), dict(kernel_size=3, padding=1)),
    ((1, 2, 7, 5), dict(kernel_size=(3, 2), padding=(2, 1), stride=(2, 3))),
    ((2, 1, 9, 8), dict(kernel_size=2, dilation=(2, 3), padding=1, stride=2)),
    ((1, 2, 6, 6), dict(kernel_size=(1, 1), stride=3)),
    ((1, 4, 3, 4), dict(kernel_size=(3, 4))),
    ((3, 5, 5), dict(kernel_size=2, stride=1, padding=1)),  # unbatched
]


@pytest.mark.parametrize("shape, kw", UNFOLD_CASES)
def test_unfold_matches_torch(torch, shape, kw):
    compare_with_torch(
        torch,
        lambda x: F.unfold(x, **kw),
        lambda x: torch.nn.functional.unfold(x, **kw),
        [randn(*shape)],
    )


@pytest.mark.parametrize("shape, kw", UNFOLD_CASES)
def test_fold_matches_torch(torch, shape, kw):
    out = shape[-2:]
    cols = torch.nn.functional.unfold(torch.zeros(shape, dtype=torch.float64), **kw)
    compare_with_torch(
        torch,
        lambda c: F.fold(c, out, **kw),
        lambda c: torch.nn.functional.fold(c, out, **kw),
        [randn(*cols.shape, seed=1)],
    )


@pytest.mark.parametrize("shape, kw", UNFOLD_CASES[:5])
def test_fold_of_unfold_counts_overlaps(torch, shape, kw):
    """fold(unfold(x)) = x times the number of blocks covering each pixel, as torch."""
    out = shape[-2:]
    compare_with_torch(
        torch,
        lambda x: F.fold(F.unfold(x, **kw), out, **kw),
        lambda x: torch.nn.functional.fold(torch.nn.functional.unfold(x, **kw), out, **kw),
        [randn(*shape)],
    )
    ones = ember.ones(*shape, dtype=np.float64)
    counts = F.fold(F.unfold(ones, **kw), out, **kw).array
    t = torch.ones(shape, dtype=torch.float64)
    expected = torch.nn.functional.fold(torch.nn.functional.unfold(t, **kw), out, **kw)
    np.testing.assert_array_equal(counts, expected.numpy())


def test_unfold_fold_gradcheck():
    check_gradients(lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=2),
                    [randn(2, 2, 6, 7)])  # fmt: skip
    check_gradients(lambda c: F.fold(c, (5, 6), 2, padding=1, stride=2),
                    [randn(1, 12, 12)])  # fmt: skip


def test_unfold_fold_modules(torch):
    x = randn(2, 2, 6, 5)
    cols = L.Unfold(3, padding=1, stride=2)(ember.tensor(x))
    t_cols = torch.nn.Unfold(3, padding=1, stride=2)(torch.tensor(x))
    np.testing.assert_allclose(cols.array, t_cols.numpy(), rtol=1e-12)
    back = L.Fold((6, 5), 3, padding=1, stride=2)(cols)
    t_back = torch.nn.Fold((6, 5), 3, padding=1, stride=2)(t_cols)
    np.testing.assert_allclose(back.array, t_back.numpy(), rtol=1e-12)
    assert "kernel_size=3" in repr(L.Unfold(3))


def test_unfold_fold_errors():
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.unfold(ember.randn(1, 2, 2, 2), 3)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(ember.randn(1, 10, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="3 \\* 3 = 9"):
        F.fold(ember.randn(1, 12, 5), (4, 4), 2)
    with pytest.raises(IndexError, match="unfold"):  # torch reads its dim 2: IndexError
        F.unfold(ember.randn(2, 3), 1)
    with pytest.raises(ValueError, match="kernel_size"):
        F.unfold(ember.randn(1, 1, 4, 4), (1, 2, 3))


# ---------------------------------------------------------------- adaptive max pooling

POOL2D_CASES = [
    ((2, 3, 8, 6), (4, 3)),  # divides: disjoint windows
    ((2, 3, 5, 7), (3, 4)),  # does not divide: windows overlap
    ((1, 2, 7, 5), (5, 2)),
    ((1, 2, 4, 4), (6, 7)),  # larger than the input
    ((1, 1, 5, 7), (None, 3)),
    ((2, 5, 3), 2),  # unbatched
    ((1, 1, 6, 6), 1),  # global
]


@pytest.mark.parametrize("shape, out", POOL2D_CASES)
def test_adaptive_max_pool2d_matches_torch(torch, shape, out):
    compare_with_torch(
        torch,
        lambda x: F.adaptive_max_pool2d(x, out, return_indices=True),
        lambda x: torch.nn.functional.adaptive_max_pool2d(x, out, return_indices=True),
        [randn(*shape)],
    )
    compare_with_torch(
        torch,
        lambda x: F.adaptive_max_pool2d(x, out),
        lambda x: torch.nn.functional.adaptive_max_pool2d(x, out),
        [randn(*shape, seed=2)],
    )


@pytest.mark.parametrize(
    "shape, out", [((2, 3, 10), 4), ((1, 2, 7), 3), ((3, 5), 7), ((2, 1, 6), 6)]
)
def test_adaptive_max_pool1d_matches_torch(torch, shape, out):
    compare_with_torch(
        torch,
        lambda x: F.adaptive_max_pool1d(x, out, return_indices=True),
        lambda x: torch.nn.functional.adaptive_max_pool1d(x, out, return_indices=True),
        [randn(*shape)],
    )


@pytest.mark.parametrize("shape, out", [((1, 2, 5, 7), (3, 4)), ((1, 1, 6, 6), (4, 4))])
def test_adaptive_max_pool_ties_go_to_first(torch, shape, out):
    """Constant and integer-valued inputs: the first maximal element in each window wins, and
    overlapping windows accumulate their gradients on it, as in torch."""
    for x in (np.ones(shape), np.floor(randn(*shape) * 1.5)):
        compare_with_torch(
            torch,
            lambda x: F.adaptive_max_pool2d(x, out, return_indices=True),
            lambda x: torch.nn.functional.adaptive_max_pool2d(x, out, return_indices=True),
            [x],
        )
    compare_with_torch(
        torch,
        lambda x: F.adaptive_max_pool1d(x, 4),
        lambda x: torch.nn.functional.adaptive_max_pool1d(x, 4),
        [np.ones((2, 3, 7))],
    )


def test_adaptive_max_pool_nan_picks_the_last_nan_as_torch(torch):
    """torch's kernels take ``val > max || isnan(val)``: in a window holding NaNs the index is
    that of the last NaN, in 1-D, 2-D and 3-D alike."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 9))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[0, 0, 0, :4] = [np.nan, 1.0, np.nan, 2.0]
    tf = torch.nn.functional
    for e_pool, t_pool, a, out in (
        (F.adaptive_max_pool1d, tf.adaptive_max_pool1d, x[:, :, 0], 3),
        (F.adaptive_max_pool2d, tf.adaptive_max_pool2d, x, (3, 4)),
        (F.adaptive_max_pool2d, tf.adaptive_max_pool2d, x, (1, 1)),
        (ember.functional.adaptive_max_pool3d, tf.adaptive_max_pool3d, x[:, :, None], (1, 3, 2)),
    ):
        _, got = e_pool(ember.tensor(a), out, return_indices=True)
        _, want = t_pool(torch.tensor(a), out, return_indices=True)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_adaptive_max_pool_gradcheck():
    x = np.random.default_rng(3).permutation(2 * 2 * 5 * 7).reshape(2, 2, 5, 7) / 10.0
    check_gradients(lambda t: F.adaptive_max_pool2d(t, (3, 4)), [x])
    check_gradients(lambda t: F.adaptive_max_pool1d(t, 4), [x[:, :, 0, :]])


def test_adaptive_max_pool_modules(torch):
    x = randn(2, 3, 7, 5)
    y, i = L.AdaptiveMaxPool2d((3, 2), return_indices=True)(ember.tensor(x))
    ty, ti = torch.nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(y.array, ty.numpy())
    np.testing.assert_array_equal(i.array, ti.numpy())
    assert i.dtype == np.int64
    y1 = L.AdaptiveMaxPool1d(3)(ember.tensor(x[:, :, 0]))
    np.testing.assert_array_equal(
        y1.array, torch.nn.AdaptiveMaxPool1d(3)(ty.new_tensor(x[:, :, 0]))
    )
    assert repr(L.AdaptiveMaxPool2d(3)) == "AdaptiveMaxPool2d(output_size=3)"


def test_adaptive_max_pool_errors():
    with pytest.raises(ValueError, match="adaptive_max_pool2d"):
        F.adaptive_max_pool2d(ember.randn(4, 4), 2)
    with pytest.raises(ValueError, match="non-negative"):
        F.adaptive_max_pool2d(ember.randn(1, 1, 4, 4), (-1, 2))
    with pytest.raises(ValueError, match="adaptive_max_pool1d"):
        F.adaptive_max_pool1d(ember.randn(1, 1, 4), -1)


# ---------------------------------------------------------------- embedding_bag

IDX_2D = np.array([[1, 2, 4], [4, 3, 2], [0, 0, 5]])
IDX_1D = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0])
OFFSETS = np.array([0, 2, 2, 6])  # the second bag is empty


def _bag_cases():
    return [
        (IDX_2D, None, {}),
        (IDX_1D, OFFSETS, {}),
        (IDX_1D, np.array([0, 3, 3, 7, 9]), dict(include_last_offset=True)),
        (IDX_1D, np.array([0, 4, 4, 8]), dict(include_last_offset=True)),  # trailing input
        (IDX_1D, OFFSETS, dict(padding_idx=4)),
        (IDX_2D, None, dict(padding_idx=-6)),  # 4 of 10
        (np.array([3, 3, 1]), np.array([0, 2]), dict(padding_idx=3)),  # a bag of padding only
        (IDX_2D, None, dict(include_last_offset=True)),  # ignored for 2-D input, as torch
        (IDX_1D, np.array([0, 2, 5, 9]), dict(include_last_offset=True, padding_idx=2)),
        (np.array([], dtype=np.int64), np.array([0, 0]), {}),  # no indices: empty bags
    ]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", range(10))
def test_embedding_bag_matches_torch(torch, mode, case):
    idx, offsets, kw = _bag_cases()[case]
    t_off = None if offsets is None else torch.tensor(offsets)
    compare_with_torch(
        torch,
        lambda w: F.embedding_bag(idx, w, offsets, mode=mode, **kw),
        lambda w: torch.nn.functional.embedding_bag(torch.tensor(idx), w, t_off, mode=mode, **kw),
        [randn(10, 4)],
    )


@pytest.mark.parametrize("case", [0, 1, 2, 4])
def test_embedding_bag_per_sample_weights(torch, case):
    idx, offsets, kw = _bag_cases()[case]
    t_off = None if offsets is None else torch.tensor(offsets)
    compare_with_torch(
        torch,
        lambda w, a: F.embedding_bag(idx, w, offsets, mode="sum", per_sample_weights=a, **kw),
        lambda w, a: torch.nn.functional.embedding_bag(
            torch.tensor(idx), w, t_off, mode="sum", per_sample_weights=a, **kw
        ),
        [randn(10, 4), randn(*idx.shape, seed=5)],
    )


def test_embedding_bag_gradcheck():
    a = randn(*IDX_1D.shape, seed=4)
    for mode in ("sum", "mean"):
        check_gradients(lambda w, m=mode: F.embedding_bag(IDX_1D, w, OFFSETS, mode=m),
                        [randn(10, 3)])  # fmt: skip
        check_gradients(lambda w, m=mode: F.embedding_bag(IDX_2D, w, mode=m, padding_idx=4),
                        [randn(10, 3)])  # fmt: skip
    check_gradients(
        lambda w, s: F.embedding_bag(IDX_1D, w, OFFSETS, mode="sum", per_sample_weights=s),
        [randn(10, 3), a],
    )


def test_embedding_bag_module_loads_torch_state_dict(torch):
    t_bag = torch.nn.EmbeddingBag(10, 4, mode="max", padding_idx=2).double()
    bag = L.EmbeddingBag(10, 4, mode="max", padding_idx=2, dtype=np.float64)
    assert [k for k, _ in bag.named_parameters()] == ["weight"]
    assert not np.any(bag.weight.array[2])
    bag.load_state_dict({k: v.numpy() for k, v in t_bag.state_dict().items()})
    y = bag(ember.tensor(IDX_1D), ember.tensor(OFFSETS))
    ty = t_bag(torch.tensor(IDX_1D), torch.tensor(OFFSETS))
    np.testing.assert_allclose(y.array, ty.detach().numpy(), rtol=1e-12)
    ember.manual_seed(0)
    w = L.EmbeddingBag(2000, 8).weight.array
    assert w.dtype == np.float32 and abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    given = L.EmbeddingBag(3, 2, _weight=ember.ones(3, 2), mode="sum")
    np.testing.assert_array_equal(given(np.array([[0, 1]])).array, [[2.0, 2.0]])
    assert "mode='sum'" in repr(given)


def test_embedding_bag_errors():
    w = ember.randn(10, 3)
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(IDX_2D, w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="sparse"):
        L.EmbeddingBag(10, 3, sparse=True)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(IDX_2D, w, mode="mean", per_sample_weights=ember.ones(3, 3))
    with pytest.raises(ValueError, match="mode"):
        F.embedding_bag(IDX_2D, w, mode="median")
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(IDX_2D, w, np.array([0, 1]))
    with pytest.raises(ValueError, match="but got None"):
        F.embedding_bag(IDX_1D, w)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(IDX_1D, w, np.array([1, 2]))
    with pytest.raises(RuntimeError, match="greater than input's length"):
        F.embedding_bag(IDX_1D, w, np.array([0, 20]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(IDX_1D, w, np.array([0, 5, 3]))
    with pytest.raises(IndexError, match="index 11"):
        F.embedding_bag(np.array([1, 11]), w, np.array([0]))
    with pytest.raises(ValueError, match="must have the same shape as the input"):
        F.embedding_bag(IDX_2D, w, mode="sum", per_sample_weights=ember.ones(9))
    with pytest.raises(RuntimeError, match="cuda"):
        L.EmbeddingBag(3, 2, device="cuda")


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_max_norm_renormalises_the_rows_looked_up(torch, mode):
    """As torch: each row looked up is scaled in place to norm ≤ max_norm before bagging."""
    weight = np.random.default_rng(0).standard_normal((6, 3)) * 2
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    got = []
    for lib in (ember, torch):
        m = lib.nn.EmbeddingBag(6, 3, max_norm=1.5, norm_type=1.0, mode=mode, dtype=lib.float64)
        m.load_state_dict({"weight": lib.tensor(weight, dtype=lib.float64)})
        y = m(lib.tensor(idx))
        y.sum().backward()
        got.append([t.detach().numpy() for t in (y, m.weight, m.weight.grad)])
    for g, w in zip(*got):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_array_equal(got[0][1][[3, 4]], weight[[3, 4]])  # rows not looked up


# ---------------------------------------------------------------- embedding_bag edges


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_scale_grad_by_freq_divides_by_each_index_count(torch, mode, padding_idx):
    """Each row's gradient ÷ how often its index occurs in input: torch's documented rule.

    torch 2.13's CPU embedding_bag divides by the wrong count when a once-occurring index sorts
    after a repeated one (pytorch#190063, fixed upstream), so the reference is torch's
    unscaled gradient divided by the counts."""
    idx, offsets = np.array([1, 1, 3, 1, 4, 3]), np.array([0, 2, 3])
    g = randn(3, 4, seed=5)
    w = ember.tensor(randn(6, 4, seed=4), requires_grad=True)
    y = F.embedding_bag(ember.tensor(idx), w, ember.tensor(offsets), mode=mode,
                        scale_grad_by_freq=True, padding_idx=padding_idx)  # fmt: skip
    y.backward(ember.tensor(g))
    tw = torch.tensor(randn(6, 4, seed=4), requires_grad=True)
    ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offsets),
                                           mode=mode, padding_idx=padding_idx)  # fmt: skip
    ty.backward(torch.tensor(g))
    counts = np.maximum(np.bincount(idx, minlength=6), 1)[:, None]
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy() / counts, rtol=1e-12)
    # index 4 occurs once and sorts after the twice-seen 3 and thrice-seen 1: its gradient is
    # undivided (its bag [1, 4, 3] averages over 3, or 2 when 1 is padding)
    size = 1 if mode == "sum" else (3 if padding_idx is None else 2)
    np.testing.assert_allclose(w.grad.numpy()[4], g[2] / size, rtol=1e-12)


def test_embedding_bag_scale_grad_by_freq_with_per_sample_weights():
    """The weights' gradient is not scaled by the counts; the table's is."""
    idx, offsets = np.array([2, 2, 0]), np.array([0, 1])
    psw = ember.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = ember.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = F.embedding_bag(ember.tensor(idx), w, ember.tensor(offsets), mode="sum",
                        scale_grad_by_freq=True, per_sample_weights=psw)  # fmt: skip
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy()[2], np.full(4, (1.0 + 2.0) / 2))
    np.testing.assert_allclose(w.grad.numpy()[0], np.full(4, 3.0))
    np.testing.assert_allclose(psw.grad.numpy(), [38.0, 38.0, 6.0])


def test_embedding_bag_scale_grad_by_freq_module():
    bag = L.EmbeddingBag(5, 3, mode="mean", scale_grad_by_freq=True, dtype=np.float64)
    assert bag.scale_grad_by_freq
    idx = ember.tensor(np.array([[0, 3, 3], [4, 3, 0]]))
    bag(idx).sum().backward()
    # row 3: three lookups of 1/3 each, ÷ 3 occurrences
    np.testing.assert_allclose(bag.weight.grad.numpy()[3], np.full(3, 1 / 3))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_of_no_bags(torch, mode):
    """A (0, n) input is no bags: an empty (0, D) result, as torch (which refuses (B, 0))."""
    w = ember.tensor(randn(4, 3), requires_grad=True)
    y = F.embedding_bag(ember.tensor(np.zeros((0, 2), np.int64)), w, mode=mode)
    ty = torch.nn.functional.embedding_bag(torch.zeros((0, 2), dtype=torch.int64),
                                           torch.tensor(randn(4, 3)), mode=mode)  # fmt: skip
    assert tuple(y.shape) == tuple(ty.shape) == (0, 3)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 3)))


def test_embedding_bag_empty_input_gives_per_sample_weights_an_empty_gradient(torch):
    psw = ember.tensor(np.zeros(0), requires_grad=True)
    empty, offsets = ember.tensor(np.zeros(0, np.int64)), ember.tensor(np.array([0, 0]))
    y = F.embedding_bag(empty, ember.tensor(randn(4, 3)), offsets, per_sample_weights=psw,
                        mode="sum")  # fmt: skip
    tpsw = torch.zeros(0, dtype=torch.float64, requires_grad=True)
    ty = torch.nn.functional.embedding_bag(torch.zeros(0, dtype=torch.int64),
                                           torch.tensor(randn(4, 3)), torch.tensor([0, 0]),
                                           mode="sum", per_sample_weights=tpsw)  # fmt: skip
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    assert psw.grad is not None and tuple(psw.grad.shape) == tuple(tpsw.grad.shape) == (0,)
