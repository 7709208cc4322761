"""Activation checkpointing, as torch.utils.checkpoint: trade compute for memory.

    forward:   y = f(x) under no_grad; keep x (and the RNG state), not f's activations
    backward:  y = f(x) again with grad on, from the same RNG state; backpropagate gy

The graph node's inputs are x's tensors and every tensor needing grad that f reads from
elsewhere (its parameters, a tensor it closes over): the forward learns them as it runs
(``function.captures``). So the gradients of the parameters go where every gradient goes,
into ``.grad`` under ``backward()`` and into the results of ``ember.autograd.grad`` (which
leaves ``.grad`` alone), and ``create_graph=True`` differentiates through a checkpoint again:
its recorded derivative recomputes f on the graph's own tensors. Dropout inside f draws the
same mask twice because ember's default generator is rewound for the recomputation (torch's
``preserve_rng_state=True``), and left where it was afterwards.

torch's keywords: ``context_fn`` gives two context managers, the forward runs inside the first
and the recomputation inside the second; ``determinism_check="default"`` compares the
recomputed outputs' shapes and dtypes with the forward's and raises CheckpointError where they
differ ("none" skips it); ``debug`` and ``early_stop`` are accepted (ember recomputes the whole
function, and has no op trace to print).
"""

from __future__ import annotations

import contextlib
import warnings

from .. import mistakes
from ..autograd_grad import grad as autograd_grad
from ..autograd_higher import rule
from ..backend import generator_or_default, xp
from ..func import _leaves, _rebuild  # torch's pytree leaves, as func's transforms
from ..function import Function, captures, enable_grad, is_grad_enabled, no_grad
from ..ops.complex import register_own
from ..tensor import Tensor, apply

__all__ = [
    "CheckpointError",
    "checkpoint",
    "checkpoint_sequential",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_debug_enabled",
    "set_checkpoint_early_stop",
]


_UNSPECIFIED = (
    "torch.utils.checkpoint{}: the use_reentrant parameter should be passed explicitly. ember"
    " runs it as use_reentrant=False, which is recommended (torch still takes it as True,"
    " which refuses keyword arguments, context_fn and debug)."
)


def _differentiable(x) -> bool:
    return isinstance(x, Tensor) and (x.is_floating_point() or x.is_complex())


class CheckpointError(RuntimeError):
    """The recomputation did not give what the forward gave (torch's name)."""


