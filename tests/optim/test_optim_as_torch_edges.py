"""Optimizers, schedulers and weight averaging where ember used to differ from torch 2.13
(found by fuzzing both side by side): the state_dict's order and empty entries, the checks
of NaN and tensor hyperparameters, a float32 tensor lr, zero_grad in place, the state as a
defaultdict, the scheduler warnings and tensor lrs, and SWA over lists of tensors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember


def _params(lib, shapes=((3,), (2, 2), (4,))):
    rng = np.random.default_rng(0)
    return [lib.nn.Parameter(lib.tensor(rng.standard_normal(s))) for s in shapes]


def _grads(lib, ps, mask, step):
    for k, (p, on) in enumerate(zip(ps, mask)):
        g = np.random.default_rng(10 * step + k).standard_normal(tuple(p.shape))
        p.grad = lib.tensor(g) if on else None


# ------------------------------------------------------------------ state_dict layout


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Adadelta"])
def test_state_dict_state_is_in_the_order_parameters_first_stepped(torch, name):
    """torch's 'state' follows its state dict's order (first step first); ember listed the
    parameters in group order."""
    out = []
    for lib in (ember, torch):
        ps = _params(lib)
        opt = getattr(lib.optim, name)(ps, lr=0.1)
        for step, mask in enumerate([(0, 0, 1), (0, 1, 1), (1, 1, 1)]):
            _grads(lib, ps, mask, step)
            opt.step()
        out.append(list(opt.state_dict()["state"]))
    assert out[0] == out[1] == [2, 1, 0]


def test_sgd_without_momentum_keeps_no_state(torch):
    """ember kept an empty {} per parameter, so state_dict()['state'] was {0: {}, …}."""
    out = []
    for lib in (ember, torch):
        ps = _params(lib)
        opt = lib.optim.SGD(ps, lr=0.1)
        _grads(lib, ps, (1, 1, 1), 0)
        opt.step()
        out.append((opt.state_dict()["state"], len(opt.state)))
    assert out[0] == out[1] == ({}, 0)


def test_state_is_a_defaultdict_as_torch(torch):
    for lib in (ember, torch):
        p = _params(lib)[0]
        opt = lib.optim.Adam([p])
        assert opt.state[p] == {}  # ember raised KeyError
        assert list(opt.state_dict()["state"]) == [0]


# ------------------------------------------------------------------ argument checks

NAN = float("nan")
NAN_CASES = [
    ("Adam", dict(eps=NAN)),
    ("AdamW", dict(weight_decay=NAN)),
    ("Adamax", dict(eps=NAN)),
    ("NAdam", dict(momentum_decay=NAN)),
    ("RAdam", dict(weight_decay=NAN)),
    ("Adagrad", dict(lr_decay=NAN)),
    ("Adagrad", dict(initial_accumulator_value=NAN)),
    ("Adagrad", dict(eps=NAN)),
    ("Adadelta", dict(eps=NAN)),
    ("Adadelta", dict(weight_decay=NAN)),
    ("RMSprop", dict(alpha=NAN)),
    ("RMSprop", dict(momentum=NAN)),
    ("RMSprop", dict(eps=NAN)),
]


@pytest.mark.parametrize("name, kwargs", NAN_CASES, ids=[f"{n}-{k}" for n, k in NAN_CASES])
def test_nan_hyperparameters_are_refused_as_torch(torch, name, kwargs):
    """torch's checks read ``not 0.0 <= x``, which NaN fails; ember's ``x < 0.0`` let NaN
    through to parameters full of NaN."""
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="Invalid"):
            getattr(lib.optim, name)(_params(lib), **kwargs)


TENSOR_LR = ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam",
             "RMSprop", "Rprop", "LBFGS", "Adafactor", "Muon"]  # fmt: skip


@pytest.mark.parametrize("name", TENSOR_LR)
def test_a_tensor_lr_of_several_elements_is_refused_as_torch(torch, name):
    # ember's comparison with 0 raised RuntimeError (ambiguous truth value), not ValueError
    for lib in (torch, ember):
        ps = _params(lib, [(2, 2)])
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            getattr(lib.optim, name)(ps, lr=lib.tensor([0.1, 0.2]))


def _adam_mistakes(lib):
    return [
        ("int beta", lambda: lib.optim.Adam(_params(lib), betas=(0, 0.999))),
        ("mixed betas", lambda: lib.optim.AdamW(_params(lib), betas=(lib.tensor(0.9), 0.999))),
        ("lr foreach", lambda: lib.optim.Adam(_params(lib), lr=lib.tensor(0.1), foreach=True)),
        ("beta foreach", lambda: lib.optim.Adam(
            _params(lib), betas=(lib.tensor(0.9), lib.tensor(0.99)), foreach=True)),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(4))
def test_adam_refuses_what_torch_refuses_of_its_tensor_and_beta_options(refused_alike, k):
    refused_alike(_adam_mistakes, k, ValueError)


@pytest.mark.parametrize("name", ["Adam", "NAdam", "RAdam", "Adamax"])
def test_more_than_two_betas_are_a_value_error_as_torch(torch, name):
    """torch unpacks two (ValueError, at its first step); ember raised IndexError."""
    for lib in (torch, ember):
        with pytest.raises(ValueError):
            ps = _params(lib)
            opt = getattr(lib.optim, name)(ps, betas=(0.9, 0.99, 0.5))
            _grads(lib, ps, (1, 1, 1), 0)
            opt.step()


def test_a_group_may_set_a_negative_lr_as_torch(torch):
    """torch checks only the constructor's options; ember refused a group's own lr=-1."""
    for lib in (torch, ember):
        opt = lib.optim.SGD([{"params": _params(lib), "lr": -1.0}], lr=0.1)
        assert opt.param_groups[0]["lr"] == -1.0


def test_defaults_and_repr_are_torchs(torch):
    """torch's defaults are ints (weight_decay=0), and its repr lists initial_lr."""
    reprs = []
    for lib in (ember, torch):
        opt = lib.optim.SGD(_params(lib), lr=0.1)
        lib.optim.lr_scheduler.StepLR(opt, 2)
        reprs.append(repr(opt))
        assert opt.defaults["weight_decay"] == 0 and type(opt.defaults["weight_decay"]) is int
    assert reprs[0] == reprs[1]
    assert "initial_lr: 0.1" in reprs[0]


