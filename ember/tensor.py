"""Tensor: an array, its gradient, and the Function that made it.

``apply(Op, *inputs, **constants)`` runs an op's forward on the inputs' arrays
and, when some input requires grad and grad mode is on, records the op as the
output's ``grad_fn``. ``backward()`` hands the recorded graph to the engine in
``autograd.py``, which calls back ``_accumulate_grad`` on the leaves.

Gradients are never written into in place: an op may hand the same array to
two inputs (``a + b``), so accumulation always makes a new array.

What lives where: this file holds ``apply``, ``as_array`` and the core of ``Tensor`` (its
data, properties, conversions and autograd, hooks included); the methods that run ops come
from mixins Tensor inherits: ``TensorMethods`` (tensor_methods.py: arithmetic, comparisons,
maths, reductions, shapes, indexing), ``TorchTensorMethods`` (tensor_torch.py and
tensor_torch_logic.py: torch's conveniences) and ``IndexTensorMethods`` (tensor_index.py:
gather, scatter, scans, sorting).
"""

from __future__ import annotations

import weakref

from . import (
    backend,
    tensor_aliases,
    tensor_index,
    tensor_index_more,
    tensor_index_shape,
    tensor_inplace,
    tensor_linalg_methods,
    tensor_methods,
    tensor_misc,
    tensor_scatter_more,
    tensor_shape_more,
    tensor_special_linalg,
    tensor_stats_more,
    tensor_torch,
    tensor_torch_arith,
    tensor_torch_logic,
    tensor_torch_math,
    tensor_torch_reduce,
)
from .autograd import run_backward, sequence
from .backend import xp
from .function import Function, _grad_state, captures, observers
from .ops import shape as S
from .tensor_aliases import AliasTensorMethods
from .tensor_index import IndexTensorMethods
from .tensor_index_more import IndexMoreTensorMethods
from .tensor_index_shape import IndexShapeTensorMethods
from .tensor_inplace import InplaceTensorMethods
from .tensor_linalg_methods import LinalgTensorMethods
from .tensor_methods import TensorMethods, _t  # noqa: F401 - _t: functional.shape imports it
from .tensor_misc import MiscTensorMethods
from .tensor_scatter_more import ScatterMoreTensorMethods
from .tensor_shape_more import ShapeMoreTensorMethods
from .tensor_special_linalg import SpecialLinalgTensorMethods
from .tensor_stats_more import StatsMoreTensorMethods
from .tensor_torch import TorchTensorMethods
from .tensor_torch_math import TorchMathMethods

_ndarray = xp.ndarray


def apply(cls: type[Function], *inputs, **constants):
    """Run ``cls`` on ``inputs`` (Tensors, arrays or None) and wrap what it returns.

    This runs once per op, so it is written for speed: one pass over the inputs, the
    graph recorded only when some input requires grad and grad mode is on.
    """
    arrays = []
    needs = []
    record = False
    for t in inputs:
        if isinstance(t, Tensor):
            arrays.append(t.array)
            r = t.requires_grad
            needs.append(r)
            record = record or r
        else:
            arrays.append(t)
            needs.append(False)
    if record and captures:  # utils.checkpoint's forward: which tensors needing grad it reads
        captures[-1].update((id(t), t) for t, n in zip(inputs, needs) if n)
    fn = cls()
    fn.needs_input_grad = needs = tuple(needs)
    out = fn.forward(*arrays, **constants)
    if record and _grad_state.enabled:
        fn.parents = [t if n else None for t, n in zip(inputs, needs)]
        for t in fn.parents:
            if t is not None:  # one more live op whose backward an in-place change would mislead
                t._used = getattr(t, "_used", 0) + 1
        fn.freed = False
        fn.seq = next(sequence)
        ctx = fn
    else:
        ctx = None
    if observers:
        for obs in observers:
            obs.on_forward(fn, arrays, out)
    if fn.multi_output:
        fn.n_outputs = len(out)
        return tuple(_wrap(o, ctx, i) for i, o in enumerate(out))
    fn.n_outputs = 1
    return _wrap(out, ctx, 0)


def _wrap(a, fn, idx):
    if a.__class__ is not _ndarray:
        a = xp.asarray(a)
    t = Tensor.__new__(Tensor)
    t.array = a
    t.grad = None
    t.requires_grad = fn is not None
    t._ctx = fn
    t._idx = idx
    t._retain = False
    return t


def as_array(value, dtype=None):
    """The array behind a Tensor, array, number, list, or torch tensor."""
    if isinstance(value, Tensor):
        a = value.array
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        a = xp.asarray(value.detach().cpu().numpy())
    else:
        a = xp.asarray(value)
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


