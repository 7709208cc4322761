"""LambdaLR … OneCycleLR, CyclicLR, ChainedScheduler: the rates (and cycled momenta) equal
torch's step for step through every phase; state_dict resumes identically."""

from __future__ import annotations

import types

import numpy as np
import pytest

import ember
from ember.optim import lr_scheduler, lr_scheduler_more

# one namespace with ember's old and new schedulers, so a case is written once for both
E = types.SimpleNamespace(**{**vars(lr_scheduler), **vars(lr_scheduler_more)})
TOL = dict(rel=1e-12, abs=1e-15)


def _pair(torch, opt="SGD", n_groups=2, lr=0.1, **kw):
    ps_e = [ember.nn.Parameter(np.zeros(2)) for _ in range(n_groups)]
    ps_t = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)) for _ in range(n_groups)]
    ge = [{"params": [p], "lr": lr * (k + 1)} for k, p in enumerate(ps_e)]
    gt = [{"params": [p], "lr": lr * (k + 1)} for k, p in enumerate(ps_t)]
    return getattr(ember.optim, opt)(ge, lr=lr, **kw), getattr(torch.optim, opt)(gt, lr=lr, **kw)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _check(oe, ot, se, st, k):
    assert se.get_last_lr() == pytest.approx(st.get_last_lr(), **TOL), f"step {k}"
    assert [g["lr"] for g in oe.param_groups] == pytest.approx(st.get_last_lr(), **TOL)
    assert _momenta(oe) == pytest.approx(_momenta(ot), **TOL), f"momentum, step {k}"


def _run(torch, make, steps, opt="SGD", **kw):
    oe, ot = _pair(torch, opt, **kw)
    se, st = make(E, oe), make(torch.optim.lr_scheduler, ot)
    _check(oe, ot, se, st, -1)
    for k in range(steps):
        oe.step()
        ot.step()
        se.step()
        st.step()
        _check(oe, ot, se, st, k)
    return oe, se


def _fn(t):
    return 0.95**t + 0.1 * (t % 3)


class Warm:
    """A callable object: its __dict__ travels in the state_dict, as torch."""

    def __init__(self, n):
        self.n = n

    def __call__(self, t):
        return min(1.0, (t + 1) / self.n)


