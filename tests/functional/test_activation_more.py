"""torch's other activations and distances (ember.functional.activation_more and
ember.nn.activation_more): outputs and gradients against torch in float64 on inputs that hit
every branch and the kinks themselves, gradcheck away from the kinks, modules, PReLU's weight,
errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional.activation_more as A
import ember.nn.activation_more as M
from tests.core_reference import check_gradients, compare_with_torch, randn

# every branch: the kinks themselves (0, ±1, ±3, 6, ±λ), both sides of each, large magnitudes
KINKS = [-1000.0, -30.0, -6.0, -3.0 - 1e-9, -3.0, -3.0 + 1e-9, -1.0, -1e-9, 0.0, 1e-9, 1.0]
KINKS += [2.5, 3.0 - 1e-9, 3.0, 3.0 + 1e-9, 6.0, 19.9, 20.0, 20.1, 45.0, 1000.0]
KINKS += [-1.5, -1.2, -0.5, 0.5, 1.2, 1.5]  # the shrinks' ±λ
X = np.concatenate([KINKS, randn(21, seed=1, scale=4.0)]).reshape(4, 12)
# away from every kink by > 1e-3, for finite differences
SMOOTH = np.array(
    [[-4.5, -2.9, -1.7, -0.6, -0.2, 0.3], [0.8, 1.4, 2.6, 3.5, 5.2, 7.0]], dtype=np.float64
)


# case: (function name, arguments after the input), the same for ember and torch
CASES = {
    "relu6": ("relu6", ()),
    "elu": ("elu", ()),
    "elu_alpha": ("elu", (0.5,)),
    "selu": ("selu", ()),
    "celu": ("celu", ()),
    "celu_alpha": ("celu", (2.5,)),
    "mish": ("mish", ()),
    "softplus": ("softplus", ()),
    "softplus_beta": ("softplus", (2.0, 5.0)),
    "softplus_small_beta": ("softplus", (0.3,)),
    "softsign": ("softsign", ()),
    "hardtanh": ("hardtanh", ()),
    "hardtanh_range": ("hardtanh", (-3.0, 6.0)),
    "hardswish": ("hardswish", ()),
    "threshold": ("threshold", (1.0, -7.5)),
    "threshold_int_value": ("threshold", (0.0, 2)),
    "tanhshrink": ("tanhshrink", ()),
    "logsigmoid": ("logsigmoid", ()),
    "hardshrink": ("hardshrink", ()),
    "hardshrink_lambd": ("hardshrink", (1.5,)),
    "softshrink": ("softshrink", ()),
    "softshrink_lambd": ("softshrink", (1.2,)),
    "glu": ("glu", ()),
    "glu_dim0": ("glu", (0,)),
    "softmin": ("softmin", (1,)),
    "softmin_dim0": ("softmin", (0,)),
    "normalize": ("normalize", ()),
    "normalize_p1_dim0": ("normalize", (1.0, 0)),
    "normalize_p3_eps": ("normalize", (3.0, 1, 1e-3)),
}
NAMES = sorted(CASES)


def elementwise(torch, name):
    fname, args = CASES[name]
    fe, ft = getattr(A, fname), getattr(torch.nn.functional, fname)
    return (lambda x: fe(x, *args)), (lambda x: ft(x, *args))


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_on_every_branch(torch, name):
    fe, ft = elementwise(torch, name)
    compare_with_torch(torch, fe, ft, [X])


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_away_from_kinks(torch, name):
    fe, _ = elementwise(torch, name)
    check_gradients(fe, [SMOOTH])


@pytest.mark.parametrize(
    "name",
    ["relu6", "elu", "mish", "softplus", "hardswish", "glu", "threshold_int_value", "normalize"],
)
def test_float32_keeps_dtype_and_matches(torch, name):
    fe, ft = elementwise(torch, name)
    compare_with_torch(torch, fe, ft, [SMOOTH], dtype=np.float32)


def test_hardsigmoid(torch):
    """Values as torch; the gradient is the exact 1/6 where torch's CPU kernel multiplies by
    1/6 rounded to float32 (0.16666667163…), hence the float32-sized tolerance there."""
    compare_with_torch(torch, A.hardsigmoid, torch.nn.functional.hardsigmoid, [X], grad=False)
    x = ember.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    A.hardsigmoid(x).sum().backward()
    torch.nn.functional.hardsigmoid(xt).sum().backward()
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-7, atol=0)
    assert set(np.unique(x.grad.array)) == {0.0, 1 / 6}
    check_gradients(A.hardsigmoid, [SMOOTH])


def test_large_inputs_stay_finite():
    """exp in a discarded branch is clamped: no inf, no 0·inf = nan in the backward."""
    x = ember.tensor([-1e4, -800.0, 800.0, 1e4], requires_grad=True)
    for f in (A.elu, A.selu, A.celu, A.mish, A.softplus, lambda t: A.softplus(t, 0.01),
              A.logsigmoid):  # fmt: skip
        x.grad = None
        y = f(x)
        y.sum().backward()
        assert np.all(np.isfinite(y.array)) and np.all(np.isfinite(x.grad.array)), f


def test_softmin_implicit_dim_warns_as_torch(torch):
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 2)]:
        a = randn(*shape)
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ye = A.softmin(ember.tensor(a))
        with pytest.warns(UserWarning):
            yt = torch.nn.functional.softmin(torch.tensor(a))
        np.testing.assert_allclose(ye.array, yt.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "xshape, wsize", [((2, 3, 4), 3), ((2, 3, 4), 1), ((5, 3), 3), ((7,), 1), ((4, 2, 3, 3), 2)]
)
def test_prelu_function(torch, xshape, wsize):
    w = np.array([0.25, -0.5, 1.5][:wsize])
    x = randn(*xshape, seed=2)
    x.flat[:3] = 0.0  # the kink: torch's gradient is w there, the weight's is 0
    compare_with_torch(torch, A.prelu, torch.nn.functional.prelu, [x, w])
    check_gradients(A.prelu, [x + np.sign(x) * 0.01 + (x == 0) * 0.3, w])


def test_cosine_similarity_and_pairwise_distance(torch):
    tf = torch.nn.functional
    a, b = randn(4, 5, seed=3), randn(4, 5, seed=4)
    tiny = np.full((4, 5), 1e-10)
    tiny[1] = 0.0  # norm below eps and a zero vector: torch clamps the value, not the gradient
    cases = [
        (A.cosine_similarity, tf.cosine_similarity, [a, b]),
        (
            lambda x, y: A.cosine_similarity(x, y, 0),
            lambda x, y: tf.cosine_similarity(x, y, 0),
            [a, b],
        ),
        (A.cosine_similarity, tf.cosine_similarity, [tiny, b]),
        (A.cosine_similarity, tf.cosine_similarity, [a[:, :1], randn(3, 4, 5, seed=5)]),
        (A.cosine_similarity, tf.cosine_similarity, [a[:1], b]),
        (
            lambda x, y: A.cosine_similarity(x, y, -1, 1e-3),
            lambda x, y: tf.cosine_similarity(x, y, -1, 1e-3),
            [a * 1e-4, b],
        ),
        (A.pairwise_distance, tf.pairwise_distance, [a, b]),
        (A.pairwise_distance, tf.pairwise_distance, [a, a]),  # only eps apart
        (
            lambda x, y: A.pairwise_distance(x, y, 1.0, 1e-3, True),
            lambda x, y: tf.pairwise_distance(x, y, 1.0, 1e-3, True),
            [a, b],
        ),
        (
            lambda x, y: A.pairwise_distance(x, y, 3.0),
            lambda x, y: tf.pairwise_distance(x, y, 3.0),
            [a[0], b],
        ),
        (A.pairwise_distance, tf.pairwise_distance, [a[0], b[1]]),
    ]
    for fe, ft, arrays in cases:
        compare_with_torch(torch, fe, ft, arrays)
    check_gradients(A.cosine_similarity, [a, b])
    check_gradients(lambda x, y: A.pairwise_distance(x, y, 3.0, keepdim=True), [a, b])


def test_normalize_zero_vector_as_torch(torch):
    x = randn(3, 4)
    x[1] = 0.0
    compare_with_torch(torch, A.normalize, torch.nn.functional.normalize, [x])


def test_one_hot(torch):
    idx = np.array([[0, 2, 1], [3, 3, 0]])
    for n in (-1, 4, 6):
        ye = A.one_hot(ember.tensor(idx), n)
        yt = torch.nn.functional.one_hot(torch.tensor(idx), n)
        assert ye.dtype == np.int64 and not ye.requires_grad
        np.testing.assert_array_equal(ye.array, yt.numpy())
    assert A.one_hot(ember.tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    np.testing.assert_array_equal(A.one_hot(ember.tensor(2), 3).array, [0, 0, 1])


def test_errors():
    x = ember.tensor(randn(2, 3))
    with pytest.raises(ValueError, match="min_val"):
        A.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="max_val"):
        M.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        A.celu(x, 0.0)
    with pytest.raises(RuntimeError, match="dimension 1 is size 3"):  # torch's class
        A.glu(x, 1)
    with pytest.raises(ValueError, match="channel size = 3"):
        A.prelu(x, ember.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="ndim = 2"):
        A.prelu(x, ember.tensor(np.ones((3, 1))))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\).*broadcast"):
        A.cosine_similarity(x, ember.tensor(randn(2, 4)))
    with pytest.raises(ValueError, match="num_classes=3, found 5"):
        A.one_hot(ember.tensor([0, 5, 1]), 3)
    with pytest.raises(ValueError, match="non-negative, found -2"):
        A.one_hot(ember.tensor([0, -2]))
    with pytest.raises(TypeError, match="integer"):
        A.one_hot(ember.tensor([1.0]))
    with pytest.raises(ValueError, match="empty"):
        A.one_hot(ember.tensor(np.zeros(0, np.int64)))


# module name: (args, kwargs, torch's repr where ember's repr is torch's)
MODULES = {
    "ReLU6": ((), {}),
    "ELU": ((0.7,), {}),
    "SELU": ((), {}),
    "CELU": ((), {"alpha": 1.5, "inplace": True}),
    "Mish": ((), {"inplace": True}),
    "Softplus": ((), {"beta": 2.0, "threshold": 4.0}),
    "Softsign": ((), {}),
    "Hardtanh": ((-2.0, 2.5), {}),
    "Hardsigmoid": ((), {}),
    "Hardswish": ((), {"inplace": True}),
    "GLU": ((), {"dim": 0}),
    "Threshold": ((0.1, 20), {}),
    "Tanhshrink": ((), {}),
    "LogSigmoid": ((), {}),
    "Hardshrink": ((1.2,), {}),
    "Softshrink": ((0.7,), {}),
    "Softmin": ((1,), {}),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_match_torch(torch, name):
    args, kwargs = MODULES[name][0], dict(MODULES[name][1])
    me, mt = getattr(M, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(me) == repr(mt)
    if kwargs.pop("inplace", False):  # both refuse to write into the leaf X that needs grad:
        # the out-of-place forms here, the in-place ones in tests/nn/test_inplace_activations.py
        me, mt = getattr(M, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    # torch's hardsigmoid gradient carries a float32 1/6: see test_hardsigmoid
    compare_with_torch(torch, me, mt, [X], grad=name != "Hardsigmoid")


def test_module_reprs(torch):
    for name in ("ReLU6", "ELU", "CELU", "Hardtanh", "Softplus", "GLU", "Threshold", "Mish",
                 "Hardshrink", "Softshrink", "LogSigmoid"):  # fmt: skip
        assert repr(getattr(M, name)(*MODULES.get(name, ((), {}))[0])) == repr(
            getattr(torch.nn, name)(*MODULES.get(name, ((), {}))[0])
        )
    assert repr(M.PReLU(3)) == repr(torch.nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert repr(M.CosineSimilarity()) == repr(torch.nn.CosineSimilarity()) == "CosineSimilarity()"
    assert repr(M.PairwiseDistance(1.0)) == repr(torch.nn.PairwiseDistance(1.0))


@pytest.mark.parametrize("num_parameters, xshape", [(1, (4, 3)), (3, (2, 3, 5)), (3, (2, 3))])
def test_prelu_module_loads_torch_state_dict(torch, num_parameters, xshape):
    mt = torch.nn.PReLU(num_parameters, init=0.1).double()
    with torch.no_grad():
        mt.weight.copy_(torch.linspace(-0.3, 0.6, num_parameters, dtype=torch.float64))
    me = M.PReLU(num_parameters, dtype=np.float64)
    assert list(me.state_dict()) == list(mt.state_dict()) == ["weight"]
    assert me.weight.shape == tuple(mt.weight.shape) and me.weight.requires_grad
    assert np.all(M.PReLU(num_parameters, init=0.1).weight.array == np.float32(0.1))
    me.load_state_dict(mt.state_dict())
    x = randn(*xshape, seed=6)
    ye, yt = me(ember.tensor(x, requires_grad=True)), mt(torch.tensor(x))
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), rtol=1e-12)
    w = randn(*xshape, seed=7)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(me.weight.grad.array, mt.weight.grad.numpy(), rtol=1e-10)


def test_distance_modules(torch):
    a, b = randn(4, 5, seed=8), randn(4, 5, seed=9)
    pairs = [
        (M.CosineSimilarity(0, 1e-6), torch.nn.CosineSimilarity(0, 1e-6)),
        (M.PairwiseDistance(1.0, 1e-4, True), torch.nn.PairwiseDistance(1.0, 1e-4, True)),
        (M.PairwiseDistance(), torch.nn.PairwiseDistance()),
    ]
    for me, mt in pairs:
        compare_with_torch(torch, me, mt, [a, b])


@pytest.mark.parametrize("shape, dim", [((2, 3), 1), ((), 0), ((2, 4), 2), ((2, 4), -3)])
def test_glu_errors_are_torchs(torch, shape, dim):
    """An odd halving dimension and a 0-d input are RuntimeErrors, a dim out of range an
    IndexError, as torch raises them (ember raised ValueError, and IndexError for 0-d)."""
    with pytest.raises((RuntimeError, IndexError)) as want:
        torch.nn.functional.glu(torch.zeros(shape), dim)
    with pytest.raises(want.type, match=r"^glu\(\): "):
        A.glu(ember.zeros(*shape), dim)
