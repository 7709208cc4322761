"""``GradScaler``: loss scaling for float16 training, torch.amp.GradScaler's algorithm.

    scaler = ember.amp.GradScaler()
    scaler.scale(loss).backward()   # ∂(S·L)/∂θ: small float16 gradients stay representable
    scaler.step(optimizer)          # g ← g/S; the step is skipped if some g is inf or NaN
    scaler.update()                 # S ← S·backoff after an overflow,
                                    # S ← S·growth after growth_interval clean steps

The scale S and the growth tracker are 0-d float32 / int32 arrays, updated as torch's
``_amp_update_scale_``; gradients are unscaled in place by the float32 1/S, as torch's
``_amp_foreach_non_finite_check_and_unscale_``. ``enabled=False`` makes every method a
pass-through, and a scaler for "cuda" in a process that runs on the CPU disables itself
with torch's warning.
"""

from __future__ import annotations

import array
import math
import warnings
from collections import abc, defaultdict
from enum import Enum
from typing import Any

from .. import backend
from ..errors import InputError
from ..function import no_grad


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _f32(value):
    return backend.xp.asarray(value, dtype="float32")


def _round_f32(value: float) -> float:
    """``value`` rounded to float32, as C's cast does: inf past its range, with no NumPy
    overflow warning."""
    return array.array("f", [value])[0]


class GradScaler:
    """Scale the loss up before backward and the gradients down before the optimizer step,
    skipping steps whose gradients overflowed and adapting the scale (torch's defaults)."""

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not backend.ON_GPU:
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states: dict = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname: str):
        fix = (
            "This may indicate your script did not use scaler.scale(loss or outputs) earlier"
            " in the iteration."
        )
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self) -> None:
        self._scale = _f32(self._init_scale).reshape(())
        self._growth_tracker = backend.xp.asarray(self._init_growth_tracker, dtype="int32")

    def scale(self, outputs):
        """outputs · S: a Tensor, or Tensors nested in lists and tuples (same structure)."""
        if not self._enabled:
            return outputs
        from ..tensor import Tensor

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker()
                return val * Tensor(self._scale.copy())  # 0-d: keeps val's dtype, as torch
            if isinstance(val, abc.Iterable):
                iterable = map(apply_scale, val)
                if isinstance(val, (list, tuple)):
                    return type(val)(iterable)
                return iterable
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16: bool) -> dict:
        xp = backend.xp
        seen = set()
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    g = param.grad
                    if g is None or id(g) in seen:
                        continue
                    seen.add(id(g))
                    if not allow_fp16 and g.dtype == xp.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    a = g.array
                    if not bool(xp.isfinite(a).all()):
                        found_inf[...] = 1.0
                    # a new array, not a *= : ember's backward may hand two parameters one
                    # gradient array (y = a + b), which an in-place scaling would divide twice
                    g.array = a * (inv_scale.astype(a.dtype) if a.dtype.kind == "f" else inv_scale)
        if not seen:  # no gradient, no check: torch's step() and update() then refuse
            return {}
        return {"cpu" if not backend.ON_GPU else "cuda:0": found_inf}

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by S in place (once per step), noting inf/NaN."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = _f32(1.0 / self._scale.astype("float64"))
        found_inf = _f32(0.0).reshape(())
        optimizer_state["found_inf_per_device"] = self._unscale_grads_(
            optimizer, inv_scale, found_inf, False
        )
        optimizer_state["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        retval = None
        if not sum(float(v) for v in optimizer_state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        return retval

    def step(self, optimizer, *args: Any, **kwargs: Any):
        """``optimizer.step(*args, **kwargs)`` unless the unscaled gradients hold inf/NaN
        (then skipped); unscales first if ``unscale_`` was not called."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if optimizer_state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(optimizer_state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, optimizer_state, *args, **kwargs)
        optimizer_state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """S ← new_scale if given, else backoff on an overflow this step, growth after
        growth_interval clean steps in a row; then ready for the next iteration."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale[...] = new_scale
            else:
                reason = (
                    "new_scale should be a float or a 1-element torch.cuda.FloatTensor or"
                    " torch.FloatTensor with requires_grad=False."
                )
                if new_scale.numel() != 1 or new_scale.requires_grad is True:
                    raise AssertionError(reason)
                if new_scale.ndim:  # torch copies it into its 0-d scale, which [1] cannot fill
                    shape = list(new_scale.shape)
                    raise InputError(
                        f"output with shape [] doesn't match the broadcast shape {shape}"
                    )
                scale[...] = new_scale.array
        else:
            found_infs = [
                found_inf
                for state in self._per_optimizer_states.values()
                for found_inf in state["found_inf_per_device"].values()
            ]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            found = sum(float(f) for f in found_infs)
            # torch's _amp_update_scale_: the float32 scale times the factor in double, then
            # rounded to float32 (a float32 product rounds 3·0.9 to 2.6999998, torch's 2.7)
            if found:
                scale[...] = _round_f32(float(scale) * self._backoff_factor)
                tracker[...] = 0
            else:
                successful = int(tracker) + 1
                if successful == self._growth_interval:
                    grown = _round_f32(float(scale) * self._growth_factor)
                    if math.isfinite(grown):  # never grown past float32's range to inf
                        scale[...] = grown
                    tracker[...] = 0
                else:
                    tracker[...] = successful
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def get_scale(self) -> float:
        """S as a Python float (1.0 when disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale)
        return 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            return (
                self._init_growth_tracker
                if self._growth_tracker is None
                else int(self._growth_tracker)
            )
        return 0

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        """torch's keys: scale, growth_factor, backoff_factor, growth_interval,
        _growth_tracker ({} when disabled)."""
        if self._enabled:
            return {
                "scale": self.get_scale(),
                "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker(),
            }
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled"
                " instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale[...] = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker[...] = state_dict["_growth_tracker"]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError(
                    "A GradScaler instance may only be pickled at the beginning of an"
                    " iteration, or at the end after scaler.update()."
                )
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
            state["_per_optimizer_states"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self._enabled:
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)
