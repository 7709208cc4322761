"""torch's implementation keywords: ``foreach``, ``fused``, ``capturable``, ``differentiable``.

In torch they choose an implementation, not the numbers: ``foreach`` the multi-tensor kernels,
``fused`` one fused kernel per step (SGD, Adam, AdamW and Adagrad take it), ``capturable`` a
step that CUDA graphs can capture, ``differentiable`` a step that autograd can run through.
ember has one (vectorised NumPy) implementation: the keywords are accepted with torch's
defaults and kept in ``defaults`` and every param_group as torch keeps them (so state_dicts
match), and torch's errors are mirrored:

- ``fused=True`` with ``differentiable=True`` or ``foreach=True``: RuntimeError (constructor);
- ``fused=True`` with a parameter that is not floating point: RuntimeError (step);
- ``capturable=True`` on CPU tensors: torch's step asserts the parameters are on an
  accelerator (AssertionError), except with ``fused=True`` (Adam, AdamW), whose CPU kernel
  takes it and gives the same numbers; ember, CPU only, does the same;
- ``differentiable=True``: ember's step updates arrays in place under no_grad, so autograd
  cannot run through it: NotImplementedError.
"""

from __future__ import annotations

# torch.optim.optimizer._get_fused_kernels_supported_devices() (torch 2.13), for its message
_FUSED_DEVICES = ["mps", "cuda", "xpu", "hpu", "cpu", "mtia", "privateuseone"]
_CAPTURABLE_DEVICES = ["cuda", "xpu", "hpu", "privateuseone", "xla"]


def check_flags(*, foreach=None, fused=None, differentiable=False) -> None:
    """torch's constructor checks, then ember's refusal of ``differentiable=True``."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    check_differentiable(differentiable)


def check_differentiable(differentiable) -> None:
    if differentiable:
        raise NotImplementedError(
            "differentiable=True is not supported by ember: its optimizers update the"
            " parameter arrays in place under no_grad, so autograd cannot flow through step()"
            " (use differentiable=False, the default)"
        )


def check_group_at_step(group: dict, params_with_grad) -> None:
    """The checks torch's step makes for a group's flags, before any update."""
    if not params_with_grad:
        return
    check_differentiable(group.get("differentiable", False))
    if group.get("fused"):
        for p in params_with_grad:
            dtype = p.array.dtype
            if dtype.kind != "f":
                raise RuntimeError(
                    "`fused=True` requires all the params to be floating point Tensors of"
                    f" supported devices: {_FUSED_DEVICES} but ember.{dtype} and cpu"
                )
    elif group.get("capturable"):
        raise AssertionError(
            "If capturable=True, params and state_steps must be on supported devices:"
            f" {_CAPTURABLE_DEVICES}. (ember's tensors are on the CPU; capturable is for CUDA"
            " graphs; torch's CPU step refuses it too)"
        )
