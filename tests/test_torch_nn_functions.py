"""torch's scatter variants (slice_scatter, select_scatter, diagonal_scatter, split_with_sizes,
index_reduce) and the neural-network functions torch exposes at its top level with its own
signatures (torch.conv2d, torch.batch_norm, torch.embedding(weight, indices) …), against torch:
outputs and the gradients of a weighted sum (tests/torch_pairs.py), float64 gradcheck, the
Tensor methods and in-place forms, torch's errors, and each wrapper's parameter names, order,
defaults and keyword-only-ness against torch's ATen schema."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from torch_pairs import DTYPES, check, leaves, rand, tol

import ember
from ember import torch_nn_functions as NNF


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="index_reduce")
        yield


# ------------------------------------------------------------ slice / select / diagonal scatter
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, dim, start, end, step",
    [
        ((5, 4), 0, None, None, 1),
        ((5, 4), 0, 1, 4, 2),
        ((3, 6, 2), -2, -5, None, 2),
        ((3, 6, 2), 1, 2, 100, 3),
        ((3, 6, 2), 2, 1, 2, 1),
        ((4,), 0, 3, 1, 1),  # empty slice
        ((4, 3), -1, -100, -1, 1),
    ],
)
def test_slice_scatter(torch, dtype, shape, dim, start, end, step):
    x = rand(*shape, dtype=dtype)
    t_slice = torch.tensor(x)[
        (slice(None),) * (dim % len(shape)) + (slice(start, end, step),)
    ].shape
    s = rand(*t_slice, dtype=dtype, seed=1)
    (ex, es), (tx, ts) = leaves(torch, x, s)
    e = ember.slice_scatter(ex, es, dim, start, end, step)
    t = torch.slice_scatter(tx, ts, dim, start, end, step)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    kw = dict(dim=dim, start=start, end=end, step=step)
    np.testing.assert_array_equal(ex.slice_scatter(es, **kw).array, t.detach().numpy())
    np.testing.assert_array_equal(
        ember.slice_scatter(input=ex, src=es, **kw).array, t.detach().numpy()
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, dim, index", [((4, 3), 0, 2), ((4, 3), 1, -1), ((2, 3, 4), -2, 0), ((5,), 0, -5)]
)
def test_select_scatter(torch, dtype, shape, dim, index):
    x = rand(*shape, dtype=dtype)
    s = rand(*torch.tensor(x).select(dim, index).shape, dtype=dtype, seed=1)
    (ex, es), (tx, ts) = leaves(torch, x, s)
    e = ember.select_scatter(ex, es, dim, index)
    t = torch.select_scatter(tx, ts, dim, index)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    out = ex.select_scatter(src=es, dim=dim, index=index)
    np.testing.assert_array_equal(out.array, t.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, offset, dim1, dim2",
    [
        ((4, 4), 0, 0, 1),
        ((3, 5), 2, 0, 1),
        ((5, 3), -2, 0, 1),
        ((3, 5), 1, 1, 0),
        ((4, 5, 3), 1, 0, -1),
        ((4, 5, 3), -1, -1, 0),
        ((2, 3, 4, 3), 0, 3, 1),
        ((3, 4), 7, 0, 1),  # an empty diagonal
    ],
)
def test_diagonal_scatter(torch, dtype, shape, offset, dim1, dim2):
    x = rand(*shape, dtype=dtype)
    s = rand(*torch.tensor(x).diagonal(offset, dim1, dim2).shape, dtype=dtype, seed=1)
    (ex, es), (tx, ts) = leaves(torch, x, s)
    e = ember.diagonal_scatter(ex, es, offset, dim1, dim2)
    t = torch.diagonal_scatter(tx, ts, offset, dim1, dim2)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    out = ex.diagonal_scatter(es, offset=offset, dim1=dim1, dim2=dim2)
    np.testing.assert_array_equal(out.array, t.detach().numpy())


def test_scatter_variants_gradcheck():
    x, s1, s2, s3 = (
        ember.tensor(rand(*sh, seed=i), requires_grad=True)
        for i, sh in enumerate([(4, 5, 3), (4, 2, 3), (4, 3), (5, 3)])
    )
    assert ember.gradcheck(lambda a, b: a.slice_scatter(b, 1, 1, None, 2), (x, s1))
    assert ember.gradcheck(lambda a, b: a.select_scatter(b, 1, -2), (x, s2))
    assert ember.gradcheck(lambda a, b: a.diagonal_scatter(b, 0, 0, -1), (x, s3))
    assert ember.gradcheck(lambda a: a.split_with_sizes([2, 0, 3], 1)[2] * 2, (x,))


def test_scatter_variants_errors(torch):
    x = ember.zeros(4, 3)
    with pytest.raises(RuntimeError, match="size"):
        x.slice_scatter(ember.zeros(2, 3), 0, 0, 3)
    with pytest.raises(RuntimeError, match="dtype"):
        x.slice_scatter(ember.zeros(4, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="step"):
        x.slice_scatter(ember.zeros(4, 3), step=0)
    with pytest.raises(IndexError):
        x.slice_scatter(ember.zeros(4, 3), dim=2)
    with pytest.raises(IndexError):
        x.select_scatter(ember.zeros(3), 0, 4)
    with pytest.raises(RuntimeError, match="size"):
        x.select_scatter(ember.zeros(4), 0, 1)
    with pytest.raises(RuntimeError, match="size"):
        x.diagonal_scatter(ember.zeros(4))
    with pytest.raises(RuntimeError, match="same dim"):
        x.diagonal_scatter(ember.zeros(3), 0, 1, -1)
    with pytest.raises(TypeError):
        x.slice_scatter([[0.0] * 3] * 4)
    # torch refuses the same calls
    tx = torch.zeros(4, 3)
    with pytest.raises(RuntimeError):
        tx.slice_scatter(torch.zeros(2, 3), 0, 0, 3)
    with pytest.raises(RuntimeError):
        tx.diagonal_scatter(torch.zeros(4))
    with pytest.raises(IndexError):
        tx.select_scatter(torch.zeros(3), 0, 4)


# ------------------------------------------------------------ split_with_sizes
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes, dim", [([1, 3, 2], 1), ([2, 0, 2], 0), ([6], -2), ([3, 3], 1)])
def test_split_with_sizes(torch, dtype, sizes, dim):
    x = rand(4, 6, 2, dtype=dtype) if dim != 0 else rand(4, 6, dtype=dtype)
    (ex,), (tx,) = leaves(torch, x)
    e = ember.split_with_sizes(ex, sizes, dim)
    t = torch.split_with_sizes(tx, sizes, dim)
    assert isinstance(e, tuple) and len(e) == len(t)
    check(torch, list(e), list(t), [ex], [tx], dtype)
    m = ex.split_with_sizes(split_sizes=sizes, dim=dim)
    for a, b in zip(m, t):
        np.testing.assert_array_equal(a.array, b.detach().numpy())


def test_split_with_sizes_errors(torch):
    x = ember.zeros(4, 3)
    for sizes in ([1, 2], [5, -1], [2, 3]):
        with pytest.raises(RuntimeError, match="sum exactly"):
            x.split_with_sizes(sizes)
        with pytest.raises(RuntimeError):
            torch.zeros(4, 3).split_with_sizes(sizes)


# ------------------------------------------------------------ index_reduce
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize(
    "shape, dim, index",
    [((5, 3), 0, [0, 2, 0, 4, 2, 0]), ((2, 4, 3), -2, [3, 1, 3]), ((2, 3), 1, [])],
)
def test_index_reduce(torch, dtype, reduce, include_self, shape, dim, index):
    x = rand(*shape, dtype=dtype)
    sshape = list(shape)
    sshape[dim] = len(index)
    s = rand(*sshape, dtype=dtype, seed=1)
    idx = np.array(index, dtype=np.int64)
    (ex, es), (tx, ts) = leaves(torch, x, s)
    e = ember.index_reduce(ex, dim, ember.tensor(idx), es, reduce, include_self=include_self)
    t = torch.index_reduce(tx, dim, torch.tensor(idx), ts, reduce, include_self=include_self)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    m = ex.index_reduce(
        dim=dim, index=ember.tensor(idx), source=es, reduce=reduce, include_self=include_self
    )
    np.testing.assert_allclose(m.array, t.detach().numpy(), **tol(dtype))


@pytest.mark.parametrize("reduce", ["amax", "amin", "mean"])
def test_index_reduce_ties(torch, reduce):
    """Ties between self and source share the gradient, as torch's."""
    x = np.array([[1.0, 2.0], [3.0, 0.0]])
    s = np.array([[1.0, 5.0], [1.0, 0.0], [3.0, -1.0]])
    idx = np.array([0, 0, 1])
    (ex, es), (tx, ts) = leaves(torch, x, s)
    e = ex.index_reduce(0, ember.tensor(idx), es, reduce)
    t = tx.index_reduce(0, torch.tensor(idx), ts, reduce)
    check(torch, e, t, [ex, es], [tx, ts], np.float64)


