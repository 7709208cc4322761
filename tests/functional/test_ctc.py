"""CTC loss against torch in float64: losses and gradients w.r.t. the logits and w.r.t. the
log_probs tensor, every reduction, padded and concatenated targets, mixed lengths, repeated
labels, impossible alignments (inf / NaN, or 0 with zero_infinity), empty targets; a gradcheck,
the module, torch's argument errors, and a short training run that must reduce the loss."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import optim
from ember.functional.ctc import ctc_loss
from ember.nn.ctc import CTCLoss
from ember.nn.linear import Linear

REDUCTIONS = ["mean", "sum", "none"]
T, N, C = 12, 5, 6
# repeated labels (1,1 and 4,4,4 need blanks between them), mixed lengths, an empty target
TARGETS = np.array([[1, 1, 2, 3, 0], [2, 3, 0, 0, 0], [4, 4, 4, 0, 0], [5, 1, 2, 3, 4], [0] * 5])
TARGET_LENGTHS = np.array([4, 2, 3, 5, 0])
INPUT_LENGTHS = np.array([12, 9, 10, 11, 4])


def _concat(targets, lengths):
    return np.concatenate([row[:k] for row, k in zip(targets, lengths)])


def _run(torch, z, targets, il, tl, concat=False, leaf="logits", seed=0, **kw):
    """Loss and gradients (w.r.t. logits z and log_probs) in ember and torch, same weights."""
    if concat:
        targets = _concat(targets, tl)
    w = (
        np.random.default_rng(seed).standard_normal(len(il))
        if kw.get("reduction") == "none"
        else 1.0
    )
    ze = ember.Tensor(z.copy(), requires_grad=True)
    zt = torch.tensor(z, requires_grad=True)
    if leaf == "logits":
        lpe, lpt = ze.log_softmax(dim=2), zt.log_softmax(2)
        lpe.retain_grad()
        lpt.retain_grad()
    else:  # the log-probabilities themselves are the leaf
        lp = torch.tensor(z).log_softmax(2).numpy()
        lpe = ember.Tensor(lp.copy(), requires_grad=True)
        lpt = torch.tensor(lp, requires_grad=True)
    le = ctc_loss(lpe, targets, il, tl, **kw)
    lt = torch.nn.functional.ctc_loss(
        lpt, torch.tensor(targets), torch.tensor(il), torch.tensor(tl), **kw
    )
    (le * ember.Tensor(np.asarray(w))).sum().backward()
    (lt * torch.tensor(w)).sum().backward()
    return le, lt, lpe, lpt, ze, zt


def _close(e, t):
    np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concat", [False, True])
def test_matches_torch(torch, reduction, concat):
    z = np.random.default_rng(1).standard_normal((T, N, C)) * 2
    le, lt, lpe, lpt, ze, zt = _run(
        torch, z, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, concat, reduction=reduction
    )
    assert le.shape == tuple(lt.shape) and le.dtype == np.float64
    _close(le.array, lt.detach().numpy())
    _close(lpe.grad.array, lpt.grad.numpy())
    _close(ze.grad.array, zt.grad.numpy())
    assert np.all(lpe.grad.array[INPUT_LENGTHS[1] :, 1] == 0)  # frames past T_n: no gradient


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_log_probs_leaf_matches_torch(torch, reduction):
    """torch's gradient w.r.t. log_probs as a leaf: e^y − γ, not the free-variable derivative."""
    z = np.random.default_rng(2).standard_normal((T, N, C))
    le, lt, lpe, lpt, _, _ = _run(
        torch, z, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, leaf="log_probs", reduction=reduction
    )
    _close(le.array, lt.detach().numpy())
    _close(lpe.grad.array, lpt.grad.numpy())


def test_blank_not_zero_and_larger_batch(torch):
    rng = np.random.default_rng(3)
    t, n, c, blank = 30, 8, 10, 9
    tl = rng.integers(0, 9, n)
    il = rng.integers(20, t + 1, n)
    tg = rng.integers(0, blank, (n, 9))
    z = rng.standard_normal((t, n, c))
    for red in REDUCTIONS:
        le, lt, lpe, lpt, ze, zt = _run(torch, z, tg, il, tl, blank=blank, reduction=red)
        _close(le.array, lt.detach().numpy())
        _close(ze.grad.array, zt.grad.numpy())
        _close(lpe.grad.array, lpt.grad.numpy())


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_impossible_alignment(torch, zero_infinity, reduction):
    """1,1,1 needs 5 frames (blanks between repeats); 4 give p = 0: ∞ (NaN grads) or 0."""
    z = np.random.default_rng(4).standard_normal((6, 3, 4))
    tg = np.array([[1, 1, 1], [2, 3, 0], [3, 3, 0]])
    il, tl = np.array([4, 6, 3]), np.array([3, 2, 2])
    le, lt, lpe, lpt, ze, zt = _run(
        torch, z, tg, il, tl, reduction=reduction, zero_infinity=zero_infinity
    )
    _close(le.array, lt.detach().numpy())
    _close(lpe.grad.array, lpt.grad.numpy())
    _close(ze.grad.array, zt.grad.numpy())
    if reduction == "none":
        assert le.array[0] == (0.0 if zero_infinity else np.inf)
        assert np.isfinite(le.array[1:]).all()
    if zero_infinity:
        assert np.all(lpe.grad.array[:, 0] == 0) and np.isfinite(lpe.grad.array).all()
    else:
        assert np.isnan(lpe.grad.array[:4, 0]).all()


