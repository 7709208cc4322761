"""Tensor: an array, its gradient, and the Function that made it.

``apply(Op, *inputs, **constants)`` runs an op's forward on the inputs' arrays
and, when some input requires grad and grad mode is on, records the op as the
output's ``grad_fn``. ``backward()`` hands the recorded graph to the engine in
``autograd.py``, which calls back ``_accumulate_grad`` on the leaves (both in
tensor_autograd.py).

What lives where: this file holds ``apply``, ``as_array`` and the core of ``Tensor`` (its
data, properties and conversions); its autograd surface (``backward``, hooks,
``retain_grad``) comes from ``AutogradTensorMethods`` (tensor_autograd.py), and the methods
that run ops from mixins Tensor inherits: ``TensorMethods`` (tensor_methods.py: arithmetic,
comparisons, maths, reductions, indexing; its shape methods from tensor_shape_methods.py),
``TorchTensorMethods`` (tensor_torch.py
and tensor_torch_logic.py: torch's conveniences) and ``IndexTensorMethods``
(tensor_index.py: gather, scatter, scans, sorting).
"""

from __future__ import annotations

from . import (
    backend,
    tensor_aliases,
    tensor_autograd,
    tensor_convert,
    tensor_index,
    tensor_index_more,
    tensor_index_shape,
    tensor_inplace,
    tensor_linalg_methods,
    tensor_memory_aliases,
    tensor_methods,
    tensor_misc,
    tensor_operands,
    tensor_rounding,
    tensor_scatter_more,
    tensor_shape_methods,
    tensor_shape_more,
    tensor_special_linalg,
    tensor_stats_more,
    tensor_torch,
    tensor_torch_arith,
    tensor_torch_logic,
    tensor_torch_math,
    tensor_torch_more,
    tensor_torch_reduce,
    tensor_view_of,
    tensor_views,
)
from .autograd import sequence
from .backend import xp
from .errors import InputTypeError
from .function import (
    Function,
    _grad_state,
    broadcast_error,
    captures,
    dual_levels,
    forward_started,
    observers,
    saved_hooks,
)
from .ops import shape as S
from .size import Size
from .tensor_aliases import AliasTensorMethods
from .tensor_autograd import (  # noqa: F401 - the rest: autograd_grad, autograd_higher import them
    AutogradTensorMethods,
    RemovableHandle,
    _leaf_hooks,
    check_hook_result,
    fit_grad,
)
from .tensor_convert import ConversionTensorMethods
from .tensor_index import IndexTensorMethods
from .tensor_index_more import IndexMoreTensorMethods
from .tensor_index_shape import IndexShapeTensorMethods
from .tensor_inplace import InplaceTensorMethods
from .tensor_linalg_methods import LinalgTensorMethods
from .tensor_methods import TensorMethods, _t  # noqa: F401 - _t: functional.shape imports it
from .tensor_misc import MiscTensorMethods, get_grad, set_grad, to_arguments  # noqa: F401
from .tensor_numpy_names import add_numpy_names
from .tensor_scatter_more import ScatterMoreTensorMethods
from .tensor_shape_more import ShapeMoreTensorMethods, reversed_dims
from .tensor_special_linalg import SpecialLinalgTensorMethods
from .tensor_stats_more import StatsMoreTensorMethods
from .tensor_str import tensor_repr
from .tensor_torch import TorchTensorMethods
from .tensor_torch_logic import CompareTensorMethods
from .tensor_torch_math import TorchMathMethods
from .tensor_torch_more import MoreTorchTensorMethods

_ndarray = xp.ndarray
_new_tuple = tuple.__new__


from .amp.autocast_mode import autocast_inputs, autocast_threads  # noqa: E402 - for apply
from .autograd_inference import (  # noqa: E402 - for apply and Tensor()
    after_op,
    check_requires_grad,
    inference_watch,
    mark_new,
)


