"""Adafactor and Muon: parameters equal torch's after every step, in float64 and float32 and in
every option; Muon's bfloat16 Newton–Schulz equal to torch's bit for bit; torch's state_dict
loads and resumes as torch resumes; torch's signatures and argument checks."""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from ember.optim.adafactor import Adafactor
from ember.optim.muon import Muon, _zeropower_via_newtonschulz
from tests.optim.optim_helpers import grad_for

TOL = {np.float64: 1e-10, np.float32: 1e-5}
# Adafactor factors ≥ 2-d parameters over their last two dims, keeps 0-d and 1-d whole
ADAFACTOR_SHAPES = [(4, 3), (3,), (2, 3, 4), ()]
# Muon takes matrices only: wide, tall, square (tall ones are orthogonalised transposed)
MUON_SHAPES = [(4, 3), (3, 5), (6, 6), (7, 2)]
NS = (3.4445, -4.7750, 2.0315)


def _make(torch, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes]
    return [Parameter(a.copy()) for a in arrays], [
        torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays
    ]


def _grads(p, step, k, scale):
    # np.asarray: grad_for gives a NumPy scalar for a 0-d parameter
    return np.asarray(scale * grad_for(p, step, k), dtype=p.dtype)


def _step_both(torch, ps_e, ps_t, oe, ot, step, scale=1.0):
    for k, (pe, pt) in enumerate(zip(ps_e, ps_t)):
        pe.grad = ember.tensor(_grads(pe.array, step, k, scale))
        pt.grad = torch.tensor(_grads(pt.detach().numpy(), step, k, scale))
    oe.step()
    ot.step()


def _assert_close(ps_e, ps_t, tol):
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=tol, atol=tol)


def _run(torch, cls, shapes, dtype, opts, n, scale=1.0):
    ps_e, ps_t = _make(torch, shapes, dtype)
    oe, ot = cls(ps_e, **opts), getattr(torch.optim, cls.__name__)(ps_t, **opts)
    for step in range(n):
        _step_both(torch, ps_e, ps_t, oe, ot, step, scale)
        _assert_close(ps_e, ps_t, TOL[dtype])
        for pe in ps_e:
            assert pe.array.dtype == dtype
    return ps_e, ps_t, oe, ot


# ------------------------------------------------------------------ Adafactor
ADAFACTOR_OPTIONS = [
    dict(),
    dict(lr=0.1, weight_decay=0.1),
    dict(maximize=True, beta2_decay=-0.5, d=2.0, eps=(1e-20, 1e-2)),
    dict(lr=0.05, eps=(0.5, 10.0)),  # ε₁ clamps the estimate and the row mean, ε₂ sets αₜ
    dict(lr=1.0, d=1.5, weight_decay=0.01),  # ρₜ = 1/√t: η is not the bound
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("opts", ADAFACTOR_OPTIONS, ids=str)
def test_adafactor_matches_torch(torch, dtype, opts):
    _run(torch, Adafactor, ADAFACTOR_SHAPES, dtype, opts, 12)


def test_adafactor_eps1_and_clipping_act(torch):
    """Small gradients: ε₁ = 0.5 bounds the estimate, so RMS(U) < 1 and U stays unclipped; the
    default ε₁ lets RMS(U) reach 1 and the clipping divide. Both equal torch's."""
    _run(torch, Adafactor, ADAFACTOR_SHAPES, np.float64, dict(eps=(0.5, 1e-3)), 6, scale=1e-3)
    _run(torch, Adafactor, ADAFACTOR_SHAPES, np.float64, dict(d=1.0), 6, scale=1e-3)


def test_adafactor_state_is_torchs(torch):
    """After steps, every state array equals torch's, in torch's names and shapes."""
    _, _, oe, ot = _run(torch, Adafactor, ADAFACTOR_SHAPES, np.float64, dict(lr=0.1), 5)
    mine, theirs = oe.state_dict()["state"], ot.state_dict()["state"]
    assert set(mine) == set(theirs) == {0, 1, 2, 3}
    for i in theirs:
        assert list(mine[i]) == list(theirs[i])
        assert mine[i]["step"] == 5 == theirs[i]["step"].item()
        for k, v in theirs[i].items():
            if k != "step":
                assert mine[i][k].shape == tuple(v.shape)
                np.testing.assert_allclose(mine[i][k], v.numpy(), rtol=1e-12, atol=0)
    assert mine[0]["row_var"].shape == (4, 1) and mine[2]["col_var"].shape == (2, 1, 4)
    assert mine[3]["variance"].shape == ()


# ------------------------------------------------------------------ Muon
MUON_OPTIONS = [
    dict(lr=0.02),
    dict(lr=0.02, nesterov=False, weight_decay=0.0),
    dict(lr=0.05, momentum=0.9, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.05, ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5), adjust_lr_fn="original"),
    dict(lr=0.01, momentum=0.0, weight_decay=0.5, eps=1e-3),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("opts", MUON_OPTIONS, ids=str)
def test_muon_matches_torch(torch, dtype, opts):
    _run(torch, Muon, MUON_SHAPES, dtype, opts, 10)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (8, 8), (9, 2), (1, 6), (5, 1)])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_newton_schulz_is_torchs_bit_for_bit(torch, shape, scale, dtype):
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns

    G = (scale * np.random.default_rng(7).standard_normal(shape)).astype(dtype)
    for steps, coefficients in ((5, NS), (2, (2.0, -1.5, 0.5))):
        want = torch_ns(torch.tensor(G), coefficients, steps, 1e-7).double().numpy()
        got = _zeropower_via_newtonschulz(G, coefficients, steps, 1e-7)
        np.testing.assert_array_equal(got, want)


