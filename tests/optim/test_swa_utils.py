"""optim.swa_utils against torch.optim.swa_utils: averaged weights (SWA, EMA, custom avg_fn,
buffers), SWALR's rates step by step, update_bn's running statistics."""

import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.optim import swa_utils
from tests.core_reference import randn


def _models(torch, seed=0):
    """The same small BatchNorm net in ember and torch (float32)."""

    def build(m):
        return m.Sequential(m.Linear(4, 6), m.BatchNorm1d(6), m.ReLU(), m.Linear(6, 2))

    ours, theirs = build(nn), build(torch.nn)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _perturb(torch, ours, theirs, seed):
    """Move both models' parameters and buffers to the same new values."""
    for k, v in theirs.state_dict().items():
        if v.dtype.is_floating_point:
            a = randn(*v.shape, seed=seed + len(k)).astype(np.float32)
            v.copy_(torch.tensor(np.abs(a) + 0.1 if "running_var" in k else a))
        else:
            v.fill_(seed)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def _same_state(ours, theirs, **tol):
    e, t = ours.state_dict(), theirs.state_dict()
    assert list(e) == list(t)
    for k in e:
        np.testing.assert_allclose(e[k].array, t[k].numpy(), err_msg=k, **tol)


@pytest.mark.parametrize(
    "kind", ["swa", "ema_multi", "ema", "swa_multi", "custom", "swa_buffers", "ema_buffers"]
)
def test_averaged_model_matches_torch(torch, kind):
    sw = __import__("torch.optim.swa_utils").optim.swa_utils
    ours, theirs = _models(torch)
    kw_e, kw_t = {}, {}
    if kind.startswith("ema"):
        f = "get_ema_multi_avg_fn" if kind != "ema" else "get_ema_avg_fn"
        key = "multi_avg_fn" if kind != "ema" else "avg_fn"
        kw_e[key], kw_t[key] = getattr(swa_utils, f)(0.9), getattr(sw, f)(0.9)
    elif kind == "swa_multi":
        kw_e["multi_avg_fn"] = swa_utils.get_swa_multi_avg_fn()
        kw_t["multi_avg_fn"] = sw.get_swa_multi_avg_fn()
    elif kind == "custom":
        kw_e["avg_fn"] = lambda a, m, n: 0.25 * a + 0.75 * m
        kw_t["avg_fn"] = lambda a, m, n: 0.25 * a + 0.75 * m
    if kind.endswith("buffers"):
        kw_e["use_buffers"] = kw_t["use_buffers"] = True
    avg_e, avg_t = swa_utils.AveragedModel(ours, **kw_e), sw.AveragedModel(theirs, **kw_t)
    assert list(avg_e.state_dict()) == list(avg_t.state_dict())
    for step in range(4):
        _perturb(torch, ours, theirs, seed=10 * step + 1)
        avg_e.update_parameters(ours)
        avg_t.update_parameters(theirs)
        _same_state(avg_e, avg_t, rtol=1e-6, atol=1e-7)
    assert int(avg_e.n_averaged.array) == 4
    # the average differs from the last model, and forward is the averaged copy's
    assert not np.allclose(avg_e.module[0].weight.array, ours[0].weight.array)
    x = randn(5, 4, seed=3).astype(np.float32)
    avg_e.eval(), avg_t.eval()
    np.testing.assert_allclose(
        avg_e(ember.tensor(x)).array, avg_t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_swa_average_is_the_mean():
    model = nn.Linear(3, 2)
    avg = swa_utils.AveragedModel(model)
    seen = []
    for s in range(5):
        model.weight.array[...] = randn(2, 3, seed=s)
        seen.append(model.weight.array.copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module.weight.array, np.mean(seen, axis=0), rtol=1e-6)
    assert avg.module.weight is not model.weight
    assert [n for n, _ in avg.named_buffers()] == ["n_averaged"]


def test_ema_and_argument_checks():
    with pytest.raises(ValueError):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError):
        swa_utils.get_ema_avg_fn(-0.1)
    with pytest.raises(AssertionError):
        swa_utils.AveragedModel(
            nn.Linear(1, 1), avg_fn=swa_utils.get_swa_avg_fn(), multi_avg_fn=lambda *a: None
        )
    a = ember.tensor(np.array([1.0, 2.0]))
    out = swa_utils.get_ema_avg_fn(0.75)(a, ember.tensor(np.array([5.0, 6.0])), 3)
    np.testing.assert_allclose(out.array, [2.0, 3.0])