def apply(cls: type[Function], *inputs, **constants):
    """Run ``cls`` on ``inputs`` (Tensors, arrays or None) and wrap what it returns.

    This runs once per op, so it is written for speed: one pass over the inputs, the
    graph recorded only when some input requires grad and grad mode is on.
    """
    if autocast_threads:  # some thread is in an autocast region: cast by the op's policy
        inputs = autocast_inputs(cls, inputs)
    if dual_levels and dual_levels[-1].has_dual(inputs):  # forward AD: outputs get tangents
        return dual_levels[-1].propagate(cls, inputs, constants)
    if observers:  # a profiler takes the op's start time here, the ONNX tracer the constants
        forward_started(cls, inputs, constants)
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
    try:
        out = fn.forward(*arrays, **constants)
    except ValueError as e:  # NumPy's message names neither the op nor the dimension
        if str(e).startswith("operands could not be broadcast"):
            raise broadcast_error(cls.__name__, [*arrays, *constants.values()]) from None
        raise
    if record and _grad_state.enabled:
        fn.parents = [t if n else None for t, n in zip(inputs, needs)]
        for t in fn.parents:
            if t is not None:  # one more live op whose backward an in-place change would mislead
                t._used = getattr(t, "_used", 0) + 1
        fn.freed = False
        fn.seq = next(sequence)
        ctx = fn
        if saved_hooks:  # saved_tensors_hooks: what forward saved goes through pack_hook
            pack_saved(fn, inputs)
    else:
        ctx = None
    if observers:  # a NumPy scalar (a full reduction) made an array now, so that the observers
        # see the very array the Tensor will hold (the ONNX tracer names outputs by id)
        if fn.multi_output:
            out = tuple(o if o.__class__ is _ndarray else xp.asarray(o) for o in out)
        elif out.__class__ is not _ndarray:
            out = xp.asarray(out)
        for obs in observers:
            obs.on_forward(fn, arrays, out)
    if fn.multi_output:
        fn.n_outputs = len(out)
        outs = tuple(_wrap(o, ctx, i) for i, o in enumerate(out))
        if cls in tensor_views.VIEW_CLASSES:  # split's pieces hang too
            for t in outs:
                _hang_view(t, ctx, inputs[0])
        if inference_watch:  # inference_mode has been used: its tensors' rules
            after_op(cls, inputs, ctx is not None, outs, cls in tensor_views.VIEW_CLASSES)
        return outs
    fn.n_outputs = 1
    t = _wrap(out, ctx, 0)
    if cls in tensor_views.VIEW_CLASSES:  # a fresh view hangs from its base
        _hang_view(t, ctx, inputs[0])
    if inference_watch:
        after_op(cls, inputs, ctx is not None, (t,), cls in tensor_views.VIEW_CLASSES)
    return t


def _hang_view(t, ctx, source) -> None:
    """t, made by a view op from ``source``: a recorded view joins its base's views; a plain
    one (no grad needed, or under no_grad) over the memory of a tensor in the graph, or of a
    plain alias of one (``h.detach()[0]``), is noted with that tensor's aliases, so that the
    tensor's later in-place changes re-point it (tensor_memory_aliases.py)."""
    if ctx is not None:
        tensor_views.hang(t)
    elif source.__class__ is Tensor:
        tensor_memory_aliases.note_plain_view(source, t)


def _wrap(a, fn, idx):
    if a.__class__ is not _ndarray:
        a = xp.asarray(a)
    t = Tensor.__new__(Tensor)
    t.array = a
    t._grad = None
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


def number_or_array(value):
    """A Python or NumPy number as the Python number (a weak scalar, as torch takes it), else
    the array behind the value (as_array)."""
    value = backend.python_scalar(value)
    return value if type(value) in (int, float, bool, complex) else as_array(value)


