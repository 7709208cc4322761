"""detect_anomaly: name the first op, and the layer it sits in, that made a NaN or an Inf.

    with ember.detect_anomaly():          # or detect_anomaly(model) to name layers from it
        loss = criterion(model(x), y)
        loss.backward()

Inside the block every op's output (forward) and every gradient an op's backward returns
are checked with isfinite; the first non-finite one raises a RuntimeError naming the op,
the layer (the module's dotted name and type), the pass (forward or backward), the shape,
the line of user code that created the op, and a hint for that op. Outside the block
nothing runs: ``function.observers`` is empty and ``Module.__call__`` is the plain one.
"""

from __future__ import annotations

import contextlib
import os
import sys

from ..backend import xp
from ..function import observers
from ..nn.module import Module
from ..nn.module_tracking import module_stack, track_modules

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: op name -> what usually makes it non-finite, and the fix
_HINTS = {
    "Log": "log of zero or of a negative number: clamp the input (x.clamp(min=1e-12)) or stay"
    " in log space (log_softmax, logsumexp, cross_entropy on logits)",
    "Div": "division by zero (or by a tiny number): add an epsilon to the denominator",
    "RDivScalar": "division by zero: add an epsilon to the denominator",
    "Sqrt": "sqrt of a negative number, or its derivative 1/(2√x) at x = 0: use sqrt(x + eps)",
    "Exp": "exp overflowed: subtract the maximum first (softmax and logsumexp do), or the"
    " inputs have grown too large (lower the learning rate, clip gradients)",
    "Pow": "a power overflowed or took a negative base to a fractional exponent",
    "PowScalar": "a power overflowed, or a negative base met a fractional exponent",
    "MatMul": "a matrix product overflowed: activations or weights have grown too large"
    " (exploding); lower the learning rate, clip gradients (nn.utils.clip_grad_norm_), check"
    " the initialisation",
    "Linear": "a linear layer overflowed: activations or weights have grown too large"
    " (exploding); lower the learning rate, clip gradients (nn.utils.clip_grad_norm_), check"
    " the initialisation",
}
_DEFAULT_HINT = (
    "look at this op's inputs: they are finite, but the op's result is not (overflow,"
    " 0/0, inf - inf)"
)


def _user_frame() -> str:
    """'file:line in function' of the innermost caller outside the ember package."""
    f = sys._getframe(2)
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if not path.startswith(_EMBER_DIR):
            return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"
        f = f.f_back
    return "?"


def _nonfinite(a) -> bool:
    return a is not None and a.dtype.kind in "fc" and not bool(xp.isfinite(a).all())


def _describe(a) -> str:
    if a is None:
        return "None"
    if a.dtype.kind not in "fc" or a.size == 0:
        return f"{tuple(a.shape)} {a.dtype}"
    n_nan = int(xp.isnan(a).sum())
    n_inf = int(xp.isinf(a).sum())
    finite = a[xp.isfinite(a)]
    rng = f" in [{finite.min():.3g}, {finite.max():.3g}]" if finite.size else ""
    bad = f", {n_nan} NaN, {n_inf} Inf" if n_nan or n_inf else ""
    return f"{tuple(a.shape)} {a.dtype}{rng}{bad}"


