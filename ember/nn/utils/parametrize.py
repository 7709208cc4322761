"""Parametrizations (torch.nn.utils.parametrize): a module's tensor computed from others.

    register_parametrization(module, "weight", P)      module.weight = P(original)

After registering, ``module.weight`` is no longer a Parameter but the value of P applied to
``module.parametrizations.weight.original`` (or, when P's ``right_inverse`` returns several
tensors, to ``original0``, ``original1``, …), recomputed at every access, so the gradient
reaches the originals through P. Several parametrizations on one tensor chain:
weight = Pₙ(…P₂(P₁(original))). Assigning ``module.weight = X`` stores P's right inverse
of X in the originals. As in torch, the module's class is swapped for a subclass
("ParametrizedLinear") that carries the property; ``remove_parametrizations`` undoes it.

State-dict names are torch's: ``parametrizations.weight.original`` (or ``original0`` …), and
a parametrization's own buffers under ``parametrizations.weight.0.``.
"""

from __future__ import annotations

import contextlib

from ...backend import xp
from ...function import no_grad
from ...tensor import Tensor
from ..container import ModuleDict, ModuleList
from ..module import Module, Parameter

_cache: dict | None = None  # values computed once inside ``cached()``


@contextlib.contextmanager
def cached():
    """Inside the block each parametrized tensor is computed once and reused (e.g. a weight
    read at every step of a recurrent loop)."""
    global _cache
    outer = _cache is not None
    if not outer:
        _cache = {}
    try:
        yield
    finally:
        if not outer:
            _cache = None


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor (children 0, 1, …) and its original tensor(s)."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for m in reversed(self.items):
                if hasattr(m, "right_inverse"):
                    try:
                        new = m.right_inverse(new)
                    except NotImplementedError:  # as torch: then taken as the identity
                        pass
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new is not original:  # keep the Parameter object: optimizers may hold it
                original.array = xp.array(new.array, dtype=original.array.dtype)
            self.original = original
        else:
            for i, t in enumerate(new):
                data = t.array if isinstance(t, Tensor) else xp.asarray(t)
                wrap = Parameter if isinstance(original, Parameter) else Tensor
                value = wrap(xp.array(data))
                if isinstance(original, Parameter):
                    value.requires_grad_(original.requires_grad)
                setattr(self, f"original{i}", value)

    def _originals(self) -> list:
        if self.is_tensor:
            return [self.original]
        return [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def right_inverse(self, value) -> None:
        """Store the originals that make the parametrized tensor equal ``value``."""
        with no_grad():
            for m in reversed(self.items):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(m).__name__} has no right_inverse, so the"
                        " parametrized tensor cannot be assigned"
                    )
                value = m.right_inverse(value)
            values = [value] if self.is_tensor else list(value)
            if len(values) != self.ntensors:
                raise ValueError(
                    f"right_inverse returned {len(values)} tensors, expected {self.ntensors}"
                )
            for orig, v in zip(self._originals(), values):  # torch's checks: a tensor of
                if not isinstance(v, Tensor):  # the original's dtype; its shape may change
                    raise ValueError(
                        f"right_inverse should return a tensor, got {type(v).__name__}"
                    )
                if v.dtype != orig.dtype:
                    raise ValueError(
                        f"the tensor returned by right_inverse has dtype {v.dtype} while the"
                        f" original has dtype {orig.dtype}"
                    )
                orig.array = xp.array(v.array)

    def forward(self) -> Tensor:
        x = self.items[0](*self._originals())
        for m in self.items[1:]:
            x = m(x)
        return x


def _parametrized_class(module: Module) -> type:
    """The module's class, swapped once for a subclass that can carry properties."""
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls
    new_cls = type(f"Parametrized{cls.__name__}", (cls,), {"_is_parametrized_class": True})
    module.__class__ = new_cls
    return new_cls


