"""Matrices holding NaN, as torch treats them (found by an edge-value comparison with torch):
its LU carries the NaN into det, slogdet, the inverse and solutions, where NumPy called such a
matrix singular (det 0, log|det| −∞, or a "singular" error naming a zero pivot there is none
of); and its Cholesky stops at a NaN pivot (LAPACK's ``ajj <= 0 or isnan(ajj)``), which NumPy
let through. The rest of a batch is computed as usual."""

import numpy as np
import pytest

import ember


def _batch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 4))
    a[1, 0, 0] = np.nan  # in the first pivot column: NumPy called it singular
    b = rng.standard_normal((3, 4, 2))
    return a, b


CALLS = {
    "inv": lambda L, a, b: L.linalg.inv(a),
    "inv_ex": lambda L, a, b: L.linalg.inv_ex(a)[0],
    "inv_ex_info": lambda L, a, b: L.linalg.inv_ex(a)[1],
    "det": lambda L, a, b: L.linalg.det(a),
    "slogdet_sign": lambda L, a, b: L.linalg.slogdet(a)[0],
    "slogdet_logabsdet": lambda L, a, b: L.linalg.slogdet(a)[1],
    "logdet": lambda L, a, b: L.logdet(a),
    "solve": lambda L, a, b: L.linalg.solve(a, b),
    "matrix_power_minus_2": lambda L, a, b: L.linalg.matrix_power(a, -2),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_matrix_with_nan_gives_nan_results_and_leaves_the_batch_intact(torch, name):
    a, b = _batch()
    ours = CALLS[name](ember, ember.tensor(a), ember.tensor(b)).numpy()
    theirs = CALLS[name](torch, torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    if name != "inv_ex_info":
        assert np.isnan(ours[1]).all() or name == "slogdet_sign"
        if name != "logdet":  # batch element 0 has a negative det: its logdet is NaN anyway
            assert np.isfinite(ours[[0, 2]]).all()


def test_gradients_through_inv_and_solve_of_a_batch_with_a_nan_matrix(torch):
    a, b = _batch()
    grads = []
    for lib in (ember, torch):
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        (lib.linalg.inv(ta).sum() + lib.linalg.solve(ta, tb).sum()).backward()
        grads.append((ta.grad.numpy(), tb.grad.numpy()))
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


def test_cholesky_stops_at_a_nan_pivot_as_torch(torch):
    a, _ = _batch()
    s = np.nan_to_num(a) @ np.swapaxes(np.nan_to_num(a), -1, -2) + 4 * np.eye(4)
    s[2, 2, 0] = s[2, 0, 2] = np.nan  # the leading minor of order 3 meets it
    info = ember.linalg.cholesky_ex(ember.tensor(s))[1].numpy()
    np.testing.assert_array_equal(info, torch.linalg.cholesky_ex(torch.tensor(s))[1].numpy())
    assert info.tolist() == [0, 0, 3]
    with pytest.raises(RuntimeError, match=r"\(Batch element 2\).*order 3 is not"):
        ember.linalg.cholesky(ember.tensor(s))
    with pytest.raises(RuntimeError, match="order 3 is not"):
        torch.linalg.cholesky(torch.tensor(s))
    assert ember.linalg.cholesky_ex(ember.tensor(np.zeros((0, 0))))[1].item() == 0
