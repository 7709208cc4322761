"""Tensor methods torch has that ember lacked: the random fills (random_, exponential_,
geometric_, log_normal_, cauchy_), torch's flags and properties for a dense CPU tensor
(layout, output_nr, is_sparse …), dim_order, nonzero_static, the ``unsafe_`` splits, and
hardshrink / prelu as methods. The memory methods (resize_, set_, new …) and geqrf / ormqr
are in tensor_torch_more2.py.

The random fills draw from ember's generator (``generator=`` or the default one that
``ember.manual_seed`` seeds), so a seed repeats ember's stream, never torch's numbers; the
distributions, dtypes and argument checks are torch's. As ``normal_``, they refuse a tensor
that requires grad while grad mode is on (torch refuses a leaf; ember a non-leaf as well).

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

from . import backend
from .autograd_saved_writes import note_tensor_write
from .backend import xp
from .memory_formats import aten_insertion_sort
from .tensor_aliases import not_implemented_for
from .tensor_torch_more2 import MoreTorchTensorMethods2

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


#: C++ names torch's random_ prints in its range errors
_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short",
            "int32": "int", "int64": "long int"}  # fmt: skip

_C_FLOATS = {"float16": "c10::Half", "float32": "float", "float64": "double"}

#: the mantissa digits of each float dtype: random_'s default upper bound is 2^digits
_DIGITS = {"float16": 11, "float32": 24, "float64": 53}


def _random_bounds(dtype, low: int, high: int | None) -> tuple[int, int]:
    """[low, high_inclusive] of random_(low, high) for ``dtype``, checked as torch checks."""
    name = str(dtype)
    if dtype.kind == "f":
        top = 2 ** _DIGITS[name]
    elif name in _C_NAMES:
        top = 1 if name == "bool" else int(xp.iinfo(dtype).max)
    else:
        raise not_implemented_for("random_kernel_cpu" if high is None else
                                  "random_from_to_kernel_cpu", dtype)  # fmt: skip
    if high is None:
        if low > top:
            raise RuntimeError(
                "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc'"
                f" casted to dtype, but got from={low} > to_inc={top}"
            )
        hi = top
    else:
        if low >= high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        hi = high - 1
        if dtype.kind == "f" and hi > float(xp.finfo(dtype).max):  # past the dtype's range
            raise RuntimeError(f"to - 1 is out of bounds for {_C_FLOATS[name]}")
    if dtype.kind == "f":  # beyond ±2^digits not every integer is a value: torch warns
        bound, cname = 2 ** _DIGITS[name], _C_FLOATS[name]
        for value, what in ((low, "from"), (hi, "to - 1")):
            if not -bound <= value <= bound:
                warnings.warn(
                    f"{what} is out of bounds [-(2^{_DIGITS[name]}), 2^{_DIGITS[name]}]. Due to"
                    f" precision limitations {cname} can support discrete uniform distribution"
                    " only within this range.",
                    UserWarning,
                    stacklevel=3,
                )
    else:  # integers: both ends must be values of the dtype
        lowest = 0 if name == "bool" else int(xp.iinfo(dtype).min)
        if not lowest <= low <= top:
            raise RuntimeError(f"from is out of bounds for {_C_NAMES[name]}")
        if not lowest <= hi <= top:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_NAMES[name]}")
    return low, hi


def _random_args(args, kwargs) -> tuple[int, int | None]:
    """(from, to) of torch's three forms: random_(), random_(to), random_(from, to)."""
    unknown = set(kwargs) - {"from", "to"}
    if len(args) > 2 or unknown:
        raise TypeError(
            "random_() received an invalid combination of arguments: expected (), (int to) or"
            f" (int from, int to), got {len(args)} positional and {sorted(kwargs)} keywords"
        )
    if len(args) == 2:
        low, high = args
    elif len(args) == 1 and "to" not in kwargs:
        low, high = kwargs.get("from", 0), args[0]
        if high is None:
            raise TypeError("random_(): argument 'to' must be int, not NoneType")
    else:
        low = args[0] if args else kwargs.get("from", 0)
        high = kwargs.get("to")
    return _int_arg("from", low), None if high is None else _int_arg("to", high)