def check_hook_result(hook, got, want) -> None:
    """A register_hook hook must return None or a gradient of the tensor's own shape."""
    if tuple(got) != tuple(want):
        raise RuntimeError(
            f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape"
            f" {tuple(got)} for a tensor of shape {tuple(want)}"
        )


class Tensor(
    InplaceTensorMethods,
    TensorMethods,
    TorchTensorMethods,
    IndexTensorMethods,
    IndexMoreTensorMethods,
    ShapeMoreTensorMethods,
    StatsMoreTensorMethods,
    IndexShapeTensorMethods,
    LinalgTensorMethods,
    AliasTensorMethods,
    SpecialLinalgTensorMethods,
    ScatterMoreTensorMethods,
    TorchMathMethods,
    MiscTensorMethods,
):
    """An n-dimensional array that records the operations applied to it.

    ``array`` is the array itself (NumPy, or CuPy on the GPU; float32 unless asked otherwise);
    ``data`` is torch's ``.data``, the same memory as a tensor outside the graph; ``grad`` is
    filled by ``backward()``; ``requires_grad`` says whether to record the graph. The operators
    and the methods that run ops are inherited from ``TensorMethods`` (tensor_methods.py),
    PyTorch's conveniences from ``TorchTensorMethods`` (tensor_torch.py) and the index and scan
    methods from ``IndexTensorMethods`` (tensor_index.py).
    """

    # _used: how many recorded ops not yet run by backward take the tensor as an input
    # (tensor_inplace.py refuses in-place changes while there are any)
    __slots__ = (
        "array",
        "grad",
        "requires_grad",
        "_ctx",
        "_idx",
        "_retain",
        "_used",
        "__weakref__",
    )
    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        a = as_array(data)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        elif not hasattr(data, "dtype") and a.dtype == xp.float64:
            a = a.astype(backend.DEFAULT_DTYPE)  # Python floats become float32, as in torch
        if requires_grad and a.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got dtype {a.dtype}")
        self.array = a
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._idx = 0
        self._retain = False

    # ------------------------------------------------------------ properties
    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    # a backend.device, equal to "cpu" (or "cuda:0" in a process on the GPU, EMBER_DEVICE=cuda)
    device = property(lambda self: backend.DEVICE)
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: self._ctx)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def size(self, dim: int | None = None):
        return self.array.shape if dim is None else self.array.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __repr__(self) -> str:
        body = xp.array2string(backend.to_numpy(self.array), separator=", ", prefix="tensor(")
        extra = "" if self.dtype == backend.DEFAULT_DTYPE else f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------ conversion
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
        t.array, t.grad, t.requires_grad = self.array, None, False
        t._ctx, t._idx, t._retain = None, 0, False
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

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item() needs a tensor of one element, got shape {self.shape}")
        return self.array.reshape(()).item()

    def tolist(self):
        return self.array.tolist()

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.array.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    def detach(self) -> Tensor:
        return Tensor(self.array)

    def detach_(self) -> Tensor:
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use detach()")
        if requires_grad and self.array.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` each time the gradient with respect to this tensor is computed;
        a hook that returns a tensor replaces the gradient (torch's Tensor.register_hook).

        Hooks run in the order registered, before the gradient is accumulated into a leaf's
        ``.grad`` or kept by ``retain_grad()``; ``handle.remove()`` takes one off again.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        shape = self.array.shape

        def on_grad(g):  # arrays in and out: the engine knows nothing of Tensors
            out = hook(_wrap(g, None, 0))
            if out is None:
                return g
            out = as_array(out)
            check_hook_result(hook, out.shape, shape)
            return out

        on_grad.user_hook = hook  # create_graph=True calls it on the recorded Tensor itself
        if self._ctx is None:
            hooks = _leaf_hooks.get(id(self))
            if hooks is None:
                hooks = _leaf_hooks[id(self)] = []
                weakref.finalize(self, _leaf_hooks.pop, id(self), None)
        else:
            hooks = self._ctx.__dict__.setdefault("hooks", {}).setdefault(self._idx, [])
        hooks.append(on_grad)
        return RemovableHandle(hooks, on_grad)

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self._ctx is not None:
            self._retain = True
            retained = self._ctx.__dict__.setdefault("retained", {})
            retained[self._idx] = self
        return self

    def astype(self, dtype) -> Tensor:
        if self.array.dtype == dtype:
            return self
        if self.requires_grad and xp.dtype(dtype).kind == "f":
            return apply(S.Astype, self, dtype=dtype)
        return Tensor(self.array.astype(dtype))

    def float(self) -> Tensor:
        return self.astype(xp.float32)

    def double(self) -> Tensor:
        return self.astype(xp.float64)

    def long(self) -> Tensor:
        return self.astype(xp.int64)

    def clone(self) -> Tensor:
        return apply(S.Copy, self)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False) -> Tensor:
        """torch's ``x.to(device)``, ``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other)``;
        ``non_blocking`` is accepted and means nothing on the host."""
        dtype = to_arguments(args, dtype, device)
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if copy and out is self else out

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:  # fmt: skip
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (only into ``inputs`` when
        given). With ``create_graph`` the gradients keep a graph of their own, so they can be
        differentiated again (autograd_higher.py), and the graph is kept."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no grad_fn"
            )
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, got shape {self.shape};"
                    " pass gradient= of that shape"
                )
            g = xp.ones_like(self.array)
        else:
            g = as_array(gradient, self.array.dtype)
            if g.shape != self.array.shape:
                raise RuntimeError(
                    f"gradient has shape {g.shape} but the tensor has shape {self.shape}"
                )
        if create_graph or inputs is not None:
            self._backward_into(g, retain_graph, create_graph, inputs)
            return
        run_backward(self, g, bool(retain_graph))

    def _backward_into(self, g, retain_graph, create_graph: bool, inputs) -> None:
        """backward through autograd.grad: into ``inputs``, or every leaf that requires grad."""
        from .autograd_grad import grad

        if inputs is None:
            inputs, seen, stack = [], set(), [self]
            while stack:
                t = stack.pop()
                if t._ctx is None:
                    if t.requires_grad and id(t) not in seen:
                        seen.add(id(t))
                        inputs.append(t)
                    continue
                if id(t._ctx) not in seen:
                    seen.add(id(t._ctx))
                    stack.extend(p for p in t._ctx.parents if p is not None)
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        keep = create_graph if retain_graph is None else retain_graph
        grads = grad(self, inputs, Tensor(g), retain_graph=keep, create_graph=create_graph,
                     allow_unused=True)  # fmt: skip
        for t, gi in zip(inputs, grads):
            if gi is None:
                continue
            if create_graph:
                t.grad = gi if t.grad is None else t.grad + gi
            else:
                t._accumulate_grad(gi.array)

    def _accumulate_grad(self, g) -> None:
        """Add ``g`` into ``.grad`` (a new array each time: ``g`` may be shared; see above)."""
        if _leaf_hooks:
            for hook in _leaf_hooks.get(id(self), ()):
                g = hook(g)
        g = fit_grad(g, self.array)
        self.grad = _wrap(g if self.grad is None else self.grad.array + g, None, 0)
        if tensor_misc.post_accumulate_hooks:  # register_post_accumulate_grad_hook's
            for hook in list(tensor_misc.post_accumulate_hooks.get(id(self), ())):
                hook(self)


def fit_grad(g, data):
    """A gradient in ``data``'s shape and dtype (broadcast back, cast where they differ)."""
    if g.shape != data.shape:
        g = xp.broadcast_to(g, data.shape)
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def to_arguments(args, dtype=None, device=None):
    """The dtype asked for by torch's ``.to(*args, dtype=, device=)`` (None: keep it), once the
    device named there is checked: a device name or object, a dtype, or a tensor (its dtype)."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, backend.device)):
            device = a
        else:
            dtype = a
    if device is not None:  # "cpu" is where everything lives
        backend.check_device(device)
    return dtype


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook (torch's name)."""

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


#: Hooks of leaf tensors by id(tensor); a finalizer drops the entry with the tensor (a
#: WeakKeyDictionary would compare keys with Tensor.__eq__, which is elementwise). A
#: non-leaf's hooks live on the Function that made it, which the engine runs them from.
_leaf_hooks: dict[int, list] = {}


# The mixins build their results with these three. Their modules cannot import them from here
# (this module imports them, to inherit from them: that would be a cycle), so they are handed
# over once, here, as those modules' globals: an operator reads them exactly as it did when it
# was written in this file, with no extra lookup or call per op.
for _mixin_module in (
    tensor_methods,
    tensor_torch,
    tensor_torch_arith,
    tensor_torch_logic,
    tensor_torch_math,
    tensor_torch_reduce,
    tensor_index,
    tensor_index_more,
    tensor_shape_more,
    tensor_stats_more,
    tensor_index_shape,
    tensor_linalg_methods,
    tensor_aliases,
    tensor_special_linalg,
    tensor_scatter_more,
    tensor_inplace,
    tensor_misc,
):
    _mixin_module.Tensor = Tensor
    _mixin_module.apply = apply
    _mixin_module.as_array = as_array
