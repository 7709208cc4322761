"""Where ember's random draws and their neighbours used to differ from torch 2.13: float16 draws
wherever a layer or distribution draws in its input's dtype (spectral norm's u and v, fractional
max pooling, the distributions' rsample; NumPy has no float16 generator, so ember's Generator
draws half in float32 or as k·2⁻¹¹), and the dim named when shapes do not broadcast."""

import numpy as np
import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def test_spectral_norm_of_a_half_layer(lib):
    layer = lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 4).to(lib.float16))
    assert layer.weight.dtype == lib.float16
    assert layer.parametrizations.weight[0]._u.dtype == lib.float16


def test_old_spectral_norm_of_a_half_layer(lib):
    layer = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4).to(lib.float16))
    assert layer.weight_u.dtype == lib.float16
    assert layer.weight_v.dtype == lib.float16


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_of_half(lib, dims):
    pool = getattr(lib.nn, f"FractionalMaxPool{dims}d")(2, output_size=(2,) * dims)
    out = pool(lib.arange(5**dims, dtype=lib.float16).reshape(1, 1, *(5,) * dims))
    assert out.dtype == lib.float16
    assert tuple(out.shape) == (1, 1, *(2,) * dims)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Laplace", "Cauchy", "Gumbel"])
def test_distribution_rsample_in_half(lib, name):
    low, high = lib.zeros(3, dtype=lib.float16), lib.ones(3, dtype=lib.float16)
    draw = getattr(lib.distributions, name)(low, high).rsample((5,))
    assert draw.dtype == lib.float16
    assert tuple(draw.shape) == (5, 3)
    assert bool(lib.isfinite(draw).all())


def test_the_generators_half_uniforms_are_multiples_of_2_to_the_minus_11():
    u = ember.Generator().manual_seed(0).random((10_000,), np.float16)
    assert u.dtype == np.float16
    k = u.astype(np.float64) * 2**11
    assert np.array_equal(k, np.round(k)) and k.min() >= 0 and k.max() < 2**11


def test_the_generators_half_normals_are_float32_draws_rounded_once():
    half = ember.Generator().manual_seed(3).standard_normal((1000,), np.float16)
    wide = ember.Generator().manual_seed(3).standard_normal((1000,), np.float32)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half, wide.astype(np.float16))


@pytest.mark.parametrize("name", ["normal", "complex", "polar"])
@pytest.mark.parametrize(("a", "b"), [((2, 3), (3, 4)), ((5, 2, 3), (4, 3)), ((2, 5), (3, 2, 4))])
def test_shapes_that_do_not_broadcast_name_torchs_dim(torch, name, a, b):
    """torch names the last dims that clash (the copies ember had named the first)."""
    messages = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as caught:
            getattr(lib, name)(lib.ones(a), lib.ones(b))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


_INT_ARGUMENTS = {
    "randint": lambda lib, n: lib.randint(n, (2,)),
    "randperm": lambda lib, n: lib.randperm(n),
    "multinomial": lambda lib, n: lib.multinomial(lib.ones(4), n),
    "randint_like": lambda lib, n: lib.randint_like(lib.ones(2), n),
}


@pytest.mark.parametrize("name", sorted(_INT_ARGUMENTS))
@pytest.mark.parametrize("value", [[3], [[3]], 3, [3.0], [3, 4], True, "0-d"])
def test_int_arguments_read_one_element_integer_tensors(torch, name, value):
    """torch's parser reads an integer tensor of one element, whatever its dims, as an int
    (randint_like's lone high excepted: its tensor overload wants a 0-d tensor)."""
    results = []
    for lib in (ember, torch):
        n = lib.tensor(3) if value == "0-d" else value
        n = lib.tensor(value) if isinstance(value, list) else n
        try:
            results.append(tuple(_INT_ARGUMENTS[name](lib, n).shape))
        except (TypeError, RuntimeError) as e:
            results.append(TypeError if isinstance(e, TypeError) else RuntimeError)
    assert results[0] == results[1]


def test_randint_names_the_position_of_a_lone_high(torch):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(TypeError) as caught:
            lib.randint(3.0, (2,))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


_BERNOULLI_FORMS = {
    "function": lambda lib, x, p: lib.bernoulli(x, p),
    "keyword": lambda lib, x, p: lib.bernoulli(x, p=p),
    "method": lambda lib, x, p: x.bernoulli_(p),
}


@pytest.mark.parametrize("p", [np.float32(0.5), np.float64(0.25), np.int64(1), np.float32(1.5)])
@pytest.mark.parametrize("form", ["function", "keyword", "method"])
def test_bernoulli_reads_a_numpy_scalar_p_as_a_number(torch, p, form):
    results = []
    for lib in (ember, torch):
        try:
            results.append(tuple(_BERNOULLI_FORMS[form](lib, lib.zeros(3), p).shape))
        except RuntimeError as e:
            results.append(str(e))
    assert results[0] == results[1]