def test_newton_schulz_orthogonalises():
    """O ≈ U·Vᵀ: G's singular values, spread over 1:20 and scaled by 10³, come out near 1
    (Keller Jordan's quintic leaves them in about (0.5, 1.5)), with G's singular vectors; the
    zero matrix stays zero."""
    rng = np.random.default_rng(3)
    U, _ = np.linalg.qr(rng.standard_normal((6, 4)))
    V, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    G = 1e3 * U @ np.diag([20.0, 5.0, 2.0, 1.0]) @ V.T
    for g in (G, G.T):
        O = _zeropower_via_newtonschulz(g, NS, 5, 1e-7)
        s = np.linalg.svd(O, compute_uv=False)
        assert s.min() > 0.5 and s.max() < 1.5
    O = _zeropower_via_newtonschulz(G, NS, 5, 1e-7)
    np.testing.assert_allclose(U.T @ O @ V, np.diag(np.diag(U.T @ O @ V)), atol=0.05)
    assert not np.any(_zeropower_via_newtonschulz(np.zeros((3, 4)), NS, 5, 1e-7))


# ------------------------------------------------------------------ state_dict
CASES = [
    (Adafactor, ADAFACTOR_SHAPES, dict(lr=0.1, weight_decay=0.1)),
    (Muon, MUON_SHAPES, dict(lr=0.02, momentum=0.9)),
]


@pytest.mark.parametrize("cls, shapes, opts", CASES, ids=["Adafactor", "Muon"])
def test_torch_state_dict_loads_and_resumes(torch, cls, shapes, opts):
    """n steps in torch; its state_dict loads into a fresh ember optimizer on the same values;
    both continue n steps and stay equal."""
    ps_e, ps_t = _make(torch, shapes, np.float64)
    ot = getattr(torch.optim, cls.__name__)(ps_t, **opts)
    for step in range(4):
        for k, pt in enumerate(ps_t):
            pt.grad = torch.tensor(_grads(pt.detach().numpy(), step, k, 1.0))
        ot.step()
    for pe, pt in zip(ps_e, ps_t):
        pe.array[...] = pt.detach().numpy()
    oe = cls(ps_e)  # defaults: the loaded groups bring torch's hyperparameters
    oe.load_state_dict(copy.deepcopy(ot.state_dict()))
    assert {k: v for k, v in oe.param_groups[0].items() if k in opts} == opts
    for step in range(4, 8):
        _step_both(torch, ps_e, ps_t, oe, ot, step)
        _assert_close(ps_e, ps_t, 1e-10)


