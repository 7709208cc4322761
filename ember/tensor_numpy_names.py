"""torch's NumPy spellings of ``dim`` and ``keepdim`` on Tensor methods and torch functions.

torch's argument parser reads ``axis=`` as ``dim=`` (and, in the reductions, ``keepdims=``
as ``keepdim=``) in every method that takes them: ``x.amax(axis=0, keepdims=True)``,
``x.cumsum(axis=1)``, ``x.any(axis=-1)``. ember's sum/mean/var/std/max/min/argmax/argmin/
logsumexp name ``axis`` and ``keepdims`` themselves; ``add_numpy_names`` gives the other
methods that torch lets take them a thin wrapper that renames the keyword before the call
(a call without keywords goes straight through). ``add_numpy_names_to_functions`` does the
same for the top-level functions (``ember.sum(x, axis=0, keepdims=True)``, ``ember.cat(ts,
axis=1)``), before out= is installed over them.
"""

from __future__ import annotations

import functools

#: methods whose ``dim`` torch also takes as ``axis``
AXIS = (
    "amax amin aminmax nansum nanmean nanmedian median mode prod count_nonzero any all cumsum"
    " cumprod cummax cummin logcumsumexp softmax log_softmax sort argsort diff unbind squeeze"
    " unsqueeze"
).split()
#: … and whose ``keepdim`` it also takes as ``keepdims``
KEEPDIMS = frozenset(
    "amax amin nansum nanmean nanmedian median mode prod any all quantile nanquantile".split()
)


#: top-level functions whose ``dim`` torch also takes as ``axis``
FUNCTION_AXIS = frozenset(AXIS) | frozenset(
    "sum mean var std logsumexp max min argmax argmin std_mean var_mean quantile nanquantile"
    " kthvalue topk cat concat stack".split()
)
#: … and whose ``keepdim`` it also takes as ``keepdims``
FUNCTION_KEEPDIMS = KEEPDIMS | frozenset(
    "sum mean var std logsumexp max min argmax argmin aminmax std_mean var_mean kthvalue".split()
)


def _renamed(method, keepdims: bool):
    @functools.wraps(method)
    def call(*args, **kwargs):  # no named first parameter: torch's input= passes through
        if kwargs:
            for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
                if numpy_name in kwargs and (numpy_name == "axis" or keepdims):
                    if torch_name in kwargs:
                        raise TypeError(
                            f"{method.__name__}() got {torch_name}= and its alias"
                            f" {numpy_name}= both"
                        )
                    kwargs[torch_name] = kwargs.pop(numpy_name)
        return method(*args, **kwargs)

    call.numpy_names_of = method  # the function itself (tests hold one implementation)
    return call


def add_numpy_names(cls) -> None:
    """Give cls's methods in AXIS (and KEEPDIMS) torch's ``axis=`` (``keepdims=``) aliases."""
    for name in sorted(set(AXIS) | KEEPDIMS):
        method = getattr(cls, name, None)
        if method is not None:
            setattr(cls, name, _renamed(method, name in KEEPDIMS))


def add_numpy_names_to_functions(namespace: dict) -> None:
    """Give the functions of ``namespace`` (ember's) in FUNCTION_AXIS (and FUNCTION_KEEPDIMS)
    torch's ``axis=`` (``keepdims=``) aliases."""
    for name in sorted(FUNCTION_AXIS | FUNCTION_KEEPDIMS):
        fn = namespace.get(name)
        if fn is not None:
            namespace[name] = _renamed(fn, name in FUNCTION_KEEPDIMS)
