"""Normalisation where ember used to differ from torch 2.13, continued (found by fuzzing both
side by side): second derivatives through batch_norm and layer_norm, negative sizes, arguments
that are not tensors or floats, the order of the running-statistics checks, float16 rms_norm's
ε, empty batches and ε = 0 without NumPy's warnings, and torch's top-level batch_norm,
instance_norm and group_norm, which skip F's Python-level checks."""

import warnings

import numpy as np
import pytest

import ember
from tests.nn.normalization_reference import _F, _leaf, _same

# ---------------------------------------------------------------- second derivatives


def _second_order(lib, fn, x_grad, bias_of):
    """∂/∂(x, γ) of |∂L/∂(x, γ)|² through a norm, with create_graph as a gradient penalty."""
    rs = np.random.RandomState(5)
    a, w, g = rs.randn(4, 3, 5), rs.randn(3), rs.randn(4, 3, 5)
    x = lib.tensor(a, requires_grad=x_grad)
    gamma = lib.tensor(w, requires_grad=True)
    y = fn(_F(lib), x, gamma, bias_of(gamma))
    wrt = [x, gamma] if x_grad else [gamma]
    grads = lib.autograd.grad((y * lib.tensor(g) * y).sum(), wrt, create_graph=True)
    sum((d * d).sum() for d in grads).backward()
    return list(grads) + [t.grad for t in wrt]


_NORMS = {
    "batch_norm, training": lambda F, x, w, b: F.batch_norm(x, None, None, w, b, True),
    "batch_norm, evaluation": lambda F, x, w, b: F.batch_norm(
        x, x.new_tensor([0.5, -1.0, 2.0]).detach(), x.new_tensor([2.0, 0.5, 1.5]).detach(), w, b
    ),
    "layer_norm": lambda F, x, w, b: F.layer_norm(x.transpose(1, 2), (3,), w, b).transpose(1, 2),
}


# each case has one of the three things the rules got wrong (the others matched torch)
_CASES = [
    (name, x_grad, bias)
    for name in _NORMS
    for x_grad in (True, False)
    for bias in ("none", "a leaf", "half of γ")
    if name == "batch_norm, evaluation" or not x_grad or bias == "half of γ"
]


@pytest.mark.parametrize("name, x_grad, bias", _CASES)
def test_second_derivatives_through_the_norms(torch, name, x_grad, bias):
    """The recorded rules: in evaluation x̂ = (x − μ)·rstd (the shift μ is in ∂y/∂γ), an x
    that needs no gradient is a constant, and a β computed from γ is differentiated as its
    own input (its path to γ is the engine's to add, once)."""
    bias_of = {
        "none": lambda w: None,
        "a leaf": lambda w: w.detach().clone().requires_grad_(True),
        "half of γ": lambda w: w * 0.5,
    }[bias]
    e, t = (_second_order(lib, _NORMS[name], x_grad, bias_of) for lib in (ember, torch))
    for a, b in zip(e, t):
        _same(a, b, tol=1e-9)


# ---------------------------------------------------------------- constructors and arguments


def _negative_sizes(lib):
    nn = lib.nn
    return [
        ("BatchNorm1d", lambda: nn.BatchNorm1d(-1)),
        ("InstanceNorm2d with γ", lambda: nn.InstanceNorm2d(-2, affine=True)),
        ("SyncBatchNorm", lambda: nn.SyncBatchNorm(-3)),
        ("GroupNorm", lambda: nn.GroupNorm(2, -2)),
        ("LayerNorm", lambda: nn.LayerNorm((2, -1))),
        ("RMSNorm", lambda: nn.RMSNorm(-1)),
    ]


@pytest.mark.parametrize("k", range(6))
def test_negative_sizes_are_torch_runtime_error(refused_alike, k):
    refused_alike(_negative_sizes, k)


def _not_tensors(lib):
    F, x = _F(lib), lib.ones(2, 3)
    return [
        ("layer_norm of a number", lambda: F.layer_norm(3.0, (1,))),
        ("layer_norm with a list weight", lambda: F.layer_norm(x, (3,), [1.0, 1.0, 1.0])),
        ("layer_norm with a number bias", lambda: F.layer_norm(x, (3,), None, 1.0)),
        ("rms_norm of a list", lambda: F.rms_norm([1.0], (1,))),
        ("rms_norm with a list weight", lambda: F.rms_norm(x, (3,), [1.0, 1.0, 1.0])),
    ]


@pytest.mark.parametrize("k", range(5))
def test_layer_and_rms_norm_refuse_what_is_not_a_tensor(refused_alike, k):
    refused_alike(_not_tensors, k, TypeError)