def test_index_reduce_integer_and_inplace(torch):
    xi = np.arange(12).reshape(3, 4)
    si = np.arange(8).reshape(2, 4) * 3 - 5
    for reduce in ("prod", "mean", "amax", "amin"):
        for inc in (True, False):
            e = ember.tensor(xi).index_reduce(
                0, ember.tensor([2, 2]), ember.tensor(si), reduce, include_self=inc
            )
            t = torch.tensor(xi).index_reduce(
                0, torch.tensor([2, 2]), torch.tensor(si), reduce, include_self=inc
            )
            assert e.array.dtype == np.int64
            np.testing.assert_array_equal(e.array, t.numpy())
    x = rand(4, 3)
    e, t = ember.tensor(x), torch.tensor(x)
    r = e.index_reduce_(0, ember.tensor([1, 3]), ember.tensor(rand(2, 3, seed=2)), "amax")
    t.index_reduce_(0, torch.tensor([1, 3]), torch.tensor(rand(2, 3, seed=2)), "amax")
    assert r is e
    np.testing.assert_array_equal(e.array, t.numpy())


def test_index_reduce_gradcheck():
    x = ember.tensor(rand(4, 3) + 3.0, requires_grad=True)
    s = ember.tensor(rand(5, 3, seed=1) + 3.0, requires_grad=True)
    idx = ember.tensor([0, 3, 0, 2, 3])
    for reduce in ("prod", "mean", "amax", "amin"):
        for inc in (True, False):
            assert ember.gradcheck(
                lambda a, b, r=reduce, i=inc: a.index_reduce(0, idx, b, r, include_self=i),
                (x, s),
            )


