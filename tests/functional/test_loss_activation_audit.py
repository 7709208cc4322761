"""A PyTorch-parity audit of the losses and activations at their edges: the deep tails of the
exponential units, NaN and ±inf inputs, the thresholds, and the losses' rarely taken paths
(every target ignored, soft targets that require grad, wrong shapes). Each test holds ember to
torch on inputs where the two once differed."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from tests.core_reference import compare_with_torch

NAN_ACTIVATIONS = [
    ("relu", ()),
    ("relu6", ()),
    ("hardtanh", ()),
    ("elu", ()),
    ("selu", ()),
    ("celu", ()),
    ("hardswish", ()),
    ("hardshrink", ()),
    ("softshrink", ()),
    ("threshold", (0.5, 7.0)),
]


def _values_and_grads(torch, name, args, x, dtype):
    """(value, gradient) of F.<name>(x, *args) in ember and in torch, NaNs kept."""
    x = np.asarray(x, dtype=dtype)
    g = np.linspace(0.5, 1.5, x.size).astype(dtype).reshape(x.shape)
    xe = ember.tensor(x, requires_grad=True)
    ye = getattr(F, name)(xe, *args)
    (ye * ember.tensor(g)).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch.nn.functional, name)(xt, *args)
    (yt * torch.tensor(g)).sum().backward()
    return (ye.array, yt.detach().numpy()), (xe.grad.array, xt.grad.numpy())


@pytest.mark.parametrize("name, args", NAN_ACTIVATIONS, ids=[n for n, _ in NAN_ACTIVATIONS])
def test_nan_input_gives_torchs_value_and_gradient(torch, name, args):
    (ve, vt), (ge, gt) = _values_and_grads(torch, name, args, [np.nan, -2.0, 0.7], np.float64)
    np.testing.assert_allclose(ve, vt, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(ge, gt, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exponential_units_keep_the_gradient_in_the_deep_tail(torch, name, dtype):
    # e^x below half an ulp of 1: through expm1's backward (y + 1) the gradient rounded to 0
    x = [-16.0, -17.5, -20.0, -30.0, -60.0]
    (ve, vt), (ge, gt) = _values_and_grads(torch, name, (), x, dtype)
    np.testing.assert_allclose(ve, vt, rtol=1e-6)
    assert (gt > 0).all() if name != "selu" else (gt != 0).all()
    np.testing.assert_allclose(ge, gt, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_celu_alpha_tail(torch):
    # CELU scales the input by 1/α: x/α = −20 where the float32 gradient used to vanish
    x = ember.tensor([-6.0, -9.0], requires_grad=True)
    xt = torch.tensor([-6.0, -9.0], requires_grad=True)
    F.celu(x, 0.3).sum().backward()
    torch.nn.functional.celu(xt, 0.3).sum().backward()
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hardswish_gradient_at_infinities_is_torchs(torch, dtype):
    _, (ge, gt) = _values_and_grads(torch, "hardswish", (), [-np.inf, np.inf, -3.0, 3.0], dtype)
    np.testing.assert_array_equal(ge, gt)  # 0, g, 0, g: no NaN from the middle branch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsigmoid_has_no_threshold(torch, dtype):
    # −Softplus(−x) returned x itself below −20; torch's log σ keeps the −log(1 + eˣ) term
    x = [-20.0001, -25.0, -40.0, -1e4, -np.inf, np.inf, 0.0, 30.0]
    (ve, vt), (ge, gt) = _values_and_grads(torch, "logsigmoid", (), x, dtype)
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(ve, vt, rtol=rtol)
    np.testing.assert_allclose(ge, gt, rtol=rtol, atol=0)


def test_logsigmoid_matches_torch_on_random_input(torch):
    x = np.random.default_rng(0).standard_normal(40) * 30
    compare_with_torch(torch, F.logsigmoid, torch.nn.functional.logsigmoid, [x])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu"])
def test_inplace_flag_accepted_as_torch(torch, name):
    x = np.linspace(-2, 2, 9)
    ye = getattr(F, name)(input=ember.tensor(x), inplace=True)
    yt = getattr(torch.nn.functional, name)(input=torch.tensor(x), inplace=False)
    np.testing.assert_allclose(ye.array, yt.numpy(), rtol=1e-15)


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "SiLU"])
def test_modules_take_inplace_and_show_it_as_torch(torch, name):
    me, mt = getattr(ember.nn, name)(inplace=True), getattr(torch.nn, name)(inplace=True)
    assert repr(me) == repr(mt)
    assert repr(getattr(ember.nn, name)()) == repr(getattr(torch.nn, name)())
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(me(ember.tensor(x)).array, mt(torch.tensor(x)).numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_takes_torchs_implicit_dim_and_warns(torch, name, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ye = getattr(F, name)(ember.tensor(x))
    with pytest.warns(UserWarning):
        yt = getattr(torch.nn.functional, name)(torch.tensor(x))
    np.testing.assert_allclose(ye.array, yt.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
def test_softmax_modules_default_dim_is_torchs(torch, name):
    assert getattr(ember.nn, name)().dim is None
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ye = getattr(ember.nn, name)()(ember.tensor(x))
    with pytest.warns(UserWarning):
        yt = getattr(torch.nn, name)()(torch.tensor(x))
    np.testing.assert_allclose(ye.array, yt.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dtype_casts_first(torch, name):
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye = getattr(F, name)(xe, dim=-1, dtype=ember.float64)
    yt = getattr(torch.nn.functional, name)(xt, dim=-1, dtype=torch.float64)
    assert ye.dtype == np.float64
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(3).standard_normal((3, 4))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    assert xe.grad.dtype == np.float32
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=1e-6)


LOGITS = np.random.default_rng(4).standard_normal((3, 4))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient(
    torch, label_smoothing, weighted
):
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    t = np.array([-100, -100, -100])
    compare_with_torch(
        torch,
        lambda z: F.cross_entropy(z, t, weight=w, label_smoothing=label_smoothing),
        lambda z: torch.nn.functional.cross_entropy(
            z,
            torch.tensor(t),
            weight=None if w is None else torch.tensor(w),
            label_smoothing=label_smoothing,
        ),
        [LOGITS],
    )  # assert_allclose counts NaN equal to NaN: the value is NaN in both, the gradient 0


def test_nll_loss_with_every_target_ignored_is_nan_with_zero_gradient(torch):
    t = np.array([-100, -100, -100])
    compare_with_torch(
        torch,
        lambda x: F.nll_loss(x, t),
        lambda x: torch.nn.functional.nll_loss(x, torch.tensor(t)),
        [LOGITS],
    )


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_cross_entropy_soft_targets_get_their_gradient(torch, label_smoothing, shape):
    rng = np.random.default_rng(5)
    z, q = rng.standard_normal(shape), rng.random(shape)
    q /= q.sum(axis=1, keepdims=True)
    w = rng.random(shape[1]) + 0.5
    compare_with_torch(
        torch,
        lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=label_smoothing),
        lambda a, b: torch.nn.functional.cross_entropy(
            a, b, weight=torch.tensor(w), label_smoothing=label_smoothing
        ),
        [z, q],
    )


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize(
    "shape, target_shape",
    [((3, 4), (3, 1)), ((2, 4, 3, 5), (2, 5, 3)), ((2, 4, 3, 5), (2, 15)), ((3, 4), (2,))],
)
def test_class_targets_of_the_wrong_shape_raise_as_torch(torch, name, shape, target_shape):
    z, t = np.zeros(shape), np.zeros(target_shape, dtype=np.int64)
    with pytest.raises((RuntimeError, ValueError)):
        getattr(torch.nn.functional, name)(torch.tensor(z), torch.tensor(t))
    with pytest.raises(ValueError, match=rf"expected \({shape[0]},"):
        getattr(F, name)(ember.tensor(z), t)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_weight_of_the_wrong_length_raises_as_torch(torch, name):
    t = np.array([0, 1, 2])
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        getattr(torch.nn.functional, name)(
            torch.tensor(LOGITS), torch.tensor(t), weight=torch.ones(3, dtype=torch.float64)
        )
    with pytest.raises(ValueError, match=r"each of the 4 classes .* got weight of shape \(3,\)"):
        getattr(F, name)(ember.tensor(LOGITS), t, weight=np.ones(3))


def test_cross_entropy_rejects_a_0d_input_clearly():
    with pytest.raises(ValueError, match="got a 0-d tensor"):
        F.cross_entropy(ember.tensor(1.0), np.array(0))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, [0.5, 2.0, 3.0]])
def test_bce_with_logits_gives_the_target_its_gradient(torch, reduction, pos_weight):
    rng = np.random.default_rng(6)
    z, y, w = rng.standard_normal((4, 3)) * 3, rng.random((4, 3)), rng.random((4, 1))
    pw = None if pos_weight is None else np.array(pos_weight)
    compare_with_torch(
        torch,
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=w, reduction=reduction, pos_weight=pw
        ),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a,
            b,
            weight=torch.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        ),
        [z, y],
    )


@pytest.mark.parametrize("target_shape", [(3, 1), (4,)])
def test_bce_with_logits_target_of_another_shape_raises_as_torch(torch, target_shape):
    with pytest.raises(ValueError, match="Target size"):
        torch.nn.functional.binary_cross_entropy_with_logits(
            torch.zeros(3, 4), torch.zeros(target_shape)
        )
    with pytest.raises(ValueError, match=r"target shape .* must equal the input shape \(3, 4\)"):
        F.binary_cross_entropy_with_logits(ember.zeros(3, 4), ember.zeros(*target_shape))


@pytest.mark.parametrize(
    "probabilities, targets, what",
    [([0.5, np.nan], [1.0, 0.0], "probabilities"), ([0.5, 0.2], [1.5, 0.0], "target")],
)
def test_bce_rejects_nan_probabilities_and_targets_outside_0_1_as_torch(
    torch, probabilities, targets, what
):
    with pytest.raises(RuntimeError, match="should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(probabilities), torch.tensor(targets))
    with pytest.raises(ValueError, match=what):
        F.binary_cross_entropy(ember.tensor(probabilities), ember.tensor(targets))


def test_cosine_embedding_loss_of_a_zero_vector_matches_torch(torch):
    # torch's ε is 1e-12 as a float32; its exact double moved the gradient by 2e-9 relative
    rng = np.random.default_rng(7)
    x1, x2 = np.zeros((2, 3)), rng.standard_normal((2, 3))
    t = np.array([1.0, -1.0])
    compare_with_torch(
        torch,
        lambda a, b: F.cosine_embedding_loss(a, b, t, margin=-0.2),
        lambda a, b: torch.nn.functional.cosine_embedding_loss(a, b, torch.tensor(t), margin=-0.2),
        [x1, x2],
    )


def test_kl_div_batchmean_of_an_empty_batch_is_nan_as_torch(torch):
    yt = torch.nn.functional.kl_div(torch.zeros(0, 2), torch.zeros(0, 2), reduction="batchmean")
    ye = F.kl_div(ember.zeros(0, 2), ember.zeros(0, 2), reduction="batchmean")
    assert np.isnan(yt.item()) and np.isnan(ye.item())
