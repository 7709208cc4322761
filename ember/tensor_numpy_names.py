"""torch's NumPy spellings of ``dim`` and ``keepdim`` on Tensor methods.

torch's argument parser reads ``axis=`` as ``dim=`` (and, in the reductions, ``keepdims=``
as ``keepdim=``) in every method that takes them: ``x.amax(axis=0, keepdims=True)``,
``x.cumsum(axis=1)``, ``x.any(axis=-1)``. ember's sum/mean/var/std/max/min/argmax/argmin/
logsumexp name ``axis`` and ``keepdims`` themselves; ``add_numpy_names`` gives the other
methods that torch lets take them a thin wrapper that renames the keyword before the call
(a call without keywords goes straight through).
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


def _renamed(method, keepdims: bool):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        if kwargs:
            for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
                if numpy_name in kwargs and (numpy_name == "axis" or keepdims):
                    if torch_name in kwargs:
                        raise TypeError(
                            f"{method.__name__}() got {torch_name}= and its alias"
                            f" {numpy_name}= both"
                        )
                    kwargs[torch_name] = kwargs.pop(numpy_name)
        return method(self, *args, **kwargs)

    return call


def add_numpy_names(cls) -> None:
    """Give cls's methods in AXIS (and KEEPDIMS) torch's ``axis=`` (``keepdims=``) aliases."""
    for name in sorted(set(AXIS) | KEEPDIMS):
        method = getattr(cls, name, None)
        if method is not None:
            setattr(cls, name, _renamed(method, name in KEEPDIMS))
