"""Optimizers: parameters equal torch's over many steps, in every option; groups; state_dict;
argument checks; gradient clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.nn import Parameter
from tests.optim.optim_helpers import SHAPES
from tests.optim.optim_helpers import assert_close as _assert_close
from tests.optim.optim_helpers import ember_steps as _ember_steps
from tests.optim.optim_helpers import grad_for as _grad
from tests.optim.optim_helpers import make_params as _make
from tests.optim.optim_helpers import torch_steps as _torch_steps


def _steps(ps_e, ps_t, oe, ot, n, start=0):
    _ember_steps(ps_e, oe, n, start)
    _torch_steps(ps_t, ot, n, start)


OPTIONS = {
    "SGD": [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.3),
        dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        dict(lr=0.05, weight_decay=0.1),
    ],
    "RMSprop": [
        dict(lr=0.01),
        dict(lr=0.01, alpha=0.9, eps=1e-6),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, centered=True),
        dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.05),
    ],
    "Adam": [
        dict(lr=0.01),
        dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, amsgrad=True),
        dict(lr=0.01, amsgrad=True, weight_decay=0.05),
    ],
    "AdamW": [
        dict(lr=0.01),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, amsgrad=True, weight_decay=0.3),
    ],
}
CASES = [(name, opts) for name, all_opts in OPTIONS.items() for opts in all_opts]


@pytest.mark.parametrize("name, opts", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_matches_torch_float64(torch, name, opts):
    ps_e, ps_t = _make(torch)
    oe = getattr(ember.optim, name)(ps_e, **opts)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    _steps(ps_e, ps_t, oe, ot, 25)
    _assert_close(ps_e, ps_t, 1e-10)


MAXIMIZE = {
    "SGD": dict(lr=0.05, momentum=0.9, weight_decay=0.01),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adam": dict(lr=0.01, weight_decay=0.05, amsgrad=True),
    "AdamW": dict(lr=0.01, weight_decay=0.1),
    "Adagrad": dict(lr=0.05, weight_decay=0.01),
    "Adadelta": dict(lr=0.5, weight_decay=0.01),
    "Adamax": dict(lr=0.01, weight_decay=0.01),
    "NAdam": dict(lr=0.01, weight_decay=0.01),
    "RAdam": dict(lr=0.01, weight_decay=0.01),
}


@pytest.mark.parametrize("name", sorted(MAXIMIZE))
def test_maximize_climbs_the_gradient_as_torch(torch, name):
    """maximize=True: every optimizer steps along +g (weight decay still pulls toward 0)."""
    ps_e, ps_t = _make(torch)
    oe = getattr(ember.optim, name)(ps_e, **MAXIMIZE[name], maximize=True)
    ot = getattr(torch.optim, name)(ps_t, **MAXIMIZE[name], maximize=True)
    assert oe.defaults["maximize"] is True and oe.param_groups[0]["maximize"] is True
    _steps(ps_e, ps_t, oe, ot, 15)
    _assert_close(ps_e, ps_t, 1e-10)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW"])
def test_matches_torch_float32(torch, name):
    opts = {"SGD": dict(lr=0.05, momentum=0.9), "RMSprop": dict(lr=0.01, centered=True)}.get(
        name, dict(lr=0.01, weight_decay=0.01)
    )
    ps_e, ps_t = _make(torch, np.float32)
    oe = getattr(ember.optim, name)(ps_e, **opts)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    _steps(ps_e, ps_t, oe, ot, 10)
    _assert_close(ps_e, ps_t, 1e-5)
    assert all(p.dtype == np.float32 for p in ps_e)


def test_param_groups_keep_their_own_options(torch):
    ps_e, ps_t = _make(torch)

    def groups(ps):
        return [
            {"params": ps[:1]},
            {"params": ps[1:2], "lr": 0.003, "betas": (0.5, 0.9)},
            {"params": ps[2:], "weight_decay": 0.2, "amsgrad": True},
        ]

    oe = ember.optim.Adam(groups(ps_e), lr=0.01)
    ot = torch.optim.Adam(groups(ps_t), lr=0.01)
    assert oe.param_groups[1]["lr"] == 0.003 and oe.param_groups[0]["lr"] == 0.01
    _steps(ps_e, ps_t, oe, ot, 15)
    _assert_close(ps_e, ps_t, 1e-10)


def test_parameters_without_grad_are_skipped(torch):
    ps_e, _ = _make(torch)
    before = ps_e[1].array.copy()
    opt = ember.optim.SGD(ps_e, lr=0.1, momentum=0.9)
    ps_e[0].grad = ember.tensor(np.ones(SHAPES[0]))
    opt.step()
    np.testing.assert_array_equal(ps_e[1].array, before)
    assert ps_e[1] not in opt.state


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW"])
def test_state_dict_round_trip_continues_as_uninterrupted(torch, name):
    opts = {"SGD": dict(lr=0.05, momentum=0.9), "RMSprop": dict(lr=0.01, momentum=0.5)}.get(
        name, dict(lr=0.01, amsgrad=True)
    )
    make = getattr(ember.optim, name)
    ps_a, ps_t = _make(torch)
    ps_b, _ = _make(torch)
    oa, ob = make(ps_a, **opts), make(ps_b, **opts)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    _steps(ps_a, ps_t, oa, ot, 6)
    saved = oa.state_dict()
    for pa, pb in zip(ps_a, ps_b):
        pb.array[...] = pa.array
    ob.load_state_dict(saved)
    # mutate the saved copy: the loaded state must not alias it
    for st in saved["state"].values():
        for v in st.values():
            if isinstance(v, np.ndarray):
                v += 100.0
    _steps(ps_a, ps_t, oa, ot, 6, start=6)
    _ember_steps(ps_b, ob, 6, start=6)
    for pa, pb in zip(ps_a, ps_b):
        np.testing.assert_array_equal(pa.array, pb.array)
    _assert_close(ps_a, ps_t, 1e-10)
    # the layout torch uses: integer parameter ids, groups listing them
    assert saved["param_groups"][0]["params"] == [0, 1, 2]
    assert set(saved["state"]) == {0, 1, 2}


def test_load_state_dict_checks_group_sizes(torch):
    ps, _ = _make(torch)
    a = ember.optim.Adam(ps)
    b = ember.optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}])
    with pytest.raises(ValueError, match="parameter groups"):
        a.load_state_dict(b.state_dict())


def test_argument_checks_as_torch():
    p = Parameter(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        ember.optim.Adam([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        ember.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0"):
        ember.optim.AdamW([p], betas=(-0.1, 0.9))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        ember.optim.Adam([p], eps=-1.0)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        ember.optim.Adam([p], weight_decay=-1.0)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        ember.optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov"):
        ember.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        ember.optim.RMSprop([p], alpha=-0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        ember.optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        ember.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_zero_grad_sets_none_or_zeros():
    p = Parameter(np.ones(3, np.float32))
    opt = ember.optim.SGD([p], lr=0.1)
    p.grad = ember.tensor(np.ones(3, np.float32))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.array, 0)
    opt.zero_grad()
    assert p.grad is None


def test_optimizer_trains_a_tiny_regression():
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 1)
    opt = ember.optim.Adam(model.parameters(), lr=0.05)
    x = ember.randn(64, 3)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = ember.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 1e-3 < first


# ---------------------------------------------------------------- clipping


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, -math.inf, 0.5, 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ps_e, ps_t = _make(torch)
    for k, (pe, pt) in enumerate(zip(ps_e, ps_t)):
        g = _grad(pe.array, 0, k) * 3
        pe.grad, pt.grad = ember.tensor(g), torch.tensor(g)
    total_e = ember.nn.utils.clip_grad_norm_(ps_e, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(ps_t, max_norm, norm_type)
    # the norm before clipping is returned
    assert float(total_e.item()) == pytest.approx(float(total_t), rel=1e-12)
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_allclose(pe.grad.array, pt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, math.inf, -math.inf, 1.0])
def test_clip_grad_norm_with_a_nan_gradient_as_torch(torch, norm_type):
    """A NaN in one gradient makes the total norm NaN and, as torch's clamp keeps the NaN
    scale, every gradient NaN (ember once left them as they were; its ∞-norm was Python's max,
    which skips a NaN)."""
    got = []
    for lib in (ember, torch):
        a = lib.nn.Parameter(lib.ones(3))
        b = lib.nn.Parameter(lib.ones(2))
        a.grad, b.grad = lib.tensor([1.0, float("nan"), 2.0]), lib.tensor([46.0, -3.0])
        total = lib.nn.utils.clip_grad_norm_([a, b], 1.0, norm_type)
        got.append((math.isnan(float(total)), a.grad.tolist(), b.grad.tolist()))
    assert str(got[0]) == str(got[1])


@pytest.mark.parametrize("norm_type", [math.inf, -math.inf])
def test_clip_grad_norm_refuses_an_infinite_order_over_an_empty_gradient(torch, norm_type):
    for lib in (torch, ember):
        p, q = lib.nn.Parameter(lib.ones(0)), lib.nn.Parameter(lib.ones(2))
        p.grad, q.grad = lib.ones(0), lib.ones(2)
        with pytest.raises(RuntimeError, match="norm on an empty tensor"):
            lib.nn.utils.clip_grad_norm_([p, q], 1.0, norm_type)


def test_clip_grad_norm_does_not_touch_shared_gradient_arrays():
    a, b = Parameter(np.ones(3, np.float32)), Parameter(np.ones(3, np.float32))
    (a + b).sum().backward()  # Add hands the same gradient array to both
    g_b = b.grad.array.copy()
    ember.nn.utils.clip_grad_norm_([a], 0.1)
    np.testing.assert_array_equal(b.grad.array, g_b)


def test_clip_grad_norm_error_if_nonfinite():
    p = Parameter(np.ones(2, np.float32))
    p.grad = ember.tensor(np.array([np.inf, 1.0], np.float32))
    with pytest.raises(RuntimeError, match="inf"):
        ember.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch(torch):
    ps_e, ps_t = _make(torch)
    for k, (pe, pt) in enumerate(zip(ps_e, ps_t)):
        g = _grad(pe.array, 0, k) * 3
        pe.grad, pt.grad = ember.tensor(g), torch.tensor(g)
    ember.nn.utils.clip_grad_value_(ps_e, 0.7)
    torch.nn.utils.clip_grad_value_(ps_t, 0.7)
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_array_equal(pe.grad.array, pt.grad.numpy())
    assert max(float(np.abs(p.grad.array).max()) for p in ps_e) == pytest.approx(0.7)


TENSOR_LR = ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax", "Adadelta",
             "ASGD", "Rprop", "Adafactor", "Muon", "LBFGS"]  # fmt: skip


@pytest.mark.parametrize("name", TENSOR_LR)
def test_a_tensor_learning_rate_steps_as_torch(torch, name):
    """lr=tensor(0.1), as torch allows: the update used to rebind its array to a new tensor
    (p -= lr * g) and leave every parameter as it was, silently."""

    def run(lib):
        p = lib.nn.Parameter(lib.ones(2, 2, dtype=lib.float64))
        opt = getattr(lib.optim, name)([p], lr=lib.tensor(0.1, dtype=lib.float64))

        def closure():
            opt.zero_grad()
            loss = ((p - 3) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        return p.detach().numpy()

    got = run(ember)
    np.testing.assert_allclose(got, run(torch), rtol=1e-10)
    assert not np.allclose(got, 1.0)


def test_tensor_betas_step_as_torch(torch):
    def run(lib):
        p = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
        betas = (lib.tensor(0.8, dtype=lib.float64), lib.tensor(0.99, dtype=lib.float64))
        opt = lib.optim.Adam([p], lr=0.1, betas=betas)
        for g in (1.0, 0.3):
            p.grad = lib.full((2,), g, dtype=lib.float64)
            opt.step()
        return p.detach().numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-10)


def test_rprop_with_nan_and_infinite_gradients_as_torch(torch):
    """torch's sign is 0 at NaN: a NaN gradient (or ∞·0 at the first step) keeps the step size
    and moves nothing, an infinite one takes a plain step; ember's NumPy sign made them NaN."""
    inf, nan = float("inf"), float("nan")
    grads = [[1.0, -2.0, inf, nan], [nan, -1.0, 2.0, inf], [1.0, nan, -inf, 1.0], [1.0] * 4]
    got = []
    for lib in (ember, torch):
        p = lib.tensor(np.float32([0.5, -0.5, 1.0, 2.0]), requires_grad=True)
        opt = lib.optim.Rprop([p], lr=0.1)
        for g in grads:
            p.grad = lib.tensor(np.float32(g))
            opt.step()
        got.append(p.detach().numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)
    assert np.isfinite(got[0]).all()