class _AnomalyObserver:
    def __init__(self, model: Module | None, check_forward: bool, check_backward: bool):
        self.model = model
        self.check_forward, self.check_backward = check_forward, check_backward
        self._names: dict[int, dict[int, str]] = {}

    # ---------------------------------------------------------------- naming
    def _root_and_layer(self, stack):
        if not stack:
            return self.model, None
        return (self.model or stack[0]), stack[-1]

    def _name_of(self, root: Module | None, module: Module | None) -> str:
        if module is None:
            return "outside any module"
        names = self._names.get(id(root)) if root is not None else None
        if names is None and root is not None:
            names = self._names[id(root)] = {id(m): n for n, m in root.named_modules()}
        name = (names or {}).get(id(module))
        if name is None:
            return f"in a {type(module).__name__} outside the model"
        return f"in layer '{name or '(model)'}' ({type(module).__name__})"

    def _parameter_holding(self, root: Module | None, array) -> str | None:
        if root is None:
            return None
        for name, p in root.named_parameters():
            if p.array is array:
                return name
        return None

    # ---------------------------------------------------------------- observer protocol
    def on_forward(self, fn, inputs, out) -> None:
        root, layer = self._root_and_layer(module_stack)
        fn._anomaly_where = (root, layer, _user_frame())
        if not self.check_forward:
            return
        outs = out if fn.multi_output else (out,)
        if not any(_nonfinite(o) for o in outs):
            return
        where = f"{self._name_of(root, layer)}, created at {fn._anomaly_where[2]}"
        bad_inputs = [i for i, a in enumerate(inputs) if hasattr(a, "dtype") and _nonfinite(a)]
        shapes = ", ".join(_describe(o) for o in outs)
        if bad_inputs:
            i = bad_inputs[0]
            param = self._parameter_holding(root, inputs[i])
            source = (
                f"parameter '{param}' holds non-finite values (an earlier optimizer step"
                " diverged: lower the learning rate, clip gradients)"
                if param
                else "it came from outside the recorded graph (the input data, or a tensor"
                " made under no_grad)"
            )
            raise RuntimeError(
                f"detect_anomaly: forward: input {i} of op {fn.name} {where} was already"
                f" non-finite ({_describe(inputs[i])}): {source}. Output: {shapes}."
            )
        hint = _HINTS.get(fn.name, _DEFAULT_HINT)
        ins = "; ".join(_describe(a) if hasattr(a, "dtype") else repr(a) for a in inputs)
        raise RuntimeError(
            f"detect_anomaly: forward: op {fn.name} {where} produced a non-finite output"
            f" {shapes} from finite inputs ({ins}). Likely cause: {hint}."
        )

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        if not self.check_backward:
            return
        bad = [i for i, g in enumerate(grad_inputs) if _nonfinite(g)]
        if not bad:
            return
        root, layer, frame = fn.__dict__.get("_anomaly_where", (self.model, None, "?"))
        where = f"{self._name_of(root, layer)}, created at {frame}"
        i = bad[0]
        gys = "; ".join(_describe(g) for g in grad_outputs)
        if any(_nonfinite(g) for g in grad_outputs):
            raise RuntimeError(
                f"detect_anomaly: backward: the gradient arriving at op {fn.name} {where}"
                f" was already non-finite ({gys}); it was seeded non-finite (the gradient"
                " passed to backward()) or came from an op recorded outside detect_anomaly()."
            )
        hint = _HINTS.get(fn.name, _DEFAULT_HINT)
        raise RuntimeError(
            f"detect_anomaly: backward: op {fn.name} {where} returned a non-finite"
            f" gradient for its input {i}, shape {_describe(grad_inputs[i])}, from finite"
            f" incoming gradients ({gys}). Likely cause: {hint}."
        )


@contextlib.contextmanager
def detect_anomaly(
    model: Module | None = None, check_forward: bool = True, check_backward: bool = True
):
    """Raise at the first op whose forward output or backward gradient is NaN or Inf.

    ``model`` (optional) names layers by their dotted names in it; without it the names come
    from the outermost module running at the time. Ops must be recorded inside the block for
    their backward to be attributed to a layer; the backward itself may run inside it too.
    """
    if model is not None and not isinstance(model, Module):
        raise TypeError(
            f"detect_anomaly(model) expects an ember Module, got {type(model).__name__}"
        )
    obs = _AnomalyObserver(model, check_forward, check_backward)
    with track_modules():
        observers.append(obs)
        try:
            yield obs
        finally:
            observers.remove(obs)


# ---------------------------------------------------------------- torch.autograd's names
_process_wide: list = []  # the open detect_anomaly block that set_detect_anomaly(True) holds
_open_blocks = [0]  # autograd_detect_anomaly blocks open now, the process-wide one included


@contextlib.contextmanager
def autograd_detect_anomaly(check_nan: bool = True):
    """torch.autograd.detect_anomaly(check_nan=True): check the gradients every op's backward
    returns, as torch does (not forward outputs: a masked -inf there is no error), and raise at
    the first non-finite one (torch raises for NaN only), naming the op and where it was made."""
    with detect_anomaly(check_forward=False, check_backward=check_nan) as obs:
        _open_blocks[0] += 1
        try:
            yield obs
        finally:
            _open_blocks[0] -= 1


def is_anomaly_enabled() -> bool:
    """torch.autograd.is_anomaly_enabled: whether a detect_anomaly block or
    set_detect_anomaly(True) is in force."""
    return _open_blocks[0] > 0


def _set_process_wide(mode: bool, check_nan: bool) -> None:
    while _process_wide:  # off, or replaced by the new setting
        _process_wide.pop().__exit__(None, None, None)
    if mode:
        block = autograd_detect_anomaly(check_nan)
        block.__enter__()
        _process_wide.append(block)


class set_detect_anomaly:
    """torch.autograd.set_detect_anomaly(mode, check_nan=True): anomaly detection on or off for
    the process from this call on, or, used in a ``with``, for the block only."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._before = (bool(_process_wide), check_nan)
        _set_process_wide(bool(mode), check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        _set_process_wide(*self._before)
