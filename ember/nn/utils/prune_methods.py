"""The pruning methods of ember.nn.utils.prune (torch.nn.utils.prune's classes): each computes
a mask for one tensor; ``apply`` installs it as ``<name>_orig`` ∗ ``<name>_mask`` with a forward
pre-hook. The functional API and the module docstring are in prune.py."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

from ...backend import generator_or_default, xp
from ...function import no_grad
from ...tensor import Tensor, as_array
from ..module import Module, Parameter


def _hooks(module: Module) -> dict:
    return module.__dict__.get("_forward_pre_hooks") or {}


class BasePruningMethod(ABC):
    """Base of the pruning methods: subclasses write ``compute_mask(t, default_mask)``."""

    _tensor_name: str | None = None
    PRUNING_TYPE = "unstructured"

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask for ``t`` (the importance scores), on top of ``default_mask``."""

    def apply_mask(self, module: Module) -> Tensor:
        """w = w_orig ∗ m, differentiable in w_orig."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {type(module).__name__} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return Tensor(as_array(mask).astype(orig.array.dtype, copy=False)) * orig

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, composing with earlier pruning."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        scores = orig if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(orig.shape):
            raise AssertionError(
                f"importance_scores should have the same shape as parameter {name} of "
                f"{type(module).__name__}, got {tuple(scores.shape)} vs {tuple(orig.shape)}"
            )
        first = not isinstance(method, PruningContainer)
        if first:
            if not isinstance(module.__dict__.get(name), Parameter):
                raise KeyError(f"{type(module).__name__} has no parameter {name!r} to prune")
            del module.__dict__[name]
            module.register_parameter(name + "_orig", orig)
            default_mask = xp.ones_like(orig.array)
        else:
            default_mask = as_array(getattr(module, name + "_mask")).copy()
        try:
            mask = as_array(method.compute_mask(Tensor(as_array(scores)), Tensor(default_mask)))
            dtype = getattr(module, name + "_orig").array.dtype
            module.register_buffer(name + "_mask", Tensor(xp.array(mask, dtype=dtype)))
            module._computed_tensors = module._computed_tensors | {name}
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:
                module.__dict__.pop(name, None)
                module._computed_tensors = module._computed_tensors - {name}
                module.register_parameter(name, module.__dict__.pop(name + "_orig"))
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None) -> Tensor:
        """t ∗ mask, the mask computed from ``importance_scores`` (``t`` when None)."""
        t = t if isinstance(t, Tensor) else Tensor(as_array(t))
        scores = t if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(t.shape):
            raise AssertionError(
                "importance_scores should have the same shape as tensor t, "
                f"got {tuple(scores.shape)} vs {tuple(t.shape)}"
            )
        base = xp.ones_like(t.array) if default_mask is None else as_array(default_mask)
        mask = as_array(self.compute_mask(Tensor(as_array(scores)), Tensor(base)))
        return t * Tensor(mask.astype(t.array.dtype, copy=False))

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``name`` becomes the parameter w_orig ∗ m again."""
        if self._tensor_name is None:
            raise AssertionError(
                f"Module {type(module).__name__} has to be pruned before pruning can be removed"
            )
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        module._computed_tensors = module._computed_tensors - {name}
        orig = module.__dict__.pop(name + "_orig")
        orig.array = weight.array
        del module.__dict__[name + "_mask"]
        module.register_parameter(name, orig)


def _composite_method(cls, module: Module, name: str, *args, **kwargs) -> BasePruningMethod:
    """The new method, or the container of the old ones with the new one appended."""
    hooks = _hooks(module)
    old = [
        k for k, h in hooks.items() if isinstance(h, BasePruningMethod) and h._tensor_name == name
    ]
    if len(old) > 1:
        raise AssertionError(
            f"Avoid adding multiple pruning hooks to the same tensor {name} of module "
            f"{type(module).__name__}. Use a PruningContainer."
        )
    old_method = hooks.pop(old[0]) if old else None
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        return old_method
    if old_method is not None:
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        return container
    return method


class PruningContainer(BasePruningMethod):
    """The sequence of methods applied to one tensor (iterative pruning).

    A new method sees only what is still alive: for 'unstructured' methods the entries where
    the mask is 1 (flattened), for 'structured' ones the channels along ``dim`` that are not
    all zero, for 'global' ones the whole tensor.
    """

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod):
            args = tuple(args[0])  # an iterable of methods
        if args:
            self._tensor_name = args[0]._tensor_name
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(
                "Can only add pruning methods acting on the parameter named "
                f"'{self._tensor_name}' to PruningContainer. Found '{method._tensor_name}'"
            )
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask) -> Tensor:
        """The latest method's mask over the surviving part, combined with ``default_mask``."""
        method = self._pruning_methods[-1]
        t, mask = as_array(t), as_array(default_mask)
        new_mask = mask.astype(t.dtype, copy=True)
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError(
                    'Pruning methods of PRUNING_TYPE "structured" need to have the attribute '
                    "`dim` defined."
                )
            dim = method.dim + t.ndim if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {t.ndim}")
            others = tuple(d for d in range(t.ndim) if d != dim)
            slc = [slice(None)] * t.ndim
            slc[dim] = mask.sum(axis=others) != 0
            slc = tuple(slc)
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * t.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(Tensor(t[slc]), default_mask=Tensor(mask[slc]))
        new_mask[slc] = as_array(partial)
        return Tensor(new_mask)


