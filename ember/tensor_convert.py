"""Tensor's conversions out of the graph: ``numpy()``, ``.data``, ``__array__``, ``item()``,
``tolist()`` and the Python number protocols, as in torch.

``Tensor`` and ``as_array`` are bound as this module's globals by tensor.py (see the note at the
end of tensor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import backend
from .autograd_saved_writes import note_tensor_write
from .function import observers, python_value_taken
from .tensor_memory_aliases import note_plain_view

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, as_array  # noqa: F401


class NotOneElement(RuntimeError, ValueError):
    """item(), float() or int() of a tensor that has not one element: torch's RuntimeError
    (item) and ValueError (float, int) at once, so either ``except`` catches it."""


class ConversionTensorMethods:
    """Values leaving the graph: as arrays, Python numbers and lists."""

    __slots__ = ()

    def numpy(self):
        """The data as a NumPy array (a view for CPU tensors, as in torch; a host copy on the
        GPU, where torch would ask for ``.cpu()`` first: that is accepted and changes nothing)."""
        if self.requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return backend.to_numpy(self.array)

    @property
    def data(self) -> Tensor:
        """torch's ``.data``: the same memory as a new tensor that is outside the graph. What
        is done to it is not recorded, so ``m.weight.data.normal_(0, 0.02)``,
        ``p.data.add_(p.grad, alpha=-lr)`` and ``p.data.clamp_(-c, c)`` change the parameter
        in place without a gradient, as in torch. ``.array`` is the array itself."""
        t = Tensor.__new__(Tensor)
        t.array, t._grad, t.requires_grad = self.array, None, False
        t._ctx, t._idx, t._retain = None, 0, False
        t._untracked = True  # its writes are not checked at backward, as torch counts none
        # an in-place change of self (new memory), or of the tensor self aliases, takes t along
        note_plain_view(self, t)
        return t

    @data.setter
    def data(self, value) -> None:
        """``t.data = other``: t now holds other's memory (shape and dtype may change, as in
        torch); the graph t belongs to is not touched."""
        self.array = as_array(value)

    def __array__(self, dtype=None, copy=None):
        """``numpy.asarray(t)``: the values as a NumPy array, refused for a tensor that
        requires grad as ``numpy()`` refuses it (use ``t.detach()`` or ``t.data``)."""
        a = self.numpy()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    # (while an observer watches, the ONNX exporter learns of each value taken out of the graph)
    def item(self):
        if self.array.size != 1:  # torch: RuntimeError from item(), ValueError from float()
            raise NotOneElement(
                f"a Tensor with {self.array.size} elements cannot be converted to Scalar"
                f" (item(), float() and int() need one element; got shape {self.array.shape})"
            )
        if observers:
            python_value_taken(self.array, "item() (or float(), int())")
        return self.array.reshape(()).item()

    def tolist(self):
        if observers:
            python_value_taken(self.array, "tolist()")
        return self.array.tolist()

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.array.shape} is ambiguous"
            )
        if observers:
            python_value_taken(self.array, "bool() (an if or a while on a tensor)")
        return bool(self.array.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):  # (range(t), seq[t], operator.index): integers only, as torch
        if self.array.dtype.kind not in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    # ------------------------------------------------------------ Python functions over values
    def apply_(self, callable) -> Tensor:  # noqa: A002 - torch's argument name
        """torch.Tensor.apply_: each element replaced by callable(element), in place (a CPU
        tensor that does not require grad; slow, as torch's)."""
        return self._python_map("apply_", callable)

    def map_(self, tensor, callable) -> Tensor:  # noqa: A002 - torch's argument name
        """torch.Tensor.map_: each element replaced by callable(element, tensor's element), in
        place, with tensor broadcast to self's shape."""
        return self._python_map("map_", callable, tensor)

    def map2_(self, x, y, callable) -> Tensor:  # noqa: A002 - torch's argument name
        """torch.Tensor.map2_: each element replaced by callable(element, x's, y's), in place,
        x and y broadcast to self's shape."""
        return self._python_map("map2_", callable, x, y)

    def _python_map(self, name: str, fn, *others) -> Tensor:
        if backend.ON_GPU:
            raise TypeError(f"{name} is only implemented on CPU tensors")
        if any(t.requires_grad for t in (self, *others)):
            raise RuntimeError(
                f"Can't call {name}() on Variable that requires grad. Use"
                f" var.detach().{name}() instead."
            )
        columns = [self.array.ravel().tolist()]
        columns += [o.expand(*self.shape).array.ravel().tolist() for o in others]
        values = [fn(*vs) for vs in zip(*columns)]
        self.array[...] = backend.xp.asarray(values, dtype=self.array.dtype).reshape(
            self.array.shape
        )
        note_tensor_write(self)
        return self

    # ------------------------------------------------------------ other views of the values
    def as_subclass(self, cls) -> Tensor:
        """torch.Tensor.as_subclass: the same values (same memory) as an instance of ``cls``,
        a subclass of Tensor, on the same place in the graph (gradients flow as through
        self)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"as_subclass: expected a subclass of Tensor, got {cls!r}")
        t = Tensor.__new__(cls)
        t.array, t._grad, t.requires_grad = self.array, None, self.requires_grad
        t._ctx, t._idx, t._retain = self._ctx, self._idx, False
        return t