def noop_context_fn():
    """checkpoint's default ``context_fn``: no context around either pass."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Each tensor of ``inputs`` detached, keeping whether it requires grad (torch's helper
    for reentrant checkpointing); other values as they are."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            "Only tuple of tensors is supported. Got Unsupported input type: "
            + type(inputs).__name__
        )
    return tuple(
        x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x for x in inputs
    )


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """torch's switch for stopping the recomputation once every saved tensor is back; ember
    recomputes the whole function either way (the values are the same)."""
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None):
    """torch's switch for checkpoint's debug traces; accepted, ember keeps no op trace."""
    yield


class _Checkpoint(Function):
    """One checkpointed call. Inputs: the tensor arguments, the tensors needing grad that the
    function read from elsewhere (``extra``, the originals, which the recomputation reads
    again), and a dummy that makes the node record whatever needs gradients. The outputs
    were computed by ``checkpoint`` itself, while it learned ``extra``."""

    def forward(self, *arrays, run, template, outputs, multi_output, rng, extra, context,
                check, slots=None):  # fmt: skip
        self.run, self.template, self.rng, self.extra = run, template, rng, extra
        self.slots = slots  # the positions of the tensors among the outputs' leaves
        self.context, self.check = context, check
        self.out_meta = [(o.shape, o.dtype) for o in outputs]
        self.arrays = arrays[: len(arrays) - len(extra) - 1]
        self.multi_output = multi_output
        return outputs if multi_output else outputs[0]

    def recompute(self, args):
        """f(*args) with grad on, from the forward's RNG state (the state is put back)."""
        gen = generator_or_default(None)
        now = gen.get_state()
        if self.rng is not None:
            gen.set_state(self.rng)
        try:
            with enable_grad(), self.context:
                out = self.run(*args)
        finally:
            gen.set_state(now)
        out = _leaves(out)
        if self.slots is not None:  # the tensors only: the other outputs take no gradient
            out = tuple(out[i] for i in self.slots if i < len(out))
        if self.check:
            self.check_metadata(out)
        return out

    def check_metadata(self, outs) -> None:
        """determinism_check="default": the recomputed outputs must be what the forward gave."""
        for i, (o, (shape, dtype)) in enumerate(zip(outs, self.out_meta)):
            got = (o.array.shape, o.array.dtype) if isinstance(o, Tensor) else None
            if got != (shape, dtype):
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have"
                    f" different metadata than during the forward pass.\ntensor at position {i}:"
                    f"\nsaved metadata: {{'shape': {tuple(shape)}, 'dtype': {dtype}}}"
                    f"\nrecomputed metadata: {{'shape': {None if got is None else got[0]},"
                    f" 'dtype': {None if got is None else got[1]}}}"
                )

    def input_grads(self, outs, gys, wrt, create_graph: bool) -> list:
        """The vector-Jacobian product Σ gysᵀ·∂outs/∂wrt, None where nothing reaches a tensor.
        gys are grad_outputs, the seeds of the sweep: under create_graph the result depends on
        them as a recorded product, never through their own history."""
        pairs = [
            (o, gy if isinstance(gy, Tensor) else Tensor(gy))
            for o, gy in zip(outs, gys)
            if gy is not None and isinstance(o, Tensor) and o.requires_grad
        ]
        if not pairs or not wrt:
            return [None] * len(wrt)
        outputs, seeds = zip(*pairs)
        return list(
            autograd_grad(
                list(outputs), wrt, list(seeds), create_graph=create_graph, allow_unused=True
            )  # fmt: skip
        )

    def backward(self, *gys):
        args, fresh = _arguments(self.template, self.arrays, grad=True)
        wrt = [t for t in fresh if t.requires_grad] + list(self.extra)
        grads = iter(self.input_grads(self.recompute(args), gys, wrt, create_graph=False))
        out = [next(grads) if t.requires_grad else None for t in fresh]
        out += [next(grads) for _ in self.extra]
        return (*(None if g is None else g.array for g in out), None)


# its backward is a sweep of the engine over the recomputed graph, which applies torch's complex
# rules itself: complex gradients pass through as they are
register_own(_Checkpoint)


def _arguments(template, arrays, grad: bool, graph=None):
    """(call arguments, their tensors): tensor arguments rebuilt from ``arrays`` as fresh
    leaves (requiring grad where the caller's did, if ``grad``), or taken from ``graph``
    (the node's own inputs, None where one needed no grad) where given."""
    args, tensors = [], []
    for kind, value in template:
        if kind != "tensor":
            args.append(value)
            continue
        i = len(tensors)
        if graph is not None and graph[i] is not None:
            t = graph[i]
        else:
            t = Tensor(arrays[i], requires_grad=grad and value)
        tensors.append(t)
        args.append(t)
    return args, tensors


@rule(_Checkpoint)
def _checkpoint_recorded(fn, g):
    """create_graph=True: f recomputed on the node's own input tensors, so the gradient is a
    function of them that the graph records; differentiated by autograd.grad with
    create_graph."""
    gys = g if fn.multi_output else [g]
    n = len(fn.arrays)
    args, _ = _arguments(fn.template, fn.arrays, grad=False, graph=fn.parents[:n])
    wrt = [p for p in fn.parents[:-1] if p is not None]
    grads = iter(fn.input_grads(fn.recompute(args), gys, wrt, create_graph=True))
    return tuple(None if p is None else next(grads) for p in fn.parents[:-1]) + (None,)


