"""The last step of ``Module.load_state_dict``: copy the values in, or with ``assign=True``
make the state dict's tensors the module's own, as torch's.

torch's ``assign=True`` keeps the properties of the state dict's tensors (dtype, memory: the
module's parameter then shares its storage with the tensor it was given) instead of those of
the module's; a parameter keeps the module's ``requires_grad`` (a plain tensor given for a
parameter is wrapped in a Parameter, a Parameter given is used itself), and a buffer stays a
buffer with its persistence unchanged. ember takes ember Tensors (used themselves), NumPy
arrays and torch tensors (wrapped without a copy, so they share memory too).

Also what load_state_dict gives and raises: ``_IncompatibleKeys`` and ``LoadStateDictError``.
"""

from __future__ import annotations

from collections import namedtuple

from ..autograd_saved_writes import note_tensor_write
from ..tensor import Tensor


def fill(module, own: dict, arrays: dict, given: dict | None) -> None:
    """Copy ``arrays`` into the tensors ``own`` names, converting to their dtype; or, when
    ``given`` (the state dict) is passed, put its entries in their place (``assign=True``)."""
    if given is None:
        for k, a in arrays.items():
            t = own[k]
            t.array[...] = a.astype(t.array.dtype, copy=False)
            note_tensor_write(t)
        return
    from .module import Parameter  # module.py imports this file

    owners = {}
    for prefix, m in module.named_modules(remove_duplicate=False):  # a shared one: twice
        for name, _ in m._own_state():
            owners.setdefault(f"{prefix}.{name}" if prefix else name, (m, name))
    for k, a in arrays.items():
        value, old = given[k], own[k]
        new = value if isinstance(value, Tensor) else Tensor(a)
        if isinstance(old, Parameter):
            if isinstance(new, Parameter):
                new.requires_grad_(old.requires_grad)
            else:
                new = Parameter(new, requires_grad=old.requires_grad)
        _put(*owners[k], old, new)


def _put(m, name: str, old: Tensor, new: Tensor) -> None:
    """Put ``new`` where member ``name`` (``old``) of ``m`` is kept: the attribute of that
    name, else the list, tuple or dict attribute holding ``old`` (``"weights.0"``, or a
    container module's own storage such as ParameterList's)."""
    if vars(m).get(name) is old:
        setattr(m, name, new)
        return
    for attr, box in list(vars(m).items()):
        if isinstance(box, dict):
            for key, v in box.items():
                if v is old:
                    box[key] = new
                    return
        elif isinstance(box, (list, tuple)) and any(v is old for v in box):
            items = [new if v is old else v for v in box]
            if isinstance(box, list):
                box[:] = items
            else:
                setattr(m, attr, type(box)(items))
            return
    setattr(m, name, new)


def size_mismatch(key: str, given, own) -> str:
    """torch's message for a state-dict entry whose shape is not the module's."""
    from ..size import Size

    return (
        f"size mismatch for {key}: copying a param with shape {Size(given)!r} from checkpoint,"
        f" the shape in current model is {Size(own)!r}."
    )


def raise_errors(module, missing, unexpected, errors, strict: bool) -> None:
    """load_state_dict's error, if any: the missing and unexpected keys first (with
    ``strict``), then the other messages, in torch's words."""
    errors = list(errors)
    if strict and unexpected:
        errors.insert(0, "Unexpected key(s) in state_dict: "
                      + ", ".join(f'"{k}"' for k in unexpected) + ". ")  # fmt: skip
    if strict and missing:
        errors.insert(0, "Missing key(s) in state_dict: "
                      + ", ".join(f'"{k}"' for k in missing) + ". ")  # fmt: skip
    if errors:
        raise LoadStateDictError(
            f"Error(s) in loading state_dict for {type(module).__name__}:\n\t" + "\n\t".join(errors)
        )


class LoadStateDictError(RuntimeError, KeyError, ValueError):
    """load_state_dict's error, in torch's words: a RuntimeError as torch raises, and also a
    KeyError (keys missing or unexpected) and a ValueError (shapes that disagree), as ember
    raised before."""

    __str__ = BaseException.__str__  # (not KeyError's, which quotes the message)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """load_state_dict's result: torch's named tuple of the two lists (``_fields``,
    ``_asdict``, ``_replace`` as a namedtuple has them)."""

    __slots__ = ()

    def __repr__(self) -> str:  # torch's, as a notebook shows load_state_dict's result
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        missing, unexpected = self.missing_keys, self.unexpected_keys
        return f"_IncompatibleKeys(missing_keys={missing}, unexpected_keys={unexpected})"