# ------------------------------------------------------------------ stepping


@pytest.mark.parametrize("name, opts", [
    ("Adam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(amsgrad=True)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict(weight_decay=0.01)),
    ("ASGD", dict(t0=2)),
    ("Adafactor", dict()),
])  # fmt: skip
def test_a_float32_tensor_lr_steps_float64_parameters_as_torch(torch, name, opts):
    """torch works ``1 - lr·λ`` and ``lr / bias_correction`` in the float32 of a tensor lr;
    ember turned the lr into a Python float and differed by ~1e-9."""
    out = []
    for lib in (ember, torch):
        ps = _params(lib)
        opt = getattr(lib.optim, name)(ps, lr=lib.tensor(0.3), **opts)
        for step in range(6):
            _grads(lib, ps, (1, 1, 1), step)
            opt.step()
        out.append([p.detach().numpy().copy() for p in ps])
    for e, t in zip(*out):
        np.testing.assert_allclose(e, t, rtol=1e-13, atol=1e-14)


def test_muon_with_a_zero_coefficient_follows_torchs_addmm(torch):
    """torch.addmm with beta=0 leaves its input out: an iteration that overflowed to inf gives
    inf, not ember's 0·inf = NaN."""
    g = np.random.default_rng(1).standard_normal((3, 3))
    out = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor(np.ones((3, 3))))
        opt = lib.optim.Muon([p], ns_coefficients=(3.4445, 0.0, 2.0315))
        p.grad = lib.tensor(g)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            opt.step()
        out.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(out[0], out[1])
    assert not np.isnan(out[0]).any()


def test_zero_grad_without_set_to_none_zeros_the_same_tensor(torch):
    for lib in (ember, torch):
        p = _params(lib)[0]
        opt = lib.optim.SGD([p], lr=0.1)
        p.grad = lib.ones(3, dtype=lib.float64)
        g = p.grad
        opt.zero_grad(set_to_none=False)
        assert p.grad is g  # ember put a new zero tensor there, g kept its values
        assert g.tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------ schedulers


