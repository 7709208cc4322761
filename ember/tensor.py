"""Tensor: an array, its gradient, and the Function that made it.

``apply(Op, *inputs, **constants)`` runs an op's forward on the inputs' arrays
and, when some input requires grad and grad mode is on, records the op as the
output's ``grad_fn``. ``backward()`` hands the recorded graph to the engine in
``autograd.py``, which calls back ``_accumulate_grad`` on the leaves.

Gradients are never written into in place: an op may hand the same array to
two inputs (``a + b``), so accumulation always makes a new array.
"""

from __future__ import annotations

from . import backend
from .autograd import run_backward, sequence
from .backend import xp
from .function import Function, _grad_state, is_grad_enabled, observers
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S

_ndarray = xp.ndarray
_Number = (int, float)


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
            arrays.append(t.data)
            r = t.requires_grad
            needs.append(r)
            record = record or r
        else:
            arrays.append(t)
            needs.append(False)
    fn = cls()
    fn.needs_input_grad = needs = tuple(needs)
    out = fn.forward(*arrays, **constants)
    if record and _grad_state.enabled:
        fn.parents = [t if n else None for t, n in zip(inputs, needs)]
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
    t.data = a
    t.grad = None
    t.requires_grad = fn is not None
    t._ctx = fn
    t._idx = idx
    t._retain = False
    return t


