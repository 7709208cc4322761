"""Module: parameters and state, found by walking attributes.

A Parameter is a Tensor that requires grad and that ``parameters()`` yields. A
Module finds its parameters, buffers and submodules by looking at its
attributes (also inside lists, tuples and dicts), so there is no registration
ceremony: ``self.fc = Linear(3, 4)`` is all it takes. Buffers are plain
Tensor attributes (running statistics): in ``state_dict`` but never seen by
an optimizer. Names are dotted paths, as in torch.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import backend, serialization_torch
from ..autograd_saved_writes import note_tensor_write
from ..backend import xp
from ..tensor import Tensor, to_arguments
from . import module_assign as _assign
from . import module_backward_hooks as _bw
from . import module_registration as _registration
from .module_assign import LoadStateDictError, _IncompatibleKeys  # noqa: F401 - torch's names
from .module_forward_hooks import ModuleForwardHooks
from .module_hooks import ModuleHooks
from .module_registration import registered
from .module_state_load import entry as state_entry


class Parameter(Tensor):
    """A Tensor that is a learnable parameter of a Module (requires grad by default)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(
            data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad
        )

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


serialization_torch.parameter_class = Parameter  # torch files' Parameters load as these


def _children_of(value, name, swapped=()):
    """(dotted name, object) for every Module/Tensor inside an attribute value (inside lists
    and dicts: Modules, Parameters and the tensors functional_call swapped in)."""
    if isinstance(value, (Module, Tensor)):
        yield name, value
    elif isinstance(value, (list, tuple, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            key = f"{name}.{k}"
            if isinstance(v, (Module, Parameter)) or (key in swapped and isinstance(v, Tensor)):
                yield key, v


class Module(ModuleForwardHooks, ModuleHooks):
    """Base class of every layer and model. Subclasses write ``forward``; a layer torch also has
    names its arguments as torch's forward does (``input``, so ``layer(input=t)`` works), and
    its body calls it x, as the equations do (``x = input``). Backward and state-dict hooks,
    extra state and more: module_hooks.py."""

    training: bool = True
    _non_persistent: frozenset = frozenset()
    _underscored: frozenset = frozenset()  # tensors registered under a name starting with _
    _computed_tensors: frozenset = frozenset()  # recomputed each forward (weight norm hooks)
    # set by ember.func.functional_call for its call: member name → the tensor it replaced,
    # whose kind (parameter, buffer, persistence) the name keeps; None: not listed
    _stand_ins: dict | None = None

    def __init__(self) -> None:
        self.training = True

    __setattr__ = _registration.assign  # torch's checks of what may replace a member
    __delattr__ = _registration.forget

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if (self._backward_hooks or self._backward_pre_hooks or _bw.global_backward_hooks
                or _bw.global_backward_pre_hooks):  # fmt: skip
            return _bw.call_with_backward_hooks(self, args, kwargs)
        return self._forward_hooked(args, kwargs)

    # ------------------------------------------------------------ walking
    def _members(self):
        """(name, value) of direct Tensors and Modules, own tensors first as torch orders them."""
        tensors, modules = [], []
        swapped = self._stand_ins or {}
        for key, value in vars(self).items():
            if (
                key.startswith("_") and key not in self._underscored
            ) or key in self._computed_tensors:
                continue
            for name, obj in _children_of(value, key, swapped):
                (modules if isinstance(obj, Module) else tensors).append((name, obj))
        return tensors, modules

    def _listed_as(self, name: str, t: Tensor) -> Tensor | None:
        """The tensor whose type says how member ``name`` is listed: ``t`` itself, or during
        functional_call the tensor it replaced, as torch keeps the name where it was (None:
        not listed)."""
        swapped = self._stand_ins
        return swapped[name] if swapped and name in swapped else t

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._members()[1]:
            if id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:  # fmt: skip
        """Every module below (and with) this one, by dotted name, depth first as torch. A
        module reachable under several names comes once (``memo`` the ids already given),
        or with ``remove_duplicate=False`` under each of them (a module inside itself still
        once per path)."""
        seen = set() if memo is None else memo  # modules, as torch's memo holds them
        stack = [(prefix, self, frozenset())]
        while stack:
            name, m, path = stack.pop()
            if (m in seen) if remove_duplicate else (id(m) in path):
                continue
            seen.add(m)
            yield name, m
            below = path | {id(m)}
            kids = m.named_children() if remove_duplicate else m._members()[1]
            stack.extend(reversed([(f"{name}.{n}" if name else n, c, below) for n, c in kids]))

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def _named_tensors(self, want_params: bool, recurse: bool = True, unique: bool = True):
        seen = set()
        modules = self.named_modules(remove_duplicate=unique) if recurse else [("", self)]
        for prefix, m in modules:
            for name, t in m._members()[0]:
                kind = m._listed_as(name, t)
                if kind is None or isinstance(kind, Parameter) != want_params:
                    continue
                if unique and id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):  # fmt: skip
        """(dotted name, parameter); a parameter shared by several modules (tied weights)
        comes once, or under every name with ``remove_duplicate=False``, as torch."""
        for name, p in self._named_tensors(True, recurse, remove_duplicate):
            yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self._named_tensors(True, recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):  # fmt: skip
        for name, b in self._named_tensors(False, recurse, remove_duplicate):
            yield (f"{prefix}.{name}" if prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self._named_tensors(False, recurse))

    def _check_member_name(self, kind: str, name, keeps) -> None:
        """torch's refusals of a parameter, buffer or module name: not a string, with a ".", empty,
        or naming an attribute of another kind (``keeps(value)``: the kind it may replace)."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and not keeps(self.__dict__.get(name, ...)):
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Keep ``tensor`` as state that is saved but never optimised (e.g. running mean); a
        NumPy array is taken as a tensor."""
        self._check_member_name(
            "buffer",
            name,
            lambda v: v is None or (isinstance(v, Tensor) and not isinstance(v, Parameter)),
        )
        if tensor is not None and not isinstance(tensor, (Tensor, xp.ndarray)):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or"
                " None required)"
            )
        if name.startswith("_"):  # private-looking attributes are skipped unless registered
            self._underscored = self._underscored | {name}
        if tensor is None:  # (a tensor goes through the registration hooks in setattr)
            tensor = registered(self, name, None, "buffer")
        setattr(
            self, name, tensor if tensor is None or isinstance(tensor, Tensor) else Tensor(tensor)
        )
        if not persistent:
            self._non_persistent = self._non_persistent | {name}
        elif name in self._non_persistent:  # registered again as persistent: saved, as torch
            self._non_persistent = self._non_persistent - {name}

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_member_name("parameter", name, lambda v: v is None or isinstance(v, Parameter))
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}'"
                " (Parameter or None required)"
            )
        if name.startswith("_"):
            self._underscored = self._underscored | {name}
        setattr(self, name, param)

    # ------------------------------------------------------------ state
    def _own_state(self):
        """(name, tensor) of this module's own parameters, then its persistent buffers (torch's
        order, whatever order they were assigned in)."""
        buffers = []
        for name, t in self._members()[0]:
            kind = self._listed_as(name, t)
            if isinstance(kind, Parameter):
                yield name, t
            elif not (
                kind is None
                or name in self._non_persistent
                or getattr(kind, "persistent", True) is False
            ):  # register_buffer(persistent=False), or an nn.Buffer(persistent=False)
                buffers.append((name, t))
        yield from buffers

    def _load_tensors(self, state_dict, strict: bool = True, assign: bool = False):
        """load_state_dict's core: copy values into this module's tensors in place (with
        ``assign``, make the given tensors the module's: module_assign.py).

        Accepts ember Tensors, NumPy arrays or torch tensors. With ``strict`` a mismatch
        raises one error listing missing keys, unexpected keys and wrong shapes.
        """
        for prefix, m in self.named_modules():  # e.g. a lazy layer sizes itself from the state
            hook = getattr(m, "_pre_load_state_dict", None)
            if hook is not None:
                hook(state_dict, f"{prefix}." if prefix else "")
        own = self._tensor_state()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        wrong, arrays, values = [], {}, {}
        for k, t in own.items():
            if k in state_dict:
                value, a = state_entry(k, state_dict[k], t, wrong)
                if a is not None:
                    arrays[k], values[k] = a, value
        # what matched is loaded even when the load then fails, as torch's walk does
        _assign.fill(self, own, arrays, values if assign else None)
        _assign.raise_errors(self, missing, unexpected, wrong, strict)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ modes and dtypes
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter of this module."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient, or (``set_to_none=False``) zero it in place, the
        same tensor kept, as torch's."""
        for p in self.parameters():
            zero_grad_of(p, set_to_none)

    def _cast(self, dtype, kinds: str = "f") -> Module:
        for t in list(self.parameters()) + list(self.buffers()):
            if t.array.dtype.kind in kinds:
                t.array = t.array.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor(t.grad.array.astype(dtype))
        return self

    def double(self) -> Module:
        return self._cast(xp.float64)

    def float(self) -> Module:
        return self._cast(xp.float32)

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False,
           memory_format=None) -> Module:  # fmt: skip
        """torch's ``module.to(device)``, ``.to(dtype)``, ``.to(device, dtype)``, ``.to(tensor)``
        (its dtype); ``non_blocking`` is accepted and means nothing on the host. With
        ``memory_format`` (channels_last …) the 4-D and 5-D parameters, buffers and gradients
        are laid out in it, each keeping its identity, as torch's do."""
        dtype = to_arguments(args, dtype, device)
        if dtype is not None:
            if xp.dtype(dtype).kind not in "fc":
                raise TypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, but got desired"
                    f" dtype={xp.dtype(dtype)}"
                )
            # torch's: floating and complex tensors take the dtype (a complex one cast to a
            # real dtype loses its imaginary part, with NumPy's and torch's warning)
            self._cast(dtype, kinds="fc")
        if memory_format is not None:
            for t in [*self.parameters(), *self.buffers()]:
                for u in (t, t._grad):  # torch: 4-D and 5-D only (channels_last on 5-D raises)
                    if u is not None and u.ndim in (4, 5):
                        u.array = u.detach().to(memory_format=memory_format).array
        return self

    def apply(self, fn) -> Module:
        """fn(m) for every submodule, children before their parent, in order (torch's)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ torch conveniences
    def cpu(self) -> Module:
        """The module on the CPU: itself (its tensors live on the process's one device, as
        Tensor.cpu says)."""
        return self

    def cuda(self, device=None) -> Module:
        """The module on the GPU: itself in a process on the GPU (EMBER_DEVICE=cuda), a clear
        RuntimeError in one on the CPU."""
        backend.check_cuda(device)
        return self

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16."""
        return self._cast(xp.float16)

    def add_module(self, name: str, module: Module | None) -> None:
        """Attach ``module`` as the child ``name`` (torch's explicit form of ``self.name = m``),
        refusing what torch refuses: a name that is not a string (TypeError), holds a dot, is
        empty or is another attribute already (KeyError), or a value that is no Module."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): {type(module).__name__} is not a Module")
        self._check_member_name("module", name, lambda v: v is None or isinstance(v, Module))
        setattr(self, name, module)

    register_module = add_module

    # ------------------------------------------------------------ display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """torch's layout: ``Name(extra)`` alone; with children (or a multi-line extra), the
        extra lines then one ``(name): child`` line each, indented under ``Name(``."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self.named_children()
        ]
        if not child_lines and len(extra_lines) <= 1:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(extra_lines + child_lines)
        return f"{type(self).__name__}(\n  {body}\n)"

    def summary(self, input_shape, **kwargs) -> str:
        """Each leaf layer's output shape and parameter count (see ``ember.nn.summary``)."""
        from .summary import summary  # summary.py builds on Module, so it is imported late

        return summary(self, input_shape, **kwargs)

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


_registration.Parameter, _registration.Module, _registration.Tensor = Parameter, Module, Tensor


def zero_grad_of(p: Tensor, set_to_none: bool) -> None:
    """p's gradient forgotten, or (``set_to_none=False``) zeroed in the same tensor, as torch's
    Module.zero_grad and Optimizer.zero_grad do."""
    if set_to_none or p.grad is None:
        p.grad = None
    elif p.grad.grad_fn is not None:  # built by a create_graph backward: a fresh zero
        p.grad = Tensor(xp.zeros_like(p.grad.array))
    elif p.grad.array.flags.writeable:
        p.grad.array[...] = 0
        note_tensor_write(p.grad)
    else:  # a read-only (broadcast) gradient: the same tensor, a zero array in it
        p.grad.array = xp.zeros(p.grad.shape, p.grad.array.dtype)
