"""Losses whose input and target differ in dtype, against torch: a float16 score with a float32
target (a half model's output with the data's labels), and a bool mask as a regression target.

Before, ember cast the target to the input's dtype in cross_entropy with probability targets
and binary_cross_entropy_with_logits (torch computes in the wider dtype: float32), refused a bool
target in mse and smooth_l1 (torch takes its 0s and 1s; ember's l1 and huber take it too,
where torch's l1 refuses it and torch's huber fails in backward), and cosine_similarity of a half
and an integer tensor failed in a norm."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

X = np.array([0.3, -1.2, 2.0, 0.7])
Y = np.array([0.2, 0.9, 0.5, 1.0])
MASK = np.array([True, False, False, True])

CASES = {
    "bce_logits": (
        lambda F, x, y: F.binary_cross_entropy_with_logits(x, y),
        "float16",
        Y,
        "float32",
    ),
    "ce_probabilities": (
        lambda F, x, y: F.cross_entropy(x.reshape(1, 4), y.reshape(1, 4)),
        "float16",
        Y,
        "float32",
    ),
    "mse_mask": (lambda F, x, y: F.mse_loss(x, y), "float32", MASK, "bool"),
    "smooth_l1_mask": (lambda F, x, y: F.smooth_l1_loss(x, y), "float64", MASK, "bool"),
    "cosine_half_int": (
        lambda F, x, y: F.cosine_similarity(x, y, dim=0),
        "float16",
        Y * 4,
        "int64",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_mixed_dtype_losses_as_torch(name):
    f, dx, y, dy = CASES[name]
    results = []
    for lib in (ember, torch):
        x = lib.tensor(X.astype(dx), requires_grad=True)
        out = f(lib.nn.functional, x, lib.tensor(y.astype(dy)))
        out.float().sum().backward()
        assert x.grad.dtype == x.dtype
        results.append((str(out.dtype).replace("torch.", ""), out.detach().float().numpy(),
                        x.grad.float().numpy()))  # fmt: skip
    (de, ve, ge), (dt, vt, gt) = results
    assert de == dt
    np.testing.assert_allclose(ve, vt, rtol=2e-3, atol=1e-3)
    np.testing.assert_allclose(ge, gt, rtol=2e-3, atol=1e-3)
