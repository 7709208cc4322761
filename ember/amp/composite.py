"""``as_one_op``: the functions ember composes of primitives that torch's autocast casts as
one op (addmm, mv, dot, linalg.vecdot, …; their policies are ``policies.composite``)."""

from __future__ import annotations

import functools

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
