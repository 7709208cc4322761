"""Adagrad, Adadelta, Adamax, NAdam, RAdam: parameters equal torch's over many steps, in every
option; state_dict resumes as an unbroken run; torch's argument checks."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import ember
from ember.nn import Parameter
from ember.optim.adadelta import Adadelta
from ember.optim.adagrad import Adagrad
from ember.optim.adamax import Adamax
from ember.optim.nadam import NAdam
from ember.optim.radam import RAdam
from tests.optim.optim_helpers import assert_close as _assert_close
from tests.optim.optim_helpers import check_state_dict_round_trip
from tests.optim.optim_helpers import ember_steps as _ember_steps
from tests.optim.optim_helpers import make_params as _make
from tests.optim.optim_helpers import torch_steps as _torch_steps

OPTIMIZERS = {c.__name__: c for c in (Adagrad, Adadelta, Adamax, NAdam, RAdam)}

OPTIONS = {
    "Adagrad": [
        dict(),
        dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2),
        dict(lr=0.05, weight_decay=0.1, eps=1e-6),
    ],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8, eps=1e-4), dict(weight_decay=0.1)],
    "Adamax": [dict(), dict(lr=0.01, betas=(0.8, 0.99), eps=1e-4), dict(weight_decay=0.1)],
    "NAdam": [
        dict(),
        dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.05),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    ],
    # β₂ = 0.9: ρₜ passes 5 at step 6, so both branches run
    "RAdam": [
        dict(),
        dict(lr=0.01, betas=(0.8, 0.9)),
        dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1),
        dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
    ],
}
CASES = [(name, opts) for name, all_opts in OPTIONS.items() for opts in all_opts]


@pytest.mark.parametrize("name, opts", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_matches_torch_float64(torch, name, opts):
    ps_e, ps_t = _make(torch)
    oe = OPTIMIZERS[name](ps_e, **opts)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    _ember_steps(ps_e, oe, 20)
    _torch_steps(ps_t, ot, 20)
    _assert_close(ps_e, ps_t, 1e-10)


def test_nadam_mu_product_in_float64_default(torch, default_float64):
    ps_e, ps_t = _make(torch)
    oe, ot = NAdam(ps_e, lr=0.01), torch.optim.NAdam(ps_t, lr=0.01)
    _ember_steps(ps_e, oe, 20)
    _torch_steps(ps_t, ot, 20)
    _assert_close(ps_e, ps_t, 1e-12)
    assert oe.state[ps_e[0]]["mu_product"] == pytest.approx(
        ot.state[ps_t[0]]["mu_product"].item(), rel=1e-15
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_matches_torch_float32(torch, name):
    ps_e, ps_t = _make(torch, np.float32)
    oe = OPTIMIZERS[name](ps_e, weight_decay=0.01)
    ot = getattr(torch.optim, name)(ps_t, weight_decay=0.01)
    _ember_steps(ps_e, oe, 10)
    _torch_steps(ps_t, ot, 10)
    _assert_close(ps_e, ps_t, 1e-5)
    assert all(p.dtype == np.float32 for p in ps_e)


def test_param_groups_keep_their_own_options(torch):
    ps_e, ps_t = _make(torch)

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.03, "betas": (0.5, 0.9)}]

    oe, ot = RAdam(groups(ps_e), lr=0.01), torch.optim.RAdam(groups(ps_t), lr=0.01)
    _ember_steps(ps_e, oe, 12)
    _torch_steps(ps_t, ot, 12)
    _assert_close(ps_e, ps_t, 1e-10)


STATE_KEYS = {
    "Adagrad": {"step", "sum"},
    "Adadelta": {"step", "square_avg", "acc_delta"},
    "Adamax": {"step", "exp_avg", "exp_inf"},
    "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    "RAdam": {"step", "exp_avg", "exp_avg_sq"},
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_continues_as_uninterrupted(torch, name):
    check_state_dict_round_trip(
        torch, OPTIMIZERS[name], name, OPTIONS[name][1], STATE_KEYS[name], 6
    )


DEFAULTS = {
    "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10),
    "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0),
    "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
    "NAdam": dict(
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
    ),
    "RAdam": dict(
        lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_defaults_as_torch(torch, name):
    p = Parameter(np.zeros(3))
    defaults = OPTIMIZERS[name]([p]).defaults
    assert {k: defaults[k] for k in DEFAULTS[name]} == DEFAULTS[name]
    assert defaults["maximize"] is False
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(3))]).defaults
    assert defaults == theirs  # torch's keys, its implementation flags included


BAD = [
    ("Adagrad", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value"),
    ("Adagrad", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value"),
    ("Adagrad", dict(eps=-1.0), "Invalid epsilon value"),
    ("Adadelta", dict(lr=-0.1), "Invalid learning rate"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(eps=-1.0), "Invalid epsilon value"),
    ("Adadelta", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("Adamax", dict(lr=-0.1), "Invalid learning rate"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", dict(eps=-1.0), "Invalid epsilon value"),
    ("NAdam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value"),
    ("NAdam", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("RAdam", dict(lr=-0.1), "Invalid learning rate"),
    ("RAdam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("RAdam", dict(eps=-1.0), "Invalid epsilon value"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_argument_checks_as_torch(torch, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        OPTIMIZERS[name]([Parameter(np.zeros(3))], **kwargs)
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(3))], **kwargs)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trains_a_tiny_regression(name):
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 1)
    lr = {"Adadelta": 20.0, "Adagrad": 0.3}.get(name, 0.05)
    opt = OPTIMIZERS[name](model.parameters(), lr=lr)
    x = ember.randn(64, 3)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = ember.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_adagrad_accumulators_start_at_the_constructors_value_as_torch(torch):
    """torch builds Adagrad's state when the optimizer is built, every sum at the
    constructor's initial_accumulator_value: a group's own value is not used (ember warns),
    and a group added later starts from the constructor's value too."""
    results = {}
    for lib in (torch, ember):
        p, q, c = (
            lib.tensor(v, requires_grad=True) for v in (np.ones(2), np.ones(3), np.array(1.0 + 1j))
        )
        warns = pytest.warns(UserWarning, match="initial_accumulator_value")
        with warns if lib is ember else _no_warning():
            opt = lib.optim.Adagrad(
                [dict(params=[p], initial_accumulator_value=0.5), dict(params=[c])],
                lr=0.1, initial_accumulator_value=0.2,
            )  # fmt: skip
        before = opt.state_dict()["state"]
        assert sorted(before) == [0, 1]
        np.testing.assert_array_equal(np.asarray(before[0]["sum"]), [0.2, 0.2])
        assert complex(np.asarray(before[1]["sum"])) == 0.2 + 0.2j and float(before[0]["step"]) == 0
        with pytest.warns(UserWarning) if lib is ember else _no_warning():
            opt.add_param_group(dict(params=[q], initial_accumulator_value=0.7))
        for t in (p, q, c):
            t.grad = lib.ones_like(t)
        opt.step()
        results[lib] = [t.detach().numpy().copy() for t in (p, q, c)]
    for a, b in zip(results[torch], results[ember]):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def _no_warning():
    return contextlib.nullcontext()
