"""Learning-rate schedulers: the rates equal torch's step for step."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.optim import lr_scheduler as S


def _pair(torch, n_groups=1, lr=0.1, opt="SGD"):
    ps_e = [ember.nn.Parameter(np.zeros(2, np.float32)) for _ in range(n_groups)]
    ps_t = [torch.nn.Parameter(torch.zeros(2)) for _ in range(n_groups)]
    groups_e = [{"params": [p], "lr": lr * (k + 1)} for k, p in enumerate(ps_e)]
    groups_t = [{"params": [p], "lr": lr * (k + 1)} for k, p in enumerate(ps_t)]
    return getattr(ember.optim, opt)(groups_e, lr=lr), getattr(torch.optim, opt)(groups_t, lr=lr)


def _run(torch, make_e, make_t, steps=60, n_groups=2):
    oe, ot = _pair(torch, n_groups)
    se, st = make_e(oe), make_t(ot)
    assert se.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12, abs=1e-15)
    for k in range(steps):
        oe.step()
        ot.step()
        se.step()
        st.step()
        lr_e, lr_t = se.get_last_lr(), st.get_last_lr()
        assert lr_e == pytest.approx(lr_t, rel=1e-12, abs=1e-15), f"step {k}"
        assert [g["lr"] for g in oe.param_groups] == pytest.approx(lr_t, rel=1e-12, abs=1e-15)
    return se, st


CASES = {
    "step": (lambda o: S.StepLR(o, step_size=7, gamma=0.5), "StepLR", dict(step_size=7, gamma=0.5)),
    "exponential": (lambda o: S.ExponentialLR(o, gamma=0.93), "ExponentialLR", dict(gamma=0.93)),
    "cosine": (
        lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=1e-3),
        "CosineAnnealingLR",
        dict(T_max=20, eta_min=1e-3),  # 60 steps: past T_max, the cosine climbs back as torch's
    ),
    "linear": (
        lambda o: S.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=12),
        "LinearLR",
        dict(start_factor=0.25, end_factor=0.9, total_iters=12),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scheduler_matches_torch(torch, name):
    make_e, tname, kwargs = CASES[name]
    _run(torch, make_e, lambda o: getattr(torch.optim.lr_scheduler, tname)(o, **kwargs))


def test_linear_warmup_then_cosine_matches_torch(torch):
    def make_e(o):
        return S.SequentialLR(
            o,
            [S.LinearLR(o, 0.01, 1.0, total_iters=10), S.CosineAnnealingLR(o, T_max=40)],
            milestones=[10],
        )

    def make_t(o):
        L = torch.optim.lr_scheduler
        return L.SequentialLR(
            o, [L.LinearLR(o, 0.01, 1.0, total_iters=10), L.CosineAnnealingLR(o, T_max=40)], [10]
        )

    _run(torch, make_e, make_t, steps=55)


def test_warmup_cosine_is_the_torch_chain(torch):
    def make_t(o):
        L = torch.optim.lr_scheduler
        warm = L.LinearLR(o, 1e-3, 1.0, total_iters=5)
        cos = L.CosineAnnealingLR(o, T_max=25, eta_min=1e-4)
        return L.SequentialLR(o, [warm, cos], [5])

    se, _ = _run(torch, lambda o: S.warmup_cosine(o, 5, 30, min_lr=1e-4), make_t, steps=30)
    # the shape it promises: peak η₀ at the end of the warmup, min_lr at total_steps
    assert se.get_last_lr()[0] == pytest.approx(1e-4, rel=1e-9)


def test_warmup_cosine_checks_its_arguments():
    o = ember.optim.SGD([ember.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    with pytest.raises(ValueError, match="warmup_steps"):
        S.warmup_cosine(o, 10, 10)
    assert isinstance(S.warmup_cosine(o, 0, 10), S.CosineAnnealingLR)


@pytest.mark.parametrize(
    "kwargs, metrics",
    [
        (dict(patience=2), [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.5]),
        (
            dict(patience=1, cooldown=2, factor=0.5, threshold=0.05),
            [1.0, 0.97, 0.96, 0.9, 0.89, 0.88, 0.87, 0.86, 0.7, 0.69, 0.68, 0.67],
        ),
        (
            dict(mode="max", patience=1, threshold=0.1, threshold_mode="abs", min_lr=0.02),
            [0.1, 0.15, 0.25, 0.3, 0.31, 0.32, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
        ),
    ],
)
def test_reduce_on_plateau_matches_torch(torch, kwargs, metrics):
    oe, ot = _pair(torch, n_groups=2)
    se = S.ReduceLROnPlateau(oe, **kwargs)
    st = torch.optim.lr_scheduler.ReduceLROnPlateau(ot, **kwargs)
    reduced = False
    for m in metrics:
        se.step(m)
        st.step(m)
        assert se.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12)
        assert (se.num_bad_epochs, se.cooldown_counter) == (st.num_bad_epochs, st.cooldown_counter)
        reduced = reduced or se.get_last_lr()[0] < 0.1
    assert reduced  # each case exercises at least one reduction


def test_reduce_on_plateau_checks_arguments():
    o = ember.optim.SGD([ember.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    with pytest.raises(ValueError, match="Factor"):
        S.ReduceLROnPlateau(o, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(o, mode="up")
    with pytest.raises(ValueError, match="min_lrs"):
        S.ReduceLROnPlateau(o, min_lr=[0.1, 0.2])


def test_state_dict_round_trip_continues_identically(torch):
    def make(o):
        return S.SequentialLR(
            o, [S.LinearLR(o, 0.1, total_iters=4), S.CosineAnnealingLR(o, T_max=16)], [4]
        )

    oa, _ = _pair(torch)
    a = make(oa)
    for _ in range(7):
        a.step()
    saved_sched, saved_opt = a.state_dict(), oa.state_dict()
    assert "optimizer" not in saved_sched
    ob, _ = _pair(torch)
    b = make(ob)
    ob.load_state_dict(saved_opt)
    b.load_state_dict(saved_sched)
    for _ in range(12):
        a.step()
        b.step()
        assert a.get_last_lr() == b.get_last_lr()


def test_linear_lr_rejects_bad_factors():
    o = ember.optim.SGD([ember.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(o, start_factor=0.0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        S.LinearLR(o, end_factor=1.5)


def test_sequential_checks_milestones_and_optimizer():
    o1 = ember.optim.SGD([ember.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    o2 = ember.optim.SGD([ember.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    with pytest.raises(ValueError, match="milestone"):
        S.SequentialLR(o1, [S.StepLR(o1, 2), S.StepLR(o1, 3)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(o1, [S.StepLR(o1, 2), S.StepLR(o2, 3)], milestones=[3])


def test_cosine_closed_form_after_jump():
    o = ember.optim.SGD([ember.nn.Parameter(np.zeros(1, np.float32))], lr=1.0)
    s = S.CosineAnnealingLR(o, T_max=10)
    s.step(5)  # torch's deprecated epoch argument: jump, closed form
    assert s.get_last_lr()[0] == pytest.approx(0.5 * (1 + math.cos(math.pi / 2)))
