"""ember.threads: splitting elementwise work over threads never changes a result."""

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import threads


@pytest.fixture
def two_threads():
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(before)


def test_parallel_for_covers_the_range_once_in_disjoint_chunks(two_threads):
    seen = np.zeros(1000, dtype=np.int64)
    calls = []

    def fn(lo, hi):
        calls.append((lo, hi))
        seen[lo:hi] += 1

    threads.parallel_for(fn, 1000, grain=100)
    assert (seen == 1).all()
    assert len(calls) == 2  # two threads: two chunks


def test_small_jobs_run_inline_in_one_call(two_threads):
    calls = []
    threads.parallel_for(lambda lo, hi: calls.append((lo, hi)), 150, grain=100)
    assert calls == [(0, 150)]


def test_an_error_in_a_worker_reaches_the_caller_and_the_pool_still_works(two_threads):
    def fn(lo, hi):
        if lo == 0:  # the chunk a worker runs
            raise ValueError("chunk failed")

    with pytest.raises(ValueError, match="chunk failed"):
        threads.parallel_for(fn, 1000, grain=100)
    out = np.zeros(1000)
    threads.parallel_for(lambda lo, hi: out.__setitem__(slice(lo, hi), 1.0), 1000, 100)
    assert out.sum() == 1000


def test_a_nested_split_runs_inline(two_threads):
    inner_calls = []

    def outer(lo, hi):
        threads.parallel_for(lambda a, b: inner_calls.append((a, b)), 1000, grain=100)

    threads.parallel_for(outer, 1000, grain=100)
    # each outer chunk ran the inner job; at most one of them could split it
    assert sum(b - a for a, b in inner_calls) == 2000


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_set_num_threads_rejects_what_is_not_a_positive_integer(bad):
    with pytest.raises(ValueError, match="integer ≥ 1"):
        threads.set_num_threads(bad)


def _gelu_step(dtype):
    ember.manual_seed(0)
    x = ember.randn(12, 64, 512, dtype=dtype, requires_grad=True)
    y = F.gelu(x)
    (y * y).sum().backward()
    return y.detach().numpy().copy(), x.grad.numpy().copy()


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_gelu_is_bit_identical_with_one_and_two_threads(dtype):
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(1)
        y1, g1 = _gelu_step(dtype)
        threads.set_num_threads(2)
        y2, g2 = _gelu_step(dtype)
    finally:
        threads.set_num_threads(before)
    assert np.array_equal(y1, y2) and np.array_equal(g1, g2)


def test_ember_exposes_the_thread_count():
    assert ember.get_num_threads() == threads.get_num_threads() >= 1


@pytest.mark.parametrize("opt_name", ["Adam", "AdamW"])
def test_adam_on_a_large_tensor_is_bit_identical_with_one_and_two_threads(opt_name):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((300, 300)).astype(np.float32)  # 90 000 elements: split in two
    grads = [rng.standard_normal((300, 300)).astype(np.float32) for _ in range(3)]

    def run(n_threads):
        threads.set_num_threads(n_threads)
        w = ember.tensor(w0.copy(), requires_grad=True)
        opt = getattr(ember.optim, opt_name)([w], lr=1e-2, weight_decay=0.1, amsgrad=True)
        for g in grads:
            w.grad = ember.tensor(g)
            opt.step()
        return w.detach().numpy().copy()

    before = threads.get_num_threads()
    try:
        assert np.array_equal(run(1), run(2))
    finally:
        threads.set_num_threads(before)


def test_chunks_start_on_multiples_of_align(two_threads):
    calls = []
    threads.parallel_for(lambda lo, hi: calls.append((lo, hi)), 1001, grain=100, align=16)
    assert sorted(calls) == [(0, 496), (496, 1001)]


def _same_with_one_and_two_threads(step):
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(1)
        one = step()
        threads.set_num_threads(2)
        two = step()
    finally:
        threads.set_num_threads(before)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)


def _grads_of(loss, *tensors):
    loss.backward()
    return [t.grad.numpy().copy() for t in tensors]


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_layer_norm_is_bit_identical_with_one_and_two_threads(dtype):
    def step():
        ember.manual_seed(0)
        x = ember.randn(12, 65, 128, dtype=dtype, requires_grad=True)  # 780 rows: uneven split
        ln = ember.nn.LayerNorm(128).to(dtype)
        y = ln(x)
        return [y.detach().numpy().copy(), *_grads_of((y * y).sum(), x, ln.weight, ln.bias)]

    _same_with_one_and_two_threads(step)


@pytest.mark.parametrize("case", ["causal", "additive_mask", "dropout", "plain"])
def test_attention_is_bit_identical_with_one_and_two_threads(case):
    def step():
        ember.manual_seed(0)
        q, k, v = (ember.randn(6, 4, 64, 32, requires_grad=True) for _ in range(3))
        inputs = [q, k, v]
        kwargs = {}
        if case == "causal":
            kwargs["is_causal"] = True
        elif case == "additive_mask":
            kwargs["attn_mask"] = m = ember.randn(64, 64, requires_grad=True)
            inputs.append(m)
        elif case == "dropout":
            kwargs["dropout_p"] = 0.3
        out = F.scaled_dot_product_attention(q, k, v, **kwargs)
        return [out.detach().numpy().copy(), *_grads_of((out * out).sum(), *inputs)]

    _same_with_one_and_two_threads(step)


def test_parallel_parts_runs_every_part_once_even_beyond_the_thread_count(two_threads):
    import threading

    seen = {}
    threads.parallel_parts(lambda i: seen.setdefault(i, threading.get_ident()), 3)
    assert sorted(seen) == [0, 1, 2]
    assert len(set(seen.values())) == 3  # each part in its own thread
