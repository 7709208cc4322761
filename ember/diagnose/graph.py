"""The computational graph behind a result: the ops backpropagation will run, in the order of
the chain rule, down to the leaves (the parameters) whose gradients it accumulates.

    g = ember.diagnose.autograd_graph(loss, model)   # model (optional) names the parameters
    print(g)                                         # one line per op, indented by depth
    g.figure()                                       # a matplotlib Figure: ops by depth
    g.save_png("graph.png")

The seed's backpropagation is this graph walked from the top: each op's backward turns the
gradient of its output into gradients of its inputs, and where a tensor feeds two ops the two
gradients add up. ``autograd_graph`` reads the graph that ``grad_fn.next_functions`` exposes
(after a backward too: the structure stays, only the saved arrays go). It walks iteratively,
so a 10,000-step recurrence is no problem for the walk; a figure is readable up to a few
hundred nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..function import AccumulateGrad
from ..nn.module import Module
from ..tensor import Tensor


@dataclass
class GraphNode:
    """An op (``kind="op"``) or a leaf that receives a gradient (``kind="leaf"``)."""

    key: int
    kind: str
    label: str
    shape: tuple | None = None
    inputs: list = field(default_factory=list)  # keys of the nodes this one reads
    depth: int = 0  # longest path from the root: the order backward reaches it


@dataclass
class AutogradGraph:
    """The nodes by key, the root's key, and the edges (input key, consumer key)."""

    nodes: dict
    root: int

    @property
    def edges(self) -> list:
        return [(i, n.key) for n in self.nodes.values() for i in n.inputs]

    def ops(self) -> list:
        return [n for n in self.nodes.values() if n.kind == "op"]

    def leaves(self) -> list:
        return [n for n in self.nodes.values() if n.kind == "leaf"]

    def __str__(self) -> str:
        """The graph as an indented tree from the root; a node reached a second time (a tensor
        used twice, whose gradients add) is named again with "(see above)"."""
        lines, seen, stack = [], set(), [(self.root, 0)]
        while stack:
            key, indent = stack.pop()
            n = self.nodes[key]
            shape = f" {n.shape}" if n.shape is not None else ""
            if key in seen:
                lines.append("  " * indent + f"{n.label}{shape} (see above)")
                continue
            seen.add(key)
            lines.append("  " * indent + f"{n.label}{shape}")
            stack.extend((i, indent + 1) for i in reversed(n.inputs))
        return "\n".join(lines)

    def figure(self, title: str | None = None):
        """Ops in rows by depth (the root, where backward starts, at the top; parameters at
        the bottom), an arrow from each input to the op that reads it."""
        from .figures import new_figure

        rows: dict[int, list] = {}
        for n in self.nodes.values():
            rows.setdefault(n.depth, []).append(n)
        width = max(len(r) for r in rows.values())
        fig = new_figure(max(4.0, 1.6 * width), max(2.5, 0.8 * len(rows)))
        ax = fig.add_subplot()
        where = {}
        for depth, row in rows.items():
            for k, n in enumerate(row):
                where[n.key] = ((k + 0.5) * width / len(row), -depth)
        for a, b in self.edges:
            arrow = {"arrowstyle": "-|>", "color": "0.45", "lw": 0.8, "shrinkA": 14, "shrinkB": 14}
            ax.annotate("", xy=where[b], xytext=where[a], arrowprops=arrow)
        for n in self.nodes.values():
            colour = "#E69F00" if n.kind == "leaf" else "#56B4E9"
            text = n.label + (f"\n{n.shape}" if n.shape is not None else "")
            ax.text(*where[n.key], text, ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round", "fc": colour, "ec": "0.3"})  # fmt: skip
        ax.set_xlim(0, width)
        ax.set_ylim(-max(rows) - 0.6, 0.6)
        ax.axis("off")
        ax.set_title(title or f"autograd graph: {len(self.ops())} ops, {len(self.leaves())} leaves")
        return fig

    def save_png(self, path, title: str | None = None):
        from .figures import save_png

        return save_png(self.figure(title), path)


def autograd_graph(result: Tensor, model: Module | dict | None = None) -> AutogradGraph:
    """The graph of ops that produced ``result`` and the leaves that need its gradient.

    ``model`` (a Module, or a dict name → tensor) names the leaves it holds; other leaves are
    "leaf" with their shape. ``result`` must come from an op recorded with grad enabled.
    """
    if not isinstance(result, Tensor):
        raise TypeError(f"autograd_graph expects an ember Tensor, got {type(result).__name__}")
    if result.grad_fn is None:
        raise ValueError(
            "autograd_graph: this tensor has no grad_fn (a leaf, or computed under no_grad or "
            "from tensors that need no gradient): there is no graph behind it"
        )
    named = dict(model.named_parameters()) if isinstance(model, Module) else dict(model or {})
    names = {id(t): name for name, t in named.items()}
    nodes: dict[int, GraphNode] = {}

    def node_for(fn, shape) -> int:
        leaf = fn.variable if isinstance(fn, AccumulateGrad) else None
        key = id(fn) if leaf is None else id(leaf)  # a leaf's AccumulateGrad is made anew
        if key not in nodes:
            if leaf is not None:
                label = names.get(id(leaf), "leaf")
                nodes[key] = GraphNode(key, "leaf", label, tuple(leaf.array.shape))
            else:
                nodes[key] = GraphNode(key, "op", fn.name, shape)
        return key

    root = node_for(result.grad_fn, tuple(result.array.shape))
    stack, expanded = [result.grad_fn], set()
    while stack:
        fn = stack.pop()
        if id(fn) in expanded:
            continue
        expanded.add(id(fn))
        parents = getattr(fn, "parents", None) or ()
        for (child, _), p in zip(fn.next_functions, parents):
            if child is None:
                continue
            key = node_for(child, tuple(p.array.shape))
            nodes[id(fn)].inputs.append(key)
            if nodes[key].kind == "op":
                stack.append(child)
    _set_depths(nodes, root)
    return AutogradGraph(nodes, root)


def _set_depths(nodes: dict, root: int) -> None:
    """depth = the longest path from the root (Kahn's order over the consumer counts)."""
    waiting = {k: 0 for k in nodes}
    for n in nodes.values():
        for i in n.inputs:
            waiting[i] += 1
    ready = [root]
    while ready:
        n = nodes[ready.pop()]
        for i in n.inputs:
            nodes[i].depth = max(nodes[i].depth, n.depth + 1)
            waiting[i] -= 1
            if waiting[i] == 0:
                ready.append(i)
