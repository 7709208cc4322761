"""``inplace=True`` as torch means it: the input itself becomes the result.

Every activation and dropout that takes ``inplace`` (functional and module), against torch:
the returned tensor is the input, the values and the gradients through the graph are torch's,
a view of the input's memory sees the change under no_grad, and a leaf that requires grad is
refused by both.
"""

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn

X = np.array([[-3.5, -1.0, -0.2, 0.0], [0.3, 1.0, 2.5, 7.0]])
W = np.array([[0.5, -1.0, 2.0, 1.5], [-0.7, 0.25, 1.0, -2.0]])

# name: (F function name, extra arguments, module name, module arguments); deterministic forms
CASES = {
    "relu": ("relu", (), "ReLU", ()),
    "leaky_relu": ("leaky_relu", (0.2,), "LeakyReLU", (0.2,)),
    "silu": ("silu", (), "SiLU", ()),
    "hardtanh": ("hardtanh", (-0.5, 2.0), "Hardtanh", (-0.5, 2.0)),
    "relu6": ("relu6", (), "ReLU6", ()),
    "elu": ("elu", (0.7,), "ELU", (0.7,)),
    "selu": ("selu", (), "SELU", ()),
    "celu": ("celu", (1.5,), "CELU", (1.5,)),
    "mish": ("mish", (), "Mish", ()),
    "hardsigmoid": ("hardsigmoid", (), "Hardsigmoid", ()),
    "hardswish": ("hardswish", (), "Hardswish", ()),
    "threshold": ("threshold", (0.1, 20.0), "Threshold", (0.1, 20.0)),
    "rrelu_eval": ("rrelu", (0.1, 0.3, False), "RReLU", (0.1, 0.3)),
    "dropout_eval": ("dropout", (0.4, False), "Dropout", (0.4,)),
}


def _call_functional(lib, name, h):
    fname, extra, _, _ = CASES[name]
    fn = getattr(lib.nn.functional if lib is not ember else F, fname)
    return fn(h, *extra, inplace=True)


def _module(lib, name):
    _, _, mname, margs = CASES[name]
    m = getattr(lib.nn if lib is not ember else nn, mname)(*margs, inplace=True)
    return m.eval()  # RReLU and Dropout: their deterministic (eval) forms


def _through_graph(lib, name, form):
    """x (leaf) → h = 1.5·x → act(h) in place → loss = Σ W ⊙ h; returns (h, x.grad, same)."""
    x = lib.tensor(X, requires_grad=True)
    h = x * 1.5
    out = _call_functional(lib, name, h) if form == "F" else _module(lib, name)(h)
    same = out is h
    (h * lib.tensor(W)).sum().backward()
    return h.detach().numpy(), x.grad.numpy(), same


@pytest.mark.parametrize("form", ["F", "module"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_through_the_graph_is_torchs(torch, name, form):
    h_e, g_e, same_e = _through_graph(ember, name, form)
    h_t, g_t, same_t = _through_graph(torch, name, form)
    assert same_e and same_t  # the input itself is returned
    np.testing.assert_allclose(h_e, h_t, rtol=1e-12, atol=1e-12)
    # hardsigmoid: torch's CPU backward multiplies by a float32 1/6 (test_activation_more.py)
    tol = 1e-7 if name == "hardsigmoid" else 1e-12
    np.testing.assert_allclose(g_e, g_t, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_under_no_grad_writes_the_memory_every_view_sees(torch, name):
    results = []
    for lib in (ember, torch):
        t = lib.tensor(X.copy())
        view = t[1]  # shares t's memory
        with lib.no_grad():
            _call_functional(lib, name, t)
        results.append((t.numpy().copy(), view.numpy().copy()))
    (t_e, v_e), (t_t, v_t) = results
    np.testing.assert_allclose(t_e, t_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v_e, v_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v_e, t_e[1])


@pytest.mark.parametrize("name", ["relu", "elu", "hardswish", "rrelu_eval"])
def test_a_leaf_that_requires_grad_is_refused_by_both(torch, name):
    with pytest.raises(RuntimeError, match="leaf"):
        _call_functional(torch, name, torch.tensor(X, requires_grad=True))
    with pytest.raises(RuntimeError, match="leaf"):
        _call_functional(ember, name, ember.tensor(X, requires_grad=True))


@pytest.mark.parametrize(
    "fname, args",
    [("dropout", (0.4, False)), ("dropout", (0.0, True)), ("dropout1d", (0.4, False)),
     ("dropout2d", (0.4, False)), ("alpha_dropout", (0.4, False)),
     ("feature_alpha_dropout", (0.4, False))],
)  # fmt: skip
def test_dropout_that_changes_nothing_returns_even_a_leaf_as_torch(torch, fname, args):
    """In eval (or with p = 0) torch's in-place dropouts write nothing, so a leaf is fine."""
    for lib, fns in ((torch, torch.nn.functional), (ember, F)):
        x = lib.tensor(X[None], requires_grad=True)
        assert getattr(fns, fname)(x, *args, inplace=True) is x
        assert (x.detach().numpy() == X[None]).all()


def test_out_of_place_by_default_leaves_the_input_alone():
    h = ember.tensor(X) * 1.0
    y = nn.ReLU()(h)
    assert y is not h and (h.numpy() == X).all()


@pytest.mark.parametrize(
    "fn, shape, scales",
    [
        (lambda x: F.dropout(x, 0.5, True, inplace=True), (50, 40), True),
        (lambda x: F.dropout1d(x, 0.5, True, inplace=True), (4, 30, 5), True),
        (lambda x: F.dropout2d(x, 0.5, True, inplace=True), (4, 30, 3, 3), True),
        (lambda x: F.dropout3d(x, 0.5, True, inplace=True), (4, 30, 2, 2, 2), True),
        (lambda x: F.rrelu(x, 0.1, 0.3, True, inplace=True), (50, 40), True),
        (lambda x: F.alpha_dropout(x, 0.5, True, inplace=True), (50, 40), False),
        (lambda x: F.feature_alpha_dropout(x, 0.5, True, inplace=True), (4, 30, 5), False),
    ],
)
def test_random_forms_in_training_write_their_sample_into_the_input(fn, shape, scales):
    """Training draws a fresh sample: the result is the input, changed; where the form only
    scales (dropout, rrelu) the gradient of Σ result is the sample's factor, result / x."""
    ember.manual_seed(0)
    values = np.random.default_rng(0).uniform(0.5, 1.5, shape)
    values *= np.where(np.arange(values.size).reshape(shape) % 2, 1, -1)  # both signs
    x = ember.tensor(values, requires_grad=True)
    h = x * 1.0
    out = fn(h)
    assert out is h
    changed = h.detach().numpy()
    assert not np.array_equal(changed, values)
    h.sum().backward()
    if scales:
        np.testing.assert_allclose(x.grad.numpy(), changed / values, rtol=1e-12)
    else:
        assert x.grad.shape == shape and np.isfinite(x.grad.numpy()).all()


def test_module_reprs_show_inplace_as_torch(torch):
    for mname, margs in (("ReLU", ()), ("Dropout", (0.3,)), ("Hardtanh", ()), ("ELU", ())):
        for inplace in (False, True):
            e = getattr(nn, mname)(*margs, inplace=inplace)
            t = getattr(torch.nn, mname)(*margs, inplace=inplace)
            assert repr(e) == repr(t)
    assert repr(nn.Dropout2d(0.2)) == repr(torch.nn.Dropout2d(0.2))
    assert repr(nn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))