def test_index_reduce_errors(torch):
    x = ember.zeros(4, 3)
    with pytest.raises(RuntimeError, match="reduce"):
        x.index_reduce(0, ember.tensor([0]), ember.zeros(1, 3), "sum")
    with pytest.raises(RuntimeError, match="scalar type"):
        x.index_reduce(0, ember.tensor([0]), ember.zeros(1, 3, dtype=ember.float64), "amax")
    with pytest.raises(RuntimeError, match="does not fit"):
        x.index_reduce(0, ember.tensor([0, 1]), ember.zeros(1, 3), "amax")
    with pytest.raises(RuntimeError, match="does not fit"):
        x.index_reduce(0, ember.tensor([0]), ember.zeros(1, 2), "amax")
    with pytest.raises(IndexError, match="vector"):
        x.index_reduce(0, ember.tensor([[0]]), ember.zeros(1, 3), "amax")
    with pytest.raises((IndexError, RuntimeError)):
        x.index_reduce(0, ember.tensor([4]), ember.zeros(1, 3), "amax")
    tx = torch.zeros(4, 3)
    with pytest.raises(RuntimeError):
        tx.index_reduce(0, torch.tensor([0]), torch.zeros(1, 3), "sum")
    with pytest.raises(RuntimeError):
        tx.index_reduce(0, torch.tensor([0, 1]), torch.zeros(1, 3), "amax")


# ------------------------------------------------------------ torch's top-level nn functions
class L:
    """A floating leaf: requires grad in both frameworks."""

    def __init__(self, a):
        self.a = a


class C:
    """A constant tensor (floating ones take the test's dtype)."""

    def __init__(self, a):
        self.a = a


