"""torch.nn.functional's and torch.nn's signatures, held in ember's: every torch positional
parameter in torch's order (a prefix of ember's), every torch keyword present. Then what the
signature work added, each against torch on the same inputs: the deprecated size_average and
reduce of the losses (torch's reductions and warnings), weight= of mse_loss, l1_loss and
huber_loss (values and gradients), dropout(input=...) and normalize(out=...)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

KNOWN: set[str] = set()  # torch's signatures ember's differ from (none now)
_POS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_VAR = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _mismatch(t, e) -> str | None:
    try:
        tp, ep = inspect.signature(t).parameters, inspect.signature(e).parameters
    except (TypeError, ValueError):
        return None  # a builtin without a signature: nothing to compare
    tpos = [n for n, p in tp.items() if p.kind in _POS]
    epos = [n for n, p in ep.items() if p.kind in _POS]
    e_kwargs = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in ep.values())
    if epos[: len(tpos)] != tpos:
        return f"positional: torch {tpos}, ember {epos}"
    missing = [n for n, p in tp.items() if p.kind not in _VAR and n not in ep and not e_kwargs]
    return f"missing {missing}" if missing else None


def _pairs():
    for name in sorted(dir(TF)):
        t, e = getattr(TF, name), getattr(EF, name, None)
        if name.startswith("_") or e is None or inspect.isclass(t) or inspect.ismodule(t):
            continue
        if callable(t):
            yield f"F.{name}", t, e
    for name in sorted(dir(torch.nn)):
        t, e = getattr(torch.nn, name), getattr(enn, name, None)
        if inspect.isclass(t) and issubclass(t, torch.nn.Module) and inspect.isclass(e):
            yield f"nn.{name}", t.__init__, e.__init__


def test_signatures_match_torch():
    found = {n: m for n, t, e in _pairs() if (m := _mismatch(t, e))}
    assert set(found) - KNOWN == set(), found
    assert KNOWN <= set(found), "a known mismatch is gone: drop it from KNOWN"


# ------------------------------------------------------------ size_average and reduce
rng = np.random.default_rng(0)
X = rng.standard_normal((4, 5))
Y = rng.standard_normal((4, 5))
P = 1 / (1 + np.exp(-X))
T01 = (rng.random((4, 5)) > 0.5) * 1.0
CLS = np.array([1, 0, 4, 2])
SIGNS = np.where(rng.random(4) > 0.5, 1.0, -1.0)
SIGNS45 = np.where(rng.random((4, 5)) > 0.5, 1.0, -1.0)
LOGP = X - np.log(np.exp(X).sum(1, keepdims=True))
ML = np.array([[3, 0, -1, 1, 2], [1, 2, 4, -1, 0], [0, -1, 0, 0, 0], [4, 3, -1, 2, 2]])

# name: (inputs as arrays, positional arguments before size_average, ...after it before reduce)
CASES = {
    "binary_cross_entropy": ((P, T01), (None,), ()),
    "binary_cross_entropy_with_logits": ((X, T01), (None,), ()),
    "cosine_embedding_loss": ((X, Y, SIGNS), (0.1,), ()),
    "cross_entropy": ((X, CLS), (None,), (-100,)),
    "hinge_embedding_loss": ((X, SIGNS45), (1.0,), ()),
    "kl_div": ((LOGP, np.exp(LOGP[::-1].copy())), (), ()),
    "l1_loss": ((X, Y), (), ()),
    "margin_ranking_loss": ((X[:, 0], Y[:, 0], SIGNS), (0.2,), ()),
    "mse_loss": ((X, Y), (), ()),
    "multi_margin_loss": ((X, CLS), (1, 1.0, None), ()),
    "multilabel_margin_loss": ((X, ML), (), ()),
    "multilabel_soft_margin_loss": ((X, T01), (None,), ()),
    "nll_loss": ((LOGP, CLS), (None,), (-100,)),
    "poisson_nll_loss": ((X, np.abs(Y)), (True, False), (1e-8,)),
    "smooth_l1_loss": ((X, Y), (), ()),
    "soft_margin_loss": ((X, SIGNS45), (), ()),
    "triplet_margin_loss": ((X, Y, X[::-1].copy()), (1.0, 2.0, 1e-6, False), ()),
}
LEGACY = [(True, None), (False, None), (None, False), (False, True), (None, True)]


def _call(mod, name, size_average, reduce, reduction="mean"):
    arrays, before, between = CASES[name]
    as_t = torch.tensor if mod is TF else ember.tensor
    inputs = [as_t(a) for a in arrays]
    fn = getattr(mod, name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*inputs, *before, size_average, *between, reduce, reduction)
    legacy = [w for w in caught if "size_average and reduce" in str(w.message)]
    return np.asarray(out.detach().numpy() if mod is TF else out.array), legacy


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize(("size_average", "reduce"), LEGACY)
def test_legacy_arguments_by_position_as_torch(name, size_average, reduce):
    e, ew = _call(EF, name, size_average, reduce, "sum")  # the legacy pair overrides 'sum'
    t, tw = _call(TF, name, size_average, reduce, "sum")
    assert e.shape == t.shape
    np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
    assert [w.category for w in ew] == [UserWarning]
    assert ew[0].filename == __file__  # it names the code that called the loss


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_legacy_argument_no_warning(name):
    e, ew = _call(EF, name, None, None, "sum")
    t, _ = _call(TF, name, None, None, "sum")
    np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
    assert ew == []


@pytest.mark.parametrize(("size_average", "reduce"), LEGACY)
def test_kl_div_batchmean_still_divides_with_legacy_arguments(size_average, reduce):
    e, _ = _call(EF, "kl_div", size_average, reduce, "batchmean")
    t, _ = _call(TF, "kl_div", size_average, reduce, "batchmean")
    np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_nn_and_functional_share_the_legacy_mapping():
    from ember.functional.loss_legacy import legacy_reduction
    from ember.nn import loss

    assert loss.legacy_reduction is legacy_reduction


# ------------------------------------------------------------ weight=
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weight_as_torch(name, reduction):
    w = rng.random((4, 5)) + 0.1
    e_in = [ember.tensor(a, requires_grad=True) for a in (X, Y * 2, w)]
    t_in = [torch.tensor(a, requires_grad=True) for a in (X, Y * 2, w)]
    e = getattr(EF, name)(e_in[0], e_in[1], reduction=reduction, weight=e_in[2])
    t = getattr(TF, name)(t_in[0], t_in[1], reduction=reduction, weight=t_in[2])
    np.testing.assert_allclose(e.array, t.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(t.shape)
    e.backward(ember.tensor(g))
    t.backward(torch.tensor(g))
    for a, b in zip(e_in, t_in):
        np.testing.assert_allclose(a.grad.array, b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weight_of_another_shape_refused_as_torch(name):
    w = np.ones((5,))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(TF, name)(torch.tensor(X), torch.tensor(Y), weight=torch.tensor(w))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(EF, name)(ember.tensor(X), ember.tensor(Y), weight=ember.tensor(w))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weight_with_a_bad_reduction_refused(name):
    with pytest.raises(ValueError):
        getattr(TF, name)(
            torch.tensor(X),
            torch.tensor(Y),
            reduction="bad",
            weight=torch.ones(4, 5, dtype=torch.float64),
        )
    with pytest.raises(ValueError):
        getattr(EF, name)(
            ember.tensor(X), ember.tensor(Y), reduction="bad", weight=ember.ones(4, 5)
        )


# ------------------------------------------------------------ dropout(input=), normalize(out=)
def test_dropout_takes_input_by_name():
    x = ember.ones(3, 4)
    assert EF.dropout(input=x, p=0.5, training=False) is x
    ember.manual_seed(0)
    y = EF.dropout(input=x, p=0.5)
    assert set(np.unique(y.array)) <= {0.0, 2.0}


def test_normalize_out_writes_and_returns_out():
    e_out, t_out = ember.empty(4, 5, dtype=ember.float64), torch.empty(4, 5, dtype=torch.float64)
    e = EF.normalize(ember.tensor(X), 2.0, 1, 1e-12, e_out)
    t = TF.normalize(torch.tensor(X), 2.0, 1, 1e-12, t_out)
    assert e is e_out and t is t_out
    np.testing.assert_allclose(e_out.array, t_out.numpy(), rtol=1e-12)


def test_normalize_out_resizes_with_a_warning_as_torch():
    e_out, t_out = ember.empty(2, dtype=ember.float64), torch.empty(2, dtype=torch.float64)
    with pytest.warns(UserWarning, match="resized"):
        TF.normalize(torch.tensor(X), out=t_out)
    with pytest.warns(UserWarning, match="resized"):
        EF.normalize(ember.tensor(X), out=e_out)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.array, t_out.numpy(), rtol=1e-12)


def test_normalize_out_refused_with_grad_as_torch():
    msg = "don't support automatic differentiation"
    with pytest.raises(RuntimeError, match=msg):
        TF.normalize(torch.tensor(X, requires_grad=True), out=torch.empty(4, 5))
    with pytest.raises(RuntimeError, match=msg):
        EF.normalize(ember.tensor(X, requires_grad=True), out=ember.empty(4, 5))
    with torch.no_grad():
        TF.normalize(torch.tensor(X, requires_grad=True), out=torch.empty(4, 5))
    with ember.no_grad():
        EF.normalize(ember.tensor(X, requires_grad=True), out=ember.empty(4, 5))


def test_normalize_out_of_a_narrower_kind_refused_as_torch():
    with pytest.raises(RuntimeError, match="can't be cast"):
        TF.normalize(torch.tensor(X), out=torch.empty(4, 5, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="can't be cast"):
        EF.normalize(ember.tensor(X), out=ember.empty(4, 5, dtype=ember.int64))


# ------------------------------------------------------------ nn constructors
def test_rnn_cell_base_num_chunks_as_torch():
    e, t = enn.RNNCellBase(4, 5, True, 3), torch.nn.RNNCellBase(4, 5, True, 3)
    assert tuple(e.weight_ih.shape) == tuple(t.weight_ih.shape) == (15, 4)
    assert tuple(enn.LSTMCell(4, 5).weight_hh.shape) == (20, 5)


def test_sync_batch_norm_bias_false_as_torch():
    e, t = enn.SyncBatchNorm(3, bias=False), torch.nn.SyncBatchNorm(3, bias=False)
    assert e.bias is None and t.bias is None
    assert repr(e) == repr(t)
