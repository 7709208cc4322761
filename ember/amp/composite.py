"""``as_one_op``: the functions ember composes of primitives that torch's autocast casts as
one op (addmm, mv, dot, linalg.vecdot, …; their policies are ``policies.composite``)."""

from __future__ import annotations

import functools
import sys

from . import autocast_mode as A
from . import policies as P


def as_one_op(name: str):
    """Decorator for a function ember composes of primitives that torch's autocast casts as
    one op ``name`` (policies.composite): inside an enabled region its Tensor arguments are
    cast by that op's policy and its body runs with autocast off, so the primitives inside
    keep those dtypes. Outside a region: one truth test."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            policy = A.autocast_threads and A._state.enabled[A.DEVICE] and A._composite.get(name)
            if not policy:  # no region, or torch casts this op's pieces on this device too
                return fn(*args, **kwargs)
            if policy is not P.NONE:
                args = _cast_by_policy(policy, args)
                kwargs = dict(zip(kwargs, _cast_by_policy(policy, tuple(kwargs.values()))))
            A._state.enabled[A.DEVICE] = False
            A._sync_thread()
            try:
                return fn(*args, **kwargs)
            finally:
                A._state.enabled[A.DEVICE] = True
                A._sync_thread()

        return run

    return wrap


def _cast_by_policy(policy, values: tuple) -> tuple:
    """The Tensors among ``values`` cast by ``policy`` (LOWER, FP32 or PROMOTE); the rest as
    they are."""
    tensors = tuple(v for v in values if isinstance(v, A._Tensor))
    cast = dict(zip(map(id, tensors), A.autocast_by(policy, tensors)))
    return tuple(cast.get(id(v), v) for v in values)


#: The code of every as_one_op wrapper (closures of one ``def`` share it).
_WRAPPER_CODE = as_one_op("")(lambda: None).__code__


def warning_level(stacklevel: int) -> int:
    """``stacklevel`` for a ``warnings.warn`` made (directly) by this function's caller, with
    the as_one_op wrappers on the way out skipped, so that the warning still names the user's
    line that called the op."""
    frame, level, extra = sys._getframe(1), 1, 0
    while level < stacklevel and frame is not None:
        frame = frame.f_back
        if frame is not None and frame.f_code is _WRAPPER_CODE:
            extra += 1
        else:
            level += 1
    return stacklevel + extra
