"""ember.* top-level functions against torch.* on the same inputs (outputs and gradients), and
the makers, dtypes, grad modes and random draws of torch_creation.py."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.core_reference import compare_same_code, positive, randn

A = randn(3, 4, seed=1)
B = randn(3, 4, seed=2)
P = positive(3, 4, seed=3)
SQ = randn(4, 4, seed=4)
V, W = randn(4, seed=5), randn(4, seed=6)
M1, M2 = randn(3, 4, seed=7), randn(4, 5, seed=8)
BA, BB = randn(2, 3, 4, seed=9), randn(2, 4, 5, seed=10)
X3 = randn(2, 3, 4, seed=11)
ROUNDISH = np.array([[-2.5, -1.7, -0.5, 0.2], [0.5, 1.5, 2.3, 3.9]])

# (id, ember call, torch call, inputs); `m` is ember or torch, so one lambda serves both
SAME = [
    ("exp", lambda m, x: m.exp(x), [A]),
    ("log", lambda m, x: m.log(x), [P]),
    ("log1p", lambda m, x: m.log1p(x), [P]),
    ("expm1", lambda m, x: m.expm1(x), [A]),
    ("sqrt", lambda m, x: m.sqrt(x), [P]),
    ("rsqrt", lambda m, x: m.rsqrt(x), [P]),
    ("abs", lambda m, x: m.abs(x), [A]),
    ("neg", lambda m, x: m.neg(x), [A]),
    ("sign", lambda m, x: m.sign(x), [A]),
    ("sin", lambda m, x: m.sin(x), [A]),
    ("cos", lambda m, x: m.cos(x), [A]),
    ("tanh", lambda m, x: m.tanh(x), [A]),
    ("sigmoid", lambda m, x: m.sigmoid(x), [A]),
    ("relu", lambda m, x: m.relu(x), [A]),
    ("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), [A]),
    ("clamp_min", lambda m, x: m.clamp(x, min=0.1), [A]),
    ("clip", lambda m, x: m.clip(x, -0.3, 0.3), [A]),
    ("clamp_tensors", lambda m, x, lo: m.clamp(x, min=lo), [A, B]),
    ("pow", lambda m, x: m.pow(x, 3), [A]),
    ("pow_tensor", lambda m, x, y: m.pow(x, y), [P, B]),
    ("pow_scalar_base", lambda m, y: m.pow(2.0, y), [A]),
    ("square", lambda m, x: m.square(x), [A]),
    ("floor", lambda m, x: m.floor(x), [ROUNDISH]),
    ("ceil", lambda m, x: m.ceil(x), [ROUNDISH]),
    ("round", lambda m, x: m.round(x), [ROUNDISH]),
    ("trunc", lambda m, x: m.trunc(x), [ROUNDISH]),
    ("frac", lambda m, x: m.frac(x), [ROUNDISH]),
    ("reciprocal", lambda m, x: m.reciprocal(x), [P]),
    ("lerp", lambda m, x, y: m.lerp(x, y, 0.3), [A, B]),
    ("add", lambda m, x, y: m.add(x, y), [A, B]),
    ("add_alpha", lambda m, x, y: m.add(x, y, alpha=2.5), [A, B]),
    ("add_number", lambda m, x: m.add(x, 2.0), [A]),
    ("sub_alpha", lambda m, x, y: m.sub(x, y, alpha=0.5), [A, B]),
    ("mul", lambda m, x, y: m.mul(x, y), [A, B]),
    ("div", lambda m, x, y: m.div(x, y), [A, P]),
    ("div_floor", lambda m, x, y: m.div(x, y, rounding_mode="floor"), [A, P]),
    ("div_trunc", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), [A, P]),
    ("isnan", lambda m, x: m.isnan(m.log(x)), [A]),
    ("isinf", lambda m, x: m.isinf(m.reciprocal(m.relu(x))), [A]),
    ("isfinite", lambda m, x: m.isfinite(m.log(x)), [A]),
    ("logical_and", lambda m, x, y: m.logical_and(x > 0, y > 0), [A, B]),
    ("logical_or", lambda m, x, y: m.logical_or(x > 0, y > 0), [A, B]),
    ("logical_not", lambda m, x: m.logical_not(x > 0), [A]),
    ("eq", lambda m, x: m.eq(m.floor(x), 1.0), [ROUNDISH]),
    ("ne", lambda m, x, y: m.ne(x, y), [A, A]),
    ("lt", lambda m, x, y: m.lt(x, y), [A, B]),
    ("le", lambda m, x: m.le(x, 0.1), [A]),
    ("gt", lambda m, x, y: m.gt(x, y), [A, B]),
    ("ge", lambda m, x: m.ge(x, -0.1), [A]),
    ("where", lambda m, x, y: m.where(x > 0, x, y), [A, B]),
    ("maximum", lambda m, x, y: m.maximum(x, y), [A, B]),
    ("minimum", lambda m, x, y: m.minimum(x, y), [A, B]),
    # reductions
    ("sum", lambda m, x: m.sum(x), [A]),
    ("sum_dim", lambda m, x: m.sum(x, dim=1, keepdim=True), [A]),
    ("sum_dims", lambda m, x: m.sum(x, (0, 2)), [X3]),
    ("mean", lambda m, x: m.mean(x, 0), [A]),
    ("max", lambda m, x: m.max(x), [A]),
    ("max_dim", lambda m, x: tuple(m.max(x, 1)), [A]),
    ("max_dim_keep", lambda m, x: tuple(m.max(x, dim=0, keepdim=True)), [A]),
    ("max_pair", lambda m, x, y: m.max(x, y), [A, B]),
    ("min", lambda m, x: m.min(x), [A]),
    ("min_dim", lambda m, x: tuple(m.min(x, -1)), [A]),
    ("min_pair", lambda m, x, y: m.min(x, y), [A, B]),
    ("argmax", lambda m, x: m.argmax(x), [A]),
    ("argmax_dim", lambda m, x: m.argmax(x, dim=1, keepdim=True), [A]),
    ("argmin_dim", lambda m, x: m.argmin(x, 0), [A]),
    ("var", lambda m, x: m.var(x), [A]),
    ("var_dim", lambda m, x: m.var(x, 1, keepdim=True), [A]),
    ("var_biased", lambda m, x: m.var(x, 0, unbiased=False), [A]),
    ("var_correction", lambda m, x: m.var(x, dim=1, correction=0), [A]),
    ("std", lambda m, x: m.std(x, 1), [A]),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1), [A]),
    ("prod", lambda m, x: m.prod(x, 1), [A]),
    ("all", lambda m, x: m.all(x > -1.5, 1), [A]),
    ("any", lambda m, x: m.any(x > 1.0), [A]),
    # shapes
    ("reshape", lambda m, x: m.reshape(x, (4, -1)), [A]),
    ("flatten", lambda m, x: m.flatten(x, 1), [X3]),
    ("squeeze", lambda m, x: m.squeeze(m.unsqueeze(x, 1)), [A]),
    ("squeeze_dim", lambda m, x: m.squeeze(m.unsqueeze(x, 0), 0), [A]),
    ("unsqueeze", lambda m, x: m.unsqueeze(x, -1), [A]),
    ("transpose", lambda m, x: m.transpose(x, 0, 2), [X3]),
    ("swapaxes", lambda m, x: m.swapaxes(x, 1, 2), [X3]),
    ("permute", lambda m, x: m.permute(x, (2, 0, 1)), [X3]),
    ("movedim", lambda m, x: m.movedim(x, 0, -1), [X3]),
    ("movedim_many", lambda m, x: m.movedim(x, (0, 1), (2, 0)), [X3]),
    ("t", lambda m, x: m.t(x), [A]),
    ("tril", lambda m, x: m.tril(x, -1), [SQ]),
    ("triu", lambda m, x: m.triu(x, 1), [SQ]),
    ("diag_matrix", lambda m, x: m.diag(x), [SQ]),
    ("diag_vector", lambda m, x: m.diag(x, 1), [V]),
    ("flip", lambda m, x: m.flip(x, (0, 2)), [X3]),
    ("roll", lambda m, x: m.roll(x, 2, 1), [A]),
    ("roll_flat", lambda m, x: m.roll(x, -3), [A]),
    ("chunk", lambda m, x: tuple(m.chunk(x, 2, 1)), [A]),
    ("split", lambda m, x: tuple(m.split(x, [1, 3], dim=1)), [A]),
    ("split_size", lambda m, x: tuple(m.split(x, 2)), [A]),
    ("narrow", lambda m, x: m.narrow(x, 1, 1, 2), [A]),
    ("unbind", lambda m, x: tuple(m.unbind(x, 1)), [A]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [A]),
    # products
    ("matmul", lambda m, x, y: m.matmul(x, y), [M1, M2]),
    ("matmul_batch", lambda m, x, y: m.matmul(x, y), [BA, M2]),
    ("mm", lambda m, x, y: m.mm(x, y), [M1, M2]),
    ("bmm", lambda m, x, y: m.bmm(x, y), [BA, BB]),
    ("dot", lambda m, x, y: m.dot(x, y), [V, W]),
    ("outer", lambda m, x, y: m.outer(x, y), [V, W]),
    ("addmm", lambda m, c, x, y: m.addmm(c, x, y, beta=0.5, alpha=2.0), [randn(3, 5), M1, M2]),
    ("einsum", lambda m, x, y: m.einsum("ij,jk->ik", x, y), [M1, M2]),
    ("einsum_list", lambda m, x, y: m.einsum("bij,bjk", [x, y]), [BA, BB]),
    # softmax
    ("softmax", lambda m, x: m.softmax(x, dim=-1), [A]),
    ("softmax_dim0", lambda m, x: m.softmax(x, 0), [A]),
    ("log_softmax", lambda m, x: m.log_softmax(x, dim=1), [A]),
]


@pytest.mark.parametrize("name,f,arrays", SAME, ids=[c[0] for c in SAME])
@pytest.mark.filterwarnings(
    "ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning"
)
def test_matches_torch(torch, name, f, arrays):
    """Outputs and gradients (where torch has any) in float64, then again in float32."""
    compare_same_code(torch, f, arrays)


def test_numel_and_is_tensor():
    x = ember.zeros(2, 3, 4)
    assert ember.numel(x) == 24 and isinstance(ember.numel(x), int)
    assert ember.is_tensor(x) and not ember.is_tensor(np.zeros(2))


def test_max_with_dim_is_a_named_tuple():
    out = ember.max(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    assert out.values.tolist() == [5.0, 7.0] and out.indices.tolist() == [1, 0]
    assert ember.min(ember.tensor([[1.0, 5.0]]), 1).indices.tolist() == [0]


def test_functions_take_non_tensors():
    assert ember.exp([0.0, 0.0]).tolist() == [1.0, 1.0]
    assert ember.add(2.0, ember.tensor([1.0])).tolist() == [3.0]
    assert ember.sum(np.ones((2, 2))).item() == 4.0


def test_div_rejects_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode"):
        ember.div(ember.ones(2), 2.0, rounding_mode="up")


def test_as_tensor_shares_memory_when_it_can():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ember.as_tensor(a)
    assert t.dtype == np.float64
    a[0, 0] = 42.0
    assert t.array[0, 0] == 42.0  # shared
    c = ember.as_tensor(a, dtype=ember.float32)  # another dtype: a copy
    a[0, 1] = -1.0
    assert c.dtype == np.float32 and c.array[0, 1] == 1.0
    x = ember.ones(3)
    assert ember.as_tensor(x) is x
    assert ember.as_tensor([1.0, 2.0]).dtype == np.float32
    with pytest.raises(RuntimeError, match="cuda"):
        ember.as_tensor(a, device="cuda")


@pytest.fixture
def restore_default_dtype():
    before = ember.get_default_dtype()
    yield
    ember.set_default_dtype(before)


def test_set_default_dtype_round_trip(restore_default_dtype):
    assert ember.get_default_dtype() is ember.float32
    ember.set_default_dtype(ember.float64)
    assert ember.get_default_dtype() is ember.float64
    for t in (ember.zeros(2), ember.randn(2), ember.tensor([1.5]), ember.arange(0.0, 1.0, 0.5)):
        assert t.dtype == np.float64
    assert ember.normal(0.0, 1.0, (3,)).dtype == np.float64
    ember.set_default_dtype(ember.float32)
    assert ember.zeros(2).dtype == np.float32 and ember.tensor([1.5]).dtype == np.float32


@pytest.mark.parametrize("bad", [ember.int64, ember.float16, "float64", float])
def test_set_default_dtype_rejects_other_dtypes(restore_default_dtype, bad):
    with pytest.raises(TypeError, match="float32 and ember.float64"):
        ember.set_default_dtype(bad)
    assert ember.get_default_dtype() is ember.float32


def test_dtype_names():
    assert ember.float16 is np.float16 and ember.half is np.float16
    assert (ember.int8, ember.int16, ember.int32, ember.uint8) == (
        np.int8,
        np.int16,
        np.int32,
        np.uint8,
    )
    assert ember.zeros(2, dtype=ember.uint8).dtype == np.uint8


def test_inference_mode_as_context_and_decorator():
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert not ember.is_grad_enabled() and not (x * 2).requires_grad
    assert ember.is_grad_enabled() and (x * 2).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad

    @ember.inference_mode()
    def f(t):
        return t * 2

    @ember.inference_mode
    def g(t):
        return t * 3

    assert not f(x).requires_grad and not g(x).requires_grad and f.__name__ == "f"
    assert ember.is_grad_enabled()


# ------------------------------------------------------------ random draws
def _twice(draw):
    ember.manual_seed(123)
    a = draw().array.copy()
    ember.manual_seed(123)
    return a, draw().array


def test_normal_shapes_dtypes_and_statistics():
    a, b = _twice(lambda: ember.normal(2.0, 3.0, (20000,)))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (20000,)
    assert abs(a.mean() - 2.0) < 0.05 * 3 and abs(a.std() / 3.0 - 1.0) < 0.05
    mean = ember.zeros(20000, dtype=ember.float64)
    std = ember.full((2, 1), 0.5, dtype=ember.float64)
    z = ember.normal(mean, std)
    assert z.shape == (2, 20000) and z.dtype == np.float64 and not z.requires_grad
    assert abs(z.array.mean()) < 0.05 and abs(z.array.std() - 0.5) < 0.05
    assert ember.normal(ember.zeros(3), 1.0).shape == (3,)
    with pytest.raises(TypeError, match="size"):
        ember.normal(0.0, 1.0)
    with pytest.raises(ValueError, match="std"):
        ember.normal(0.0, -1.0, (2,))


def test_bernoulli_statistics_and_repeatability():
    p = ember.full((20000,), 0.3)
    a, b = _twice(lambda: ember.bernoulli(p))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and set(np.unique(a)) <= {0.0, 1.0}
    assert abs(a.mean() - 0.3) < 0.02
    probs = ember.tensor([0.0, 1.0] * 10, dtype=ember.float64)
    assert ember.bernoulli(probs).tolist() == [0.0, 1.0] * 10
    assert abs(ember.bernoulli(ember.zeros(20000), p=0.8).array.mean() - 0.8) < 0.02
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ember.bernoulli(ember.tensor([1.5]))


def test_multinomial_with_replacement_follows_the_weights():
    w = ember.tensor([1.0, 0.0, 3.0, 6.0])  # unnormalised, one zero weight
    a, b = _twice(lambda: ember.multinomial(w, 20000, replacement=True))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (20000,)
    freq = np.bincount(a, minlength=4) / a.size
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.3, 0.6], atol=0.02)


def test_multinomial_without_replacement():
    w = ember.tensor([[1.0, 2.0, 0.0, 4.0, 8.0], [5.0, 5.0, 5.0, 5.0, 5.0]])
    a, b = _twice(lambda: ember.multinomial(w, 4))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 4)
    for row in a:
        assert len(set(row.tolist())) == 4  # never repeats an index
    assert 2 not in a[0]  # zero weight: never drawn while positive ones remain
    firsts = ember.multinomial(ember.tensor([1.0, 3.0]).expand(20000, 2), 1).array[:, 0]
    assert abs(firsts.mean() - 0.75) < 0.02  # the first draw follows the weights
    with pytest.raises(ValueError, match="without replacement"):
        ember.multinomial(w, 6)  # more than the categories (torch draws zero weights last)
    with pytest.raises(ValueError, match="weights"):
        ember.multinomial(ember.tensor([1.0, -1.0]), 1)


def test_log1p_and_expm1_keep_small_arguments_and_gradcheck():
    """Where 1 + x rounds x away in float32, log1p and expm1 keep it (log(1 + x) gives 0)."""
    x = ember.tensor(np.array([1e-9, -3e-8], np.float32))
    np.testing.assert_allclose(ember.log1p(x).array, [1e-9, -3e-8], rtol=1e-6)
    np.testing.assert_allclose(ember.expm1(x).array, [1e-9, -3e-8], rtol=1e-6)
    assert ember.log(1 + x).array[0] == 0  # what the composition loses: 1 + 1e-9 is 1 here
    x64 = ember.tensor(np.linspace(-0.5, 2.0, 7), requires_grad=True)
    assert ember.gradcheck(lambda t: ember.log1p(t) * ember.expm1(t), (x64,))