def _rng(seed):
    return np.random.default_rng(seed)


def _pos(*shape, seed=0):
    return _rng(seed).uniform(0.5, 2.0, shape)


def _sign(n, seed=0):
    return np.where(_rng(seed).standard_normal(n) > 0, 1.0, -1.0)


def _log_probs(*shape, seed=0):
    z = rand(*shape, seed=seed)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


# name → [(argument name, value)], in torch's positional order; random ones deterministic here
CASES = {
    "conv1d": [
        ("input", L(rand(2, 3, 7))),
        ("weight", L(rand(4, 3, 3, seed=1))),
        ("bias", L(rand(4, seed=2))),
        ("stride", 2),
        ("padding", 1),
        ("dilation", 1),
        ("groups", 1),
    ],
    "conv2d": [
        ("input", L(rand(2, 4, 6, 5))),
        ("weight", L(rand(6, 2, 3, 2, seed=1))),
        ("bias", L(rand(6, seed=2))),
        ("stride", (1, 2)),
        ("padding", 1),
        ("dilation", (2, 1)),
        ("groups", 2),
    ],
    "conv3d": [
        ("input", L(rand(1, 2, 4, 5, 4))),
        ("weight", L(rand(3, 2, 2, 3, 2, seed=1))),
        ("bias", L(rand(3, seed=2))),
        ("stride", 1),
        ("padding", (1, 0, 1)),
        ("dilation", 1),
        ("groups", 1),
    ],
    "conv_transpose1d": [
        ("input", L(rand(2, 4, 5))),
        ("weight", L(rand(4, 3, 3, seed=1))),
        ("bias", L(rand(3, seed=2))),
        ("stride", 2),
        ("padding", 1),
        ("output_padding", 1),
        ("groups", 1),
        ("dilation", 1),
    ],
    "conv_transpose2d": [
        ("input", L(rand(1, 4, 3, 4))),
        ("weight", L(rand(4, 2, 3, 3, seed=1))),
        ("bias", L(rand(4, seed=2))),
        ("stride", 2),
        ("padding", 1),
        ("output_padding", 1),
        ("groups", 2),
        ("dilation", 1),
    ],
    "batch_norm": [
        ("input", L(rand(4, 3, 5))),
        ("weight", L(rand(3, seed=1))),
        ("bias", L(rand(3, seed=2))),
        ("running_mean", C(rand(3, seed=3))),
        ("running_var", C(_pos(3))),
        ("training", True),
        ("momentum", 0.2),
        ("eps", 1e-3),
        ("cudnn_enabled", True),
    ],
    "batch_norm_eval": [
        ("input", L(rand(4, 3, 5))),
        ("weight", L(rand(3, seed=1))),
        ("bias", None),
        ("running_mean", C(rand(3, seed=3))),
        ("running_var", C(_pos(3))),
        ("training", False),
        ("momentum", 0.1),
        ("eps", 1e-5),
        ("cudnn_enabled", False),
    ],
    "instance_norm": [
        ("input", L(rand(2, 3, 5))),
        ("weight", L(rand(3, seed=1))),
        ("bias", L(rand(3, seed=2))),
        ("running_mean", None),
        ("running_var", None),
        ("use_input_stats", True),
        ("momentum", 0.1),
        ("eps", 1e-4),
        ("cudnn_enabled", False),
    ],
    "layer_norm": [
        ("input", L(rand(2, 3, 4))),
        ("normalized_shape", [3, 4]),
        ("weight", L(rand(3, 4, seed=1))),
        ("bias", L(rand(3, 4, seed=2))),
        ("eps", 1e-4),
        ("cudnn_enable", True),
    ],
    "group_norm": [
        ("input", L(rand(2, 4, 3))),
        ("num_groups", 2),
        ("weight", L(rand(4, seed=1))),
        ("bias", L(rand(4, seed=2))),
        ("eps", 1e-4),
        ("cudnn_enabled", True),
    ],
    "rms_norm": [
        ("input", L(rand(2, 3, 4))),
        ("normalized_shape", [4]),
        ("weight", L(rand(4, seed=1))),
        ("eps", 1e-3),
    ],
    "embedding": [
        ("weight", L(rand(5, 3))),
        ("indices", C(np.array([[0, 2], [4, 2]]))),
        ("padding_idx", 2),
        ("scale_grad_by_freq", False),
        ("sparse", False),
    ],
    "embedding_nopad": [
        ("weight", L(rand(5, 3))),
        ("indices", C(np.array([1, 2, 1]))),
        ("padding_idx", -1),
        ("scale_grad_by_freq", True),
    ],
    "dropout": [("input", L(rand(3, 4))), ("p", 0.5), ("train", False)],
    "alpha_dropout": [("input", L(rand(3, 4))), ("p", 0.3), ("train", False)],
    "feature_alpha_dropout": [("input", L(rand(2, 3, 4))), ("p", 0.3), ("train", False)],
    "celu": [("input", L(rand(3, 4))), ("alpha", 0.5)],
    "selu": [("input", L(rand(3, 4)))],
    "prelu": [("input", L(rand(2, 3, 4))), ("weight", L(_pos(3) - 1.0))],
    "rrelu": [
        ("input", L(rand(3, 4))),
        ("lower", 0.1),
        ("upper", 0.3),
        ("training", False),
        ("generator", None),
    ],
    "hardshrink": [("input", L(rand(3, 4))), ("lambd", 0.3)],
    "threshold": [("input", L(rand(3, 4))), ("threshold", 0.1), ("value", -2.0)],
    "pixel_shuffle": [("input", L(rand(1, 8, 2, 3))), ("upscale_factor", 2)],
    "pixel_unshuffle": [("input", L(rand(1, 2, 4, 6))), ("downscale_factor", 2)],
    "channel_shuffle": [("input", L(rand(2, 6, 3))), ("groups", 3)],
    "bilinear": [
        ("input1", L(rand(4, 3))),
        ("input2", L(rand(4, 5, seed=1))),
        ("weight", L(rand(2, 3, 5, seed=2))),
        ("bias", L(rand(2, seed=3))),
    ],
    "cosine_similarity": [
        ("x1", L(rand(3, 4))),
        ("x2", L(rand(3, 4, seed=1))),
        ("dim", 1),
        ("eps", 1e-8),
    ],
    "pairwise_distance": [
        ("x1", L(rand(3, 4))),
        ("x2", L(rand(3, 4, seed=1))),
        ("p", 3.0),
        ("eps", 1e-6),
        ("keepdim", True),
    ],
    "pdist": [("input", L(rand(5, 3))), ("p", 1.5)],
    "cosine_embedding_loss": [
        ("input1", L(rand(4, 5))),
        ("input2", L(rand(4, 5, seed=1))),
        ("target", C(_sign(4))),
        ("margin", 0.2),
        ("reduction", 2),
    ],
    "kl_div": [
        ("input", L(_log_probs(3, 4))),
        ("target", L(np.exp(_log_probs(3, 4, seed=1)))),
        ("reduction", 1),
    ],
    "margin_ranking_loss": [
        ("input1", L(rand(5))),
        ("input2", L(rand(5, seed=1))),
        ("target", C(_sign(5))),
        ("margin", 0.1),
        ("reduction", 0),
    ],
    "hinge_embedding_loss": [
        ("input", L(rand(5))),
        ("target", C(_sign(5, seed=1))),
        ("margin", 0.5),
        ("reduction", 1),
    ],
    "triplet_margin_loss": [
        ("anchor", L(rand(3, 4))),
        ("positive", L(rand(3, 4, seed=1))),
        ("negative", L(rand(3, 4, seed=2))),
        ("margin", 0.5),
        ("p", 2.0),
        ("eps", 1e-6),
        ("swap", True),
        ("reduction", 1),
    ],
    "poisson_nll_loss": [
        ("input", L(rand(3, 4))),
        ("target", C(_pos(3, 4))),
        ("log_input", True),
        ("full", False),
        ("eps", 1e-8),
        ("reduction", 1),
    ],
    "poisson_nll_loss_full": [
        ("input", L(_pos(3, 4))),
        ("target", C(_pos(3, 4, seed=1) * 3)),
        ("log_input", False),
        ("full", True),
        ("eps", 1e-6),
        ("reduction", 2),
    ],
    "binary_cross_entropy_with_logits": [
        ("input", L(rand(3, 4))),
        ("target", C(_rng(1).uniform(0, 1, (3, 4)))),
        ("weight", C(_pos(4))),
        ("pos_weight", C(_pos(4, seed=2))),
        ("reduction", 2),
    ],
    "max_pool1d": [
        ("input", L(rand(2, 3, 9))),
        ("kernel_size", 3),
        ("stride", 2),
        ("padding", 1),
        ("dilation", 2),
        ("ceil_mode", True),
    ],
    "max_pool2d": [
        ("input", L(rand(1, 2, 6, 7))),
        ("kernel_size", (3, 2)),
        ("stride", ()),
        ("padding", 1),
        ("dilation", 1),
        ("ceil_mode", False),
    ],
    "max_pool3d": [
        ("input", L(rand(1, 1, 4, 5, 6))),
        ("kernel_size", 2),
        ("stride", 2),
        ("padding", 0),
        ("dilation", 1),
        ("ceil_mode", True),
    ],
    "avg_pool1d": [
        ("input", L(rand(2, 3, 9))),
        ("kernel_size", 3),
        ("stride", 2),
        ("padding", 1),
        ("ceil_mode", True),
        ("count_include_pad", False),
    ],
    "adaptive_avg_pool1d": [("input", L(rand(2, 3, 7))), ("output_size", 3)],
    "adaptive_max_pool1d": [("input", L(rand(2, 3, 7))), ("output_size", 3)],
}