def _caught(run):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        run()
    return sorted({str(x.message)[:40] for x in w if x.category is UserWarning})


@pytest.mark.parametrize("case", ["before optimizer", "in order", "epoch", "get_lr", "plateau"])
def test_schedulers_warn_as_torch(torch, case):
    def run(lib):
        opt = lib.optim.SGD(_params(lib), lr=0.1)
        if case == "plateau":
            return lambda: lib.optim.lr_scheduler.ReduceLROnPlateau(opt).step(1.0, 3)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)

        def go():
            if case != "before optimizer":
                opt.step()
            if case == "get_lr":
                sched.get_lr()
            else:
                sched.step(4 if case == "epoch" else None)

        return go

    got, expected = _caught(run(ember)), _caught(run(torch))
    assert got == expected
    assert bool(got) == (case != "in order")


def test_sequential_lr_refuses_what_is_not_a_scheduler_with_type_error(torch):
    for lib in (torch, ember):
        opt = lib.optim.SGD(_params(lib), lr=0.1)
        with pytest.raises(TypeError, match="optimizer"):
            lib.optim.lr_scheduler.SequentialLR(
                opt, [3, lib.optim.lr_scheduler.StepLR(opt, 2)], [2]
            )


def _scheduler(lib, opt, kind: str):
    S = lib.optim.lr_scheduler  # noqa: N806
    if kind == "step":
        return S.StepLR(opt, 1, 0.5)
    if kind == "plateau":
        return S.ReduceLROnPlateau(opt, patience=0)
    return S.CyclicLR(opt, 0.01, 0.1, step_size_up=2)


@pytest.mark.parametrize("kind", ["step", "plateau", "cyclic"])
def test_a_tensor_lr_is_filled_in_place_by_schedulers(torch, kind):
    """torch's schedulers fill a tensor lr (``fill_``); ember put a new object in the group."""
    rates = []
    for lib in (ember, torch):
        lr = lib.tensor(0.1, dtype=lib.float64)
        opt = lib.optim.SGD(_params(lib), lr=lr, momentum=0.9)
        sched = _scheduler(lib, opt, kind)
        for _ in range(3):
            opt.step()
            sched.step(*([1.0] if kind == "plateau" else []))
        assert opt.param_groups[0]["lr"] is lr
        rates.append(float(lr))
    assert rates[0] == pytest.approx(rates[1], rel=1e-15)


# ------------------------------------------------------------------ swa_utils


def test_swa_multi_avg_fn_weights_in_the_default_dtype_as_torch(torch):
    """torch's weight is 1 / (n_averaged + 1) of the int64 buffer: a float32 tensor."""
    out = []
    for lib in (ember, torch):
        S = lib.optim.swa_utils  # noqa: N806
        model = lib.nn.Module()
        model.w = lib.nn.Parameter(lib.zeros(2, 3, dtype=lib.float64))
        avg = S.AveragedModel(model, multi_avg_fn=S.get_swa_multi_avg_fn())
        for k in range(5):
            with lib.no_grad():
                model.w.add_(lib.tensor(np.random.default_rng(k).standard_normal((2, 3))))
            avg.update_parameters(model)
        out.append([p.detach().numpy().copy() for p in avg.parameters()])
    for e, t in zip(*out):
        np.testing.assert_allclose(e, t, rtol=1e-14, atol=1e-15)


def test_swa_multi_avg_fn_refuses_integer_buffers_and_is_called_per_dtype(torch):
    for lib in (torch, ember):
        S = lib.optim.swa_utils  # noqa: N806
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        avg = S.AveragedModel(model, multi_avg_fn=S.get_swa_multi_avg_fn(), use_buffers=True)
        avg.update_parameters(model)
        with pytest.raises(RuntimeError):  # num_batches_tracked is int64
            avg.update_parameters(model)
        seen = []

        def record(averaged, current, n, seen=seen):
            seen.append({str(t.dtype) for t in averaged})

        avg = S.AveragedModel(model, use_buffers=True, multi_avg_fn=record)
        avg.update_parameters(model)
        avg.update_parameters(model)
        assert sorted(len(s) for s in seen) == [1, 1]  # float32 and int64 lists, apart
