"""The last of torch's refusals of complex input (tests/test_complex_refusals.py and
test_complex_refusals_more.py have the others), at the call, with torch's exception class and
a message naming the op and the dtype: the piecewise activations (hardtanh/relu6, hardsigmoid,
hardswish, softplus, mish, threshold, hardshrink, softshrink, prelu), glu, rrelu in eval and
training, smooth_l1_loss and huber_loss, layer_norm, cdist, pdist, cosine_similarity, the dropouts
while they draw a mask (training, 0 < p < 1), nan_to_num while it records a graph, lerp
with a real tensor beside complex ones, and the classification losses (cross_entropy,
nll_loss, binary_cross_entropy[_with_logits], kl_div, the margin losses, soft_margin_loss
while it records a graph), batch/instance/group norm, bilinear and embedding while they record
a graph, embedding_bag, interpolate and scaled_dot_product_attention. Each case runs in torch
first, so a torch that starts accepting one fails here; the calls torch still accepts are
checked to run in ember too."""

import numpy as np
import pytest

import ember
from tests.test_complex_refusals import Z0, _fn, assert_refused_as_torch

W4 = np.array([[0.5 + 1j, -1 + 0.5j, 2 - 1j, 0.25j]] * 2)  # an even last dim for glu


def _real(lib, like, value=0.3):
    return lib.full(tuple(like.shape), value, dtype=like.real.dtype)


def _labels(lib):
    return lib.tensor(np.array([0, 1]))


def _slope(lib, z):
    return lib.tensor(np.array([0.25]), dtype=z.dtype)


