"""Activation health: per layer, is the signal alive, saturated, dying or exploding?

For one forward pass on a batch, every activation op (ReLU, LeakyReLU, σ, tanh, softmax,
log-softmax, wherever it is called: an ``nn.ReLU`` module or ``F.relu`` inside a forward)
and every leaf module with parameters (Linear, Conv, Embedding, …) gets one row:

    mean, std              over every element of the output
    signal                 the std across the batch of each unit, averaged over units: what
                           the layer still tells one example from another
    dead fraction          ReLU units (channels) that never fire on the batch: x ≤ 0 for all
    saturated fraction     σ/tanh pre-activations with |x| > threshold (σ' < 0.018 at |x| = 4,
                           tanh' < 0.071 at |x| = 2): the gradient through them all but stops
    entropy                softmax: H = -Σ_k p_k·log p_k, averaged over rows (nats), and H/log K

A unit is a feature: the last axis of a (N, F) or (…, N, F) tensor, the channel axis 1 of
an (N, C, H, W) or (N, C, D, H, W) tensor. A layer is flagged dead when ≥ 50% of its ReLU
units are dead, saturated when ≥ 25% of its σ/tanh pre-activations are; the signal dies
where its spread falls below 1e-3 of the first layer's, and explodes above 1e3 times it.

At initialisation this is a signal-propagation check (Glorot & Bengio 2010; He et al.
2015): ``problems`` names the layers where the signal dies or explodes and suggests the
initialisation that keeps its variance.

What lives where: this file captures the rows during a forward (``ActivationCapture``,
``capture_activations``, ``activation_health``); the rows themselves, their statistics, the
diagnosis that turns them into problems and the printed table are in ``activation_diagnosis.py``.
"""

from __future__ import annotations

import contextlib

from ..function import observers
from ..nn.module import Module
from ..nn.module_tracking import module_stack, start_tracking, stop_tracking
from ..tensor import Tensor
from .activation_diagnosis import (  # noqa: F401 - SATURATION_THRESHOLDS, Problem: re-exported
    ACTIVATION_OPS,
    SATURATION_THRESHOLDS,
    ActivationHealth,
    LayerHealth,
    Problem,
    _row,
    diagnose_rows,
)


# ---------------------------------------------------------------- capture during a forward
class ActivationCapture:
    """Records rows during the next forward of ``model``.

    ``start()`` installs the hooks, the op observer and module tracking; ``stop()`` removes
    them (idempotent). The capture also stops itself when that forward ends, so an armed
    capture costs nothing after the step it was armed for, even if nobody stops it.
    """

    def __init__(self, model: Module, training_only: bool = False):
        self.model = model
        # with training_only, a forward in eval mode (validation) is let through unrecorded
        self.training_only = training_only
        self._active = False
        self.names = {id(m): n for n, m in model.named_modules()}
        self.recurrent = {
            id(m) for m in model.modules() if any("weight_hh" in n for n, _ in m.named_parameters())
        }
        self.rows: list[LayerHealth] = []
        self.done = False
        self.batch_size: int | None = None
        self._counts: dict[tuple[str, str], int] = {}
        self._handles: list | None = None

    def start(self) -> ActivationCapture:
        if self._handles is not None:
            return self
        model = self.model
        self._handles = [model.register_forward_pre_hook(self.root_pre_hook)]
        for m in model.modules():
            has_params = any(True for _ in m.parameters(recurse=False))
            if has_params and not any(True for _ in m.children()):
                self._handles.append(m.register_forward_hook(self.module_hook))
        self._handles.append(model.register_forward_hook(self.root_hook))
        start_tracking()
        observers.append(self)
        return self

    def stop(self) -> None:
        if self._handles is None:
            return
        observers.remove(self)
        stop_tracking()
        for h in self._handles:
            h.remove()
        self._handles = None

    def _label(self, module, kind, is_op) -> str:
        name = self.names[id(module)] or "(model)"
        if not is_op or (type(module).__name__ == kind and not list(module.children())):
            return name  # an nn.ReLU module: its op is the layer
        k = self._counts.get((name, kind), 0)
        self._counts[(name, kind)] = k + 1
        return f"{name}/{kind}#{k}"

    def _current(self):
        if not self._active or not module_stack or id(module_stack[-1]) not in self.names:
            return None
        return module_stack[-1]

    # observer protocol: activation ops
    def on_forward(self, fn, inputs, out) -> None:
        kind = fn.name
        family = ACTIVATION_OPS.get(kind)
        if family is None:
            return
        module = self._current()
        if module is None:
            return
        rec = id(module) in self.recurrent
        label = self._label(module, kind, True)
        x = inputs[0] if inputs else None
        self.rows.append(_row(label, kind, family, x, out, getattr(fn, "axis", -1), rec))

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        pass

    # forward hooks: leaf modules with parameters, and the end of the model's forward
    def module_hook(self, module, inputs, output) -> None:
        if not self._active:
            return
        out = output[0] if isinstance(output, tuple) else output
        if not isinstance(out, Tensor) or out.dtype.kind != "f":
            return
        rec = id(module) in self.recurrent
        kind = type(module).__name__
        self.rows.append(
            _row(self._label(module, kind, False), kind, None, None, out.array, -1, rec)
        )

    def root_pre_hook(self, module, inputs) -> None:
        if self.done or (self.training_only and not module.training):
            return
        self._active = True
        if self.batch_size is None and inputs and isinstance(inputs[0], Tensor):
            shape = inputs[0].shape
            self.batch_size = int(shape[0]) if shape else None

    def root_hook(self, module, inputs, output) -> None:
        if self._active:
            self._active = False
            self.done = True
            self.stop()

    def result(self, dead_threshold=0.5, saturated_threshold=0.25, vanish=1e-3, explode=1e3):
        return diagnose_rows(
            self.rows, self.batch_size, dead_threshold, saturated_threshold, vanish, explode
        )


@contextlib.contextmanager
def capture_activations(model: Module):
    """Record activation health during the next forward of ``model`` inside the block.

    Yields an ``ActivationCapture``; call ``.result()`` after the forward. Costs nothing
    outside the block, nor after that forward (hooks and observer are removed).
    """
    cap = ActivationCapture(model).start()
    try:
        yield cap
    finally:
        cap.stop()


def activation_health(
    model: Module,
    *inputs,
    forward=None,
    dead_threshold: float = 0.5,
    saturated_threshold: float = 0.25,
) -> ActivationHealth:
    """Run ``model(*inputs)`` (or ``forward(model, *inputs)``) once and diagnose every layer.

    The model runs in its current mode (train or eval) with grad recording as it is, so
    dropout and batch norm behave as they would in that mode.
    """
    if not isinstance(model, Module):
        raise TypeError(f"activation_health expects an ember Module, got {type(model).__name__}")
    if not inputs:
        raise TypeError("activation_health(model, *inputs) needs at least one input batch")
    inputs = tuple(
        x if isinstance(x, Tensor) or not hasattr(x, "shape") else Tensor(x) for x in inputs
    )
    with capture_activations(model) as cap:
        forward(model, *inputs) if forward is not None else model(*inputs)
    if not cap.rows:
        raise ValueError(
            f"activation_health found no activation op and no layer with parameters in"
            f" {type(model).__name__}'s forward; nothing to diagnose"
        )
    return cap.result(dead_threshold, saturated_threshold)
