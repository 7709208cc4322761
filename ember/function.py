"""Function: one differentiable operation, its forward and backward side by side.

A Function works on raw arrays only. ``forward(*arrays)`` computes the output
(one array, or a tuple for several outputs) and saves on ``self`` what
``backward`` needs; ``backward(*grad_outputs)`` returns one gradient per input
(or None where an input needs none). ``tensor.py`` wraps Functions into the
graph; this file knows nothing of Tensors, so ops stay below the Tensor class.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading

from .errors import InputError
from .hooks import RemovableHandle, add_hook


class _GradState(threading.local):
    enabled = True  # the default in every thread, read without a getattr fallback


_grad_state = _GradState()

#: Objects with ``on_forward(fn, inputs, output)`` and ``on_backward(fn, grad_outputs,
#: grad_inputs)``, called for every op while present (anomaly detection, tracing), and
#: optionally ``on_forward_start(cls, inputs, constants)`` / ``on_backward_start(fn)`` just
#: before the op runs (the profiler's start time; the ONNX exporter reads the constants).
#: Empty in normal use, so the cost is one truth test per op.
observers: list = []

#: Open captures (dicts id → Tensor): while one is open, every Tensor that requires grad and
#: enters an op, with or without grad mode, is added to the innermost. utils.checkpoint opens
#: one around its forward under no_grad, to learn which parameters the function reads.
#: Empty in normal use: one truth test per op that has an input requiring grad.
captures: list = []


#: Open saved_tensors_hooks blocks, innermost last: (pack_hook, unpack_hook) pairs
#: (autograd_graph.py). While one is open, apply packs what each recorded op saved. Empty in
#: normal use: one truth test per recorded op.
saved_hooks: list = []

#: The live forward-AD level (autograd_forward_ad.py), at most one as in torch: while it is
#: there, apply gives every op with a dual input a tangent. Empty in normal use: one truth test
#: per op.
dual_levels: list = []


def forward_started(cls, inputs=(), constants=None) -> None:
    """Tell the observers that have an ``on_forward_start`` that ``cls`` is about to run on
    ``inputs`` (Tensors, arrays or None) with keyword ``constants`` (stride, axis, ...).
    Called only while ``observers`` is non-empty; the start hook is optional, so observers
    that only watch finished ops (anomaly, activations) need not define it."""
    constants = {} if constants is None else constants
    for obs in observers:
        start = getattr(obs, "on_forward_start", None)
        if start is not None:
            start(cls, inputs, constants)


def python_value_taken(array, what: str) -> None:
    """Tell the observers that have an ``on_python_value`` that a tensor's value left the graph
    as a Python value (``what``: item(), tolist(), bool()): the ONNX exporter checks that it
    does not depend on the inputs, since the graph can only hold it as a constant."""
    for obs in observers:
        taken = getattr(obs, "on_python_value", None)
        if taken is not None:
            taken(array, what)


def backward_started(fn) -> None:
    """``forward_started`` for the backward of ``fn``, just before it runs."""
    for obs in observers:
        start = getattr(obs, "on_backward_start", None)
        if start is not None:
            start(fn)


def is_grad_enabled() -> bool:
    return _grad_state.enabled


class _GradModeContext:
    """torch's grad-mode managers: a context manager, and a decorator (called or bare) whose
    every call runs in a fresh one, generators included (each resume runs inside)."""

    _mode = False

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)  # bare @no_grad on a function

    def _fresh(self):
        return type(self)()

    def __enter__(self) -> None:
        self._prev = _grad_state.enabled
        _grad_state.enabled = self._mode

    def __exit__(self, *exc) -> None:
        _grad_state.enabled = self._prev

    def __call__(self, func):
        return context_decorator(self._fresh, func)


def context_decorator(fresh, func):
    """``func`` run inside ``fresh()`` (a new context manager per call): a generator function
    inside one for each resume, as torch's grad-mode decorators run it; its return value is
    the wrapped generator's."""
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:  # the wrapped generator's end is this one's (its return value too)
                with fresh():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with fresh():
                            gen.close()
                        raise
                    except BaseException:  # noqa: BLE001 - thrown in, passed on inside
                        with fresh():
                            response = gen.throw(*sys.exc_info())
                    else:
                        with fresh():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with fresh():
            return func(*args, **kwargs)

    return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Record no graph inside the block (inference, parameter updates); also a decorator."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Record the graph inside the block, even within no_grad; also a decorator."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - torch's name
    """torch.set_grad_enabled(mode): sets grad mode at once, as a call; as a context manager
    (``with set_grad_enabled(phase == "train"):``) the previous mode returns at exit."""

    def __new__(cls, mode: bool):  # torch's argument name; _GradModeContext's is the function
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):  # torch's TypeError: 1, None or "train" is no mode
            raise TypeError(
                f"set_grad_enabled(): argument 'mode' must be bool, not {type(mode).__name__}"
            )
        self._prev = _grad_state.enabled
        self._mode = mode
        _grad_state.enabled = self._mode

    def _fresh(self):
        return set_grad_enabled(self._mode)

    def __enter__(self) -> None:
        pass  # the mode was set by the constructor; _prev is what it replaced

    def __call__(self, func):
        _grad_state.enabled = self._prev  # as a decorator it must not change the mode now
        return super().__call__(func)

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self._mode)


