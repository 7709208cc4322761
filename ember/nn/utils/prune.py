"""Pruning, as torch.nn.utils.prune: zero parameter entries through a mask.

    w = w_orig ∗ m        recomputed before every forward by a pre-hook
    ∂L/∂w_orig = ∂L/∂w ∗ m     so pruned entries get no gradient

Pruning ``module.weight`` moves the parameter to ``weight_orig`` and keeps the mask ``m`` as
the buffer ``weight_mask`` (state_dict names are torch's); ``module.weight`` becomes a plain
attribute recomputed each forward. Pruning the same tensor again composes the methods in a
``PruningContainer``: the new method prunes among the entries (or channels) still alive.
``remove`` folds w_orig ∗ m back into one ``weight`` parameter.

``amount`` is a count (int) or a fraction of the entries (float in [0, 1], rounded as torch
rounds). Random methods draw from ember's default generator, so they choose other entries
than torch would with the same seed. Ties in magnitude (l1_unstructured, ln_structured,
global l1) are broken by position: among equal scores the earliest entries are pruned first
(and for ln_structured the earliest channels are kept first). torch's topk breaks ties by
an order that depends on the tensor size; masks agree with torch wherever scores differ.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...backend import xp
from ...tensor import Tensor, as_array
from ..module import Module
from .prune_methods import (  # noqa: F401 - torch's prune module exports the classes too
    BasePruningMethod,
    CustomFromMask,
    Identity,
    L1Unstructured,
    LnStructured,
    PruningContainer,
    RandomStructured,
    RandomUnstructured,
    _composite_method,
    _hooks,
)


def identity(module: Module, name: str) -> Module:
    """Reparametrise ``module.<name>`` with a mask of ones."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount) -> Module:
    """Prune ``amount`` random entries of ``module.<name>``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount, importance_scores=None) -> Module:
    """Prune the ``amount`` entries of ``module.<name>`` of smallest |score|."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount, dim: int) -> Module:
    """Prune ``amount`` random channels of ``module.<name>`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount, n, dim: int, importance_scores=None):
    """Prune the ``amount`` channels along ``dim`` of smallest Lₙ norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def _mask_or_ones(module: Module, name: str):
    mask = module.__dict__.get(name + "_mask")
    return xp.ones_like(getattr(module, name).array) if mask is None else as_array(mask)


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune across several tensors at once: ``parameters`` is an iterable of (module, name),
    and ``pruning_method`` an unstructured method class applied to all of them flattened."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = xp.concatenate(
        [
            as_array(importance_scores.get((m, name), getattr(m, name))).reshape(-1)
            for m, name in parameters
        ]
    )
    default_mask = xp.concatenate(
        [_mask_or_ones(m, name).reshape(-1).astype(scores.dtype) for m, name in parameters]
    )
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
            f"{pruning_method} of type {method.PRUNING_TYPE}"
        )
    container.add_pruning_method(method)
    final_mask = as_array(container.compute_mask(Tensor(scores), Tensor(default_mask)))
    start = 0
    for m, name in parameters:
        shape = tuple(getattr(m, name).shape)
        size = int(getattr(m, name).array.size)
        custom_from_mask(m, name, mask=final_mask[start : start + size].reshape(shape))
        start += size


def custom_from_mask(module: Module, name: str, mask) -> Module:
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent; drop ``_orig``, ``_mask``, the hook."""
    hooks = _hooks(module)
    for k, hook in list(hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del hooks[k]
            return module
    raise ValueError(
        f"Parameter '{name}' of module {type(module).__name__} has to be pruned before pruning "
        "can be removed"
    )


def is_pruned(module: Module) -> bool:
    """Whether any submodule of ``module`` carries a pruning hook."""
    return any(
        isinstance(hook, BasePruningMethod) for m in module.modules() for hook in _hooks(m).values()
    )
