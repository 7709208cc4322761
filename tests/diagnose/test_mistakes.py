"""Common-mistake warnings: raised once each, each with its fix; silent on correct use."""

import warnings

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.diagnose import EmberWarning, check_attention_mask


def _ember_warnings(record):
    return [w for w in record if issubclass(w.category, EmberWarning)]


def test_softmax_into_cross_entropy_warns_once_with_fix():
    z = ember.randn(8, 5, requires_grad=True)
    t = ember.randint(0, 5, (8,))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        F.cross_entropy(F.softmax(z, dim=1), t)
        F.cross_entropy(F.softmax(z, dim=1), t)  # a second time: no second warning
    ws = _ember_warnings(rec)
    assert len(ws) == 1
    msg = str(ws[0].message)
    assert "Softmax" in msg and "logits" in msg and "Fix: drop the softmax" in msg


def test_log_softmax_into_cross_entropy_and_module_loss_warn():
    z = ember.randn(8, 5, requires_grad=True)
    t = ember.randint(0, 5, (8,))
    with pytest.warns(EmberWarning, match="nll_loss"):
        nn.CrossEntropyLoss()(nn.LogSoftmax(dim=1)(z), t)


def test_log_of_softmax_written_out_is_caught_too():
    z = ember.randn(8, 5, requires_grad=True)
    with pytest.warns(EmberWarning, match="received the output of LogSoftmax"):
        F.cross_entropy(F.softmax(z, dim=1).log(), ember.randint(0, 5, (8,)))


def test_batch_norm_message_names_running_statistics():
    from ember.mistakes import check_training_mode_in_no_grad

    with pytest.warns(EmberWarning, match="overwrites its running statistics") as rec:
        check_training_mode_in_no_grad("BatchNorm2d")
    assert "model.eval()" in str(rec[0].message)


def test_sigmoid_into_bce_with_logits_and_softmax_into_nll_warn():
    z = ember.randn(8, 1, requires_grad=True)
    y = ember.rand(8, 1)
    with pytest.warns(EmberWarning, match="applies σ itself"):
        F.binary_cross_entropy_with_logits(z.sigmoid(), y)
    z5 = ember.randn(8, 5, requires_grad=True)
    with pytest.warns(EmberWarning, match="log-probabilities"):
        F.nll_loss(z5.softmax(dim=1), ember.randint(0, 5, (8,)))


def test_correct_losses_do_not_warn():
    z = ember.randn(8, 5, requires_grad=True)
    t = ember.randint(0, 5, (8,))
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmberWarning)
        F.cross_entropy(z, t).backward()
        F.nll_loss(z.log_softmax(dim=1), t)
        F.binary_cross_entropy_with_logits(z, ember.rand(8, 5))
        F.cross_entropy((z * 2).relu(), t)


def test_dropout_in_training_mode_under_no_grad_warns_once():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = ember.randn(3, 4)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.no_grad():
            model(x)
            model(x)
    ws = _ember_warnings(rec)
    assert len(ws) == 1 and "model.eval()" in str(ws[0].message)
    assert "Dropout" in str(ws[0].message)


def test_dropout_eval_or_training_with_grad_is_silent():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = ember.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmberWarning)
        model(x).sum().backward()  # training with grad: fine
        model.eval()
        with ember.no_grad():
            model(x)  # evaluation in eval mode: fine


def test_inverted_causal_mask_is_caught():
    L = 5
    keep = np.tril(np.ones((L, L), dtype=bool))  # True = keep, as torch's SDPA
    assert check_attention_mask(keep, true_means="keep") is True
    with pytest.warns(EmberWarning, match="polarity looks inverted") as rec:
        ok = check_attention_mask(~keep, true_means="keep")  # the inverted one
    assert ok is False
    assert "(4,)" in str(rec[0].message)  # the last query row masks every key
    # the same inverted mask read with the other convention is a correct causal mask
    assert check_attention_mask(~np.tril(np.ones((L, L), dtype=bool)), true_means="mask")


def test_attention_mask_batched_additive_and_tensor():
    m = np.zeros((2, 3, 4), dtype=np.float32)
    assert check_attention_mask(ember.tensor(m))
    m[1, 2, :] = -np.inf
    with pytest.warns(EmberWarning, match=r"\(1, 2\)"):
        assert not check_attention_mask(m)
    with pytest.raises(TypeError, match="boolean or float"):
        check_attention_mask(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="true_means"):
        check_attention_mask(np.ones((2, 2), dtype=bool), true_means="yes")