@pytest.mark.parametrize("cls, shapes, opts", CASES, ids=["Adafactor", "Muon"])
def test_state_dict_round_trip_and_layout(torch, cls, shapes, opts):
    """ember's own state_dict resumes as an unbroken run, does not alias the live state, and
    has torch's layout: integer ids, torch's state names, torch's group keys."""
    ps_a, ps_t = _make(torch, shapes, np.float64)
    ps_b, _ = _make(torch, shapes, np.float64)
    oa, ot = cls(ps_a, **opts), getattr(torch.optim, cls.__name__)(ps_t, **opts)
    ob = cls(ps_b, **opts)
    for step in range(3):
        _step_both(torch, ps_a, ps_t, oa, ot, step)
    saved = oa.state_dict()
    for pa, pb in zip(ps_a, ps_b):
        pb.array[...] = pa.array
    ob.load_state_dict(saved)
    for st in saved["state"].values():
        for v in st.values():
            if isinstance(v, np.ndarray):
                v += 100.0
    for step in range(3, 6):
        for ps, o in ((ps_a, oa), (ps_b, ob)):
            for k, p in enumerate(ps):
                p.grad = ember.tensor(_grads(p.array, step, k, 1.0))
            o.step()
    for pa, pb in zip(ps_a, ps_b):
        np.testing.assert_array_equal(pa.array, pb.array)
    theirs = ot.state_dict()
    assert saved["param_groups"][0]["params"] == list(range(len(shapes)))
    assert {i: list(s) for i, s in saved["state"].items()} == {
        i: list(s) for i, s in theirs["state"].items()
    }
    assert set(oa.defaults) == {k for k in theirs["param_groups"][0] if k in oa.defaults}
    # every group key ember keeps is torch's (Adafactor has no foreach flag to keep)
    assert set(oa.defaults) <= set(theirs["param_groups"][0])


# ------------------------------------------------------------------ signatures and checks
@pytest.mark.parametrize("cls", [Adafactor, Muon])
def test_signature_is_torchs(torch, cls):
    def shape(f):
        return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]

    assert shape(cls.__init__) == shape(getattr(torch.optim, cls.__name__).__init__)
    assert getattr(optim, cls.__name__) is cls and cls.__name__ in optim.__all__


BAD = [
    (Adafactor, dict(lr=-0.1)),
    (Adafactor, dict(beta2_decay=0.5)),
    (Adafactor, dict(eps=(-1.0, 1e-3))),
    (Adafactor, dict(eps=(None, -1.0))),
    (Adafactor, dict(d=0.5)),
    (Adafactor, dict(weight_decay=-0.1)),
    (Muon, dict(lr=-0.1)),
    (Muon, dict(momentum=-0.5)),
    (Muon, dict(weight_decay=-0.1)),
    (Muon, dict(adjust_lr_fn="spectral")),
]


def _error(f):
    with pytest.raises(Exception) as info:
        f()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("cls, kwargs", BAD, ids=[f"{c.__name__}-{k}" for c, k in BAD])
def test_argument_checks_as_torch(torch, cls, kwargs):
    mine = _error(lambda: cls([Parameter(np.zeros((2, 3)))], **kwargs))
    theirs = _error(lambda: getattr(torch.optim, cls.__name__)([torch.zeros(2, 3)], **kwargs))
    assert mine == theirs and mine[0] is ValueError


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2), ()])
def test_muon_refuses_other_than_matrices_as_torch(torch, shape):
    # torch shows the size as torch.Size([…]), ember as a shape tuple: the text before it is equal
    mine = _error(lambda: Muon([Parameter(np.zeros((2, 2))), Parameter(np.zeros(shape))]))
    theirs = _error(lambda: torch.optim.Muon([torch.zeros(2, 2), torch.zeros(shape)]))
    prefix = "Muon only supports 2D parameters whereas we found a parameter with size: "
    assert mine == (ValueError, prefix + str(shape)) and theirs[0] is ValueError
    assert theirs[1].startswith(prefix)


@pytest.mark.parametrize(
    "group", [dict(ns_steps=100), dict(ns_coefficients=(1.0, 2.0))], ids=["steps", "coefs"]
)
def test_muon_step_checks_as_torch(torch, group):
    pe, pt = Parameter(np.ones((2, 3), np.float32)), torch.nn.Parameter(torch.ones(2, 3))
    oe, ot = Muon([pe], **group), torch.optim.Muon([pt], **group)
    pe.grad, pt.grad = ember.ones(2, 3), torch.ones(2, 3)
    mine, theirs = _error(oe.step), _error(ot.step)
    assert mine == theirs and mine[0] is ValueError


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("cls, lr", [(Adafactor, 0.05), (Muon, 0.05)])
def test_trains_a_tiny_regression(cls, lr):
    ember.manual_seed(0)
    model = ember.nn.Sequential(
        ember.nn.Linear(3, 16, bias=False), ember.nn.Tanh(), ember.nn.Linear(16, 1, bias=False)
    )
    opt = cls(model.parameters(), lr=lr)
    x = ember.randn(64, 3)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]])
    losses = []
    for _ in range(150):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.1 * losses[0]
