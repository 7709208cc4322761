"""Rprop, ASGD and LBFGS against torch: parameters and state equal torch's step by step in every
option, state_dict resumes as an unbroken run, torch's defaults and argument checks; LBFGS's
iterates, losses and counters equal torch's on small problems, with and without the strong-Wolfe
line search, and the line search itself equals torch's on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.nn import Parameter
from ember.optim.asgd import ASGD
from ember.optim.lbfgs import LBFGS, _cubic_interpolate, _strong_wolfe
from ember.optim.rprop import Rprop
from tests.optim.optim_helpers import assert_close as _assert_close
from tests.optim.optim_helpers import check_state_dict_round_trip
from tests.optim.optim_helpers import ember_steps as _ember_steps
from tests.optim.optim_helpers import make_params as _make
from tests.optim.optim_helpers import torch_steps as _torch_steps

OPTIMIZERS = {"Rprop": Rprop, "ASGD": ASGD}

OPTIONS = {
    "Rprop": [
        dict(),
        dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),  # Δ reaches both bounds
        dict(lr=0.05, etas=(0.7, 1.1), step_sizes=(0.02, 50)),
        dict(lr=0.05, maximize=True),
    ],
    "ASGD": [
        dict(),
        dict(lr=0.05, lambd=0.1, alpha=0.6, t0=5),  # averaging starts at step 6
        dict(lr=0.02, lambd=0.01, t0=10, weight_decay=0.1),
        dict(lr=0.05, t0=3, maximize=True),
    ],
}
CASES = [(name, opts) for name, all_opts in OPTIONS.items() for opts in all_opts]


def _assert_state_close(oe, ot, ps_e, ps_t, tol):
    for pe, pt in zip(ps_e, ps_t):
        se, st = oe.state[pe], ot.state[pt]
        assert list(se) == list(st)
        for k in st:
            np.testing.assert_allclose(np.asarray(se[k]), st[k].numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name, opts", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_matches_torch_float64(torch, name, opts):
    ps_e, ps_t = _make(torch)
    oe = OPTIMIZERS[name](ps_e, **opts)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    start = [p.array.copy() for p in ps_e]
    _ember_steps(ps_e, oe, 25)
    _torch_steps(ps_t, ot, 25)
    _assert_close(ps_e, ps_t, 1e-10)
    _assert_state_close(oe, ot, ps_e, ps_t, 1e-10)
    assert all(np.abs(p.array - s).max() > 1e-3 for p, s in zip(ps_e, start))


@pytest.mark.parametrize("opts", OPTIONS["ASGD"][1:3])
def test_asgd_eta_mu_in_float64_default(torch, default_float64, opts):
    ps_e, ps_t = _make(torch)
    oe, ot = ASGD(ps_e, **opts), torch.optim.ASGD(ps_t, **opts)
    _ember_steps(ps_e, oe, 25)
    _torch_steps(ps_t, ot, 25)
    _assert_close(ps_e, ps_t, 1e-12)
    _assert_state_close(oe, ot, ps_e, ps_t, 1e-12)
    st = oe.state[ps_e[0]]
    assert st["eta"] == ot.state[ps_t[0]]["eta"].item() and st["eta"].dtype == np.float64


def test_asgd_eta_mu_rounded_as_torch_in_float32_default(torch):
    ps_e, ps_t = _make(torch)
    oe, ot = ASGD(ps_e, lr=0.03, lambd=0.3, t0=4), torch.optim.ASGD(ps_t, lr=0.03, lambd=0.3, t0=4)
    _ember_steps(ps_e, oe, 10)
    _torch_steps(ps_t, ot, 10)
    st_e, st_t = oe.state[ps_e[0]], ot.state[ps_t[0]]
    assert st_e["eta"].dtype == np.float32 and st_e["eta"] == st_t["eta"].item()
    assert st_e["mu"] == st_t["mu"].item() == np.float32(1 / 6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_matches_torch_float32(torch, name):
    ps_e, ps_t = _make(torch, np.float32)
    opts = OPTIONS[name][1]
    oe, ot = OPTIMIZERS[name](ps_e, **opts), getattr(torch.optim, name)(ps_t, **opts)
    _ember_steps(ps_e, oe, 10)
    _torch_steps(ps_t, ot, 10)
    _assert_close(ps_e, ps_t, 1e-5)
    assert all(p.dtype == np.float32 for p in ps_e)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_param_groups_keep_their_own_options(torch, name):
    ps_e, ps_t = _make(torch)
    extra = {"Rprop": {"lr": 0.03, "etas": (0.4, 1.3)}, "ASGD": {"lr": 0.03, "t0": 2}}[name]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], **extra}]

    oe = OPTIMIZERS[name](groups(ps_e), lr=0.01)
    ot = getattr(torch.optim, name)(groups(ps_t), lr=0.01)
    _ember_steps(ps_e, oe, 12)
    _torch_steps(ps_t, ot, 12)
    _assert_close(ps_e, ps_t, 1e-10)


STATE_KEYS = {"Rprop": {"step", "prev", "step_size"}, "ASGD": {"step", "eta", "mu", "ax"}}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_continues_as_uninterrupted(torch, name):
    check_state_dict_round_trip(
        torch, OPTIMIZERS[name], name, OPTIONS[name][1], STATE_KEYS[name], 8
    )


DEFAULTS = {
    "Rprop": dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)),
    "ASGD": dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0),
    "LBFGS": dict(
        lr=1,
        max_iter=20,
        max_eval=25,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ),
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_as_torch(torch, name):
    make = {**OPTIMIZERS, "LBFGS": LBFGS}[name]
    defaults = make([Parameter(np.zeros(3))]).defaults
    expected = DEFAULTS[name] if name == "LBFGS" else {**DEFAULTS[name], "maximize": False}
    assert {k: defaults[k] for k in expected} == expected
    ot = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(3))])
    assert defaults == ot.defaults  # torch's keys, its implementation flags included
    if name == "LBFGS":  # no maximize: the param_group keys are torch's, no more
        oe = LBFGS([Parameter(np.zeros(3))], max_iter=7)
        assert set(oe.state_dict()["param_groups"][0]) == set(ot.state_dict()["param_groups"][0])
        assert oe.defaults["max_eval"] == 8  # max_iter·5//4


BAD = [
    ("Rprop", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Rprop", dict(etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
    ("Rprop", dict(etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
    ("ASGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("LBFGS", dict(lr=-1.0), "Invalid learning rate: -1.0"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_argument_checks_as_torch(torch, name, kwargs, message):
    make = {**OPTIMIZERS, "LBFGS": LBFGS}[name]
    with pytest.raises(ValueError, match=message):
        make([Parameter(np.zeros(3))], **kwargs)
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(3))], **kwargs)


# ------------------------------------------------------------------ LBFGS
A0 = np.array([[-1.2, 0.5], [1.3, -0.7]])
B0 = np.array([1.0, -0.4, 0.8, 0.3])


def _rosenbrock(a, b, k=10.0):
    """Σ (1 - a)² + k·(b - a²)², elementwise over a (2×2) and b (4,); k = 10 keeps it tame
    enough that rounding differences stay at rounding size over the steps compared."""
    a = a.reshape(-1) if hasattr(a, "reshape") else a
    return ((1 - a) ** 2).sum() + k * ((b - a * a) ** 2).sum()


def _rosenbrock_pair(torch, unused=False):
    ps_e = [Parameter(A0.copy()), Parameter(B0.copy())]
    ps_t = [torch.nn.Parameter(torch.tensor(A0)), torch.nn.Parameter(torch.tensor(B0))]
    if unused:  # a parameter the loss never touches: its gradient stays None
        ps_e.append(Parameter(np.ones(2)))
        ps_t.append(torch.nn.Parameter(torch.ones(2, dtype=torch.float64)))
    return ps_e, ps_t


def _closure(opt, ps, loss_fn):
    """The usual closure; loss_fn takes the first two parameters (the Rosenbrock pair) or none."""

    def closure():
        opt.zero_grad()
        loss = loss_fn(*ps[:2])
        loss.backward()
        return loss

    return closure


def _compare_lbfgs_runs(oe, ot, ps_e, ps_t, fe, ft, steps, tol):
    ce, ct = _closure(oe, ps_e, fe), _closure(ot, ps_t, ft)
    for _ in range(steps):
        le, lt = oe.step(ce), ot.step(ct)
        assert float(le) == pytest.approx(lt.item(), rel=tol, abs=tol)
        for pe, pt in zip(ps_e, ps_t):
            np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=tol, atol=tol)
        se, st = oe.state[ps_e[0]], ot.state[ps_t[0]]
        assert (se["func_evals"], se["n_iter"]) == (st["func_evals"], st["n_iter"])
        assert set(se) == set(st)
        assert len(se["old_dirs"]) == len(st["old_dirs"])
    return float(le)


LBFGS_OPTS = [
    dict(max_iter=5),
    dict(max_iter=5, line_search_fn="strong_wolfe"),
    dict(max_iter=4, history_size=2, lr=0.8),  # the history drops its oldest pairs
    dict(max_iter=4, history_size=2, line_search_fn="strong_wolfe"),
    dict(max_iter=6, max_eval=7, line_search_fn="strong_wolfe"),  # max_eval cuts it short
]


@pytest.mark.parametrize("opts", LBFGS_OPTS, ids=[str(o) for o in LBFGS_OPTS])
def test_lbfgs_rosenbrock_matches_torch(torch, opts):
    ps_e, ps_t = _rosenbrock_pair(torch, unused=True)
    oe, ot = LBFGS(ps_e, **opts), torch.optim.LBFGS(ps_t, **opts)
    last = _compare_lbfgs_runs(oe, ot, ps_e, ps_t, _rosenbrock, _rosenbrock, 6, 1e-8)
    assert last < 0.5 * _rosenbrock(A0, B0)
    np.testing.assert_array_equal(ps_e[2].array, np.ones(2))


def test_lbfgs_runs_to_the_minimum_as_torch(torch):
    ps_e, ps_t = _rosenbrock_pair(torch)
    opts = dict(line_search_fn="strong_wolfe", tolerance_change=1e-12)
    oe, ot = LBFGS(ps_e, **opts), torch.optim.LBFGS(ps_t, **opts)
    _compare_lbfgs_runs(oe, ot, ps_e, ps_t, _rosenbrock, _rosenbrock, 4, 1e-8)
    np.testing.assert_allclose(ps_e[0].array, np.ones((2, 2)), atol=1e-6)
    # max|g| ≤ tolerance_grad at the first evaluation ends the step: no iteration
    evals, iters = oe.state[ps_e[0]]["func_evals"], oe.state[ps_e[0]]["n_iter"]
    ce, ct = _closure(oe, ps_e, _rosenbrock), _closure(ot, ps_t, _rosenbrock)
    oe.step(ce), ot.step(ct)
    st = ot.state[ps_t[0]]
    assert oe.state[ps_e[0]]["func_evals"] == evals + 1 == st["func_evals"]
    assert oe.state[ps_e[0]]["n_iter"] == iters == st["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_least_squares_linear_matches_torch(torch, line_search_fn):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 4))
    y = x @ np.array([[0.5], [-1.0], [2.0], [0.25]]) + 0.1 + 0.05 * rng.standard_normal((32, 1))
    model_e = ember.nn.Linear(4, 1, dtype=ember.float64)
    model_t = torch.nn.Linear(4, 1, dtype=torch.float64)
    with torch.no_grad():
        model_t.weight.copy_(torch.tensor(model_e.weight.array))
        model_t.bias.copy_(torch.tensor(model_e.bias.array))
    xe, ye, xt, yt = ember.tensor(x), ember.tensor(y), torch.tensor(x), torch.tensor(y)
    ps_e, ps_t = list(model_e.parameters()), list(model_t.parameters())
    opts = dict(lr=0.5, line_search_fn=line_search_fn)
    oe, ot = LBFGS(ps_e, **opts), torch.optim.LBFGS(ps_t, **opts)

    def fe(*_):
        return ember.functional.mse_loss(model_e(xe), ye)

    def ft(*_):
        return torch.nn.functional.mse_loss(model_t(xt), yt)

    first = fe().item()
    last = _compare_lbfgs_runs(oe, ot, ps_e, ps_t, fe, ft, 3, 1e-8)
    assert last < 0.01 * first
    np.testing.assert_allclose(model_e.weight.array.ravel(), [0.5, -1.0, 2.0, 0.25], atol=0.05)


def test_lbfgs_state_dict_round_trip_continues_as_uninterrupted(torch):
    opts = dict(max_iter=4, history_size=3, line_search_fn="strong_wolfe")
    ps_a, _ = _rosenbrock_pair(torch)
    ps_b, _ = _rosenbrock_pair(torch)
    oa, ob = LBFGS(ps_a, **opts), LBFGS(ps_b, **opts)
    ca, cb = _closure(oa, ps_a, _rosenbrock), _closure(ob, ps_b, _rosenbrock)
    oa.step(ca)
    oa.step(ca)
    saved = oa.state_dict()
    assert set(saved["state"]) == {0} and "prev_flat_grad" in saved["state"][0]
    for pa, pb in zip(ps_a, ps_b):
        pb.array[...] = pa.array
    ob.load_state_dict(saved)
    for d in saved["state"][0]["old_dirs"]:  # the saved history aliases neither optimizer's
        d += 100.0
    for _ in range(2):
        assert float(oa.step(ca)) == float(ob.step(cb))
    for pa, pb in zip(ps_a, ps_b):
        np.testing.assert_array_equal(pa.array, pb.array)


def test_lbfgs_errors_as_torch(torch):
    ps_e, ps_t = _rosenbrock_pair(torch)
    message = "LBFGS doesn't support per-parameter options"
    with pytest.raises(ValueError, match=message):
        LBFGS([{"params": ps_e[:1]}, {"params": ps_e[1:]}])
    with pytest.raises(ValueError, match=message):
        torch.optim.LBFGS([{"params": ps_t[:1]}, {"params": ps_t[1:]}])
    oe, ot = LBFGS(ps_e), torch.optim.LBFGS(ps_t)
    with pytest.raises(TypeError, match="requires a closure"):
        oe.step()
    with pytest.raises(TypeError):
        ot.step()
    oe, ot = LBFGS(ps_e, line_search_fn="bt"), torch.optim.LBFGS(ps_t, line_search_fn="bt")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        oe.step(_closure(oe, ps_e, _rosenbrock))
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        ot.step(_closure(ot, ps_t, _rosenbrock))


def test_lbfgs_closure_runs_with_grad_enabled():
    p = Parameter(np.array([1.0, 2.0]))
    opt = LBFGS([p], max_iter=3)
    modes = []

    def closure():
        modes.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        opt.step(closure)
        assert not ember.is_grad_enabled()
    assert len(modes) > 1 and all(modes)


# ------------------------------------------------------------------ the line search on its own
def _quartic(z):
    return (z**4 / 4 - z**2 + 0.3 * z).sum(), z**3 - 2 * z + 0.3


def _wiggle(k):
    """-z + z²/2 + 0.3·sin(k·z): its wiggles send the zoom near the bracket's ends."""

    def fun(z):
        return (-z + 0.5 * z**2 + 0.3 * np.sin(k * z)).sum(), -1 + z + 0.3 * k * np.cos(k * z)

    return fun


