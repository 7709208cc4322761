"""The keys-major attention (ops/attention_keys_major.py) against the query-major one."""

import numpy as np
import pytest

from ember.ops import attention as query_major
from ember.ops.attention_keys_major import attend_keys_major, attend_keys_major_backward


class _Saved:
    """What _attend_backward reads, from one query-major forward."""

    def __init__(self, q, k, v, mask, scale):
        self.k, self.v, self.dropout_mask = k, v, None
        self.out, self.p, self.a, self.qs = query_major._attend(q, k, v, mask, scale, None)


@pytest.mark.parametrize("mask_kind", ["none", "additive", "causal", "blocked_row"])
@pytest.mark.parametrize("with_weight_grad", [False, True])
def test_keys_major_equals_query_major(mask_kind, with_weight_grad):
    rng = np.random.default_rng(0)
    n, length, s, e, ev, scale = 5, 4, 6, 3, 2, 0.7
    q, k = rng.standard_normal((n, length, e)), rng.standard_normal((n, s, e))
    v = rng.standard_normal((n, s, ev))
    mask = None
    if mask_kind == "additive":
        mask = rng.standard_normal((length, s))
    elif mask_kind == "causal":
        mask = np.triu(np.full((length, s), -np.inf), 1)
    elif mask_kind == "blocked_row":  # a query with no key: weights and output 0
        mask = np.zeros((length, s))
        mask[1] = -np.inf
    out, p_t = attend_keys_major(q, k, v, mask, scale)
    ref = _Saved(q, k, v, mask, scale)
    np.testing.assert_allclose(out, ref.out, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(p_t.transpose(1, 2, 0), ref.p, rtol=1e-13, atol=1e-14)
    if mask_kind == "blocked_row":
        assert not p_t[:, :, 1].any() and not out[:, 1].any()

    g_out = rng.standard_normal(out.shape)
    g_w = rng.standard_normal((n, length, s)) if with_weight_grad else None
    got = attend_keys_major_backward(p_t, q, k, v, scale, g_out, g_w, True, True, True, True)
    want = query_major._attend_backward(ref, g_out, g_w, True, True, True, True)
    for name, a, b in zip(("dQ/s", "dK", "dV", "dS"), got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=name)


def test_only_the_weights_output_reaches_the_scores():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    _, p_t = attend_keys_major(q, k, v, None, 0.5)
    ref = _Saved(q, k, v, None, 0.5)
    g_w = rng.standard_normal((2, 3, 3))
    got = attend_keys_major_backward(p_t, q, k, v, 0.5, None, g_w, True, True, True, False)
    want = query_major._attend_backward(ref, None, g_w, True, True, True, False)
    for a, b in zip(got[:3], want[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    assert not got[2].any() and got[3] is None  # ∂V is 0: the output took no gradient