def _shapes_before_pairs(lib):
    F, x = _F(lib), lib.randn(4, 2)
    return [
        ("batch_norm", lambda: F.batch_norm(x, lib.ones(3), None, training=True)),
        (
            "instance_norm",
            lambda: F.instance_norm(x[..., None].expand(4, 2, 3), None, lib.ones(3)),
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("k", range(2))
def test_a_running_statistic_of_the_wrong_size_is_named_before_the_missing_one(refused_alike, k):
    refused_alike(_shapes_before_pairs, k)


def test_batch_norm_in_evaluation_of_no_channels_is_empty(torch):
    for lib in (ember, torch):
        y = _F(lib).batch_norm(lib.randn(3, 0), lib.zeros(0), lib.ones(0))
        assert tuple(y.shape) == (3, 0)


def test_rms_norm_of_float16_runs_in_float32_with_float32_eps(torch):
    """torch's default ε is its opmath type's: float32's 1.2e-7 for float16, not 9.8e-4."""
    a = np.array([[0.01, 0.02], [3.0, -0.004]])
    ys = [_F(lib).rms_norm(lib.tensor(a).to(lib.float16), (2,)) for lib in (ember, torch)]
    _same(*ys, tol=1e-3)


def test_instance_norm_of_an_empty_batch_sets_the_running_statistics_to_nan_silently(torch):
    """torch averages the statistics of no instance: nan, without a warning."""
    outs = []
    for lib in (ember, torch):
        layer = lib.nn.InstanceNorm1d(2, track_running_stats=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = layer(lib.randn(0, 2, 3))
        outs.append((y, layer.running_mean, layer.running_var))
    for e, t in zip(*outs):
        _same(e, t)


def _eps_none(lib):
    F, x = _F(lib), lib.randn(2, 3, 4)
    return [
        ("group_norm", lambda: F.group_norm(x, 1, eps=None)),
        ("instance_norm", lambda: F.instance_norm(x, eps=None)),
    ]


@pytest.mark.parametrize("k", range(2))
def test_eps_none_is_refused_where_torch_wants_a_float(refused_alike, k):
    """ember normalised with var + None, which came out nan."""
    refused_alike(_eps_none, k, TypeError)


def test_batch_norm_reads_a_0d_tensor_eps_as_its_number(torch):
    a = np.random.RandomState(6).randn(4, 3, 5)
    ys = []
    for lib in (ember, torch):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.full((3,), 0.25, dtype=lib.float64)
        ys.append(_F(lib).batch_norm(lib.tensor(a), rm, rv, eps=lib.tensor(0.5)))
    _same(*ys)


def test_layer_norm_of_a_constant_row_with_eps_0_is_nan_without_warnings(torch):
    a = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])
    outs = []
    for lib in (ember, torch):
        x = _leaf(lib, a)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = _F(lib).layer_norm(x, (3,), eps=0.0)
            y.backward(lib.ones_like(y))
        outs.append((y, x.grad))
    for e, t in zip(*outs):
        _same(e, t)


# ---------------------------------------------------------------- torch's top-level forms


def _top_level(lib):
    """torch.batch_norm/instance_norm/group_norm skip F's Python checks: one value per
    channel, instance or group normalises to 0 and its unbiased variance is nan."""
    a = np.random.RandomState(7).randn(2, 3)
    rm, rv, rm2, rv2 = (lib.full((3,), v, dtype=lib.float64) for v in (0.0, 1.0, 0.5, 2.0))
    x = _leaf(lib, a)
    one = lib.batch_norm(x[:1, :, None], None, None, rm, rv, True, 0.5, 1e-5, False)
    no_eps = lib.batch_norm(x, None, None, None, None, True, 0.1, 0.0, False)
    inst = lib.instance_norm(x, None, None, rm2, rv2, True, 0.5, 1e-5, False)
    group = lib.group_norm(x[:1], 3, None, None, 1e-5, False)
    (one.sum() + no_eps.pow(2).sum() + inst.sum() + group.sum()).backward()
    return one, no_eps, inst, group, rm, rv, rm2, rv2, x.grad


def test_torch_top_level_norms_skip_the_python_checks(torch):
    for e, t in zip(_top_level(ember), _top_level(torch)):
        _same(e, t, tol=1e-9)


def test_torch_batch_norm_refuses_an_eps_of_none(torch):
    """torch.batch_norm skips F's checks but still parses ε as a float (found in review: the
    kernel met None with an arithmetic TypeError deep inside)."""
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="must be"):
            lib.batch_norm(lib.ones(2, 3), None, None, None, None, True, 0.1, None, False)