def as_array(value, dtype=None):
    """The array behind a Tensor, array, number, list, or torch tensor."""
    if isinstance(value, Tensor):
        a = value.data
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        a = value.detach().cpu().numpy()
    else:
        a = xp.asarray(value)
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    ``data`` is the array (float32 unless asked otherwise); ``grad`` is filled
    by ``backward()``; ``requires_grad`` says whether to record the graph.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_retain", "__weakref__")
    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        a = as_array(data)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        elif not hasattr(data, "dtype") and a.dtype == xp.float64:
            a = a.astype(backend.DEFAULT_DTYPE)  # Python floats become float32, as in torch
        if requires_grad and a.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got dtype {a.dtype}")
        self.data = a
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._idx = 0
        self._retain = False

    # ------------------------------------------------------------ properties
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    device = property(lambda self: "cpu")
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: self._ctx)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self) -> str:
        body = xp.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
        extra = "" if self.dtype == backend.DEFAULT_DTYPE else f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    # ------------------------------------------------------------ conversion
    def numpy(self):
        """The data as a NumPy array (a view for CPU tensors, as in torch)."""
        if self.requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor of one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def detach_(self) -> Tensor:
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use detach()")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self._ctx is not None:
            self._retain = True
            retained = self._ctx.__dict__.setdefault("retained", {})
            retained[self._idx] = self
        return self

    def astype(self, dtype) -> Tensor:
        if self.data.dtype == dtype:
            return self
        if self.requires_grad and xp.dtype(dtype).kind == "f":
            return apply(S.Astype, self, dtype=dtype)
        return Tensor(self.data.astype(dtype))

    def float(self) -> Tensor:
        return self.astype(xp.float32)

    def double(self) -> Tensor:
        return self.astype(xp.float64)

    def long(self) -> Tensor:
        return self.astype(xp.int64)

    def clone(self) -> Tensor:
        return apply(S.Copy, self)

    def to(self, dtype_or_device) -> Tensor:
        if isinstance(dtype_or_device, str):
            if dtype_or_device != "cpu":
                raise RuntimeError(f"device {dtype_or_device!r} is not available in this build")
            return self
        return self.astype(dtype_or_device)

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, got shape {self.shape};"
                    " pass gradient= of that shape"
                )
            g = xp.ones_like(self.data)
        else:
            g = as_array(gradient, self.data.dtype)
            if g.shape != self.data.shape:
                raise RuntimeError(
                    f"gradient has shape {g.shape} but the tensor has shape {self.shape}"
                )
        run_backward(self, g, retain_graph)

    def _accumulate_grad(self, g) -> None:
        """Add ``g`` into ``.grad`` (a new array each time: ``g`` may be shared; see above)."""
        data = self.data
        if g.shape != data.shape:
            g = xp.broadcast_to(g, data.shape)
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
        self.grad = _wrap(g if self.grad is None else self.grad.data + g, None, 0)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        if isinstance(other, _Number):
            return apply(E.AddScalar, self, c=other)
        return apply(E.Add, self, _t(other, self))

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, _Number):
            return apply(E.AddScalar, self, c=-other)
        return apply(E.Sub, self, _t(other, self))

    def __rsub__(self, other):
        if isinstance(other, _Number):
            return apply(E.RSubScalar, self, c=other)
        return apply(E.Sub, _t(other, self), self)

    def __mul__(self, other):
        if isinstance(other, _Number):
            return apply(E.MulScalar, self, c=other)
        return apply(E.Mul, self, _t(other, self))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, _Number):
            return apply(E.MulScalar, self, c=1.0 / other)
        return apply(E.Div, self, _t(other, self))

    def __rtruediv__(self, other):
        if isinstance(other, _Number):
            return apply(E.RDivScalar, self, c=other)
        return apply(E.Div, _t(other, self), self)

    def __pow__(self, other):
        if isinstance(other, _Number):
            return apply(E.PowScalar, self, c=other)
        return apply(E.Pow, self, _t(other, self))

    def __rpow__(self, other):
        if isinstance(other, _Number):
            return apply(E.RPowScalar, self, c=other)
        return apply(E.Pow, _t(other, self), self)

    def __neg__(self):
        return apply(E.Neg, self)

    def __matmul__(self, other):
        other = _t(other, self)
        a, b = self.shape, other.shape
        if not a or not b or a[-1] != (b[-2] if len(b) > 1 else b[0]):
            raise ValueError(
                f"matmul: shapes {a} and {b} cannot be multiplied "
                f"(inner dimensions {a[-1] if a else '-'} and "
                f"{(b[-2] if len(b) > 1 else b[0]) if b else '-'} differ)"
            )
        return apply(L.MatMul, self, other)

    def __rmatmul__(self, other):
        return _t(other, self).__matmul__(self)

    # comparisons: no gradient, boolean result
    def _cmp(self, other, op):
        return Tensor(op(self.data, other.data if isinstance(other, Tensor) else other))

    def __lt__(self, o):
        return self._cmp(o, xp.less)

    def __le__(self, o):
        return self._cmp(o, xp.less_equal)

    def __gt__(self, o):
        return self._cmp(o, xp.greater)

    def __ge__(self, o):
        return self._cmp(o, xp.greater_equal)

    def __eq__(self, o):
        return self._cmp(o, xp.equal)

    def __ne__(self, o):
        return self._cmp(o, xp.not_equal)

    def __invert__(self):
        return Tensor(~self.data)

    def __and__(self, o):
        return self._cmp(o, xp.logical_and)

    def __or__(self, o):
        return self._cmp(o, xp.logical_or)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    # ------------------------------------------------------------ maths
    def exp(self):
        return apply(E.Exp, self)

    def log(self):
        return apply(E.Log, self)

    def sqrt(self):
        return apply(E.Sqrt, self)

    def abs(self):
        return apply(E.Abs, self)

    def sin(self):
        return apply(E.Sin, self)

    def cos(self):
        return apply(E.Cos, self)

    def tanh(self):
        return apply(E.Tanh, self)

    def sigmoid(self):
        return apply(E.Sigmoid, self)

    def relu(self):
        return apply(E.ReLU, self)

    def clip(self, min=None, max=None):  # noqa: A002 - torch's argument names
        return apply(E.Clip, self, lo=min, hi=max)

    clamp = clip

    def maximum(self, other):
        return apply(E.Maximum, self, _t(other, self))

    def minimum(self, other):
        return apply(E.Minimum, self, _t(other, self))

    def softmax(self, dim=-1):
        return apply(R.Softmax, self, axis=dim)

    def log_softmax(self, dim=-1):
        return apply(R.LogSoftmax, self, axis=dim)

    # ------------------------------------------------------------ reductions
    # ``axis`` as in NumPy; ``dim`` accepted as torch's name for it.
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return apply(R.Sum, self, axis=_ax(axis, dim), keepdims=keepdims or bool(keepdim))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return apply(R.Mean, self, axis=_ax(axis, dim), keepdims=keepdims or bool(keepdim))

    def var(
        self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None, unbiased=None
    ):
        if unbiased is not None:
            correction = int(unbiased)
        return apply(
            R.Var,
            self,
            axis=_ax(axis, dim),
            keepdims=keepdims or bool(keepdim),
            correction=correction,
        )

    def std(self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
        return self.var(axis, keepdims, correction, dim=dim, keepdim=keepdim).sqrt()

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return apply(R.LogSumExp, self, axis=_ax(axis, dim), keepdims=keepdims or bool(keepdim))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Maximum over ``axis``; with torch's ``dim=`` it returns (values, indices)."""
        return self._extreme(R.Max, self.argmax, axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return self._extreme(R.Min, self.argmin, axis, keepdims, dim, keepdim)

    def _extreme(self, op, arg, axis, keepdims, dim, keepdim):
        keep = keepdims or bool(keepdim)
        values = apply(op, self, axis=_ax(axis, dim), keepdims=keep)
        if dim is None:
            return values
        return values, arg(dim, keep)

    def argmax(self, axis=None, keepdims=False):
        return Tensor(self.data.argmax(axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, keepdims=False):
        return Tensor(self.data.argmin(axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------ shapes
    def reshape(self, *shape):
        shape = _shape_arg(shape)
        try:
            return apply(S.Reshape, self, shape=shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {self.shape} ({self.data.size} elements)"
                f" into shape {shape}"
            ) from None

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = start_dim % nd, end_dim % nd
        shape = self.shape
        n = 1
        for k in shape[s : e + 1]:
            n *= k
        return self.reshape(shape[:s] + (n,) + shape[e + 1 :])

    def permute(self, *axes):
        return apply(S.Permute, self, axes=_shape_arg(axes))

    def transpose(self, dim0=-2, dim1=-1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return apply(S.Permute, self, axes=tuple(axes))

    def expand(self, *shape):
        shape = tuple(
            o if n == -1 else n
            for n, o in zip(_shape_arg(shape), (None,) * (len(shape) - self.ndim) + self.shape)
        )
        return apply(S.Expand, self, shape=shape)

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            dims = {d % self.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        shape = list(self.shape)
        shape.insert(dim % (self.ndim + 1), 1)
        return self.reshape(tuple(shape))

    def split(self, split_size_or_sections, dim=0):
        """torch.split: chunks of one size, or a list of sizes."""
        n = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            k = split_size_or_sections
            bounds = list(range(k, n, k))
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split sizes {sizes} sum to {sum(sizes)}, but dim {dim} is {n}")
            bounds, acc = [], 0
            for k in sizes[:-1]:
                acc += k
                bounds.append(acc)
        return apply(S.Split, self, indices=bounds, axis=dim)

    def chunk(self, chunks, dim=0):
        n = self.shape[dim]
        return self.split(-(-n // chunks), dim)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, index):
        index = _plain_index(index)
        if not self.requires_grad or not is_grad_enabled():
            return Tensor(self.data[index])
        return apply(S.GetItem, self, index=index)

    def __setitem__(self, index, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                "in-place assignment to a tensor that requires grad; wrap it in ember.no_grad()"
            )
        self.data[_plain_index(index)] = as_array(value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _t(other, like: Tensor) -> Tensor:
    """Turn an operand into a Tensor of ``like``'s floating dtype where it is a plain value."""
    if isinstance(other, Tensor):
        return other
    a = as_array(other)
    if a.dtype.kind == "f" and like.data.dtype.kind == "f" and a.dtype != like.data.dtype:
        a = a.astype(like.data.dtype)
    return Tensor(a)


def _ax(axis, dim):
    return dim if dim is not None else axis


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _plain_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return xp.asarray(index)
    return index
