"""summary(model, input_shape): each layer's output shape and parameter count."""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..function import no_grad
from ..tensor import Tensor
from .module import Module


def summary(model: Module, input_shape, dtype=None, print_fn=print) -> str:
    """Run one forward pass on zeros of ``input_shape`` and tabulate every leaf layer."""
    rows = []
    handles = []

    def hook(name):
        def record(module, inputs, output):
            out = output[0] if isinstance(output, tuple) else output
            shape = tuple(out.shape) if isinstance(out, Tensor) else "-"
            n = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((name, type(module).__name__, shape, n))

        return record

    for name, m in model.named_modules():
        if m is not model and not any(True for _ in m.children()):
            handles.append(m.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            x = Tensor(xp.zeros(tuple(input_shape), dtype=dtype or backend.DEFAULT_DTYPE))
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    w = max([len(r[0]) + len(r[1]) + 3 for r in rows] + [20])
    lines = [f"{'layer (type)':<{w}}  {'output shape':<22}{'params':>10}", "-" * (w + 34)]
    for name, kind, shape, n in rows:
        lines.append(f"{f'{name} ({kind})':<{w}}  {str(shape):<22}{n:>10,}")
    lines += ["-" * (w + 34), f"total parameters: {total:,}  (trainable {trainable:,})"]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
