"""Module backward hooks: torch's ``register_full_backward_hook``,
``register_full_backward_pre_hook`` and the deprecated ``register_backward_hook``.

As torch's ``torch.utils.hooks.BackwardHook`` does, a module call with full backward hooks
passes its positional tensor inputs through one identity node before ``forward`` and its
tensor outputs (one tensor, or the tensors of a tuple) through another after it:

- the output node's backward first runs the pre-hooks, ``hook(module, grad_output)``, each
  of which may return a new ``grad_output`` tuple, and remembers ``grad_output``;
- the input node's backward then runs the full hooks, ``hook(module, grad_input,
  grad_output)``, where ``grad_input`` is the gradient with respect to the module's inputs;
  one that returns a tuple replaces ``grad_input``, which is what flows on to the inputs.

Both tuples have one entry per positional argument (per output): None for what is not a
tensor or got no gradient. As in torch, a tensor input that needs no gradient while another
does gets zeros; when no input needs a gradient, the full hooks run from the output node
with ``grad_input`` all None and may return only None. Keyword arguments are not wrapped;
neither is an output that is a dict or list, nor anything under ``no_grad``. A forward that
changes a wrapped input in place is refused (torch: "is a view and is being modified
inplace"; ember's in-place check on views of the identity node says it in its words).

The deprecated ``register_backward_hook`` hooks the node that made the output: its
``grad_input`` is the gradient with respect to that last operation's inputs (ember's ops
are not torch's, so this matches torch only where the last operation does), which is why
torch deprecates it.
"""

from __future__ import annotations

from ..backend import xp
from ..function import Function, is_grad_enabled
from ..tensor import Tensor, _wrap, apply, as_array

#: torch.nn.modules.module.register_module_full_backward_hook's and _pre_hook's hooks
global_backward_hooks: dict = {}
global_backward_pre_hooks: dict = {}


class _BackwardHookFunction(Function):
    """Identity on the tensors passed through; its backward hands the gradients to
    ``on_grad`` (torch's BackwardHookFunction with the hook of its grad_fn)."""

    multi_output = True

    def forward(self, *arrays, on_grad):
        self.on_grad = on_grad
        return tuple(arrays)

    def backward(self, *gys):
        return self.on_grad(self, gys)


def _tensors(g):
    return None if g is None else _wrap(g, None, 0)


class BackwardHook:
    """One module call's backward hooks (torch.utils.hooks.BackwardHook)."""

    def __init__(self, module, hooks: list, pre_hooks: list) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None
        self.input_fn = None

    def _apply(self, args, on_grad):
        """args with its tensors passed through the identity node (those that require grad;
        the others, which torch marks non-differentiable, stay as they are), and the
        positions of all its tensors (None: nothing was wrapped)."""
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (is_grad_enabled() and any(args[i].requires_grad for i in index)):
            return args, None, None
        wrap = [i for i in index if args[i].requires_grad]
        new = apply(_BackwardHookFunction, *[args[i] for i in wrap], on_grad=on_grad)
        out = list(args)
        for i, t in zip(wrap, new):
            out[i] = t
        fn = new[0]._ctx
        fn.wrapped = [index.index(i) for i in wrap]  # each node output's place among tensors
        fn.n_tensors = len(index)
        fn.shapes = [(args[i].shape, args[i].array.dtype) for i in index]
        return tuple(out), index, fn

    def setup_input_hook(self, args: tuple) -> tuple:
        res, self.input_index, self.input_fn = self._apply(args, self._on_grad_input)
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result):
        one = not isinstance(result, tuple)
        args = (result,) if one else result
        res, self.output_index, _ = self._apply(args, self._on_grad_output)
        self.n_outputs = len(args)
        return res[0] if one else res

    def _pack(self, index, values, size) -> tuple:
        out = [None] * size
        for i, v in zip(index, values):
            out[i] = v
        return tuple(out)

    def _on_grad_output(self, fn, gys) -> list:
        """Output node: the pre-hooks, then (no input needs grad) the full hooks."""
        grads = [None] * fn.n_tensors
        for j, g in zip(fn.wrapped, gys):
            grads[j] = _tensors(g)
        self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            res = hook(self.module, self.grad_outputs)
            if res is None:
                continue
            if len(res) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, got"
                    f" {len(res)}, but expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = tuple(res)
        local = self.grad_outputs
        if self.input_index is None:
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should"
                        " always return None or None for all gradients."
                    )
            self.grad_outputs = None
        per_tensor = [local[i] for i in self.output_index]
        return [_array(per_tensor[j]) for j in fn.wrapped]

    def _on_grad_input(self, fn, gys) -> list:
        """Input node: the full hooks, with the gradient w.r.t. the module's inputs."""
        if self.grad_outputs is None:  # the gradient reached the inputs but not via outputs
            return list(gys)
        grads = [Tensor(xp.zeros(s, d)) for s, d in fn.shapes]  # torch materialises zeros
        for j, g in zip(fn.wrapped, gys):
            if g is not None:
                grads[j] = _tensors(g)
        res = self._pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, got"
                    f" {len(out)}, but expected {len(res)}"
                )
            res = tuple(out)
        self.grad_outputs = None
        per_tensor = [res[i] for i in self.input_index]
        return [_array(per_tensor[j]) for j in fn.wrapped]


def _array(g):
    """A hook's gradient (Tensor, array or None) as the engine's array."""
    return None if g is None else as_array(g)


def call_with_backward_hooks(module, args: tuple, kwargs: dict):
    """Module.__call__ when the module (or the global table) has backward hooks."""
    table = module._backward_hooks or {}
    full = [*global_backward_hooks.values()]
    non_full = []
    if module._is_full_backward_hook:
        full += list(table.values())
    else:
        non_full = list(table.values())
    pre = [*global_backward_pre_hooks.values(), *(module._backward_pre_hooks or {}).values()]
    bw = BackwardHook(module, full, pre) if full or pre else None
    out = module._forward_hooked(args, kwargs, bw)
    if non_full:
        _hook_last_node(module, out, non_full)
    return out


def _hook_last_node(module, out, hooks) -> None:
    """The deprecated register_backward_hook: hooks on the node that made the (first) output,
    as torch's: grad_input is that node's input gradients (None where none is needed)."""
    var = out
    while not isinstance(var, Tensor):
        if isinstance(var, dict):
            var = next(v for v in var.values() if isinstance(v, Tensor))
        else:
            var = var[0]
    fn = var._ctx
    if fn is None:
        return
    plain = type(fn).backward

    def backward(*gys):
        in_grads = list(plain(fn, *gys))
        grad_input = tuple(
            None if p is None or g is None else _tensors(g) for p, g in zip(fn.parents, in_grads)
        )
        grad_output = tuple(_tensors(g) for g in gys)
        for hook in hooks:
            res = hook(module, grad_input, grad_output)
            if res is not None:
                grad_input = tuple(res)
        return [None if g is None else as_array(g) for g in grad_input]

    fn.backward = backward