class Function:
    """Base class of every op.

    Subclasses set what they need in ``forward`` and read it in ``backward``.
    ``needs_input_grad`` (a tuple of bools, one per array input) is set before
    ``forward`` runs so both passes can skip work nobody asked for.
    """

    __slots__ = ("needs_input_grad", "parents", "n_outputs", "freed", "seq", "__dict__")

    #: Functions with several outputs receive None for outputs that got no gradient.
    multi_output = False
    #: True where the op keeps no array for backward (shapes and numbers only): backward may
    #: run it again, as torch's nodes that saved no tensor (autograd.free)
    rerunnable = False

    def forward(self, *args):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def name(self) -> str:
        return NodeName(type(self).__name__)

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    @property
    def metadata(self) -> dict:
        """torch's ``grad_fn.metadata``: a dict of the user's own, kept on the node."""
        return self.__dict__.setdefault("metadata", {})

    def register_prehook(self, hook) -> RemovableHandle:
        """``hook(grad_outputs) -> tuple | None`` before this node's backward runs (it may
        replace the gradients of the node's outputs); see autograd_node_hooks.py."""
        return add_hook(self._node_hooks(hook)[0], hook)

    def register_hook(self, hook) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs) -> tuple | None`` after this node's backward has
        run (it may replace the gradients it passes on); see autograd_node_hooks.py."""
        return add_hook(self._node_hooks(hook)[1], hook)

    def _node_hooks(self, hook) -> tuple[dict, dict]:
        if not callable(hook):
            raise TypeError(f"a node hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get("node_hooks")
        if hooks is None:
            hooks = self.__dict__["node_hooks"] = ({}, {})
        return hooks

    @property
    def next_functions(self) -> tuple:
        """torch's walk down the graph: one (node, output index) per tensor input; the node of
        a leaf that needs a gradient is its ``AccumulateGrad`` (``.variable`` is the leaf), an
        input that needs none gives (None, 0)."""
        out = []
        for p in getattr(self, "parents", None) or ():
            if p is None:
                out.append((None, 0))
            elif p._ctx is None:
                out.append((AccumulateGrad(p), 0))
            else:
                out.append((p._ctx, p._idx))
        return tuple(out)


def half_in_float32(cls):
    """Class decorator: float16 inputs of the op run in float32 and its results round to
    float16 once, as torch's CPU kernels compute half ("opmath"). Its backward takes the
    float16 gradients up to float32 and hands each input's gradient back in that input's
    dtype. For ops whose sums and squares leave half's range or precision (layer norm's
    variance overflows 65 504 for a row of 4096 values near 50; a cumsum of thousands of
    terms drifts by whole units). A decorated subclass calling a decorated base (Std's
    forward calls Var's) converts once, in the outermost call."""
    forward, backward = cls.forward, cls.backward

    def forward_half(self, *inputs, **constants):
        if self.__dict__.get("_in_half"):  # inside the outer call of a decorated subclass
            return forward(self, *inputs, **constants)
        if not any(getattr(a, "dtype", None) == _FLOAT16 for a in inputs):
            self.half_dtypes = None
            return forward(self, *inputs, **constants)
        self.half_dtypes = tuple(getattr(a, "dtype", None) for a in inputs)
        inputs = tuple(a.astype("float32") if getattr(a, "dtype", None) == _FLOAT16 else a
                       for a in inputs)  # fmt: skip
        self._in_half = True
        try:
            out = forward(self, *inputs, **constants)
        finally:
            self._in_half = False
        return tuple(map(_to_half, out)) if cls.multi_output else _to_half(out)

    def backward_half(self, *grads):
        if self.half_dtypes is None or self.__dict__.get("_in_half"):
            return backward(self, *grads)
        grads = tuple(None if g is None else g.astype("float32", copy=False) for g in grads)
        self._in_half = True
        try:
            out = backward(self, *grads)
        finally:
            self._in_half = False
        return tuple(
            g if g is None or d is None else g.astype(d, copy=False)
            for g, d in zip(out, self.half_dtypes)
        )

    cls.forward, cls.backward = forward_half, backward_half
    return cls


_FLOAT16, _FLOAT32 = "float16", "float32"


def _to_half(out):
    return out.astype(_FLOAT16) if getattr(out, "dtype", None) == _FLOAT32 else out


class NodeName(str):
    """A node's op name (``fn.name`` is "Mul" for ember's own code) that, called as torch's
    ``grad_fn.name()``, gives the node's full name, the one its repr shows ("MulBackward")."""

    def __new__(cls, op: str, full: str | None = None):
        name = super().__new__(cls, op)
        name.full = f"{op}Backward" if full is None else full
        return name

    def __call__(self) -> str:
        return self.full


class AccumulateGrad:
    """Where a leaf's gradient ends up (torch's node of that name, seen in next_functions)."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    name = property(lambda self: NodeName("AccumulateGrad", "AccumulateGrad"))

    def register_prehook(self, hook):
        raise NotImplementedError(
            "hooks on a leaf's AccumulateGrad node are not supported in ember: use the leaf's"
            " own register_hook (before its gradient is accumulated) or"
            " register_post_accumulate_grad_hook (after)"
        )

    register_hook = register_prehook

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    if grad.dtype == _FLOAT16:  # summed in float32 and rounded once, as torch's reductions
        return unbroadcast(grad.astype(_FLOAT32), shape).astype(_FLOAT16)
    ndim_extra = grad.ndim - len(shape)
    if ndim_extra > 0:
        grad = grad.sum(axis=tuple(range(ndim_extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def is_numpy_broadcast_error(e: Exception) -> bool:
    """Whether ``e`` is NumPy's "operands could not be broadcast" (a plain ValueError)."""
    return type(e) is ValueError and "could not be broadcast" in str(e)


def broadcast_error(name: str, arrays) -> InputError:
    """The error for operands whose shapes do not broadcast, raised where the op is called:
    NumPy's own message names neither the op nor the dimension that disagrees."""
    shapes = [tuple(a.shape) for a in arrays if hasattr(a, "shape")]
    where = ""
    if len(shapes) == 2:
        (a, b), n = shapes, max(len(s) for s in shapes)
        for d in range(1, n + 1):
            sa = a[-d] if d <= len(a) else 1
            sb = b[-d] if d <= len(b) else 1
            if sa != sb and 1 not in (sa, sb):
                where = (f": the size of tensor a ({sa}) must match the size of tensor b ({sb})"
                         f" at non-singleton dimension {n - d}")  # fmt: skip
                break
    listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
    return InputError(f"{name.lower()}: shapes {listed} do not broadcast{where}")
