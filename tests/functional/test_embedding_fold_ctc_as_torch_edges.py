"""Embedding, one_hot, embedding_bag, fold/unfold and ctc_loss where ember used to differ from
torch 2.13 (found by fuzzing both side by side, with the spatial functionals of
test_spatial_embedding_as_torch_edges.py): the checks and their order, the index dtypes each
takes, empty tables and bags, and where embedding_bag's last bag ends."""

import math

import numpy as np
import pytest

import ember
from tests.functional.test_spatial_embedding_as_torch_edges import _F, _same

# ---------------------------------------------------------------- embedding and one_hot


def _embeddings(lib):
    w, i = lib.ones(5, 3), lib.tensor([0, 4])

    def emb(idx, weight=w, **kw):
        return lambda: _F(lib).embedding(idx, weight, **kw)

    return [
        ("int16 indices", emb(i.to(lib.int16))),
        ("uint8 indices", emb(i.to(lib.uint8))),
        ("a padding_idx past the table", emb(i, padding_idx=5)),
        ("a padding_idx before the table", emb(i, padding_idx=-6)),
        ("a padding_idx past the table before a bad weight", emb(i, lib.ones(5), padding_idx=9)),
        ("max_norm of integer rows", emb(i, lib.ones(5, 3, dtype=lib.int64), max_norm=1.0)),
        ("the inf norm of empty rows", emb(i, lib.ones(5, 0), max_norm=1.0, norm_type=math.inf)),
    ]


_EMBEDDING_CLASSES = [RuntimeError] * 2 + [AssertionError] * 3
_EMBEDDING_CLASSES += [RuntimeError] * 2


@pytest.mark.parametrize("k", range(len(_EMBEDDING_CLASSES)))
def test_embedding_refuses_as_torch(refused_alike, k):
    refused_alike(_embeddings, k, _EMBEDDING_CLASSES[k])


def test_embedding_takes_padding_idx_0_of_an_empty_table(torch):
    """torch checks only a nonzero padding_idx against the table's size."""
    grads = []
    for lib in (ember, torch):
        w = lib.ones(0, 2, dtype=lib.float64, requires_grad=True)
        y = _F(lib).embedding(lib.zeros(2, 0, dtype=lib.int64), w, padding_idx=0)
        y.sum().backward()
        grads.append(w.grad)
    _same(*grads)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_embedding_max_norm_of_complex_rows_as_torch(torch, norm_type):
    """The rows' norms are of |z| (ember cast the rows to float64 first, dropping the
    imaginary parts with NumPy's ComplexWarning)."""
    rs = np.random.RandomState(0)
    w = rs.randn(4, 3) + 1j * rs.randn(4, 3)
    outs = []
    for lib in (ember, torch):
        t = lib.tensor(w.copy())
        outs += [_F(lib).embedding(lib.tensor([0, 2, 2]), t, max_norm=0.7, norm_type=norm_type), t]
    for e, t in zip(outs[:2], outs[2:]):
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


def _one_hots(lib):
    def hot(t, n=-1):
        return lambda: _F(lib).one_hot(t, n)

    return [
        ("int32 classes", hot(lib.tensor([0, 2], dtype=lib.int32))),
        ("uint8 classes", hot(lib.tensor([0, 2], dtype=lib.uint8), 3)),
        ("an empty tensor with 0 classes", hot(lib.zeros(0, dtype=lib.int64), 0)),
        ("an empty tensor with -2 classes", hot(lib.zeros(2, 0, dtype=lib.int64), -2)),
    ]


@pytest.mark.parametrize("k", range(4))
def test_one_hot_refuses_as_torch(refused_alike, k):
    refused_alike(_one_hots, k)


# ---------------------------------------------------------------- embedding_bag