def _swalr_rates(make_sched, optim_mod, params_fn, steps):
    opt = optim_mod.SGD(
        [{"params": params_fn(), "lr": 0.5}, {"params": params_fn(), "lr": 0.02}], lr=0.1
    )
    sched = make_sched(opt)
    rates = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr())
    return rates


@pytest.mark.parametrize(
    "swa_lr, anneal_epochs, strategy",
    [(0.05, 5, "cos"), (0.05, 5, "linear"), ([0.1, 0.2], 3, "cos"), (0.05, 0, "linear")],
)
def test_swalr_rates_match_torch(torch, swa_lr, anneal_epochs, strategy):
    sw = __import__("torch.optim.swa_utils").optim.swa_utils
    ours = _swalr_rates(
        lambda o: swa_utils.SWALR(o, swa_lr, anneal_epochs, strategy),
        ember.optim,
        lambda: [nn.Parameter(np.zeros(2, dtype=np.float32))],
        9,
    )
    theirs = _swalr_rates(
        lambda o: sw.SWALR(o, swa_lr, anneal_epochs, strategy),
        torch.optim,
        lambda: [torch.nn.Parameter(torch.zeros(2))],
        9,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    assert ours[-1] == pytest.approx(swa_lr if isinstance(swa_lr, list) else [swa_lr] * 2)


def test_swalr_state_dict_round_trip():
    opt = ember.optim.SGD([nn.Parameter(np.zeros(1, dtype=np.float32))], lr=1.0)
    sched = swa_utils.SWALR(opt, 0.1, anneal_epochs=4, anneal_strategy="linear")
    sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and "anneal_func" not in state
    other = swa_utils.SWALR(opt, 0.3, anneal_epochs=2)
    other.load_state_dict(state)
    assert other.anneal_epochs == 4 and other.anneal_func(0.25) == 0.25
    with pytest.raises(ValueError):
        swa_utils.SWALR(opt, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError):
        swa_utils.SWALR(opt, 0.1, anneal_epochs=-1)


def test_update_bn_matches_torch(torch):
    sw = __import__("torch.optim.swa_utils").optim.swa_utils
    ours, theirs = _models(torch)
    _perturb(torch, ours, theirs, seed=2)
    ours.eval(), theirs.eval()
    batches = [randn(n, 4, seed=20 + n, shift=0.5).astype(np.float32) for n in (8, 5, 11)]
    loader_e = [(ember.tensor(b), 0) for b in batches]  # (input, label) pairs, as loaders give
    loader_t = [(torch.tensor(b), 0) for b in batches]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the training-mode-in-no_grad warning is not for this
        swa_utils.update_bn(loader_e, ours)
    sw.update_bn(loader_t, theirs)
    _same_state(ours, theirs, rtol=1e-5, atol=1e-6)
    bn = ours[1]
    assert bn.momentum == 0.1 and not ours.training and not bn.training
    assert int(bn.num_batches_tracked.array) == 3
    # the running mean is the plain mean of the three batch means
    with ember.no_grad():
        h = [ours[0](ember.tensor(b)).array.mean(axis=0) for b in batches]
    np.testing.assert_allclose(bn.running_mean.array, np.mean(h, axis=0), rtol=1e-5, atol=1e-6)
    swa_utils.update_bn(batches, nn.Linear(4, 2))  # no BatchNorm: nothing to do
