"""torch.nn.grad (``F.grad`` is the same module): the gradient of a convolution with respect
to its input or its weight, given the gradient of its output, without a forward pass of the
caller's.

For y = conv(x, W) (stride s, padding p, dilation d, groups g), the input gradient ∂L/∂x (the
transposed convolution of ∂L/∂y with W) depends on W and ∂L/∂y only, and the weight gradient
∂L/∂W (the sum over the batch and the output positions of ∂L/∂y times the input patches) on x
and ∂L/∂y only. Both are what the convolution's own backward
computes, so each function here runs the convolution on a zero stand-in for the missing
operand (its value does not enter the product) and asks autograd for that operand's gradient:
the numbers are those of ``conv.backward`` by construction, and differentiable again where
the given tensors require grad.
"""

from __future__ import annotations

from ..autograd_grad import grad as _autograd_grad
from ..backend import xp
from ..function import enable_grad, is_grad_enabled
from ..functional.conv import conv1d, conv2d
from ..functional.conv3d import conv3d
from ..tensor import Tensor

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]


def _shape(size, what: str, dims: int) -> tuple:
    shape = tuple(int(n) for n in (size if not isinstance(size, Tensor) else size.tolist()))
    if len(shape) not in (dims + 1, dims + 2):
        raise ValueError(
            f"{what}: expected {dims + 2} sizes (or {dims + 1} without the batch), got"
            f" {list(shape)}"
        )
    return shape


def _vjp(conv, fn: str, x, w, grad_output, wrt: int, conv_args: tuple):
    """∂L/∂(x or w) of ``conv(x, w, None, *conv_args)`` for ∂L/∂y = grad_output."""
    keep = is_grad_enabled() and any(
        t.requires_grad for t in (x, w, grad_output) if isinstance(t, Tensor)
    )
    x, w = (x.detach(), w.detach()) if not keep else (x, w)
    target = (x, w)[wrt].detach().requires_grad_(True)
    x, w = (target, w) if wrt == 0 else (x, target)
    with enable_grad():
        y = conv(x, w, None, *conv_args)
    if tuple(grad_output.shape) != tuple(y.shape):
        raise ValueError(
            f"{fn}: grad_output has shape {list(grad_output.shape)}, but the convolution gives"
            f" outputs of shape {list(y.shape)} for these sizes and arguments"
        )
    (g,) = _autograd_grad(y, target, grad_output, create_graph=keep)
    return g


def _input(conv, fn, dims, input_size, weight, grad_output, conv_args):
    shape = _shape(input_size, f"{fn} input_size", dims)
    x = Tensor(xp.zeros(shape, dtype=weight.dtype))
    return _vjp(conv, fn, x, weight, grad_output, 0, conv_args)


def _weight(conv, fn, dims, input, weight_size, grad_output, conv_args):
    shape = tuple(int(n) for n in weight_size)
    if len(shape) != dims + 2:
        raise ValueError(f"{fn}: weight_size needs {dims + 2} sizes, got {list(shape)}")
    w = Tensor(xp.zeros(shape, dtype=input.dtype))
    return _vjp(conv, fn, input, w, grad_output, 1, conv_args)


def _input_gradient(conv, dims: int):
    """torch.nn.grad.conv{dims}d_input."""
    name = f"conv{dims}d_input"

    def input_gradient(input_size, weight, grad_output, stride=1, padding=0, dilation=1,
                       groups=1):  # fmt: skip
        args = (stride, padding, dilation, groups)
        return _input(conv, name, dims, input_size, weight, grad_output, args)

    input_gradient.__name__ = input_gradient.__qualname__ = name
    input_gradient.__doc__ = (
        f"∂L/∂x of ``F.conv{dims}d(x, weight, …)`` for x of ``input_size`` and ∂L/∂y = grad_output."
    )
    return input_gradient


def _weight_gradient(conv, dims: int):
    """torch.nn.grad.conv{dims}d_weight."""
    name = f"conv{dims}d_weight"

    def weight_gradient(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                        groups=1):  # fmt: skip  # noqa: A002 - torch's argument name
        args = (stride, padding, dilation, groups)
        return _weight(conv, name, dims, input, weight_size, grad_output, args)

    weight_gradient.__name__ = weight_gradient.__qualname__ = name
    weight_gradient.__doc__ = (
        f"∂L/∂W of ``F.conv{dims}d(input, W, …)`` for W of ``weight_size`` and ∂L/∂y = grad_output."
    )
    return weight_gradient


conv1d_input, conv1d_weight = _input_gradient(conv1d, 1), _weight_gradient(conv1d, 1)
conv2d_input, conv2d_weight = _input_gradient(conv2d, 2), _weight_gradient(conv2d, 2)
conv3d_input, conv3d_weight = _input_gradient(conv3d, 3), _weight_gradient(conv3d, 3)
