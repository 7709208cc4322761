"""Every optimizer and LR scheduler ember shares with torch, swept against torch's.

Optimizers: each class of torch.optim that ember.optim has, with each option set of
``OPTIONS`` that torch takes, six steps on the same parameters and gradients; the parameters
must agree to 1e-12. Schedulers: each class of lr_scheduler, built with the first argument set
of ``SCHEDULER_ARGS`` that torch takes, twelve epochs over SGD; the learning rates must agree.
"""

from __future__ import annotations

import numpy as np

import ember

OPTIONS = [
    {}, {"weight_decay": 0.1}, {"maximize": True}, {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.9, "dampening": 0.1}, {"amsgrad": True}, {"centered": True, "momentum": 0.5},
    {"decoupled_weight_decay": True, "weight_decay": 0.1}, {"foreach": False},
    {"betas": (0.8, 0.9), "eps": 1e-6},
]  # fmt: skip

SCHEDULER_ARGS = [
    {"step_size": 3}, {"milestones": [2, 5]}, {"gamma": 0.9}, {"T_max": 5}, {"T_0": 3},
    {"max_lr": 0.1, "total_steps": 20}, {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 3},
    {"total_iters": 4}, {"lr_lambda": lambda e: 0.95**e}, {"factor": 0.5, "total_iters": 3},
    {"total_iters": 5, "power": 2.0}, {},
]  # fmt: skip


def _classes(a, b, exclude=()):
    return sorted(
        n for n in set(dir(a)) & set(dir(b))
        if n[0].isupper() and n not in exclude and isinstance(getattr(a, n), type)
    )  # fmt: skip


def _steps(lib, name, options, start, grads):
    params = [lib.tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(lib.optim, name)(params, lr=0.01, **options)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g)
        if name == "LBFGS":
            opt.step(lambda: lib.tensor(0.0))
        else:
            opt.step()
    return [p.detach().numpy() for p in params]


def test_every_shared_optimizer_steps_as_torch(torch):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    grads = [[rng.standard_normal((4, 3)), rng.standard_normal(3)] for _ in range(6)]
    compared, differ = 0, []
    for name in _classes(torch.optim, ember.optim, ("Optimizer",)):
        for options in OPTIONS:
            try:
                want = _steps(torch, name, options, start, grads)
            except (TypeError, ValueError):  # an option this optimizer does not have
                continue
            compared += 1
            try:
                got = _steps(ember, name, options, start, grads)
            except Exception as e:  # noqa: BLE001 - recorded as the difference
                differ.append(f"{name}{options}: {type(e).__name__}: {e}")
                continue
            if not all(np.allclose(g, w, rtol=1e-12, atol=1e-14) for g, w in zip(got, want)):
                differ.append(f"{name}{options}: parameters differ")
    assert compared >= 50, compared
    assert not differ, "\n".join(differ)


def _rates(lib, name, args):
    p = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([p], lr=0.05, momentum=0.9)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **args)
    rates = []
    for _ in range(12):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr()[0])
    return rates


def test_every_shared_scheduler_schedules_as_torch(torch):
    exclude = ("LRScheduler", "Optimizer", "Counter", "ReduceLROnPlateau", "Tensor")
    compared, differ = 0, []
    for name in _classes(torch.optim.lr_scheduler, ember.optim.lr_scheduler, exclude):
        for args in SCHEDULER_ARGS:
            try:
                want = _rates(torch, name, args)
            except (TypeError, ValueError, KeyError):
                continue
            compared += 1
            got = _rates(ember, name, args)
            if not np.allclose(got, want, rtol=1e-12, atol=1e-15):
                differ.append(f"{name}{args}: {got[:4]} against {want[:4]}")
            break
    assert compared >= 10, compared
    assert not differ, "\n".join(differ)