# name → (op name in the message, f(lib, z)); z is a complex (2, 3) tensor that requires grad
CASES = {
    "hardtanh": ("hardtanh", lambda lib, z: _fn(lib).hardtanh(z)),
    "hardtanh_inplace": ("hardtanh", lambda lib, z: _fn(lib).hardtanh(z.detach(), inplace=True)),
    "relu6": ("hardtanh", lambda lib, z: _fn(lib).relu6(z)),
    "hardsigmoid": ("hardsigmoid", lambda lib, z: _fn(lib).hardsigmoid(z)),
    "hardswish": ("hardswish", lambda lib, z: _fn(lib).hardswish(z)),
    "softplus": ("softplus", lambda lib, z: _fn(lib).softplus(z, beta=2.0)),
    "mish": ("mish", lambda lib, z: _fn(lib).mish(z)),
    "threshold": ("threshold", lambda lib, z: _fn(lib).threshold(z, 0.5, 0.0)),
    "hardshrink": ("hardshrink", lambda lib, z: _fn(lib).hardshrink(z)),
    "softshrink": ("softshrink", lambda lib, z: _fn(lib).softshrink(z, 0.25)),
    "prelu": ("prelu", lambda lib, z: _fn(lib).prelu(z, _slope(lib, z))),
    "prelu_real_weight": ("prelu", lambda lib, z: _fn(lib).prelu(
        z, lib.tensor(np.array([0.25]), dtype=z.real.dtype))),
    "prelu_real_input": ("prelu", lambda lib, z: _fn(lib).prelu(z.real, _slope(lib, z))),
    "prelu_module": ("prelu", lambda lib, z: lib.nn.PReLU().to(z.dtype)(z)),
    "softplus_module": ("softplus", lambda lib, z: lib.nn.Softplus()(z)),
    "hardswish_module": ("hardswish", lambda lib, z: lib.nn.Hardswish()(z)),
    "glu": ("glu", lambda lib, z: _fn(lib).glu(lib.cat([z, z], 1))),
    "glu_dim0": ("glu", lambda lib, z: _fn(lib).glu(z, 0)),
    "rrelu_eval": ("rrelu", lambda lib, z: _fn(lib).rrelu(z)),
    "rrelu_train": ("rrelu", lambda lib, z: _fn(lib).rrelu(z, training=True)),
    "rrelu_torch_generator": ("rrelu", lambda lib, z: lib.rrelu(
        z, training=True, generator=lib.Generator().manual_seed(0))),
    "smooth_l1_loss": ("smooth_l1_loss", lambda lib, z: _fn(lib).smooth_l1_loss(z, z.detach())),
    "smooth_l1_complex_target": ("smooth_l1_loss", lambda lib, z: _fn(lib).smooth_l1_loss(
        z.real, z.detach())),
    "huber_loss": ("huber_loss", lambda lib, z: _fn(lib).huber_loss(z, z.detach() * 2)),
    "huber_complex_target": ("huber_loss", lambda lib, z: _fn(lib).huber_loss(
        z.real, z.detach())),
    "layer_norm": ("layer_norm", lambda lib, z: _fn(lib).layer_norm(z, (3,))),
    "layer_norm_affine": ("layer_norm", lambda lib, z: _fn(lib).layer_norm(
        z, (2, 3), lib.ones(2, 3, dtype=z.dtype), lib.zeros(2, 3, dtype=z.dtype))),
    "layer_norm_module": ("layer_norm", lambda lib, z: lib.nn.LayerNorm(3).to(z.dtype)(z)),
    "cdist": ("cdist", lambda lib, z: lib.cdist(z, z.detach())),
    "cdist_x2": ("cdist", lambda lib, z: lib.cdist(z.real, z)),
    "pdist": ("pdist", lambda lib, z: _fn(lib).pdist(z)),
    "pdist_torch": ("pdist", lambda lib, z: lib.pdist(z, 1.0)),
    "cosine_similarity": ("cosine_similarity", lambda lib, z: _fn(lib).cosine_similarity(z, z)),
    "cosine_similarity_x2": ("cosine_similarity", lambda lib, z: lib.cosine_similarity(
        z.real, z, 0)),
    "dropout": ("dropout", lambda lib, z: _fn(lib).dropout(z, 0.5)),
    "dropout_inplace": ("dropout", lambda lib, z: _fn(lib).dropout(z.detach(), 0.3,
                                                                   inplace=True)),
    "dropout_module": ("dropout", lambda lib, z: lib.nn.Dropout(0.2)(z)),
    "dropout_torch": ("dropout", lambda lib, z: lib.dropout(z, 0.5, True)),
    "dropout1d": ("dropout", lambda lib, z: _fn(lib).dropout1d(z, 0.5)),
    "dropout2d": ("dropout", lambda lib, z: _fn(lib).dropout2d(z[None, None], 0.5)),
    "dropout3d": ("dropout", lambda lib, z: _fn(lib).dropout3d(z[None, None], 0.5)),
    "alpha_dropout": ("alpha_dropout", lambda lib, z: _fn(lib).alpha_dropout(z, 0.5, True)),
    "feature_alpha_dropout": ("feature_alpha_dropout", lambda lib, z: _fn(
        lib).feature_alpha_dropout(z[None], 0.5, True)),
    # the losses, normalisations and layers torch has no complex kernel (or derivative) for
    "cross_entropy": ("cross_entropy", lambda lib, z: _fn(lib).cross_entropy(z, _labels(lib))),
    "nll_loss": ("nll_loss", lambda lib, z: _fn(lib).nll_loss(z, _labels(lib))),
    "binary_cross_entropy": ("binary_cross_entropy", lambda lib, z: _fn(
        lib).binary_cross_entropy(z, z.detach())),
    "bce_with_logits": ("binary_cross_entropy_with_logits", lambda lib, z: _fn(
        lib).binary_cross_entropy_with_logits(z, z.detach())),
    "kl_div": ("kl_div", lambda lib, z: _fn(lib).kl_div(z, z.detach(), reduction="sum")),
    "kl_div_target": ("kl_div", lambda lib, z: _fn(lib).kl_div(z.real, z.detach())),
    "multi_margin_loss": ("multi_margin_loss", lambda lib, z: _fn(lib).multi_margin_loss(
        z, _labels(lib))),
    "multilabel_margin_loss": ("multilabel_margin_loss", lambda lib, z: _fn(
        lib).multilabel_margin_loss(z, lib.tensor([[0, -1, 1], [1, -1, 0]]))),
    "multilabel_soft_margin_loss": ("multilabel_soft_margin_loss", lambda lib, z: _fn(
        lib).multilabel_soft_margin_loss(z, lib.ones(2, 3))),
    "soft_margin_loss": ("soft_margin_loss", lambda lib, z: _fn(lib).soft_margin_loss(
        z, lib.ones(2, 3))),
    "batch_norm": ("batch_norm", lambda lib, z: _fn(lib).batch_norm(z, None, None,
                                                                    training=True)),
    "instance_norm": ("batch_norm", lambda lib, z: _fn(lib).instance_norm(z[None])),
    "group_norm": ("group_norm", lambda lib, z: _fn(lib).group_norm(z[None], 1)),
    "bilinear": ("bilinear", lambda lib, z: _fn(lib).bilinear(
        z, z.detach(), lib.ones(1, 3, 3, dtype=z.dtype))),
    "embedding": ("embedding", lambda lib, z: _fn(lib).embedding(_labels(lib), z)),
    "embedding_bag": ("embedding_bag", lambda lib, z: _fn(lib).embedding_bag(
        _labels(lib)[None], z)),
    "interpolate": ("interpolate", lambda lib, z: _fn(lib).interpolate(z[None], scale_factor=2)),
    "interpolate_bilinear": ("interpolate", lambda lib, z: _fn(lib).interpolate(
        z[None, None], size=(4, 4), mode="bilinear")),
    "grid_sample": ("grid_sample", lambda lib, z: _fn(lib).grid_sample(
        z[None, None], lib.zeros(1, 2, 2, 2, dtype=z.real.dtype), align_corners=False)),
    "sdpa": ("scaled_dot_product_attention", lambda lib, z: _fn(
        lib).scaled_dot_product_attention(z[None], z[None], z[None])),
    "nan_to_num": ("nan_to_num", lambda lib, z: lib.nan_to_num(z)),
    "nan_to_num_method": ("nan_to_num", lambda lib, z: z.nan_to_num(posinf=1.0)),
    "lerp_real_weight": ("lerp", lambda lib, z: lib.lerp(z, z.detach(), _real(lib, z))),
    "lerp_method_real_weight": ("lerp", lambda lib, z: z.lerp(z * 2, _real(lib, z, 0.7))),
    "lerp_real_end": ("lerp", lambda lib, z: lib.lerp(z, z.real, 0.5)),
    "lerp_real_start": ("lerp", lambda lib, z: lib.lerp(z.real, z, 0.5)),
    "lerp_complex_weight_real_ends": ("lerp", lambda lib, z: lib.lerp(z.real, z.imag, z)),
}  # fmt: skip


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_at_the_call_as_torch(torch, name, dtype):
    assert_refused_as_torch(torch, *CASES[name], dtype)


