"""Activation checkpointing, as torch.utils.checkpoint: trade compute for memory.

    forward:   y = f(x) under no_grad; keep x (and the RNG state), not f's activations
    backward:  y = f(x) again with grad on, from the same RNG state; backpropagate gy

The recomputed graph reaches the parameters ``f`` uses, so their ``.grad`` fills as without
checkpointing, and the gradient of x goes on to the ops before. Dropout inside ``f`` draws
the same mask twice because ember's default generator is rewound for the recomputation
(torch's ``preserve_rng_state=True``), and left where it was afterwards.
"""

from __future__ import annotations

import warnings

from .. import mistakes
from ..backend import generator_or_default, xp
from ..function import Function, enable_grad, is_grad_enabled, no_grad
from ..tensor import Tensor, apply

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Checkpoint(Function):
    """One checkpointed call: inputs are the tensor arguments and a dummy that makes the
    node record even when only parameters inside ``f`` need gradients."""

    def forward(self, *arrays, run, template, preserve_rng_state):
        self.run, self.template, self.arrays = run, template, arrays[:-1]
        self.rng = generator_or_default(None).get_state() if preserve_rng_state else None
        raised = set(mistakes._raised)
        with no_grad(), warnings.catch_warnings():
            # training-mode layers under no_grad are expected here, not an evaluation mistake
            warnings.simplefilter("ignore", mistakes.EmberWarning)
            out = run(*self._arguments(arrays[:-1], grad=False))
        mistakes._raised.intersection_update(raised)
        self.multi_output = isinstance(out, tuple)
        outs = out if self.multi_output else (out,)
        return tuple(o.array for o in outs) if self.multi_output else outs[0].array

    def _arguments(self, arrays, grad: bool):
        it = iter(arrays)
        self.leaves = []
        args = []
        for kind, value in self.template:
            if kind == "tensor":
                t = Tensor(next(it), requires_grad=grad and value)
                self.leaves.append(t)
                args.append(t)
            else:
                args.append(value)
        return args

    def backward(self, *gys):
        arrays = self.arrays
        gen = generator_or_default(None)
        now = gen.get_state()
        if self.rng is not None:
            gen.set_state(self.rng)
        try:
            with enable_grad():
                out = self.run(*self._arguments(arrays, grad=True))
        finally:
            gen.set_state(now)
        outs = out if isinstance(out, tuple) else (out,)
        total = None
        for o, gy in zip(outs, gys):
            if gy is None or not isinstance(o, Tensor) or not o.requires_grad:
                continue
            term = (o * Tensor(gy)).sum()
            total = term if total is None else total + term
        if total is not None:
            total.backward()
        grads = [None if t.grad is None else t.grad.array for t in self.leaves]
        return (*grads, None)


def checkpoint(function, *args, use_reentrant: bool = False, preserve_rng_state: bool = True,
               **kwargs):  # fmt: skip
    """``function(*args, **kwargs)`` without keeping its activations; they are recomputed in
    backward. ``use_reentrant`` is accepted for torch's signature: both modes behave as torch's
    non-reentrant one (parameters inside ``function`` get gradients)."""
    if not is_grad_enabled():
        return function(*args, **kwargs)
    template = [
        ("tensor", a.requires_grad) if isinstance(a, Tensor) else ("const", a) for a in args
    ]
    tensors = [a for a in args if isinstance(a, Tensor)]

    def run(*call_args):
        return function(*call_args, **kwargs)

    dummy = Tensor(xp.zeros(()), requires_grad=True)
    return apply(
        _Checkpoint,
        *tensors,
        dummy,
        run=run,
        template=template,
        preserve_rng_state=preserve_rng_state,
    )


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool = False,
                          **kwargs):  # fmt: skip
    """Run ``functions`` (a Sequential or a list of modules) in ``segments`` chunks, each but
    the last checkpointed, as torch does."""
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
        input = checkpoint(run_segment(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run_segment(end + 1, len(fns) - 1)(input)