def test_empty_targets_and_empty_inputs(torch):
    z = np.random.default_rng(5).standard_normal((5, 3, 4))
    tg = np.zeros((3, 2), dtype=np.int64)
    il, tl = np.array([5, 0, 3]), np.array([0, 0, 0])
    for red in REDUCTIONS:
        le, lt, lpe, lpt, ze, zt = _run(torch, z, tg, il, tl, reduction=red)
        _close(le.array, lt.detach().numpy())
        _close(lpe.grad.array, lpt.grad.numpy())
    # −log p of the empty label = −Σ_t y_t^b
    lp = ember.Tensor(z).log_softmax(dim=2).array
    loss = ctc_loss(ember.Tensor(lp), tg, il, tl, reduction="none").array
    np.testing.assert_allclose(loss, [-lp[:5, 0, 0].sum(), 0.0, -lp[:3, 2, 0].sum()])


def test_unbatched_and_float32(torch):
    z = np.random.default_rng(6).standard_normal((7, 5))
    lp = torch.tensor(z).log_softmax(1)
    want = torch.nn.functional.ctc_loss(
        lp, torch.tensor([1, 2, 2]), torch.tensor(7), torch.tensor(3), reduction="none"
    )
    got = ctc_loss(ember.Tensor(lp.numpy()), np.array([1, 2, 2]), 7, 3, reduction="none")
    assert got.shape == () and np.isclose(got.item(), want.item(), rtol=1e-12)
    z32 = np.random.default_rng(7).standard_normal((T, N, C)).astype(np.float32)
    le, lt, lpe, lpt, ze, zt = _run(torch, z32, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    assert le.dtype == np.float32 and ze.grad.dtype == np.float32
    np.testing.assert_allclose(le.array, lt.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(ze.grad.array, zt.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_gradcheck():
    z = ember.Tensor(np.random.default_rng(8).standard_normal((6, 3, 4)), requires_grad=True)
    tg = np.array([[1, 1, 3], [2, 0, 0], [3, 2, 1]])
    il, tl = np.array([6, 4, 5]), np.array([3, 1, 3])
    for red in REDUCTIONS:
        assert ember.gradcheck(
            lambda x, r=red: ctc_loss(x.log_softmax(dim=2), tg, il, tl, reduction=r), (z,)
        )


def test_module_equals_function(torch):
    z = np.random.default_rng(9).standard_normal((T, N, C))
    lp = ember.Tensor(z).log_softmax(dim=2)
    for red in REDUCTIONS:
        m = CTCLoss(blank=0, reduction=red, zero_infinity=True)
        got = m(lp, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS).array
        want = ctc_loss(lp, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, 0, red, True).array
        np.testing.assert_array_equal(got, want)
    assert repr(m) == "CTCLoss()"  # torch's: no fields
    with pytest.raises(ValueError, match="reduction"):
        CTCLoss(reduction="avg")


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(il=[13, 9, 10, 11, 4]), r"input_lengths.*sample 0 has value 13"),
        (dict(il=[12, -1, 10, 11, 4]), r"input_lengths.*sample 1 has value -1"),
        (dict(tl=[4, 2, 3, 5, -2]), r"target_lengths.*sample 4 has value -2"),
        (dict(tl=[4, 2, 6, 5, 0]), r"target_lengths\[2\] = 6 exceeds"),
        (dict(tl=[4, 2, 3]), r"one entry per sample"),
        (dict(blank=6), r"blank must be in label range"),
        (dict(blank=-1), r"blank must be in label range"),
        (dict(tg=[[1, 0, 2, 3, 0]] + TARGETS[1:].tolist()), r"sample 0's target 1 is 0: the blank"),
        (dict(tg=[[1, 1, 2, 7, 0]] + TARGETS[1:].tolist()), r"target 3 is 7: out of range"),
        (dict(concat_len=13), r"concatenated targets hold 13 labels"),
    ],
)
def test_errors(args, match):
    lp = ember.Tensor(np.random.default_rng(0).standard_normal((T, N, C))).log_softmax(dim=2)
    tg = np.array(args.get("tg", TARGETS))
    if "concat_len" in args:
        tg = _concat(TARGETS, TARGET_LENGTHS)[: args["concat_len"]]
    il = np.array(args.get("il", INPUT_LENGTHS))
    tl = np.array(args.get("tl", TARGET_LENGTHS))
    with pytest.raises(ValueError, match=match):
        ctc_loss(lp, tg, il, tl, blank=args.get("blank", 0))


def test_unknown_reduction():
    lp = ember.Tensor(np.random.default_rng(0).standard_normal((T, N, C))).log_softmax(dim=2)
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        ctc_loss(lp, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="avg")


def test_training_reduces_loss():
    """Linear over per-frame features → log_softmax, trained with CTC: the loss falls."""
    rng = np.random.default_rng(10)
    t, n, f, c = 15, 8, 12, 5
    tl = rng.integers(2, 5, n)
    tg = rng.integers(1, c, (n, 4))
    # frame features that carry the label of a spread-out alignment, plus noise
    x = rng.standard_normal((t, n, f)) * 0.5
    for k in range(n):
        frames = np.linspace(1, t - 2, tl[k]).astype(int)
        x[frames, k, tg[k, : tl[k]]] += 2.0
    ember.manual_seed(0)
    model = Linear(f, c)
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = CTCLoss()
    xs = ember.Tensor(x.astype(np.float32))  # the layer's dtype: a float64 input is an error
    il = np.full(n, t)
    losses = []
    for _ in range(200):
        loss = loss_fn(model(xs).log_softmax(dim=2), tg, il, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])