class Identity(BasePruningMethod):
    """Prunes nothing: the reparametrisation with a mask of ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _validate_amount_init(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    integral = isinstance(amount, numbers.Integral)
    if (integral and amount < 0) or (not integral and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(
            f"amount={amount} should either be a float in the range [0, 1] or a non-negative "
            "integer"
        )


def _n_to_prune(amount, size: int) -> int:
    """k: the count itself, or round(amount · size) (Python's round, half to even, as torch)."""
    k = amount if isinstance(amount, numbers.Integral) else round(amount * size)
    if k > size:
        raise ValueError(
            f"amount={amount} should be smaller than the number of parameters to prune={size}"
        )
    return int(k)


def _validate_structured(t, dim: int) -> None:
    if t.ndim <= 1:
        raise ValueError(
            "Structured pruning can only be applied to multidimensional tensors. Found tensor "
            f"of shape {tuple(t.shape)} with {t.ndim} dims"
        )
    if dim >= t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _zero_flat(mask, idx):
    flat = mask.reshape(-1).copy()
    flat[idx] = 0
    return flat.reshape(mask.shape)


def _channel_mask(t, dim: int, keep):
    """Ones on the channels ``keep`` along ``dim``, zeros elsewhere."""
    mask = xp.zeros_like(t)
    slc = [slice(None)] * t.ndim
    slc[dim] = keep
    mask[tuple(slc)] = 1
    return mask


class _Unstructured(BasePruningMethod):
    """Prune the ``amount`` entries of lowest score (ties: earliest first)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def _scores(self, t):  # pragma: no cover - each method says
        raise NotImplementedError

    def compute_mask(self, t, default_mask):
        t, mask = as_array(t), as_array(default_mask).copy()
        k = _n_to_prune(self.amount, t.size)
        if k:
            order = xp.argsort(self._scores(t).reshape(-1), kind="stable")
            mask = _zero_flat(mask, order[:k])
        return Tensor(mask)


class RandomUnstructured(_Unstructured):
    """Prune ``amount`` entries chosen uniformly at random."""

    def _scores(self, t):
        return -generator_or_default(None).random(t.shape, xp.float64)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prune the ``amount`` entries of smallest |t| (ties: earliest first)."""

    def _scores(self, t):
        return xp.abs(t)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prune ``amount`` whole channels along ``dim`` chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        t, base = as_array(t), as_array(default_mask)
        _validate_structured(t, self.dim)
        k = _n_to_prune(self.amount, t.shape[self.dim])
        if k == 0:
            return Tensor(base)
        prob = generator_or_default(None).random((t.shape[self.dim],), xp.float64)
        keep = xp.argsort(prob, kind="stable")[k:]  # the k smallest draws are pruned
        return Tensor(_channel_mask(t, self.dim, xp.sort(keep)) * base.astype(t.dtype))

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


def _ln_norm(t, n, dim: int):
    """‖t‖ₙ of each channel along ``dim`` (torch.norm's p: a number, ±inf or 'fro')."""
    dim = dim + t.ndim if dim < 0 else dim
    others = tuple(d for d in range(t.ndim) if d != dim)
    a = xp.abs(t)
    if n == "fro":
        n = 2
    if n == float("inf"):
        return a.max(axis=others)
    if n == -float("inf"):
        return a.min(axis=others)
    if n == 0:
        return (a != 0).sum(axis=others).astype(t.dtype)
    return (a**n).sum(axis=others) ** (1.0 / n)


class LnStructured(BasePruningMethod):
    """Prune the ``amount`` channels along ``dim`` of smallest Lₙ norm (ties: latest first)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        t, base = as_array(t), as_array(default_mask)
        _validate_structured(t, self.dim)
        size = t.shape[self.dim]
        k = _n_to_prune(self.amount, size)
        if k == 0:
            return Tensor(base)
        norm = _ln_norm(t, self.n, self.dim)
        keep = xp.argsort(-norm, kind="stable")[: size - k]
        return Tensor(_channel_mask(t, self.dim, xp.sort(keep)) * base.astype(t.dtype))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(
            module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores
        )


class CustomFromMask(BasePruningMethod):
    """Prune where a given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask) -> None:
        self.mask = mask

    def compute_mask(self, t, default_mask):
        base, mask = as_array(default_mask), as_array(self.mask)
        if base.shape != mask.shape:
            raise AssertionError(
                f"default_mask shape {base.shape} must match self.mask shape {mask.shape}"
            )
        return Tensor(base * mask.astype(base.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)
