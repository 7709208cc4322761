"""torch.cond, torch.while_loop, torch.fork/wait, torch.from_file, torch.norm_except_dim and
the unsigned dtype names, against torch: the same results (and gradients through the branch or
the iterations that ran), torch's refusals."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def test_cond_runs_one_branch_with_gradients_as_torch():
    for pred in (True, False):
        results = []
        for lib in (ember, torch):
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            y = lib.cond(lib.tensor(pred), lambda a: (a * a).sum(), lambda a: a.sum() * 3, (x,))
            y.backward()
            results.append((float(y), x.grad.tolist()))
        assert results[0] == results[1]
    with pytest.raises(RuntimeError, match="Expected pred to be bool or tensor, but got a"):
        ember.cond("a", lambda: 1, lambda: 2)
    with pytest.raises(RuntimeError, match="single-element tensor"):
        ember.cond(ember.tensor([True, False]), lambda: 1, lambda: 2)
    with pytest.raises(RuntimeError, match="Expect operands to be a tuple"):
        ember.cond(True, lambda a: a, lambda a: a, ember.tensor(1.0))


def test_while_loop_as_torch():
    def run(lib):
        x = lib.tensor(1.5, requires_grad=True)
        i, s = lib.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x),
                              (lib.tensor(0), lib.tensor(1.0)))  # fmt: skip
        s.backward()
        return int(i), float(s), float(x.grad)

    e, t = run(ember), run(torch)
    assert e[:2] == pytest.approx(t[:2])  # 3 iterations, s = x³
    # ∂s/∂x = 3x² = 6.75: gradients flow through every iteration that ran. torch 2.13 gives 2.25
    # (x² — one iteration's share) for a tensor the body closes over, so it is not the reference
    assert e[2] == pytest.approx(3 * 1.5**2)
    with pytest.raises(RuntimeError, match="same number of elements as carried_inputs"):
        ember.while_loop(lambda i: i < 3, lambda i: (i + 1, i), (ember.tensor(0),))
    with pytest.raises(RuntimeError, match="carried_inputs must be a tuple or list"):
        ember.while_loop(lambda i: i < 3, lambda i: i + 1, ember.tensor(0))


def test_fork_and_wait():
    fut = ember.fork(lambda a, b=1: a + b, ember.tensor(2.0), b=3)
    assert fut.done() and float(ember.wait(fut)) == 5.0 and float(fut.value()) == 5.0
    assert float(fut.then(lambda f: f.wait() * 2).wait()) == 10.0


def test_from_file_shared_and_private_as_torch(tmp_path):
    path = str(tmp_path / "data.bin")
    np.arange(6, dtype=np.float32).tofile(path)
    shared = ember.from_file(path, shared=True, size=4)
    assert shared.tolist() == torch.from_file(path, shared=True, size=4).tolist()
    shared[0] = 100.0
    assert np.fromfile(path, dtype=np.float32)[0] == 100.0  # written into the file
    private = ember.from_file(path, shared=False, size=2)
    private[1] = -5.0
    assert np.fromfile(path, dtype=np.float32)[1] == 1.0 and private.tolist() == [100.0, -5.0]
    wide = ember.from_file(path, size=3, dtype=ember.float64)
    np.testing.assert_array_equal(wide.array, np.fromfile(path, dtype=np.float64))
    assert ember.from_file(path).numel() == 0
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="size <24> is smaller than the required mapping"):
            lib.from_file(path, size=100)


@pytest.mark.parametrize("p, dim", [(2, 0), (3, 1), (1, 2), (2, -1)])
def test_norm_except_dim_as_torch(p, dim):
    v = np.random.default_rng(0).standard_normal((2, 3, 4))
    e = ember.norm_except_dim(ember.tensor(v), p, dim)
    t = torch.norm_except_dim(torch.tensor(v), p, dim)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.array, t.numpy(), rtol=1e-12)


def test_unsigned_dtype_names():
    for name in ("uint16", "uint32", "uint64"):
        assert str(ember.zeros(2, dtype=getattr(ember, name)).dtype) == name
        assert hasattr(torch, name)
