"""Inference tensors, as torch's ``inference_mode`` makes them.

Inside an enabled ``inference_mode`` region grad mode is off (as under ``no_grad``), and every
tensor made there is an *inference tensor* (``t.is_inference()``): factory results and op
outputs alike, except a view of a normal tensor, which stays normal. A view of an inference
tensor is one wherever it is made (``x.detach()``, ``x[0]``, ``x.view(…)``); an op outside
the region makes normal tensors from them. Outside a region torch forbids three things with
them, and so does ember:

- an in-place change (``x.add_(1)``, ``x[0] = 2``, ``out=x``), under ``no_grad`` too;
- ``requires_grad_()``;
- saving one for backward: an op recorded for autograd that keeps its inputs' values
  (``x * w`` with ``w`` requiring grad keeps x for ∂L/∂w) refuses an inference input; one
  that keeps none (``x + w``, a reshape, a sum) takes it, as torch's.

Nothing here costs anything until a region is first entered: ``inference_watch`` is empty,
and apply and Tensor() test only that. The region stack is per thread, as torch's.
"""

from __future__ import annotations

import threading

from .backend import get_array_module

#: Non-empty once any thread has entered an enabled inference_mode region: from then on apply
#: and Tensor() mark and check inference tensors (one truth test per op before that).
inference_watch: list = []

_state = threading.local()

_INPLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed. You can make a"
    " clone to get a normal tensor before doing inplace update (torch refuses it too)."
)


def region_stack() -> list[bool]:
    """This thread's stack of inference_mode regions (each one's mode), innermost last."""
    stack = getattr(_state, "modes", None)
    if stack is None:
        stack = _state.modes = []
    return stack


def inference_enabled() -> bool:
    """Whether this thread is inside an enabled inference_mode region (the innermost
    region decides: ``inference_mode(False)`` inside one turns it off)."""
    stack = getattr(_state, "modes", None)
    return bool(stack and stack[-1])


def enter_region(mode: bool) -> None:
    region_stack().append(mode)
    if mode and not inference_watch:
        inference_watch.append(True)


def leave_region() -> None:
    region_stack().pop()


def is_inference(t) -> bool:
    return getattr(t, "_inference", False)


def mark_new(t) -> None:
    """A tensor just made outside apply (a factory, Tensor(), detach): an inference tensor
    when made inside an enabled region."""
    if inference_enabled():
        t._inference = True


def after_op(cls, inputs, recorded: bool, outputs, is_view: bool) -> None:
    """apply's rules once an op has run: refuse an inference input that a recorded op keeps
    for its backward (``cls.rerunnable`` ops keep no values), then say which outputs are
    inference tensors: all of them inside a region, save a view of a normal tensor; a view of
    an inference tensor anywhere. Outside a region an op that makes no view has nothing to
    mark, and returns at once (training after an evaluation in inference_mode)."""
    if recorded and not cls.rerunnable:
        for t in inputs:
            if getattr(t, "_inference", False):
                raise RuntimeError(
                    f"{cls.__name__}: inference tensors cannot be saved for backward. Please do"
                    " not use tensors created in inference mode in computation tracked by"
                    " autograd; to work around it, make a clone to get a normal tensor and use"
                    " it in autograd (torch refuses the same)."
                )
    inside = inference_enabled()
    if not is_view:
        if inside:
            for t in outputs:
                t._inference = True
        return
    base_is_inference = getattr(inputs[0], "_inference", False)
    if not (inside or base_is_inference):
        return
    base = getattr(inputs[0], "array", None)  # (apply takes raw arrays too)
    shares = base is not None and _shares_memory(outputs[0].array, base)
    mark = base_is_inference if shares else inside
    for t in outputs:  # (assigned, not only set: Tensor() marked a view made inside already)
        t._inference = mark


def _shares_memory(a, b) -> bool:
    return bool(get_array_module(a).may_share_memory(a, b))


def check_write(t) -> None:
    """torch's refusal of an in-place change to an inference tensor outside a region."""
    if getattr(t, "_inference", False) and not inference_enabled():
        raise RuntimeError(_INPLACE_MESSAGE)


def check_requires_grad(t, requires_grad: bool) -> None:
    if requires_grad and getattr(t, "_inference", False) and not inference_enabled():
        raise RuntimeError(
            "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
        )