def _build(torch, case, dtype):
    """ember and torch positional arguments and the leaves of each."""
    e_args, t_args, e_leaves, t_leaves = [], [], [], []
    for _, v in case:
        if isinstance(v, (L, C)):
            a = v.a.astype(dtype) if v.a.dtype.kind == "f" else v.a
            grad = isinstance(v, L)
            e, t = ember.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)
            if grad:
                e_leaves.append(e)
                t_leaves.append(t)
            e_args.append(e)
            t_args.append(t)
        else:
            e_args.append(v)
            t_args.append(list(v) if isinstance(v, tuple) else v)
    return e_args, t_args, e_leaves, t_leaves


def _name(key):
    return key.removesuffix("_eval").removesuffix("_nopad").removesuffix("_full")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keywords", [False, True])
@pytest.mark.parametrize("key", sorted(CASES))
def test_top_level_nn_function(torch, key, keywords, dtype):
    """The same positional (or keyword) arguments to ember.<name> and torch.<name>: outputs
    and the gradients of a weighted sum to every floating input and weight."""
    case, name = CASES[key], _name(key)
    e_args, t_args, e_leaves, t_leaves = _build(torch, case, dtype)
    if keywords:
        names = [k for k, _ in case]
        e_out = getattr(ember, name)(**dict(zip(names, e_args)))
        t_out = getattr(torch, name)(**dict(zip(names, t_args)))
    else:
        e_out = getattr(ember, name)(*e_args)
        t_out = getattr(torch, name)(*t_args)
    if isinstance(t_out, tuple):
        assert isinstance(e_out, tuple)
        e_out, t_out = list(e_out), list(t_out)
    check(torch, e_out, t_out, e_leaves, t_leaves, dtype)
    if key == "batch_norm":  # the running statistics move as torch's
        for i in (3, 4):
            np.testing.assert_allclose(e_args[i].array, t_args[i].numpy(), **tol(dtype))


