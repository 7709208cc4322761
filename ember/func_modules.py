"""torch.func's helpers around modules and programs: ``replace_all_batch_norm_modules_`` (batch
norms that use each batch's own statistics, for vmap over a model) and ``functionalize``.
Re-exported by func.py.
"""

from __future__ import annotations

import functools


def replace_all_batch_norm_modules_(root):
    """torch.func.replace_all_batch_norm_modules_: every batch norm under ``root`` stops
    tracking running statistics (running_mean, running_var and num_batches_tracked become
    None), so it normalises with each batch's own statistics in training and evaluation, which
    vmap over a model needs (one slice cannot update shared running statistics). In place;
    returns root."""
    from .nn.normalization import _BatchNorm  # func sits below nn; the class only here

    for m in root.modules():
        if isinstance(m, _BatchNorm) and m.track_running_stats:
            m.running_mean = m.running_var = m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def functionalize(func, *, remove: str = "mutations"):
    """torch.func.functionalize: func with its in-place operations and views replaced by
    out-of-place ones in the program torch traces. ember runs eagerly and traces no program,
    so the result is func itself, wrapped (its values and its mutations of the inputs are what
    functionalize keeps in torch too); ``remove`` is checked as torch checks it."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n     remove='mutations': all inplace and out= operators will"
            " be removed from the program, and replaced with their out-of-place equivalents.\n"
            "     remove='mutations_and_views': In addition to the above, all aliasing"
            " operators {view} will be replaced with their non-aliasing counterparts,"
            " {view}_copy.\n"
        )

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper
