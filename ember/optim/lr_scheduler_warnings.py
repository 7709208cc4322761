"""What torch's schedulers warn about, and how they set a group's value (kept apart from
lr_scheduler.py, which holds the rules).

torch warns (UserWarning) when

- ``scheduler.step()`` is first called before any ``optimizer.step()``: the first rate of the
  schedule is then skipped (the optimizer counts its steps in ``_opt_called``, which ember's
  step wrapper sets, see optimizer_hooks.py);
- ``step(epoch)`` is given an epoch (deprecated: the closed form is used where there is one);
- ``get_lr()`` is called by the user, outside ``step()``: it computes the *next* rate from
  the current one, chaining once more; ``get_last_lr()`` is what was meant.
"""

from __future__ import annotations

import functools
import warnings

from ..tensor import Tensor

# torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING, word for word
EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


def warn_if_optimizer_not_stepped(scheduler) -> None:
    """At the scheduler's first step after its constructor's: torch's warning when the
    optimizer has not stepped yet (the order that skips the schedule's first value)."""
    if scheduler._step_count == 1 and not getattr(scheduler.optimizer, "_opt_called", False):
        warnings.warn(
            "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
            "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
            "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
            "will result in PyTorch skipping the first value of the learning rate schedule. "
            "See more details at "
            "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
            UserWarning,
            stacklevel=3,
        )


def warn_epoch_given(epoch) -> None:
    if epoch is not None:
        warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=3)


def warns_outside_step(get_lr):
    """``get_lr`` that warns, as torch's built-in schedulers' do, when it is called other than
    from ``step()`` (which sets ``_get_lr_called_within_step`` around its call)."""

    @functools.wraps(get_lr)
    def wrapper(self):
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, "
                "please use `get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        return get_lr(self)

    return wrapper


class within_step:  # noqa: N801 - used as a context manager, as torch's _enable_get_lr_call
    """``with within_step(scheduler):`` its get_lr() is called by step(), and does not warn."""

    def __init__(self, scheduler) -> None:
        self.scheduler = scheduler

    def __enter__(self):
        self.scheduler._get_lr_called_within_step = True
        return self

    def __exit__(self, *exc) -> None:
        self.scheduler._get_lr_called_within_step = False


def set_group_value(group: dict, key: str, value) -> None:
    """group[key] = value, as torch's schedulers set it: a tensor ``lr`` (torch's optimizers
    take one) is filled in place, so it stays the tensor the user passed."""
    old = group[key]
    if isinstance(old, Tensor):
        old.array[...] = value.array if isinstance(value, Tensor) else value
    else:
        group[key] = value