def _int_arg(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise TypeError(f"random_(): argument '{name}' must be int, not {type(value).__name__}")
    return int(value.__index__())


def _continuous(self, name: str, dist: str) -> None:
    """torch's refusal of a continuous distribution on a non-float tensor (one with elements,
    except for cauchy_: torch fills an empty one of any dtype without a word)."""
    if self.array.dtype.kind != "f" and (self.array.size or name == "cauchy_"):
        from .promotion import torch_dtype_name

        if name == "log_normal_":
            raise not_implemented_for("log_normal_cpu", self.array.dtype)
        spelled = _C_NAMES.get(str(self.array.dtype)) if name == "cauchy_" else None
        raise RuntimeError(
            f"{dist} distribution is a continuous probability distribution. dtype must be a"
            f" floating point but you specified {spelled or torch_dtype_name(self.array.dtype)}"
        )


class MoreTorchTensorMethods(MoreTorchTensorMethods2):
    """torch.Tensor's remaining methods; see the module docstring (the memory methods and
    geqrf / ormqr come from MoreTorchTensorMethods2, tensor_torch_more2.py)."""

    __slots__ = ()

    # ------------------------------------------------------------ random fills
    def random_(self, *args, generator=None, **kwargs) -> Tensor:
        """torch.Tensor.random_: ``random_(from, to)`` draws integers uniformly from
        [from, to); ``random_(to)`` from [0, to); ``random_()`` or ``random_(from, None)`` up to
        an inclusive end: 2^mantissa digits for floats (2^24 for float32, 2^53 for float64,
        2^11 for float16), the dtype's max for integers, 1 for bool (``from`` is a Python
        keyword: pass it by position, or as ``**{"from": n}``)."""
        low, high = _random_args(args, kwargs)
        self._inplace("random_")
        lo, hi = _random_bounds(self.array.dtype, low, high)
        draws = backend.generator_or_default(generator).integers(lo, hi + 1, self.array.shape)
        return self._put("random_", xp.asarray(draws))

    def exponential_(self, lambd: float = 1.0, *, generator=None) -> Tensor:
        """torch.Tensor.exponential_: draws from Exp(λ), density λe^{−λx} (x ≥ 0), as
        x = −log(1 − u)/λ with u ~ U[0, 1) (a 0-d tensor λ read as its number, as torch)."""
        if hasattr(lambd, "item"):
            lambd = lambd.item()
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        _continuous(self, "exponential_", "Exponential")
        u = self._uniform("exponential_", generator)
        return self._put("exponential_", -xp.log1p(-u) / lambd)

    def geometric_(self, p: float, *, generator=None) -> Tensor:
        """torch.Tensor.geometric_: draws k ≥ 1 with P(k) = (1 − p)^{k−1}·p (the number of
        Bernoulli(p) trials up to the first success), k = ⌊log(u)/log(1 − p)⌋ + 1 with
        u ~ U(0, 1]; integer and float dtypes, not bool (as torch)."""
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        if self.array.dtype.kind not in "iuf" and self.array.size:
            raise not_implemented_for("geometric_cpu", self.array.dtype)
        u = 1.0 - self._uniform("geometric_", generator)  # in (0, 1]: log u is finite
        return self._put("geometric_", xp.floor(xp.log(u) / math.log1p(-p)) + 1)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
        """torch.Tensor.log_normal_: draws x = e^{mean + std·z}, z ~ N(0, 1), so that log x is
        N(mean, std²) (mean and std are the underlying normal's, as in torch)."""
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        _continuous(self, "log_normal_", "LogNormal")
        self._inplace("log_normal_")
        z = backend.generator_or_default(generator).standard_normal(self.array.shape, xp.float64)
        return self._put("log_normal_", xp.exp(mean + std * z))

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
        """torch.Tensor.cauchy_: draws from the Cauchy distribution, density
        1/(πσ(1 + ((x − median)/σ)²)), as x = median + σ·tan(π(u − ½)), u ~ U[0, 1)."""
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        _continuous(self, "cauchy_", "Cauchy")
        u = self._uniform("cauchy_", generator)
        return self._put("cauchy_", median + sigma * xp.tan(math.pi * (u - 0.5)))

    def _uniform(self, name: str, generator):
        """u ~ U[0, 1) of self's shape in float64, once the grad check has passed."""
        self._inplace(name)
        return backend.generator_or_default(generator).random(self.array.shape, xp.float64)

    def _put(self, name: str, values) -> Tensor:
        self._check_writeable(name)
        self.array[...] = values.astype(self.array.dtype, copy=False)
        note_tensor_write(self)
        return self

    # ------------------------------------------------------------ flags of a dense CPU tensor
    @property
    def layout(self):
        """torch.Tensor.layout: ember.strided (torch_misc.py), the only layout ember has."""
        from .torch_misc import strided

        return strided

    name = property(lambda self: None, doc="torch.Tensor.name: None (no named tensors)")
    output_nr = property(
        lambda self: self._idx,
        doc="torch.Tensor.output_nr: this tensor's index among its grad_fn's outputs (0 for a"
        " leaf)",
    )
    # torch's properties, False for every dense tensor ember makes
    is_sparse = property(lambda self: False)
    is_sparse_csr = property(lambda self: False)
    is_quantized = property(lambda self: False)
    is_meta = property(lambda self: False)
    is_nested = property(lambda self: False)
    is_mkldnn = property(lambda self: False)
    is_xpu = property(lambda self: False)
    is_mps = property(lambda self: False)
    is_vulkan = property(lambda self: False)
    is_ipu = property(lambda self: False)
    is_xla = property(lambda self: False)
    is_maia = property(lambda self: False)
    is_mtia = property(lambda self: False)

    def is_distributed(self) -> bool:
        """torch.Tensor.is_distributed: False."""
        return False

    def is_pinned(self, device=None) -> bool:
        """torch.Tensor.is_pinned: False (ember never allocates page-locked memory)."""
        return False

    def is_shared(self) -> bool:
        """torch.Tensor.is_shared: whether the memory is shared with forked processes
        (``share_memory_``)."""
        return backend.is_shared(self.array)

    def share_memory_(self) -> Tensor:
        """torch.Tensor.share_memory_: move the values into shared memory, so processes forked
        afterwards (multiprocessing, Hogwild-style training) read and write the same memory;
        a no-op if they are there already. Returns self."""
        if not backend.is_shared(self.array):
            self.array = backend.shared_copy(self.array)
        return self

    def pin_memory(self, device=None) -> Tensor:
        """torch.Tensor.pin_memory: refused as torch refuses it, with no accelerator to pin
        for (a CPU process) or on a tensor that already lives on the GPU."""
        if backend.ON_GPU:
            raise RuntimeError(
                "cannot pin 'torch.cuda.FloatTensor' only dense CPU tensors can be pinned"
            )
        raise RuntimeError("Cannot access accelerator device when none is available.")

    # ------------------------------------------------------------ memory order
    def dim_order(self, *, ambiguity_check=False) -> tuple:
        """torch.Tensor.dim_order: the dims from outermost to innermost in memory (largest
        stride first), computed as torch computes it (stable on ties, so a contiguous tensor
        gives (0, 1, …)). ``ambiguity_check=True`` raises when several orders fit (a size-1 dim
        or two equal strides). ember has no memory formats, so a list of them is refused,
        except the empty list (which checks as True)."""
        if isinstance(ambiguity_check, list):
            if ambiguity_check:
                raise TypeError(
                    "The ambiguity_check argument must be a bool or a list of memory formats."
                    " (ember has no memory formats)"
                )
            check = True
        elif isinstance(ambiguity_check, bool):
            check = ambiguity_check
        else:
            raise TypeError(
                "The ambiguity_check argument must be a bool or a list of memory formats."
            )
        sizes, strides = self.array.shape, self.stride()
        if check and (1 in sizes or any(a == b for a, b in zip(strides, strides[1:]))):
            raise RuntimeError(
                "The tensor does not have unique dim order, or cannot map to exact one of the"
                " given memory formats."
            )
        order, ambiguous = _dim_order(sizes, strides, ambiguity_check is True)
        if ambiguous:
            raise RuntimeError("The tensor does not have unique dim order.")
        return order

    # ------------------------------------------------------------ indexing and splitting
    def nonzero_static(self, *, size: int, fill_value: int = -1) -> Tensor:
        """torch.Tensor.nonzero_static: nonzero()'s (n, ndim) int64 indices cut to ``size``
        rows, or padded up to it with rows of ``fill_value``."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
        found = xp.argwhere(self.array) if self.array.ndim else xp.zeros((0, 0), xp.int64)
        if self.array.ndim == 0 and self.array:
            found = xp.zeros((1, 0), xp.int64)
        out = xp.full((size, self.array.ndim), fill_value, dtype=xp.int64)
        n = min(size, len(found))
        out[:n] = found[:n]
        return Tensor(out)

    def unsafe_chunk(self, chunks: int, dim: int = 0) -> tuple:
        """torch.Tensor.unsafe_chunk: chunk() (torch's differs only in skipping its view
        checks for in-place use; ember's views are checked either way)."""
        return self.chunk(chunks, dim)

    def unsafe_split(self, split_size: int, dim: int = 0) -> tuple:
        """torch.Tensor.unsafe_split: split(split_size, dim), an int size only (as torch's;
        a list of sizes is unsafe_split_with_sizes)."""
        if isinstance(split_size, bool) or not hasattr(split_size, "__index__"):
            raise TypeError(
                "unsafe_split(): argument 'split_size' (position 1) must be int, not"
                f" {type(split_size).__name__}"
            )
        return self.split(split_size, dim)

    def unsafe_split_with_sizes(self, split_sizes, dim: int = 0) -> tuple:
        """torch.Tensor.unsafe_split_with_sizes: split_with_sizes()."""
        return self.split_with_sizes(split_sizes, dim)

    # ------------------------------------------------------------ activations as methods
    def hardshrink(self, lambd: float = 0.5) -> Tensor:
        """torch.Tensor.hardshrink: x where |x| > λ, 0 elsewhere."""
        from .functional import hardshrink

        return hardshrink(self, lambd)

    def prelu(self, weight) -> Tensor:
        """torch.Tensor.prelu: x for x > 0, a·x otherwise (one slope, or one per channel)."""
        from .functional import prelu

        return prelu(self, weight)


def _dim_order(sizes, strides, check: bool) -> tuple[tuple, bool]:
    """(order, ambiguous): torch's logical-to-physical permutation (torch._prims_common), an
    insertion sort of the dims, innermost first, by stride, with torch's rules for zero and
    equal strides; with ``check``, whether some neighbours in it are not strictly ordered."""
    ndim = len(sizes)
    if ndim <= 1:
        return tuple(range(ndim)), False
    if _contiguous(sizes, strides) and not _channels_last(sizes, strides):
        return tuple(range(ndim)), False
    if _channels_last(sizes, strides) and not _contiguous(sizes, strides):
        return (0, *range(2, ndim), 1), False

    def ge(a, b):
        return b == 0 or (a != 0 and (a >= b or a % b == 0))

    def should_swap(a, b):
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa == sb:
            return 0 if ge(sizes[b], sizes[a]) else 1
        if ge(sb, sa):
            return -1
        return 1 if ge(sa, sb) else 0

    perm = list(reversed(range(ndim)))
    aten_insertion_sort(perm, should_swap)
    ambiguous = check and any(should_swap(a, b) != -1 for a, b in zip(perm, perm[1:]))
    return tuple(reversed(perm)), ambiguous


def _contiguous(sizes, strides) -> bool:
    """torch's is_contiguous: size-1 dims skipped, the rest row-major (any empty tensor is)."""
    if 0 in sizes:
        return True
    expected = 1
    for n, s in reversed(list(zip(sizes, strides))):
        if n != 1:
            if s != expected:
                return False
            expected *= n
    return True


def _channels_last(sizes, strides) -> bool:
    """torch's channels_last contiguity of a 4-D layout (dims in memory order N, H, W, C)."""
    if len(sizes) != 4:
        return False
    if 0 in sizes:
        return True
    expected = 1
    for d in (1, 3, 2, 0):
        if sizes[d] != 1:
            if strides[d] != expected:
                return False
            expected *= sizes[d]
    return True