# refused without grad too, except nan_to_num, which refuses only a graph
NO_GRAD = ["hardtanh", "softplus", "mish", "threshold", "prelu", "glu", "rrelu_eval",
           "rrelu_train", "smooth_l1_loss", "huber_loss", "layer_norm", "cdist",
           "cosine_similarity", "dropout", "dropout2d", "alpha_dropout", "lerp_real_weight",
           "lerp_real_end"]  # fmt: skip


@pytest.mark.parametrize("name", NO_GRAD)
def test_refused_without_grad_too(torch, name):
    op, f = CASES[name]
    with torch.no_grad(), pytest.raises(RuntimeError) as info:
        f(torch, torch.tensor(Z0))
    with ember.no_grad(), pytest.raises(RuntimeError, match=rf"^{op}\(\): .*complex128") as got:
        f(ember, ember.tensor(Z0))
    assert got.type is info.type


def _np(t):
    return t.detach().numpy()


# what torch still accepts for complex input: ember must run it, with torch's values
ACCEPTED = {
    "dropout_eval": lambda lib, z: _fn(lib).dropout(z, 0.5, training=False),
    "dropout_p0": lambda lib, z: _fn(lib).dropout(z, 0.0),
    "dropout_p1": lambda lib, z: _fn(lib).dropout(z, 1.0),
    "dropout2d_p1": lambda lib, z: _fn(lib).dropout2d(z[None, None], 1.0),
    "alpha_dropout_eval": lambda lib, z: _fn(lib).alpha_dropout(z, 0.5),
    "alpha_dropout_p1": lambda lib, z: _fn(lib).alpha_dropout(z, 1.0, True),
    "dropout_module_eval": lambda lib, z: lib.nn.Dropout(0.5).eval()(z),
    "nan_to_num_no_grad": lambda lib, z: lib.nan_to_num(z.detach()),
    "nan_to_num_in_place": lambda lib, z: (z * 1).nan_to_num_(),  # torch records this one
    "nan_to_num_in_place_fn": lambda lib, z: lib.nan_to_num_(z * 2, posinf=1.0),
    "lerp_scalar_weight": lambda lib, z: lib.lerp(z, z * 2, 0.3),
    "lerp_0d_real_weight": lambda lib, z: lib.lerp(z, z * 2, lib.tensor(0.3, dtype=z.real.dtype)),
    "lerp_complex_weight": lambda lib, z: lib.lerp(z, z.conj(), z * 0.1),
    "lerp_real": lambda lib, z: z.real.lerp(z.imag, _real(lib, z.real)),
    "softsign": lambda lib, z: _fn(lib).softsign(z),
    "soft_margin_loss_no_grad": lambda lib, z: _fn(lib).soft_margin_loss(
        z.detach(), z.real.detach()
    ),
    "bilinear_no_grad": lambda lib, z: _fn(lib).bilinear(
        z.detach(), z.detach(), lib.ones(2, 3, 3, dtype=z.dtype)
    ),
    "embedding_no_grad": lambda lib, z: _fn(lib).embedding(_labels(lib), z.detach()),
    "poisson_nll_loss": lambda lib, z: _fn(lib).poisson_nll_loss(z, z.detach() * 0.5),
    "triplet_margin_loss": lambda lib, z: _fn(lib).triplet_margin_loss(z, z.conj(), z * 2),
    "tanhshrink": lambda lib, z: _fn(lib).tanhshrink(z),
    "pairwise_distance": lambda lib, z: _fn(lib).pairwise_distance(z, z.conj()),
    "glu_real": lambda lib, z: _fn(lib).glu(z.real, 0),
    "layer_norm_real": lambda lib, z: _fn(lib).layer_norm(z.imag, (3,)),
    "cdist_real": lambda lib, z: lib.cdist(z.real, z.imag),
    "cosine_similarity_real": lambda lib, z: _fn(lib).cosine_similarity(z.real, z.imag),
    "huber_real": lambda lib, z: _fn(lib).huber_loss(z.real, z.imag),
    "smooth_l1_real": lambda lib, z: _fn(lib).smooth_l1_loss(z.real, z.imag, beta=0.5),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_torch_accepts_still_runs(torch, name):
    f = ACCEPTED[name]
    z, t = ember.tensor(Z0, requires_grad=True), torch.tensor(Z0, requires_grad=True)
    got, want = f(ember, z), f(torch, t)
    assert _np(got).dtype == _np(want).dtype, (name, _np(got).dtype, _np(want).dtype)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12, atol=1e-14, err_msg=name)
    if got.requires_grad:
        weights = np.linspace(-1.0, 2.0, want.numel()).reshape(tuple(want.shape))
        (got * ember.tensor(weights)).abs().sum().backward()
        (want * torch.tensor(weights)).abs().sum().backward()
        np.testing.assert_allclose(z.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_nan_to_num_complex_values_as_torch(torch):
    a = np.array([complex(np.nan, 1), complex(np.inf, -np.inf), 2 - 1j])
    got = ember.nan_to_num(ember.tensor(a), nan=0.5, posinf=3.0, neginf=-3.0)
    want = torch.nan_to_num(torch.tensor(a), nan=0.5, posinf=3.0, neginf=-3.0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# (hardsigmoid left out: torch's backward multiplies by 1/6 rounded to float32)
REAL = ["hardtanh", "relu6", "hardswish", "softplus", "mish", "threshold", "hardshrink",
        "softshrink", "glu_dim0", "rrelu_eval", "layer_norm", "smooth_l1_loss",
        "huber_loss"]  # fmt: skip


@pytest.mark.parametrize("name", REAL)
def test_real_input_still_matches_torch(torch, name):
    f = CASES[name][1]
    x0 = Z0.real + np.arange(6).reshape(2, 3) * 0.1
    x, t = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    got, want = f(ember, x), f(torch, t)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12, atol=1e-15, err_msg=name)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)
