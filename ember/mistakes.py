"""Common-mistake warnings: each raised once, each saying how to fix it.

This module sits on the bottom floor (it imports only the backend), so the ops, the
functional layer and the modules can all call it; ``ember.diagnose`` re-exports it.

    EmberWarning                  the category of every warning here (filter it as one)
    warn_once(key, message)       warn the first time ``key`` is seen in this process
    reset_warnings()              forget which warnings were raised (tests, notebooks)
    check_loss_input(grad_fn, loss)   softmax/sigmoid output fed to a loss that expects logits
    check_training_mode_in_no_grad(layer)   dropout/batch norm left in training mode in evaluation
    check_attention_mask(mask)    warn when a row of a boolean/additive mask masks everything

Warnings are cheap to check: each check is a type test or one comparison on the
normal path, and the work that builds a message runs only when a mistake is seen.
"""

from __future__ import annotations

import warnings

from .backend import xp


class EmberWarning(UserWarning):
    """A likely mistake in how ember is used; the message says how to fix it."""


_raised: set[str] = set()


def warn_once(key: str, message: str, stacklevel: int = 3) -> bool:
    """Warn with ``message`` the first time ``key`` is seen; returns whether it warned."""
    if key in _raised:
        return False
    _raised.add(key)
    warnings.warn(message, EmberWarning, stacklevel=stacklevel)
    return True


def reset_warnings() -> None:
    """Forget which warnings were raised, so each can be raised once more."""
    _raised.clear()


# ---------------------------------------------------------------- squashed scores into a loss
#: loss -> {op whose output it must not receive: the fix}
_WRONG_INPUT = {
    "cross_entropy": {
        "Softmax": "cross_entropy applies log-softmax itself and expects raw scores (logits);"
        " softmax probabilities get squashed twice and the gradients shrink. Fix: drop the"
        " softmax (nn.Softmax / F.softmax) before the loss; apply it only for prediction.",
        "LogSoftmax": "cross_entropy expects logits; on a log-softmax output it gives the same"
        " number but runs log-softmax twice. Fix: pass the logits, or keep the log-softmax and"
        " use nll_loss (nn.NLLLoss).",
    },
    "nll_loss": {
        "Softmax": "nll_loss expects log-probabilities; softmax probabilities make the loss"
        " -p instead of -log p. Fix: use log_softmax before nll_loss, or cross_entropy on the"
        " logits.",
    },
    "binary_cross_entropy_with_logits": {
        "Sigmoid": "binary_cross_entropy_with_logits applies σ itself and expects logits;"
        " a sigmoid output gets squashed twice. Fix: drop the sigmoid before the loss, or use"
        " binary_cross_entropy on the probabilities.",
    },
}


def check_loss_input(grad_fn, loss_name: str) -> None:
    """Warn when a loss that expects logits (or log-probabilities) is fed the output of the
    squashing op it applies itself: softmax into cross_entropy, sigmoid into the
    with-logits BCE, softmax into nll_loss.

    ``grad_fn`` is the input tensor's ``grad_fn`` (None for leaves and under no_grad): one
    attribute test on the normal path.
    """
    if grad_fn is None:
        return
    op = type(grad_fn).__name__
    if op == "Log":  # log(softmax(z)) written out by hand is a log-softmax too
        parent = grad_fn.parents[0]
        if parent is not None and type(parent.grad_fn).__name__ == "Softmax":
            op = "LogSoftmax"
    fix = _WRONG_INPUT[loss_name].get(op)
    if fix is not None:
        warn_once(f"{op}-into-{loss_name}", f"{loss_name} received the output of {op}: {fix}", 4)


# ---------------------------------------------------------------- training mode in evaluation
def check_training_mode_in_no_grad(layer: str) -> None:
    """Warn when a layer that behaves differently in training runs in training mode under
    ``no_grad()`` (which almost always means evaluation).

    Call it from a layer's forward when ``self.training`` is set and grad mode is off;
    ``layer`` names the layer kind ("Dropout", "BatchNorm2d").
    """
    effect = (
        "drops units at random, so the evaluation is noisy and pessimistic"
        if layer.startswith("Dropout")
        else "normalises with the batch's statistics and overwrites its running statistics"
        " with evaluation data"
    )
    warn_once(
        f"training-mode-{layer}",
        f"{layer} ran in training mode inside no_grad(): it {effect}. Fix: call model.eval()"
        " before evaluating (and model.train() before training again).",
        4,
    )


# ---------------------------------------------------------------- attention mask polarity
def check_attention_mask(mask, true_means: str = "keep") -> bool:
    """Warn when some query row of an attention mask masks every key; returns True if fine.

    ``mask`` (..., L, S) is boolean or additive float (-inf or a large negative number marks a
    masked position). For a boolean mask ``true_means`` says what True means: ``"keep"``
    (take part, as torch's scaled_dot_product_attention) or ``"mask"`` (masked out, as
    nn.MultiheadAttention's attn_mask and key_padding_mask). A row with every key masked
    gives a softmax over nothing (ember's attention returns zeros there, torch's zeros or NaN,
    and a -1e9 bias a uniform average): unless the sample is padding through and through,
    the polarity is probably inverted — an inverted causal mask, for one, masks every key of
    the last query.
    """
    if true_means not in ("keep", "mask"):
        raise ValueError(f"true_means must be 'keep' or 'mask', got {true_means!r}")
    # an ember Tensor (this floor cannot import the class): ``grad`` looked up on the type, as
    # reading it off a non-leaf instance warns that a non-leaf's .grad is being accessed
    is_tensor = hasattr(mask, "array") and hasattr(type(mask), "grad")
    m = mask.array if is_tensor else xp.asarray(mask)
    if m.ndim == 0:
        raise ValueError("an attention mask needs at least one dimension (the keys), got a scalar")
    if m.dtype == xp.bool_:
        masked = m if true_means == "mask" else ~m
    elif m.dtype.kind == "f":
        masked = m <= -1e4  # -inf or a large negative additive bias
    else:
        raise TypeError(f"attention mask must be boolean or float, got dtype {m.dtype}")
    all_masked = masked.all(axis=-1)
    if not all_masked.any():
        return True
    rows = xp.argwhere(all_masked)
    first = tuple(int(i) for i in rows[0])
    if m.dtype == xp.bool_:
        meaning = "True = keep" if true_means == "keep" else "True = masked out"
        other = "mask" if true_means == "keep" else "keep"
        fix = (
            f"the mask was read as {meaning}; if you built it the other way round, invert it"
            f" (~mask) or pass true_means={other!r}. For a causal mask with True = keep use"
            " tril(ones(L, S)); with True = masked out use triu(ones(L, S), diagonal=1)."
        )
    else:
        fix = "an additive mask should be 0 where attending is allowed and -inf where it is not."
    warn_once(
        "attention-mask-all-masked",
        f"attention mask of shape {tuple(m.shape)}: {len(rows)} query row(s) mask every key"
        f" (first at index {first}), so those queries attend to nothing (ember gives them"
        f" zeros; torch gives zeros or NaN). That is right only for an input padded out"
        f" entirely; otherwise the polarity looks inverted: {fix}",
        3,
    )
    return False
