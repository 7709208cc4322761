"""torch's top-level shape, product and softmax functions on ``ember.*`` (torch.reshape,
torch.matmul, torch.einsum, torch.softmax …): thin wrappers over the Tensor methods and F, as in
torch_functions.py, which re-exports them.
"""

from __future__ import annotations

from . import functional as F
from .mixed_dtypes import check_one_dtype
from .ops.einsum import Einsum
from .tensor import Tensor, apply


def _t(input) -> Tensor:  # noqa: A002 - torch's argument name
    return input if isinstance(input, Tensor) else Tensor(input)


# ------------------------------------------------------------ shapes
def reshape(input, shape) -> Tensor:  # noqa: A002
    """torch.reshape."""
    return _t(input).reshape(tuple(shape))


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """torch.flatten: merge dims start_dim … end_dim into one."""
    return _t(input).flatten(start_dim, end_dim)


def squeeze(input, dim=None) -> Tensor:  # noqa: A002
    """torch.squeeze: drop dims of size 1 (only dim, when given)."""
    return _t(input).squeeze(dim)


def unsqueeze(input, dim: int) -> Tensor:  # noqa: A002
    """torch.unsqueeze: insert a dim of size 1 at dim."""
    return _t(input).unsqueeze(dim)


def transpose(input, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """torch.transpose (alias swapaxes): swap two dims."""
    return _t(input).transpose(dim0, dim1)


swapaxes = swapdims = transpose


def permute(input, dims) -> Tensor:  # noqa: A002
    """torch.permute: reorder the dims."""
    return _t(input).permute(tuple(dims))


def movedim(input, source, destination) -> Tensor:  # noqa: A002
    """torch.movedim: move dims source to positions destination, the rest keeping their order."""
    return _t(input).movedim(source, destination)


def t(input) -> Tensor:  # noqa: A002
    """torch.t: transpose a matrix (fewer dims: unchanged)."""
    return _t(input).t()


def tril(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """torch.tril: the lower triangle, zeros above diagonal."""
    return _t(input).tril(diagonal)


def triu(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """torch.triu: the upper triangle, zeros below diagonal."""
    return _t(input).triu(diagonal)


def diag(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """torch.diag: a vector's diagonal matrix, or a matrix's diagonal."""
    return _t(input).diag(diagonal)


def flip(input, dims) -> Tensor:  # noqa: A002
    """torch.flip: reverse the order along dims."""
    return _t(input).flip(dims)


def roll(input, shifts, dims=None) -> Tensor:  # noqa: A002
    """torch.roll: shift cyclically along dims (the flattened input when None)."""
    return _t(input).roll(shifts, dims)


def chunk(input, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """torch.chunk: at most chunks pieces of equal size (the last may be smaller)."""
    return tuple(_t(input).chunk(chunks, dim))


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """torch.split: pieces of one size, or of the listed sizes."""
    return tuple(_t(tensor).split(split_size_or_sections, dim))


def narrow(input, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """torch.narrow: length elements from start along dim."""
    return _t(input).narrow(dim, start, length)


def as_strided(input, size, stride, storage_offset: int | None = None) -> Tensor:  # noqa: A002
    """torch.as_strided: the view y[i₀, …] = storage[offset + Σ_k i_k·stride_k] of input's
    memory (elements; offset defaults to input.storage_offset())."""
    return _t(input).as_strided(size, stride, storage_offset)


def unbind(input, dim: int = 0) -> tuple:  # noqa: A002
    """torch.unbind: the slices along dim, that dim removed."""
    return _t(input).unbind(dim)


def broadcast_to(input, size) -> Tensor:  # noqa: A002
    """torch.broadcast_to: expand to size by broadcasting (-1 keeps a dim; one int is a size)."""
    return _t(input).broadcast_to(size)


# ------------------------------------------------------------ products
def matmul(input, other) -> Tensor:  # noqa: A002
    """torch.matmul: the @ operator (batch dims broadcast)."""
    return _t(input) @ other


def mm(input, mat2) -> Tensor:  # noqa: A002
    """torch.mm: product of two matrices."""
    return _t(input).mm(_t(mat2))


def bmm(input, mat2) -> Tensor:  # noqa: A002
    """torch.bmm: (b, n, m) @ (b, m, p)."""
    return _t(input).bmm(_t(mat2))


def dot(input, other) -> Tensor:  # noqa: A002
    """torch.dot: Σ aᵢbᵢ of two vectors."""
    return _t(input).dot(_t(other))


def outer(input, vec2) -> Tensor:  # noqa: A002
    """torch.outer: out[i, j] = aᵢ bⱼ."""
    return _t(input).outer(_t(vec2))


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.addmm: β·input + α·(mat1 @ mat2)."""
    return _t(input).addmm(_t(mat1), _t(mat2), beta=beta, alpha=alpha)


def einsum(equation, *operands) -> Tensor:
    """torch.einsum: Σ over the indices missing from the output of the operands' product. Also
    torch's sublist form einsum(op₁, [i, j], op₂, [j, k], …, [out]), its indices ints < 52."""
    if not isinstance(equation, str):  # the sublist form: turned into an equation
        equation, operands = _sublist_equation((equation, *operands))
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(_t(x) for x in operands)
    if operands:
        check_one_dtype("einsum", *operands)
    return apply(Einsum, *operands, equation=equation)


def _sublist_equation(args):
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def term(sublist):
        return "".join("..." if i is Ellipsis else letters[i] for i in sublist)

    operands, terms = args[0::2], [term(s) for s in args[1::2]]
    if len(args) % 2:  # an output sublist at the end
        operands = operands[:-1]
        return ",".join(terms) + "->" + term(args[-1]), operands
    return ",".join(terms), operands


# ------------------------------------------------------------ softmax
def softmax(input, dim: int, dtype=None) -> Tensor:  # noqa: A002
    """torch.softmax: exp(x) / Σ exp(x) along dim."""
    x = _t(input)
    return F.softmax(x if dtype is None else x.astype(dtype), dim)


def log_softmax(input, dim: int, dtype=None) -> Tensor:  # noqa: A002
    """torch.log_softmax: x - logsumexp(x) along dim."""
    x = _t(input)
    return F.log_softmax(x if dtype is None else x.astype(dtype), dim)