def _property(name: str) -> property:
    def get(self):
        if _cache is not None:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = self.parametrizations[name]()
            return _cache[key]
        return self.parametrizations[name]()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(get, set_)


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (see the module
    docstring); registering on an already parametrized tensor appends to its chain."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"a parametrization must be a Module, got {type(parametrization)}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            before = getattr(module, tensor_name)
            after = parametrization(before)
            if not _alike(after, before.shape, before.dtype):
                raise ValueError(
                    f"parametrization {type(parametrization).__name__} changes the shape or"
                    f" dtype of {tensor_name} (pass unsafe=True to allow it)"
                )
        plist.append(parametrization)
        return module
    original = module.__dict__.get(tensor_name)
    if not isinstance(original, Tensor):
        raise ValueError(
            f"module {type(module).__name__} has no parameter or buffer named {tensor_name!r}"
        )
    shape, dtype, kept = original.shape, original.dtype, original.array
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not unsafe:
        value = plist()
        # torch's check: right_inverse and forward keep the tensor's shape and dtype (a
        # right_inverse that changed them had already been written into the original)
        stored = plist._originals()
        if not _alike(value, shape, dtype) or (
            plist.is_tensor and not _alike(stored[0], shape, dtype)
        ):
            original.array = kept
            raise ValueError(
                f"parametrization {type(parametrization).__name__} must keep {tensor_name}'s"
                f" shape {tuple(shape)} and dtype {dtype}, in its forward and its right_inverse"
                " (pass unsafe=True to allow another)"
            )
    del module.__dict__[tensor_name]
    cls = _parametrized_class(module)
    if not isinstance(module.__dict__.get("parametrizations"), ModuleDict):
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    setattr(cls, tensor_name, _property(tensor_name))
    return module


def _alike(t, shape, dtype) -> bool:
    return isinstance(t, Tensor) and t.shape == shape and t.dtype == dtype


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    plists = module.__dict__.get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(
    module: Module, tensor_name: str, leave_parametrized: bool = True
) -> Module:
    """Undo the parametrizations of ``tensor_name``: the original tensor comes back (the same
    object: a Parameter an optimizer holds stays its own, a buffer stays a buffer), holding
    the current parametrized value, or its own with leave_parametrized=False, as torch's.
    With several originals, a new Parameter holds the value."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"module {type(module).__name__} has no parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    originals = plist._originals()
    if leave_parametrized:
        with no_grad():
            value = plist()
        if plist.is_tensor:  # the value written into the original, as torch's set_
            keep = originals[0]
            keep.array = xp.array(value.array)
        else:
            keep = Parameter(xp.array(value.array))
            keep.requires_grad_(originals[0].requires_grad)
    else:
        if not plist.is_tensor:
            raise ValueError(
                "cannot leave the original of a parametrization with several originals;"
                " pass leave_parametrized=True"
            )
        keep = originals[0]
    cls = type(module)
    delattr(cls, tensor_name)
    del module.parametrizations.items_[tensor_name]
    module.__dict__[tensor_name] = keep
    if not module.parametrizations.items_:
        del module.__dict__["parametrizations"]
        module.__class__ = cls.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization (Linear, not
    ParametrizedLinear)."""
    cls = type(module)
    return cls.__bases__[0] if getattr(cls, "_is_parametrized_class", False) else cls


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:  # fmt: skip
    """Give ``to_module`` the parametrizations of ``from_module`` (all of them, or those of
    ``tensor_name``), sharing the parametrization modules and the original tensors, as torch
    does (a tensor missing from to_module is first made a Parameter copy of from's value)."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            value = getattr(from_module, name)
            setattr(to_module, name, Parameter(xp.array(value.array)))
        source = from_module.parametrizations[name]
        for p in source:
            register_parametrization(to_module, name, p)
        target = to_module.parametrizations[name]
        if source.is_tensor:
            target.original = source.original
        else:
            for i in range(source.ntensors):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
    return to_module
