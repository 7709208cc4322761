"""Normalisation layers and their functional forms where ember used to differ from torch 2.13
(found by fuzzing both side by side): batch_norm's ε and running-statistics checks and the
order of its refusals, instance_norm's spatial-size rule ((N, C) in evaluation, no pixels),
integer inputs refused with torch's NotImplementedError, group_norm's and rms_norm's weight
shapes, a 0 in layer_norm's normalized_shape, rms_norm's result dtype, empty inputs that
warned, and local_response_norm of empty, bool and integer inputs."""

import warnings

import numpy as np
import pytest

import ember
from tests.nn.normalization_reference import _F, _leaf, _same

# ---------------------------------------------------------------- batch_norm


def _batch_norm_mistakes(lib):
    F, x = _F(lib), lib.randn(4, 3)
    rm, rv = lib.zeros(3), lib.ones(3)
    return [
        ("ε = 0 in training", lambda: F.batch_norm(x, rm, rv, training=True, eps=0.0)),
        ("ε < 0 in evaluation", lambda: F.batch_norm(x, rm, rv, eps=-1e-5)),
        ("a running mean without a variance", lambda: F.batch_norm(x, rm, None, training=True)),
        ("a running variance without a mean", lambda: F.batch_norm(x, None, rv, training=True)),
        # torch counts N and the pixels, not the channels: a batch of one with none is refused
        (
            "one value per channel, no channels",
            lambda: F.batch_norm(lib.randn(1, 0), None, None, training=True),
        ),  # fmt: skip
        # the batch size is checked before the dtype
        (
            "one value per channel, int",
            lambda: F.batch_norm(lib.ones(1, 3, dtype=lib.int64), rm, rv, training=True),
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("k", range(6))
def test_batch_norm_refuses_bad_eps_half_statistics_and_single_values(refused_alike, k):
    refused_alike(_batch_norm_mistakes, k, ValueError)


def _batch_norm_runtime_mistakes(lib):
    F, x = _F(lib), lib.randn(4, 3)
    return [
        ("evaluation without a running mean", lambda: F.batch_norm(x, None, lib.ones(3))),
        ("evaluation without any statistics", lambda: F.batch_norm(x, None, None)),
        (
            "a 1-D input with statistics",
            lambda: F.batch_norm(lib.randn(4), lib.zeros(4), lib.ones(4)),
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("k", range(3))
def test_batch_norm_refuses_a_missing_statistic_in_evaluation_as_runtime_error(refused_alike, k):
    refused_alike(_batch_norm_runtime_mistakes, k)


def _integer_inputs(lib):
    F, nn = _F(lib), lib.nn
    i, b = lib.ones(4, 3, 2, dtype=lib.int64), lib.ones(4, 3, 2, dtype=lib.bool)
    rm, rv = lib.zeros(3), lib.ones(3)
    return [
        ("batch_norm, float statistics", lambda: F.batch_norm(i, rm, rv)),
        ("batch_norm in training", lambda: F.batch_norm(i, None, None, training=True)),
        ("batch_norm of bools", lambda: F.batch_norm(b, None, None, training=True)),
        ("BatchNorm1d", lambda: nn.BatchNorm1d(3)(i)),
        ("instance_norm", lambda: F.instance_norm(i)),
        ("group_norm", lambda: F.group_norm(i, 1)),
        ("rms_norm", lambda: F.rms_norm(i, (2,))),
        ("rms_norm of bools", lambda: F.rms_norm(b, [2])),
        ("local_response_norm of bools", lambda: F.local_response_norm(b, 2)),
        ("local_response_norm of 4-D bools", lambda: F.local_response_norm(b[..., None], 2)),
    ]


@pytest.mark.parametrize("k", range(10))
def test_integer_and_bool_inputs_are_refused_as_torch_has_no_kernel(refused_alike, k):
    refused_alike(_integer_inputs, k, NotImplementedError)


# ---------------------------------------------------------------- instance_norm


def _instance_norm_mistakes(lib):
    F, x = _F(lib), lib.randn(2, 3, 4)
    rm = lib.zeros(3)
    return [
        ("a running mean without a variance", lambda: F.instance_norm(x, rm, None)),
        (
            "evaluation without a running variance",
            lambda: F.instance_norm(x, rm, None, use_input_stats=False),
        ),  # fmt: skip
        (
            "γ in float64 for a float32 input",
            lambda: F.instance_norm(x, weight=lib.ones(3, dtype=lib.float64)),
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("k", range(3))
def test_instance_norm_refuses_as_torch(refused_alike, k):
    refused_alike(_instance_norm_mistakes, k, ValueError if k < 1 else RuntimeError)


def test_instance_norm_of_n_c_in_evaluation_uses_the_running_statistics(torch):
    a = np.random.RandomState(0).randn(4, 3)
    ys = []
    for lib in (ember, torch):
        x = _leaf(lib, a)
        rm = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
        rv = lib.tensor([2.0, 0.5, 1.5], dtype=lib.float64)
        y = _F(lib).instance_norm(x, rm, rv, use_input_stats=False)
        y.backward(lib.ones_like(y) * 0.5)
        ys.append((y, x.grad))
    _same(*(y for y, _ in ys))
    _same(*(g for _, g in ys))


def test_instance_norm_without_pixels_gives_an_empty_result_and_keeps_the_statistics(torch):
    outs = []
    for lib in (ember, torch):
        rm, rv = lib.full((3,), 0.5), lib.full((3,), 2.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = _F(lib).instance_norm(lib.randn(2, 3, 0), rm, rv, momentum=0.5)
        outs.append((y, rm, rv))
    for e, t in zip(*outs):
        _same(e, t)


def test_instance_norm_of_float16_with_float32_affine_answers_in_float16(torch):
    a = np.random.RandomState(1).randn(2, 3, 5)
    w = np.array([0.5, 1.5, -1.0])
    ys = [
        _F(lib).instance_norm(
            lib.tensor(a).to(lib.float16), weight=lib.tensor(w).float(), bias=lib.tensor(w).float()
        )
        for lib in (ember, torch)
    ]
    _same(*ys, tol=2e-3)


def test_instance_norm_warns_of_a_channel_count_it_does_not_use(torch):
    for lib in (ember, torch):
        layer = lib.nn.InstanceNorm1d(4)
        with pytest.warns(UserWarning, match="does not match num_features"):
            layer(lib.randn(2, 3, 5))


# ---------------------------------------------------------------- group_norm


def _group_norm_mistakes(lib):
    F, x = _F(lib), lib.randn(2, 4, 3)
    return [
        ("γ of the right length in two dims", lambda: F.group_norm(x, 2, lib.ones(1, 4))),
        ("β of the right length in two dims", lambda: F.group_norm(x, 2, None, lib.ones(4, 1))),
    ]


@pytest.mark.parametrize("k", range(2))
def test_group_norm_refuses_affine_parameters_that_are_not_vectors(refused_alike, k):
    refused_alike(_group_norm_mistakes, k)


@pytest.mark.parametrize("shape", [(2, 0, 3), (2, 4, 0)])
def test_empty_inputs_normalise_silently(torch, shape):
    """An empty group or row has no mean; torch returns the empty result without a warning."""
    for lib in (ember, torch):
        F = _F(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert tuple(F.group_norm(lib.randn(*shape), 2).shape) == shape
            assert tuple(F.rms_norm(lib.randn(*shape), shape[-1:]).shape) == shape


# ---------------------------------------------------------------- layer_norm and rms_norm


@pytest.mark.parametrize("shape, normalized", [((2, 0), (0,)), ((2, 3, 0), (3, 0)),
                                               ((0, 0), (0,))])  # fmt: skip
def test_layer_norm_over_a_normalized_shape_with_a_zero(torch, shape, normalized):
    grads = []
    for lib in (ember, torch):
        x = _leaf(lib, np.zeros(shape))
        w = _leaf(lib, np.ones(normalized))
        b = _leaf(lib, np.zeros(normalized))
        y = _F(lib).layer_norm(x, normalized, w, b)
        y.sum().backward()
        grads.append((y, x.grad, w.grad, b.grad))
    for e, t in zip(*grads):
        _same(e, t)


def _rms_norm_weights(lib):
    F, x = _F(lib), lib.randn(2, 3, 2)
    return [
        ("broadcastable", lambda: F.rms_norm(x, (3, 2), lib.ones(1, 2))),
        ("broadcastable, one dim", lambda: F.rms_norm(x, [2], lib.ones(1))),
    ]


@pytest.mark.parametrize("k", range(2))
def test_rms_norm_refuses_a_weight_not_of_normalized_shape(refused_alike, k):
    refused_alike(_rms_norm_weights, k)


@pytest.mark.parametrize("x_dtype, w_dtype", [("float32", "float64"), ("float16", "float64"),
                                              ("float16", "float32")])  # fmt: skip
def test_rms_norm_answers_in_the_input_dtype(torch, x_dtype, w_dtype):
    a = np.random.RandomState(2).randn(3, 4)
    w = np.random.RandomState(3).randn(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that its fused kernel is not used
        ys = [
            _F(lib).rms_norm(
                lib.tensor(a).to(getattr(lib, x_dtype)),
                (4,),
                lib.tensor(w).to(getattr(lib, w_dtype)),
            )
            for lib in (ember, torch)
        ]
    _same(*ys, tol=2e-3 if x_dtype == "float16" else 1e-6)


# ---------------------------------------------------------------- local_response_norm


def test_local_response_norm_of_an_empty_input_ignores_the_size(torch):
    for lib in (ember, torch):
        x = lib.randn(0, 3, 2)
        assert _F(lib).local_response_norm(x, 0) is x


def test_local_response_norm_pools_integer_squares_with_an_integer_mean(torch):
    """torch averages the integer squares in integers (⌊Σ a² / n⌋), then answers in float."""
    a = np.random.RandomState(4).randint(-5, 6, (2, 5, 3))
    for size in (2, 3, 4):
        ys = [
            _F(lib).local_response_norm(lib.tensor(a), size, alpha=1.0, beta=1.0)
            for lib in (ember, torch)
        ]
        _same(*ys, tol=1e-6)
