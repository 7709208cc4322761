"""The common-mistake warnings fire from the layers that make the mistake possible."""

import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.mistakes import EmberWarning, reset_warnings


@pytest.fixture(autouse=True)
def _fresh_warnings():
    reset_warnings()
    yield
    reset_warnings()


def test_batchnorm_in_training_mode_under_no_grad_warns():
    bn = nn.BatchNorm1d(4)
    with ember.no_grad(), pytest.warns(EmberWarning, match="BatchNorm1d ran in training mode"):
        bn(ember.randn(8, 4))


def test_batchnorm_in_eval_mode_under_no_grad_is_quiet(recwarn):
    bn = nn.BatchNorm1d(4).eval()
    with ember.no_grad():
        bn(ember.randn(8, 4))
    assert not [w for w in recwarn if issubclass(w.category, EmberWarning)]


def test_inverted_boolean_mask_in_attention_warns():
    q = ember.randn(1, 4, 8)
    causal = ember.tensor([[j <= i for j in range(4)] for i in range(4)])
    F.scaled_dot_product_attention(q, q, q, attn_mask=causal)  # right polarity: quiet
    with pytest.warns(EmberWarning):
        F.scaled_dot_product_attention(q, q, q, attn_mask=~causal)  # inverted: last row empty


def test_multihead_attention_with_inverted_mask_warns():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = ember.randn(1, 4, 8)
    blocked = ember.tensor([[j > i for j in range(4)] for i in range(4)])  # torch's: True = blocked
    mha(x, x, x, attn_mask=blocked)  # right polarity: quiet
    with pytest.warns(EmberWarning):
        mha(x, x, x, attn_mask=~blocked)