# name: (make(L, optimizer) for L = ember's or torch's scheduler namespace, steps, optimizer)
CASES = {
    "lambda": (lambda L, o: L.LambdaLR(o, _fn), 20, "SGD"),
    "lambda-per-group": (lambda L, o: L.LambdaLR(o, [_fn, lambda t: 0.9**t]), 20, "SGD"),
    "multiplicative": (
        lambda L, o: L.MultiplicativeLR(o, lambda t: 0.9 if t % 2 else 1.05),
        20,
        "SGD",
    ),
    "multistep": (lambda L, o: L.MultiStepLR(o, [3, 7, 7, 15], gamma=0.5), 25, "SGD"),
    "constant": (lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=6), 12, "SGD"),
    "constant-default": (lambda L, o: L.ConstantLR(o), 10, "SGD"),
    "polynomial": (lambda L, o: L.PolynomialLR(o, total_iters=12, power=2.0), 20, "SGD"),
    "polynomial-default": (lambda L, o: L.PolynomialLR(o), 8, "SGD"),
    "warm-restarts": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5), 23, "SGD"),
    "warm-restarts-mult": (
        lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
        50,
        "SGD",
    ),
    "cyclic-triangular-sgd-momentum": (
        lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.3], step_size_up=4, step_size_down=6),
        35,
        "SGD",
    ),
    "cyclic-triangular2-adam-betas": (
        lambda L, o: L.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=5, mode="triangular2"),
        42,
        "Adam",
    ),
    "cyclic-exp-range": (
        lambda L, o: L.CyclicLR(
            o, 0.01, 0.1, 3, mode="exp_range", gamma=0.97, base_momentum=0.7, max_momentum=0.95
        ),
        30,
        "SGD",
    ),
    "cyclic-no-momentum": (
        lambda L, o: L.CyclicLR(o, 0.01, 0.1, 4, cycle_momentum=False),
        20,
        "RMSprop",
    ),
    "cyclic-scale-fn": (
        lambda L, o: L.CyclicLR(
            o, 0.01, 0.1, 4, scale_fn=lambda x: 0.8**x, scale_mode="iterations"
        ),
        20,
        "SGD",
    ),
    "one-cycle-sgd": (lambda L, o: L.OneCycleLR(o, 0.5, total_steps=40), 40, "SGD"),
    "one-cycle-adam-linear-three-phase": (
        lambda L, o: L.OneCycleLR(
            o, [0.2, 0.4], epochs=5, steps_per_epoch=7, anneal_strategy="linear", three_phase=True
        ),
        35,
        "Adam",
    ),
    "one-cycle-options": (
        lambda L, o: L.OneCycleLR(
            o,
            0.3,
            total_steps=30,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
            base_momentum=[0.8, 0.7],
            max_momentum=0.9,
        ),
        30,
        "SGD",
    ),
    "one-cycle-no-momentum": (
        lambda L, o: L.OneCycleLR(o, 0.3, total_steps=20, cycle_momentum=False, three_phase=True),
        20,
        "RMSprop",
    ),
    "chained": (
        lambda L, o: L.ChainedScheduler(
            [L.ConstantLR(o, factor=0.5, total_iters=4), L.ExponentialLR(o, gamma=0.9)]
        ),
        12,
        "SGD",
    ),
    "chained-three": (
        lambda L, o: L.ChainedScheduler(
            [
                L.LinearLR(o, 0.2, total_iters=5),
                L.MultiStepLR(o, [4, 9]),
                L.PolynomialLR(o, total_iters=14, power=0.5),
            ],
            o,
        ),
        18,
        "SGD",
    ),
    "sequential-of-new": (
        lambda L, o: L.SequentialLR(
            o, [L.ConstantLR(o, 0.1, total_iters=3), L.MultiStepLR(o, [4, 8])], milestones=[5]
        ),
        15,
        "SGD",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scheduler_matches_torch(torch, name):
    make, steps, opt = CASES[name]
    kw = dict(momentum=0.9) if opt == "SGD" else {}
    _run(torch, make, steps, opt, **kw)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_round_trip_continues_identically(torch, name):
    make, steps, opt = CASES[name]
    oa, _ = _pair(torch, opt)
    a = make(E, oa)
    half = steps // 2
    for _ in range(half):
        a.step()
    saved_sched, saved_opt = a.state_dict(), oa.state_dict()
    assert "optimizer" not in saved_sched
    ob, _ = _pair(torch, opt)
    b = make(E, ob)
    ob.load_state_dict(saved_opt)
    b.load_state_dict(saved_sched)
    for _ in range(steps - half):
        a.step()
        b.step()
        assert a.get_last_lr() == b.get_last_lr()
        assert _momenta(oa) == _momenta(ob)


def test_lambda_state_dict_keeps_callable_objects_as_torch(torch):
    oe, ot = _pair(torch)
    se, st = E.LambdaLR(oe, [Warm(4), _fn]), torch.optim.lr_scheduler.LambdaLR(ot, [Warm(4), _fn])
    assert se.state_dict()["lr_lambdas"] == st.state_dict()["lr_lambdas"] == [{"n": 4}, None]
    other = E.LambdaLR(_pair(torch)[0], [Warm(9), _fn])
    other.load_state_dict(se.state_dict())
    assert other.lr_lambdas[0].n == 4
    # the same keys, torch's bookkeeping of its get_lr() warning too
    assert set(se.state_dict()) == set(st.state_dict())


@pytest.mark.parametrize("T_mult", [1, 2])
def test_warm_restarts_fractional_epochs_match_torch(torch, T_mult):
    oe, ot = _pair(torch)
    se = E.CosineAnnealingWarmRestarts(oe, T_0=4, T_mult=T_mult, eta_min=0.01)
    st = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(ot, 4, T_mult, 0.01)
    for epoch in [0.5, 1.25, 3.9, 4.0, 6.5, 12.0, 13.3, 29.7, 2.0]:
        se.step(epoch)
        st.step(epoch)
        assert se.get_last_lr() == pytest.approx(st.get_last_lr(), **TOL), epoch
        assert (se.T_i, se.last_epoch) == (st.T_i, st.last_epoch)
    with pytest.raises(ValueError, match="non-negative epoch"):
        se.step(-1)


def test_closed_forms_after_a_jump_match_torch(torch):
    for make in (
        lambda L, o: L.MultiStepLR(o, [2, 5, 5]),
        lambda L, o: L.ConstantLR(o, 0.3, total_iters=4),
        lambda L, o: L.PolynomialLR(o, total_iters=8, power=1.5),
    ):
        oe, ot = _pair(torch)
        se, st = make(E, oe), make(torch.optim.lr_scheduler, ot)
        for epoch in [3, 7, 1, 12]:
            se.step(epoch)
            with pytest.warns(UserWarning):
                st.step(epoch)
            assert se.get_last_lr() == pytest.approx(st.get_last_lr(), **TOL)


def test_one_cycle_stops_after_total_steps(torch):
    oe, _ = _pair(torch)
    s = E.OneCycleLR(oe, 0.1, total_steps=5)
    for _ in range(5):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 6 times"):
        s.step()


BAD = [
    (lambda L, o: L.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda L, o: L.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
    (lambda L, o: L.LambdaLR(o, [_fn]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=0), ValueError, "T_mult >= 1"),
    (lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, "mode is invalid"),
    (lambda L, o: L.CyclicLR(o, [0.1], 1.0), ValueError, "same length as optimizer"),
    (lambda L, o: L.OneCycleLR(o, 0.1), ValueError, "either total_steps OR"),
    (lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0), ValueError, "total_steps"),
    (lambda L, o: L.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, "pct_start"),
    (lambda L, o: L.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda L, o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3), ValueError, "epochs"),
    (lambda L, o: L.ChainedScheduler([]), ValueError, "at least one scheduler"),
]


