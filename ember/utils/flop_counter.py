"""torch.utils.flop_counter: ``FlopCounterMode`` counts the floating-point operations of the
ops run inside it, forward and backward, in total and per module.

The counts are the profiler's (``ember/profiler_flops.py``, where the formulas are): the
matrix-product ops (matmul, Linear, convolutions, attention, the fused recurrent layers and
linear + cross-entropy), a multiply-add as 2 FLOPs, elementwise work left out, and each op's
backward counted once per operand that receives a gradient, as torch counts ``mm``,
``addmm``, ``convolution`` and ``convolution_backward``. For a Linear of a (B × k) input to n
outputs: forward 2·B·k·n; backward 2·B·k·n for ∂L/∂W and, when the input needs a gradient,
2·B·k·n for ∂L/∂x.

Per module: the counts go to "Global" and to every module whose forward was running when the
op ran (a module's row includes its children's), named as torch names them: the outermost
module by its class ("Net"), a submodule by the path of attributes below it ("Net.fc1"). An
op's backward is counted where its forward ran. Ops are keyed by ember's op names ("Linear",
"Conv2d"; backward "Linear_backward"), since ember's ops are not torch's aten ops.
"""

from __future__ import annotations

from collections import defaultdict

from ..nn.module_tracking import ModuleObserver, ModulePaths
from ..profiler_flops import backward_flops, forward_flops

__all__ = ["FlopCounterMode"]


def _suffixed(n: float) -> str:
    """torch's table numbers: 14496 → '14.496K'."""
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3f}{suffix}"
    return str(int(n))


class FlopCounterMode(ModuleObserver):
    """``with FlopCounterMode(display=False) as f: loss = model(x); loss.backward()``, then
    ``f.get_total_flops()`` and ``f.get_flop_counts()`` ({module name: {op name: FLOPs}}).
    ``display`` prints ``get_table(depth)`` on leaving the block; ``custom_mapping`` maps an
    op name (its Function class name) to ``f(inputs, out) -> FLOPs`` for its forward, which
    then replaces ember's count for that op (its backward is then not counted)."""

    def __init__(self, mods=None, depth: int = 2, display: bool = True, custom_mapping=None):
        self.depth, self.display = depth, display
        self.custom_mapping = dict(custom_mapping or {})
        self.flop_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._paths = ModulePaths()

    # ------------------------------------------------------------ results
    def get_total_flops(self) -> int:
        return int(sum(self.flop_counts["Global"].values()))

    def get_flop_counts(self) -> dict[str, dict[str, int]]:
        return {m: dict(ops) for m, ops in self.flop_counts.items()}

    def get_table(self, depth: int | None = None) -> str:
        """Module | FLOP | % Total, each module followed by its ops, modules deeper than
        ``depth`` (dots in the name) left out, as torch's table."""
        depth = self.depth if depth is None else depth
        total = self.get_total_flops()
        rows = [("Module", "FLOP", "% Total")]
        for module, ops in self.flop_counts.items():
            if module != "Global" and module.count(".") + 1 > depth:
                continue
            flops = sum(ops.values())
            share = f"{100 * flops / total:.2f}%" if total else "0.00%"
            rows.append((module, _suffixed(flops), share))
            for op, n in ops.items():
                op_share = f"{100 * n / total:.2f}%" if total else "0.00%"
                rows.append((f" - {op}", _suffixed(n), op_share))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    # ------------------------------------------------------------ the block
    def __enter__(self) -> FlopCounterMode:
        self.flop_counts.clear()
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        if self.display:
            print(self.get_table(self.depth))

    # ------------------------------------------------------------ observer protocol
    def _add(self, path, op: str, flops: int) -> None:
        if flops <= 0:
            return
        for module in ("Global", *path):
            self.flop_counts[module][op] += flops

    def on_forward(self, fn, inputs, out) -> None:
        op = type(fn).__name__
        custom = self.custom_mapping.get(op)
        if custom is not None:
            flops, fn._profiler_flops = int(custom(inputs, out)), None
        else:
            flops = forward_flops(fn, inputs, out)
        path = self._paths.current()
        if getattr(fn, "_profiler_flops", None) is not None:
            fn._flop_path = path  # where its backward is counted
        self._add(path, op, flops)

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        path = getattr(fn, "_flop_path", None)
        if path is None:
            return
        self._add(path, f"{type(fn).__name__}_backward", backward_flops(fn, grad_inputs))
