"""Tensor.share_memory_ and Module.share_memory as torch's: the values move into shared memory
that processes forked afterwards write into (the parent sees their changes), optimisers update
shared parameters in place, and a Hogwild-style run of forked workers trains one model."""

import multiprocessing

import numpy as np
import pytest

import ember

fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)


def test_share_memory_is_in_place_and_idempotent_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        x = lib.arange(4.0)
        assert not x.is_shared()
        assert x.share_memory_() is x and x.is_shared()
        assert x.share_memory_() is x and x.tolist() == [0.0, 1.0, 2.0, 3.0]
        m = lib.nn.Linear(2, 2)
        assert m.share_memory() is m and all(p.is_shared() for p in m.parameters())
    assert ember.arange(4.0).share_memory_()[1:].is_shared()  # a view of shared memory


def _write(x):
    with ember.no_grad():
        x[0] = 42.0


@fork
def test_a_forked_process_writes_into_shared_memory():
    ctx = multiprocessing.get_context("fork")
    shared, private = ember.zeros(3).share_memory_(), ember.zeros(3)
    for t in (shared, private):
        p = ctx.Process(target=_write, args=(t,))
        p.start()
        p.join()
        assert p.exitcode == 0
    assert shared.tolist() == [42.0, 0.0, 0.0] and private.tolist() == [0.0, 0.0, 0.0]


def _train(model, seed, steps):
    rng = np.random.default_rng(seed)
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(steps):
        x = ember.tensor(rng.standard_normal((16, 3)).astype(np.float32))
        y = x @ ember.tensor([[1.0], [-2.0], [0.5]])
        opt.zero_grad()
        ember.nn.functional.mse_loss(model(x), y).backward()
        opt.step()


@fork
def test_hogwild_workers_train_one_shared_model():
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 1, bias=False).share_memory()
    start = model.weight.array.copy()
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_train, args=(model, s, 100)) for s in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        assert w.exitcode == 0
    learned = model.weight.array.reshape(-1)
    assert not np.allclose(learned, start.reshape(-1))  # the parent's weights were trained
    np.testing.assert_allclose(learned, [1.0, -2.0, 0.5], atol=0.05)