def test_top_level_defaults(torch):
    """The calls that leave torch's defaults out agree too."""
    x = rand(2, 3, 8)
    e, t = ember.tensor(x), torch.tensor(x)
    w = rand(3, 3, 2, seed=1)
    pairs = [
        (ember.conv1d(e, ember.tensor(w)), torch.conv1d(t, torch.tensor(w))),
        (ember.max_pool1d(e, 2), torch.max_pool1d(t, 2)),
        (ember.avg_pool1d(e, 3), torch.avg_pool1d(t, 3)),
        (ember.layer_norm(e, [8]), torch.layer_norm(t, [8])),
        (ember.group_norm(e, 3), torch.group_norm(t, 3)),
        (ember.rms_norm(e, [3, 8]), torch.rms_norm(t, [3, 8])),
        (ember.celu(e), torch.celu(t)),
        (ember.rrelu(e), torch.rrelu(t)),
        (ember.hardshrink(e), torch.hardshrink(t)),
        (ember.pdist(e[0]), torch.pdist(t[0])),
        (ember.cosine_similarity(e, e * 2 + 1), torch.cosine_similarity(t, t * 2 + 1)),
        (ember.pairwise_distance(e, -e), torch.pairwise_distance(t, -t)),
        (ember.kl_div(e, e.exp()), torch.kl_div(t, t.exp())),
        (ember.kl_div(e, e, log_target=True), torch.kl_div(t, t, log_target=True)),
        (ember.hinge_embedding_loss(e, e.sign()), torch.hinge_embedding_loss(t, t.sign())),
        (
            ember.binary_cross_entropy_with_logits(e, e.sigmoid()),
            torch.binary_cross_entropy_with_logits(t, t.sigmoid()),
        ),
        (
            ember.triplet_margin_loss(e[0], e[1], -e[0]),
            torch.triplet_margin_loss(t[0], t[1], -t[0]),
        ),
    ]
    for a, b in pairs:
        np.testing.assert_allclose(a.array, b.numpy(), rtol=1e-10, atol=1e-12)