def checkpoint(function, *args, use_reentrant: bool | None = None,
               context_fn=noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, preserve_rng_state: bool = True,
               **kwargs):  # fmt: skip
    """``function(*args, **kwargs)`` without keeping its activations; they are recomputed in
    backward. ``use_reentrant``: both modes compute as torch's non-reentrant one (parameters
    inside ``function`` get gradients, ``autograd.grad`` returns theirs), but True refuses
    what torch's reentrant mode refuses (keyword arguments for ``function``, ``context_fn``,
    ``debug``); left out, it warns as torch does and runs as False. The output may be a
    Tensor or a tuple/list/dict holding Tensors and other values; where no tensor needs a
    gradient it is ``function``'s output as it is. ``context_fn``, ``determinism_check``,
    ``debug`` and ``early_stop``: see the module docstring."""
    if use_reentrant is None:
        warnings.warn(_UNSPECIFIED.format(""), UserWarning, stacklevel=2)
    elif use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
    if not use_reentrant and determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be one of ['default', 'none'], but got {determinism_check}"
        )
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    template = [
        ("tensor", a.requires_grad) if isinstance(a, Tensor) else ("const", a) for a in args
    ]
    tensors = [a for a in args if isinstance(a, Tensor)]

    def run(*call_args):
        return function(*call_args, **kwargs)

    rng = generator_or_default(None).get_state() if preserve_rng_state else None
    seen: dict = {}
    raised = set(mistakes._raised)
    captures.append(seen)
    try:
        with no_grad(), warnings.catch_warnings(), forward_context:
            # training-mode layers under no_grad are expected here, not an evaluation mistake
            warnings.simplefilter("ignore", mistakes.EmberWarning)
            call_args, _ = _arguments(template, [t.array for t in tensors], grad=False)
            out = run(*call_args)
    finally:
        captures.pop()
        mistakes._raised.intersection_update(raised)
    multi = not isinstance(out, Tensor)
    outs = _leaves(out)
    # a tuple, list or dict may hold other values beside the tensors (torch passes them on);
    # integer and bool tensors take no gradient, so they come back as computed, as in torch
    slots = [i for i, o in enumerate(outs) if _differentiable(o)]
    given = {id(t) for t in tensors}
    extra = [t for k, t in seen.items() if k not in given]
    if not slots or not (extra or any(t.requires_grad for t in tensors)):
        return out  # nothing to differentiate: computed as torch computes it, without a node
    outputs = tuple(outs[i].array for i in slots)
    dummy = Tensor(xp.zeros(()), requires_grad=True)
    result = apply(
        _Checkpoint, *tensors, *extra, dummy, run=run, template=template, outputs=outputs,
        multi_output=multi, rng=rng, extra=extra, context=recompute_context,
        check=determinism_check == "default", slots=slots if multi else None,
    )  # fmt: skip
    if not multi:
        return result
    made = dict(zip(slots, result))
    return _rebuild(out, iter([made.get(i, o) for i, o in enumerate(outs)]))


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):  # fmt: skip
    """Run ``functions`` (a Sequential or a list of modules) in ``segments`` chunks, each but
    the last checkpointed, as torch does. The only keyword taken is ``preserve_rng_state``
    (torch refuses others); ``use_reentrant`` left out warns and runs as False."""
    if use_reentrant is None:
        warnings.warn(_UNSPECIFIED.format(".checkpoint_sequential"), UserWarning, stacklevel=2)
        use_reentrant = False
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    fns = list(functions.children()) if hasattr(functions, "children") else list(functions)

    def run_segment(start, end):
        def forward(x):
            for f in fns[start : end + 1]:
                x = f(x)
            return x

        return forward

    size = len(fns) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_segment(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)  # fmt: skip
    return run_segment(end + 1, len(fns) - 1)(input)
