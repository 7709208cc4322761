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


def _F(lib):
    return ember.nn.functional if lib is ember else lib.nn.functional


def _leaf(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def _same(e, t, tol=1e-10):
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(
        np.asarray(e.detach().numpy(), dtype=np.float64),
        t.detach().double().numpy(),
        rtol=tol,
        atol=tol,
    )


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