def test_top_level_ctc_loss(torch):
    """torch.ctc_loss's positional order and int reduction, with the logits as the leaf."""
    z = rand(6, 2, 4)
    targets = np.array([[1, 2, 2], [3, 1, 0]])
    il, tl = [6, 5], [3, 2]
    (ez,), (tz,) = leaves(torch, z)
    for reduction in (0, 1, 2):
        e = ember.ctc_loss(ez.log_softmax(2), ember.tensor(targets), il, tl, 0, reduction, False)
        t = torch.ctc_loss(tz.log_softmax(2), torch.tensor(targets), il, tl, 0, reduction, False)
        ez.grad = None
        tz.grad = None
        check(torch, e, t, [ez], [tz], np.float64)
    e = ember.ctc_loss(
        log_probs=ez.log_softmax(2),
        targets=ember.tensor(targets),
        input_lengths=il,
        target_lengths=tl,
        blank=0,
        reduction=2,
        zero_infinity=True,
    )
    t = torch.ctc_loss(
        log_probs=tz.log_softmax(2),
        targets=torch.tensor(targets),
        input_lengths=il,
        target_lengths=tl,
        blank=0,
        reduction=2,
        zero_infinity=True,
    )
    np.testing.assert_allclose(e.array, t.detach().numpy(), rtol=1e-10)


def test_top_level_dropouts_in_training(torch):
    """Random in training: shapes, the kept values scaled as torch's, and p = 0 the identity."""
    x = np.abs(rand(64, 32)) + 1.0
    e = ember.tensor(x)
    for name in ("dropout", "alpha_dropout", "feature_alpha_dropout"):
        same = getattr(ember, name)(e, 0.0, True)
        np.testing.assert_allclose(same.array, getattr(torch, name)(torch.tensor(x), 0.0, True))
        np.testing.assert_array_equal(same.array, x)
        out = getattr(ember, name)(e, 0.4, True)
        assert out.shape == e.shape and not np.array_equal(out.array, x)
    y = ember.dropout(e, 0.25, True).array
    assert np.all(np.isclose(y, 0) | np.isclose(y, x / 0.75))
    assert 0.15 < np.isclose(y, 0).mean() < 0.35
    r = ember.rrelu(-e, 0.1, 0.3, True).array  # slopes drawn within [lower, upper]
    assert np.all((r <= -0.1 * x + 1e-12) & (r >= -0.3 * x - 1e-12))
    assert len(np.unique(np.round(r / x, 12))) > 100