@pytest.mark.parametrize("make, error, message", BAD, ids=[b[2] for b in BAD])
def test_argument_checks_as_torch(torch, make, error, message):
    with pytest.raises(error, match=message):
        make(E, _pair(torch)[0])
    with pytest.raises(error, match=message):
        make(torch.optim.lr_scheduler, _pair(torch)[1])


def test_cycle_momentum_needs_momentum_or_betas(torch):
    from ember.optim.adagrad import Adagrad

    oe = Adagrad([ember.nn.Parameter(np.zeros(2))])
    ot = torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(2))])
    for L, o in ((E, oe), (torch.optim.lr_scheduler, ot)):
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            L.OneCycleLR(o, 0.1, total_steps=10)
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            L.CyclicLR(o, 0.01, 0.1)


def test_chained_checks_optimizer_and_plateau(torch):
    oe, _ = _pair(torch)
    other, _ = _pair(torch)
    with pytest.raises(ValueError, match="same optimizer"):
        E.ChainedScheduler([E.ConstantLR(oe), E.ExponentialLR(other, 0.9)])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        E.ChainedScheduler([E.ReduceLROnPlateau(oe)])


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.StepLR(o, 2, gamma=0.5),
        lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=3),
    ],
)
def test_initial_lr_is_recorded_by_the_scheduler_not_the_optimizer(torch, make):
    """torch's optimizer has no 'initial_lr'; the first scheduler records the rate it finds,
    so a rate changed between making the optimizer and the scheduler is the one scheduled."""
    oe, ot = _pair(torch)
    assert all("initial_lr" not in g for g in oe.param_groups)
    # torch's keys, its implementation flags (foreach, fused, differentiable) included
    assert oe.state_dict()["param_groups"][0].keys() == ot.state_dict()["param_groups"][0].keys()
    for o in (oe, ot):
        o.param_groups[0]["lr"] = 0.05
    se, st = make(E, oe), make(torch.optim.lr_scheduler, ot)
    assert [g["initial_lr"] for g in oe.param_groups] == [g["initial_lr"] for g in ot.param_groups]
    for k in range(6):
        oe.step()
        ot.step()
        se.step()
        st.step()
        _check(oe, ot, se, st, k)
