"""torch.autograd's API beyond ``grad``, attached to ``ember.autograd`` (the engine module sits
below ``tensor.py`` and cannot import these itself): ``Function`` (custom ops with a ctx),
``functional`` (jacobian, hessian, vjp, jvp, hvp, vhp), ``gradcheck``, ``gradgradcheck`` and
``detect_anomaly``. ``ember.autograd.functional`` is also registered as a module, so
``from ember.autograd.functional import jacobian`` reads as it does in torch."""

from __future__ import annotations

import sys

from . import autograd, autograd_function, autograd_functional

autograd.functional = autograd_functional
sys.modules["ember.autograd.functional"] = autograd_functional
autograd.Function = autograd_function.Function
autograd.function = autograd_function  # torch.autograd.function.once_differentiable, FunctionCtx
sys.modules["ember.autograd.function"] = autograd_function

# torch.autograd.gradcheck and gradgradcheck (finite-difference checks, ember/gradcheck.py)
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402

autograd.gradcheck = gradcheck
autograd.gradgradcheck = gradgradcheck

# torch.autograd.detect_anomaly / set_detect_anomaly / is_anomaly_enabled: torch's signatures
# over ember.detect_anomaly (diagnose/anomaly.py), already imported by ember/__init__.py
from .diagnose import anomaly  # noqa: E402

autograd.detect_anomaly = anomaly.autograd_detect_anomaly
autograd.set_detect_anomaly = anomaly.set_detect_anomaly
autograd.is_anomaly_enabled = anomaly.is_anomaly_enabled

# torch.autograd's grad-mode names (torch.autograd.no_grad …), backward, and the deprecated
# Variable, which old training code still wraps its tensors in
from . import function as _function  # noqa: E402
from .tensor import Tensor as _Tensor  # noqa: E402
from .torch_creation import inference_mode  # noqa: E402

autograd.no_grad = _function.no_grad
autograd.enable_grad = _function.enable_grad
autograd.set_grad_enabled = _function.set_grad_enabled
autograd.inference_mode = inference_mode


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             grad_variables=None, inputs=None) -> None:  # fmt: skip
    """torch.autograd.backward: accumulate Σ_i J_iᵀ·g_i into the leaves' ``.grad`` for the
    roots ``tensors`` and their gradients ``grad_tensors`` (None for a scalar root), in one
    backward pass, so a tensor shared by several roots gets one summed gradient."""
    if grad_variables is not None:  # torch's deprecated name
        grad_tensors = grad_variables
    roots = [tensors] if isinstance(tensors, _Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, _Tensor):
        grads = [grad_tensors] * len(roots) if grad_tensors is None else [grad_tensors]
    else:
        grads = list(grad_tensors)
    if len(grads) != len(roots):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs: got"
                           f" {len(roots)} tensors and {len(grads)} gradients")  # fmt: skip
    for i, t in enumerate(roots):
        if not isinstance(t, _Tensor):
            raise TypeError(
                f"backward: element {i} of tensors is a {type(t).__name__}, not a Tensor"
            )
        if not t.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
    if len(roots) == 1:
        roots[0].backward(grads[0], retain_graph, create_graph, inputs)
        return
    # one root, Σ_i <t_i, g_i>, whose backward sends each t_i exactly its g_i: one pass, as
    # torch's engine runs the roots together
    with _function.enable_grad():
        total = None
        for t, g in zip(roots, grads):
            if g is None:
                if t.array.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                term = t.sum()
            else:
                g = g.detach() if isinstance(g, _Tensor) else _Tensor(g)
                if g.shape != t.shape:
                    raise RuntimeError(
                        f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and"
                        f" output has a shape of {tuple(t.shape)}"
                    )
                term = (t * (g.conj() if g.is_complex() else g)).sum()
                term = term.real if term.is_complex() else term
            total = term if total is None else total + term
    total.backward(None, retain_graph, create_graph, inputs)


class _VariableMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, _Tensor)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable (deprecated in torch, kept for old code): ``Variable(t,
    requires_grad=False)`` is t's data as a new leaf (detached, the same memory) with that
    flag; ``volatile`` is accepted and ignored, as torch ignores it; every Tensor is a
    Variable for isinstance."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, _Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


_multithreading = [True]


def is_multithreading_enabled() -> bool:
    """torch.autograd.is_multithreading_enabled: the flag (ember's backward always runs on
    the calling thread, as torch's does for CPU tensors)."""
    return _multithreading[0]


class set_multithreading_enabled:  # noqa: N801 - torch's name
    """torch.autograd.set_multithreading_enabled(mode): sets the flag, restored on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev, _multithreading[0] = _multithreading[0], bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _multithreading[0] = self.prev


autograd.backward = backward
autograd.Variable = Variable
autograd.is_multithreading_enabled = is_multithreading_enabled
autograd.set_multithreading_enabled = set_multithreading_enabled

# torch.autograd.graph: saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks,
# register_multi_grad_hook (autograd_graph.py), also importable as ember.autograd.graph
from . import autograd_graph  # noqa: E402

autograd.graph = autograd_graph
sys.modules["ember.autograd.graph"] = autograd_graph

# torch.autograd.forward_ad: dual tensors (autograd_forward_ad.py), importable as
# ember.autograd.forward_ad
from . import autograd_forward_ad  # noqa: E402

autograd.forward_ad = autograd_forward_ad
sys.modules["ember.autograd.forward_ad"] = autograd_forward_ad

# torch.autograd's file paths: grad_mode.py, anomaly_mode.py, variable.py, gradcheck.py (whose
# attribute torch.autograd.gradcheck is the function) and profiler.py (ember.profiler)
from . import profiler as _profiler  # noqa: E402
from .module_paths import register as _register  # noqa: E402

_register(autograd, "grad_mode", {
    "no_grad": _function.no_grad, "enable_grad": _function.enable_grad,
    "set_grad_enabled": _function.set_grad_enabled, "inference_mode": inference_mode,
    "set_multithreading_enabled": set_multithreading_enabled,
})  # fmt: skip
_register(autograd, "anomaly_mode", {"detect_anomaly": anomaly.autograd_detect_anomaly,
                                     "set_detect_anomaly": anomaly.set_detect_anomaly})  # fmt: skip
_register(autograd, "variable", {"Variable": Variable})
# (ember.gradcheck, the attribute, is the function too: the module is found by its name)
_register(autograd, "gradcheck", sys.modules["ember.gradcheck"], attribute=False)
_register(autograd, "profiler", _profiler)