def _bags(lib):
    w, i, off = lib.ones(5, 3), lib.tensor([0, 1, 3]), lib.tensor([0, 1])

    def bag(idx=i, offsets=off, **kw):
        return lambda: _F(lib).embedding_bag(idx, w, offsets, **kw)

    return [
        ("bags of length 0", bag(lib.zeros(2, 0, dtype=lib.int64), None)),
        ("int16 indices and offsets", bag(i.to(lib.int16), off.to(lib.int16))),
        ("a 2-D int16 input", bag(lib.zeros(2, 2, dtype=lib.int16), None)),
        ("include_last_offset without offsets", bag(offsets=off[:0], include_last_offset=True)),
        ("max_norm of int8 indices", bag(i.to(lib.int8), max_norm=1.0)),
    ]


@pytest.mark.parametrize("k", range(5))
def test_embedding_bag_refuses_as_torch(refused_alike, k):
    refused_alike(_bags, k)


def test_embedding_bag_checks_per_sample_weights_shape_first(refused_alike):
    def make(lib):
        w, i = lib.ones(5, 3), lib.tensor([[0, 1], [3, 4]])
        return [("per_sample_weights of another shape, mode max", lambda: _F(lib).embedding_bag(
            i, w, mode="max", per_sample_weights=lib.ones(3)))]  # fmt: skip

    refused_alike(make, 0, ValueError)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_embedding_bag_last_bag_ends_where_torchs_kernel_ends_it(torch, dtype):
    """With include_last_offset and a last offset short of the input's end, torch's float and
    half sum/mean kernel ends the last bag there; its other kernels (float64, padding_idx,
    max) run it to the end (ember ran it to the end always; torch's mean then divides by the
    count to the end, a torch bug ember does not copy). uint8 indices with int64 offsets pass
    in their common type."""
    w = np.arange(1.0, 11.0).reshape(5, 2)
    outs = []
    for lib in (ember, torch):
        t = lib.tensor(w, dtype=getattr(lib, dtype))
        for idx, off in (([3, 2, 1, 3, 3, 4], [0, 2, 5]), ([1, 1], [0, 0])):
            i, o = lib.tensor(idx, dtype=lib.uint8), lib.tensor(off)
            outs.append(_F(lib).embedding_bag(i, t, o, mode="sum", include_last_offset=True))
    for e, t in zip(outs[:2], outs[2:]):
        _same(e, t)


def test_embedding_bag_of_an_empty_table(torch):
    """No rows and no indices: zero bags whose gradients reach the weight and the sample
    weights (ember's gather of row 0 failed)."""
    grads = []
    for lib in (ember, torch):
        w = lib.zeros(0, 2, dtype=lib.float64, requires_grad=True)
        p = lib.zeros(0, dtype=lib.float64, requires_grad=True)
        y = _F(lib).embedding_bag(
            lib.zeros(0, dtype=lib.int64), w, lib.tensor([0, 0]), mode="sum", per_sample_weights=p
        )
        y.sum().backward()
        grads += [y, w.grad, p.grad]
    for e, t in zip(grads[:3], grads[3:]):
        _same(e, t)


# ---------------------------------------------------------------- fold and unfold


def _folds(lib):
    F_ = _F(lib)
    z = lib.zeros
    return [
        ("unfold of int64", lambda: F_.unfold(z(1, 2, 3, 3, dtype=lib.int64), 2), 0),
        ("unfold of an empty int batch", lambda: F_.unfold(z(0, 2, 3, 3, dtype=lib.int32), 2), 0),
        ("fold of int64", lambda: F_.fold(z(1, 4, 4, dtype=lib.int64), (3, 3), 2), 0),
        ("unfold of no channels", lambda: F_.unfold(z(1, 0, 3, 3), 2), 1),
        ("unfold of an empty unbatched dim", lambda: F_.unfold(z(0, 3, 3), 2), 1),
        ("fold of no channels", lambda: F_.fold(z(1, 0, 4), (3, 3), 2), 1),
        ("fold to an empty size", lambda: F_.fold(z(1, 2), (0, 1), 1, padding=1, stride=2), 1),
        ("unfold of a 2-D input", lambda: F_.unfold(z(5, 3), 2), 2),
        ("unfold of a 1-D input", lambda: F_.unfold(z(5), 2), 2),
    ]