def test_top_level_rrelu_generator():
    """generator= draws the slopes: the same seed gives the same slopes, and the gradient is
    the slope where x ≤ 0 and 1 elsewhere."""
    x = rand(8, 16)
    runs = []
    for seed in (3, 3, 4):
        e = ember.tensor(x, requires_grad=True)
        y = ember.rrelu(e, 0.1, 0.3, True, ember.Generator().manual_seed(seed))
        y.sum().backward()
        runs.append((y.array, e.grad.array))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert not np.array_equal(runs[0][0], runs[2][0])
    y, g = runs[0]
    np.testing.assert_array_equal(y[x > 0], x[x > 0])
    np.testing.assert_array_equal(g[x > 0], 1.0)
    slope = g[x <= 0]
    assert np.all((slope >= 0.1) & (slope <= 0.3))
    np.testing.assert_allclose(y[x <= 0], slope * x[x <= 0], rtol=1e-15)


def test_top_level_reduction_must_be_an_int_code():
    e = ember.tensor(rand(3))
    with pytest.raises(ValueError, match="reduction"):
        ember.hinge_embedding_loss(e, e.sign(), 1.0, 3)
    np.testing.assert_allclose(
        ember.hinge_embedding_loss(e, e.sign(), 1.0, "sum").array,
        ember.hinge_embedding_loss(e, e.sign(), 1.0, 2).array,
    )


def _schema(torch, name):
    """The arguments of torch's aten::name, ``self`` named ``input`` as Python sees it."""
    schema = torch._C._jit_get_schemas_for_operator(f"aten::{name}")[0]
    return [("input" if a.name == "self" else a.name, a) for a in schema.arguments]


@pytest.mark.parametrize("name", NNF.__all__)
def test_signature_matches_torch(torch, name):
    """Each wrapper's parameter names and order (and which are keyword-only) as torch's (out=
    aside: torch's schema without it)."""
    top = getattr(ember, name)
    params = list(inspect.signature(getattr(top, "without_out", top)).parameters.values())
    ours = [(p.name, p.kind == p.KEYWORD_ONLY) for p in params]
    theirs = [(n, a.kwarg_only) for n, a in _schema(torch, name)]
    assert ours == theirs
    top = getattr(ember, name)  # torch's out= may wrap it (out_argument.py)
    assert getattr(top, "without_out", top) is getattr(NNF, name)


@pytest.mark.parametrize("name", NNF.__all__)
def test_defaults_match_torch(torch, name):
    """Arguments torch requires are required here; those it defaults are defaulted, to the
    same value where it is a number or a bool (reduction: see the next test)."""
    params = inspect.signature(getattr(ember, name)).parameters
    for n, a in _schema(torch, name):
        p = params[n]
        assert (p.default is not p.empty) == a.has_default_value(), n
        if n == "reduction" and a.has_default_value():
            assert p.default == 0
        elif isinstance(a.default_value, (bool, int, float)):
            assert p.default == pytest.approx(a.default_value), n
        elif isinstance(a.default_value, list) and not a.default_value:
            assert p.default == (), n


@pytest.mark.parametrize(
    "name, nargs",
    [
        ("kl_div", 2),
        ("hinge_embedding_loss", 2),
        ("margin_ranking_loss", 3),
        ("cosine_embedding_loss", 3),
        ("triplet_margin_loss", 3),
        ("binary_cross_entropy_with_logits", 2),
    ],
)
def test_reduction_left_out_is_elementwise_as_torch(torch, name, nargs):
    """torch's Python binding reads ATen's ``reduction=Mean`` default as 0 ('none')."""
    a = rand(4, 3)
    b = np.where(rand(4, 3, seed=1) > 0, 1.0, -1.0)
    arrays = [a, b, b] if name == "margin_ranking_loss" else [a, a + 1, -a]
    if name in ("kl_div", "binary_cross_entropy_with_logits"):
        arrays = [a, 1 / (1 + np.exp(-a))]
    elif name == "hinge_embedding_loss":
        arrays = [a, b]
    elif name == "cosine_embedding_loss":
        arrays = [a, a + 1, b[:, 0]]
    e = getattr(ember, name)(*[ember.tensor(v) for v in arrays[:nargs]])
    t = getattr(torch, name)(*[torch.tensor(v) for v in arrays[:nargs]])
    assert t.ndim > 0 and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.array, t.numpy(), rtol=1e-10, atol=1e-12)
