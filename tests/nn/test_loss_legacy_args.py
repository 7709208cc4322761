"""The loss modules, Dropout and Hardtanh take torch's constructor arguments in torch's
positions, the deprecated ones included (size_average and reduce, Hardtanh's min_value and
max_value), and give them torch's meaning: torch code passing them by position builds the
same module in ember."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn

torch = pytest.importorskip("torch")
tnn = torch.nn

CLASSES = (
    "MSELoss L1Loss SoftMarginLoss MultiLabelMarginLoss CrossEntropyLoss NLLLoss BCELoss"
    " BCEWithLogitsLoss KLDivLoss SmoothL1Loss HuberLoss MarginRankingLoss HingeEmbeddingLoss"
    " CosineEmbeddingLoss MultiLabelSoftMarginLoss MultiMarginLoss PoissonNLLLoss"
    " GaussianNLLLoss TripletMarginLoss TripletMarginWithDistanceLoss CTCLoss"
    " Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout Hardtanh"
).split()


def _params(cls):
    """(positional names in order, keyword-only names) of cls.__init__ without self."""
    ps = list(inspect.signature(cls.__init__).parameters.values())[1:]
    positional = [p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword = sorted(p.name for p in ps if p.kind == p.KEYWORD_ONLY)
    return positional, keyword


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_parameters_are_torchs(name):
    assert _params(getattr(enn, name)) == _params(getattr(tnn, name))


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_defaults_are_torchs(name):
    def defaults(cls):
        ps = list(inspect.signature(cls.__init__).parameters.values())[1:]
        return {p.name: p.default for p in ps}

    assert defaults(getattr(enn, name)) == defaults(getattr(tnn, name))


@pytest.mark.parametrize(
    ("size_average", "reduce", "expected"),
    [
        (None, None, "mean"),  # no legacy argument: reduction as given
        (True, None, "mean"),
        (False, None, "sum"),
        (None, True, "mean"),
        (None, False, "none"),
        (False, True, "sum"),
        (True, False, "none"),
        (False, False, "none"),
    ],
)
def test_legacy_reduction_mapping_as_torch(size_average, reduce, expected):
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        e = enn.MSELoss(size_average, reduce, "mean")
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        t = tnn.MSELoss(size_average, reduce, "mean")
    assert e.reduction == t.reduction == expected
    legacy = size_average is not None or reduce is not None
    assert [w.category for w in ew] == ([UserWarning] if legacy else [])
    assert len(tw) == len(ew)
    if legacy:
        assert f"reduction='{expected}'" in str(ew[0].message)
        assert "size_average and reduce" in str(ew[0].message)
        assert ew[0].filename == __file__  # the warning names the code that built the loss


def test_legacy_arguments_override_reduction():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert enn.L1Loss(False, None, "none").reduction == "sum"
    with pytest.warns(UserWarning) as record:  # a subclass's own __init__: names this file too
        loss = enn.NLLLoss(None, None, -100, False, "sum")
    assert loss.reduction == "none"
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert enn.NLLLoss(None, False).reduction == "sum"  # size_average False


def test_plain_reduction_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert enn.CrossEntropyLoss(reduction="sum").reduction == "sum"
        assert enn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
        assert enn.HuberLoss("none").reduction == "none"
        assert enn.CTCLoss(0, "sum").reduction == "sum"


def test_reprs_unchanged():
    assert repr(enn.MSELoss()) == "MSELoss()"  # torch's: no fields
    with pytest.warns(UserWarning):
        assert repr(enn.MSELoss(None, False)) == repr(tnn.MSELoss(None, False)) == "MSELoss()"
    assert repr(enn.MultiMarginLoss()) == "MultiMarginLoss()"
    assert repr(enn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"
    assert repr(enn.Hardtanh(-2.0, 2.0)) == repr(tnn.Hardtanh(-2.0, 2.0))


def _rng():
    return np.random.default_rng(0)


def _both(x):
    """x (NumPy) as an ember tensor and a torch tensor."""
    return ember.tensor(x), torch.tensor(x)


def _inputs(name, module):
    """(ember inputs, torch inputs) for the forward of loss ``name`` built as ``module``."""
    r = _rng()
    n, c = 4, 5
    x = r.standard_normal((n, c)).astype(np.float32)
    y = r.standard_normal((n, c)).astype(np.float32)
    labels = r.integers(0, c, size=n)
    labels[1] = 1  # hits ignore_index=1 in the CrossEntropyLoss case
    sign = np.where(r.standard_normal(n) > 0, 1.0, -1.0).astype(np.float32)
    if name in ("MSELoss", "L1Loss", "SmoothL1Loss"):
        args = (x, y)
    elif name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"):
        if name == "NLLLoss":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        args = (x, labels.astype(np.int64))
    elif name == "BCELoss":
        args = (1 / (1 + np.exp(-x)), (y > 0).astype(np.float32))
    elif name in ("BCEWithLogitsLoss", "MultiLabelSoftMarginLoss"):
        args = (x, (y > 0).astype(np.float32))
    elif name == "KLDivLoss":
        logq = x - np.log(np.exp(x).sum(1, keepdims=True))
        logp = y - np.log(np.exp(y).sum(1, keepdims=True))
        args = (logq, logp if module.log_target else np.exp(logp))
    elif name == "SoftMarginLoss":
        args = (x, np.where(y > 0, 1.0, -1.0).astype(np.float32))
    elif name == "MarginRankingLoss":
        args = (x[:, 0], y[:, 0], sign)
    elif name == "HingeEmbeddingLoss":
        args = (x, np.where(y > 0, 1.0, -1.0).astype(np.float32))
    elif name == "CosineEmbeddingLoss":
        args = (x, y, sign)
    elif name == "PoissonNLLLoss":
        args = (x if module.log_input else np.abs(x), np.abs(y) * 3)
    elif name == "TripletMarginLoss":
        args = (x, y, r.standard_normal((n, c)).astype(np.float32))
    elif name == "MultiLabelMarginLoss":
        t = np.full((n, c), -1, dtype=np.int64)
        t[:, 0], t[:, 1] = 2, 4
        args = (x, t)
    else:
        raise AssertionError(name)
    es, ts = zip(*(_both(a) for a in args), strict=True)
    return es, ts


def _weight(c=5):
    w = np.linspace(0.5, 2.0, c).astype(np.float32)
    return _both(w)


# (name, the positional constructor arguments given one side's weight), size_average and reduce
# in torch's slots
CASES = [
    ("MSELoss", lambda w: (None, False)),
    ("MSELoss", lambda w: (False,)),
    ("L1Loss", lambda w: (False, True)),
    ("SoftMarginLoss", lambda w: (None, False)),
    ("MultiLabelMarginLoss", lambda w: (False, None)),
    ("NLLLoss", lambda w: (None, False, -100)),
    ("NLLLoss", lambda w: (w, False, 2)),
    ("CrossEntropyLoss", lambda w: (w, True, 1, True)),
    ("CrossEntropyLoss", lambda w: (None, False, -100, None, "mean", 0.1)),
    ("BCELoss", lambda w: (w, None, False)),
    ("BCEWithLogitsLoss", lambda w: (w, False, None, "mean", None)),
    ("KLDivLoss", lambda w: (None, False)),
    ("KLDivLoss", lambda w: (False, None, "mean", True)),
    ("SmoothL1Loss", lambda w: (False, None, "mean", 0.5)),
    ("MarginRankingLoss", lambda w: (0.2, None, False)),
    ("HingeEmbeddingLoss", lambda w: (0.5, False)),
    ("CosineEmbeddingLoss", lambda w: (0.1, None, False)),
    ("MultiLabelSoftMarginLoss", lambda w: (w, False)),
    ("MultiMarginLoss", lambda w: (2, 0.5, w, None, False)),
    ("PoissonNLLLoss", lambda w: (True, False, False, 1e-8, None)),
    ("PoissonNLLLoss", lambda w: (False, True, None, 1e-6, False)),
    ("TripletMarginLoss", lambda w: (1.0, 2.0, 1e-6, True, False)),
]


@pytest.mark.parametrize(
    ("name", "make_args"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_positional_legacy_arguments_match_torch(name, make_args):
    ew, tw = _weight()
    with pytest.warns(UserWarning, match="size_average and reduce"):
        e = getattr(enn, name)(*make_args(ew))
    with pytest.warns(UserWarning, match="size_average and reduce"):
        t = getattr(tnn, name)(*make_args(tw))
    assert e.reduction == t.reduction
    es, ts = _inputs(name, t)
    got = e(*es).numpy()
    want = t(*ts).numpy()
    assert got.shape == want.shape
    assert np.isfinite(want).all()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_attributes_land_in_torchs_slots():
    ew, _ = _weight()
    with pytest.warns(UserWarning):
        ce = enn.CrossEntropyLoss(ew, True, 1, True, "none", 0.1)
    assert (ce.ignore_index, ce.reduction, ce.label_smoothing) == (1, "mean", 0.1)
    assert ce.weight is ew
    with pytest.warns(UserWarning):
        p = enn.PoissonNLLLoss(False, True, None, 1e-3, False)
    assert (p.log_input, p.full, p.eps, p.reduction) == (False, True, 1e-3, "none")
    with pytest.warns(UserWarning):
        tm = enn.TripletMarginLoss(0.5, 1.0, 1e-4, True, None, False)
    assert (tm.margin, tm.p, tm.eps, tm.swap, tm.reduction) == (0.5, 1.0, 1e-4, True, "none")
    bce = enn.BCEWithLogitsLoss(None, None, None, "sum", ew)
    assert bce.pos_weight is ew and bce.reduction == "sum"
    assert enn.SmoothL1Loss(None, None, "sum", 0.25).beta == 0.25
    assert enn.KLDivLoss(None, None, "batchmean", True).log_target is True


# ---------------------------------------------------------------- Dropout and Hardtanh


def test_dropout_inplace_positional():
    d = enn.Dropout(0.25, True)
    assert (d.p, d.inplace) == (0.25, True)
    assert enn.Dropout().inplace is False
    assert enn.Dropout(0.2, inplace=False).inplace is False


@pytest.mark.parametrize("inplace", [False, True])
def test_dropout_inplace_output_as_torch(inplace):
    x = _rng().standard_normal((6, 7)).astype(np.float32)
    e, t = enn.Dropout(0.4, inplace), tnn.Dropout(0.4, inplace)
    e.eval(), t.eval()
    np.testing.assert_array_equal(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())
    e.train(), t.train()
    np.testing.assert_array_equal(
        enn.Dropout(1.0, inplace)(ember.tensor(x)).numpy(),
        tnn.Dropout(1.0, inplace)(torch.tensor(x)).numpy(),
    )
    out = e(ember.tensor(x)).numpy()  # training: every element 0 or x / (1 - p), as torch
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.6, rtol=1e-6)


def test_hardtanh_deprecated_aliases_as_torch():
    x = np.linspace(-3, 3, 13).astype(np.float32)
    with pytest.warns(FutureWarning, match="min_value"):
        e = enn.Hardtanh(min_value=-2.0)
    with pytest.warns(FutureWarning, match="min_value"):
        t = tnn.Hardtanh(min_value=-2.0)
    assert (e.min_val, e.max_val) == (t.min_val, t.max_val) == (-2.0, 1.0)
    np.testing.assert_array_equal(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())

    with pytest.warns(FutureWarning) as erecord:
        e = enn.Hardtanh(-1.0, 1.0, False, -0.5, 2.5)  # the aliases win, as in torch
    with pytest.warns(FutureWarning) as trecord:
        t = tnn.Hardtanh(-1.0, 1.0, False, -0.5, 2.5)
    assert [str(w.message) for w in erecord] == [str(w.message) for w in trecord]
    assert len(erecord) == 2
    assert (e.min_val, e.max_val) == (t.min_val, t.max_val) == (-0.5, 2.5)
    np.testing.assert_array_equal(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())
    assert repr(e) == repr(t)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = enn.Hardtanh(-2.0, 2.0, True)
    assert (e.min_val, e.max_val, e.inplace) == (-2.0, 2.0, True)


def test_hardtanh_alias_checked_as_max_above_min():
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="max_val"):
        enn.Hardtanh(max_value=-2.0)