@pytest.mark.parametrize("k", range(9))
def test_fold_and_unfold_refuse_as_torch(refused_alike, k):
    cls = [NotImplementedError, RuntimeError, IndexError][_folds(ember)[k][2]]
    refused_alike(lambda lib: [case[:2] for case in _folds(lib)], k, cls)


# ---------------------------------------------------------------- ctc_loss


def _ctcs(lib):
    def ctc(lp, targets, il, tl, **kw):
        return lambda: _F(lib).ctc_loss(lp, targets, il, tl, **kw)

    lp = lib.zeros(4, 2, 3).log_softmax(-1)
    tg = lib.tensor([[1, 2], [1, 1]])
    return [
        ("half log_probs", ctc(lp.half(), tg, (4, 4), (2, 2)), NotImplementedError),
        ("int64 log_probs", ctc(lp.long(), tg, (4, 4), (2, 2)), NotImplementedError),
        ("half, before a bad blank", ctc(lp.half(), tg, (4, 4), (2, 2), blank=5),
         NotImplementedError),
        ("half, before empty log_probs", ctc(lp[:0].half(), tg, (0, 0), (2, 2)),
         NotImplementedError),
        ("unbatched targets longer than the target length",
         ctc(lp[:, 0], lib.tensor([1, 2, 1]), (4,), (2,)), RuntimeError),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(5))
def test_ctc_loss_refuses_as_torch(refused_alike, k):
    refused_alike(lambda lib: [c[:2] for c in _ctcs(lib)], k, _ctcs(ember)[k][2])


def test_ctc_loss_takes_whole_float_targets(torch):
    """torch casts float targets holding whole numbers (ember refused them)."""
    lp = np.log(np.random.RandomState(0).dirichlet(np.ones(4), size=(5, 2)))
    losses = []
    for lib in (ember, torch):
        x = lib.tensor(lp, requires_grad=True)
        loss = _F(lib).ctc_loss(x, lib.tensor([[1.0, 2.0], [3.0, 3.0]]), (5, 5), (2, 2))
        loss.backward()
        losses += [loss, x.grad]
    _same(losses[0], losses[2])
    _same(losses[1], losses[3])


def _tables(lib):
    n = lib.nn
    return [
        ("Embedding of -1 rows, padding_idx 0", lambda: n.Embedding(-1, 2, padding_idx=0)),
        ("EmbeddingBag of -1 rows, padding_idx 0", lambda: n.EmbeddingBag(-1, 2, padding_idx=0)),
        ("Embedding of no rows, padding_idx 0", lambda: n.Embedding(0, 2, padding_idx=0)),
    ]


@pytest.mark.parametrize("k, cls", [(0, RuntimeError), (1, RuntimeError), (2, IndexError)])
def test_embedding_modules_check_only_a_nonzero_padding_idx(refused_alike, k, cls):
    """torch's modules pass padding_idx 0 whatever the size, then fail making the table or
    zeroing its row (ember's own AssertionError was neither)."""
    refused_alike(_tables, k, cls)


def test_embedding_from_pretrained_of_no_rows_with_padding_idx_0(torch):
    reprs = []
    for lib in (ember, torch):
        m = lib.nn.EmbeddingBag.from_pretrained(lib.zeros(0, 2), padding_idx=0)
        reprs.append((repr(m), m.padding_idx))
    assert reprs[0] == reprs[1]


def test_embedding_bag_with_max_norm_names_the_index_torch_names(torch):
    """-1 in [-1, 2] is the bad index (the max_norm path named 2; found in review)."""
    for lib, pattern in ((ember, "index -1 "), (torch, "value -1 ")):
        with pytest.raises(RuntimeError, match=pattern):
            lib.nn.functional.embedding_bag(
                lib.tensor([-1, 2]), lib.ones(5, 3), lib.tensor([0]), max_norm=1.0
            )