LINE_FUNCS = {
    "quartic": (_quartic, np.array([0.2, -0.1, 0.5])),
    "wiggle5": (_wiggle(5.0), np.zeros(1)),
    "wiggle20": (_wiggle(20.0), np.zeros(1)),
}


@pytest.mark.parametrize("fn", sorted(LINE_FUNCS))
@pytest.mark.parametrize("t0", [1e-3, 0.05, 0.5, 3.0, 10.0, 100.0])
@pytest.mark.parametrize("max_ls", [25, 4])
def test_strong_wolfe_matches_torch(torch, fn, t0, max_ls):
    """The line search alone, on fixed NumPy functions along d = -∇f (the quartic) or d = 1:
    bracketing by extrapolation (small t0), zoom (large t0), max_ls cutting either short."""
    from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

    fun, x = LINE_FUNCS[fn]
    f, g = fun(x)
    d = -g if fn == "quartic" else np.ones(1)

    def obj_e(x, t, d):
        f, g = fun(x + t * d)
        return float(f), g

    def obj_t(x, t, d):
        f, g = fun(x.numpy() + float(t) * d.numpy())
        return float(f), torch.tensor(g)

    fe, ge, te, ne = _strong_wolfe(obj_e, x, t0, d, float(f), g, g.dot(d), max_ls=max_ls)
    gt0, dt = torch.tensor(g), torch.tensor(d)
    ft, gt, tt, nt = torch_strong_wolfe(
        obj_t, torch.tensor(x), t0, dt, float(f), gt0, gt0.dot(dt), max_ls=max_ls
    )
    assert ne == nt
    assert float(te) == pytest.approx(float(tt), rel=1e-12, abs=1e-15)
    assert float(fe) == pytest.approx(float(ft), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(ge, gt.numpy(), rtol=1e-12, atol=1e-14)


def test_cubic_interpolate_matches_torch(torch):
    from torch.optim.lbfgs import _cubic_interpolate as torch_cubic

    rng = np.random.default_rng(7)
    for _ in range(200):
        x1, x2 = rng.uniform(-2, 2, 2)
        f1, g1, f2, g2 = rng.standard_normal(4)
        bounds = None if rng.random() < 0.5 else tuple(sorted(rng.uniform(-3, 3, 2)))
        theirs = torch_cubic(x1, f1, torch.tensor(g1), x2, f2, torch.tensor(g2), bounds)
        assert float(_cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds)) == pytest.approx(
            float(theirs), rel=1e-12, abs=1e-14
        )
    # no real root (a NaN included): the bounds' midpoint, as torch
    nan = float("nan")
    assert _cubic_interpolate(0.0, 1.0, nan, 1.0, 2.0, 0.5) == 0.5
    assert float(torch_cubic(0.0, 1.0, torch.tensor(nan), 1.0, 2.0, torch.tensor(0.5))) == 0.5
    args = (0.0, 0.0, 1.0, 3.0, 2.0, 1.0, (0.5, 1.5))  # d₁ = 0, d₁² - g₁g₂ = -1
    assert _cubic_interpolate(*args) == 1.0 == float(torch_cubic(*args))


def test_lbfgs_float32_keeps_dtype_and_trains():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((32, 3)).astype(np.float32))
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    model = ember.nn.Linear(3, 1)
    opt = LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ember.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    first = float(opt.step(closure))
    for _ in range(3):
        last = float(opt.step(closure))
    assert last < 1e-6 * first
    assert all(p.array.dtype == np.float32 for p in model.parameters())