class Tensor(
    AutogradTensorMethods,
    InplaceTensorMethods,
    CompareTensorMethods,  # before TensorMethods: its <, <=, >, >= refuse complex numbers
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
    MoreTorchTensorMethods,
    ConversionTensorMethods,
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
        "_grad",
        "requires_grad",
        "_ctx",
        "_idx",
        "_retain",
        "_used",
        "_link",  # tensor_views.ViewLink: what a view written through in place views, and how
        "_views",  # weak references to those views of this tensor
        "_fw",  # the forward-AD tangent at the live level (autograd_forward_ad.py)
        "_aliases",  # weak references to plain tensors over this one's memory (detach, .data)
        "_untracked",  # a .data alias: its writes are not stamped (autograd_saved_writes.py)
        "_inference",  # set True on inference tensors only (autograd_inference.py)
        "__weakref__",
    )
    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        a = as_array(data)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        elif not hasattr(data, "dtype") and a.dtype == xp.float64:
            a = backend.cast(a, backend.DEFAULT_DTYPE)  # Python floats become float32, as torch
        elif not hasattr(data, "dtype") and a.dtype == xp.complex128:  # complex64, as torch
            a = a.astype(xp.complex128 if backend.DEFAULT_DTYPE == xp.float64 else xp.complex64)
        if requires_grad and a.dtype.kind not in "fc":
            raise InputTypeError(
                f"only floating-point tensors can require grad, got dtype {a.dtype}"
            )
        self.array = a
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._idx = 0
        self._retain = False
        if inference_watch:
            mark_new(self)

    # ------------------------------------------------------------ properties
    # an ember.Size, made without Size()'s per-element check (an array's shape is ints); code
    # inside ember that only needs the numbers reads self.array.shape, a plain tuple and faster
    shape = property(lambda self: _new_tuple(Size, self.array.shape))
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    # a backend.device, equal to "cpu" (or "cuda:0" in a process on the GPU, EMBER_DEVICE=cuda)
    device = property(lambda self: backend.DEVICE)
    is_leaf = property(lambda self: self._ctx is None)
    grad = property(get_grad, set_grad)  # a plain slot, with torch's warning (tensor_misc.py)
    grad_fn = property(lambda self: self._ctx)
    T = property(reversed_dims)  # with torch's warning for other than 2 dims

    def size(self, dim: int | None = None):
        """The shape as an ``ember.Size``, or with ``dim`` the size of that dim (an int)."""
        return _new_tuple(Size, self.array.shape) if dim is None else self.array.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __repr__(self) -> str:
        return tensor_repr(self)  # torch's layout: tensor_str.py

    def __format__(self, spec: str) -> str:
        """f"{t:.2f}" formats a 0-d tensor's value, as torch does; other tensors take no spec."""
        if self.array.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def detach(self) -> Tensor:
        t = Tensor(self.array)
        if inference_watch:  # a view: an inference tensor exactly when self is one
            t._inference = getattr(self, "_inference", False)
        # an in-place change of self (new memory), or of the tensor self aliases, takes t along
        tensor_memory_aliases.note_plain_view(self, t)
        return t

    def detach_(self) -> Tensor:
        if self._ctx is not None and tensor_views.link_of(self) is not None:  # torch refuses
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not isinstance(requires_grad, bool):  # torch's TypeError: 3 or "no" is no flag
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not"
                f" {type(requires_grad).__name__}"
            )
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use detach()")
        if requires_grad and self.array.dtype.kind not in "fc":
            raise InputTypeError(f"only floating-point tensors can require grad, got {self.dtype}")
        if inference_watch:
            check_requires_grad(self, requires_grad)
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype) -> Tensor:
        if self.array.dtype == dtype:
            return self
        if self.requires_grad and xp.dtype(dtype).kind in "fc":
            # real → complex keeps the real part of the gradient, complex → real sends back a
            # complex one with Im = 0 (torch's rules; ops/complex.py)
            return apply(S.Astype, self, dtype=dtype)
        if observers:  # a cast of a mask (x * (x > 0)): the ONNX tracer sees it as a Cast
            return apply(S.Astype, self, dtype=dtype)
        return Tensor(backend.cast(self.array, dtype))


# The mixins build their results with these three (tensor_autograd with _wrap too). Their
# modules cannot import them from here (this module imports them, to inherit from them: that
# would be a cycle), so they are handed over once, here, as those modules' globals: an
# operator reads them exactly as it did when it was written in this file, with no extra
# lookup or call per op.
for _mixin_module in (
    tensor_methods,
    tensor_rounding,
    tensor_torch,
    tensor_torch_arith,
    tensor_torch_logic,
    tensor_torch_math,
    tensor_torch_reduce,
    tensor_index,
    tensor_index_more,
    tensor_shape_methods,
    tensor_shape_more,
    tensor_stats_more,
    tensor_index_shape,
    tensor_linalg_methods,
    tensor_aliases,
    tensor_special_linalg,
    tensor_scatter_more,
    tensor_inplace,
    tensor_views,
    tensor_view_of,
    tensor_misc,
    tensor_torch_more,
    tensor_autograd,
    tensor_convert,
    tensor_operands,
):
    _mixin_module.Tensor = Tensor
    _mixin_module.apply = apply
    _mixin_module.as_array = as_array
tensor_autograd._wrap = _wrap
add_numpy_names(Tensor)  # torch's axis= / keepdims= aliases on the methods that lack them


from .autograd_graph import pack_saved  # noqa: E402 - for apply; it needs Tensor
