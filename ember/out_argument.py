"""torch's ``out=`` keyword on the functions that take it (``torch.add(a, b, out=c)``,
``torch.max(x, 0, out=(values, indices))``, ``torch.linalg.inv(A, out=B)`` …).

The function computes its result as without ``out``, then the result is written into ``out``
as torch writes it, and ``out`` is returned:

- a result of out's shape goes into out's own memory (so a view given as ``out`` writes
  through to its base); an empty ``out`` is resized to the result's shape, and a non-empty
  one of another shape too, with torch's deprecation warning;
- the result is cast to out's dtype where torch's casting rules allow it (``can_cast``: not
  float → integer, not complex → real), else torch's RuntimeError; the functions in
  EXACT_DTYPE (index, sorting, rounding, extremes, softmax, the linalg factorisations …) cast
  nothing, as torch's: out must have the result's dtype;
- out= records no graph: an argument (or ``out``) that requires grad, with grad mode on, is
  torch's RuntimeError;
- factory functions (zeros, arange, rand …) take out's dtype when none is given;
- several results need a tuple of as many tensors, and come back as the function's
  named tuple of them.

``install()`` wraps the listed functions of ember, ember.linalg, ember.special and ember.fft
in place; without ``out`` a call costs one more Python call.
"""

from __future__ import annotations

import functools
import inspect
import warnings

from .backend import xp
from .errors import InputError, InputTypeError
from .function import is_grad_enabled
from .promotion import torch_dtype_name
from .tensor import Tensor
from .torch_aliases import can_cast

#: the functions that take out= in torch (from its documentation), by ember module
FUNCTIONS = {
    "ember": """abs acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin aminmax
        angle any arange argmax argmin asin asinh atan atan2 atanh baddbmm bernoulli bitwise_and
        bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor bmm bucketize
        cat ceil chain_matmul cholesky cholesky_inverse cholesky_solve clamp clamp_max clamp_min
        clip column_stack complex concat concatenate conj_physical copysign cos cosh cross
        cummax cummin cumprod cumsum deg2rad diag diff digamma div divide dot dstack empty eq
        erf erfc erfinv exp exp2 expm1 eye fix float_power floor floor_divide fmax fmin fmod
        frac frexp full gather gcd ge geqrf ger greater greater_equal gt heaviside histc
        histogram histogramdd hstack hypot i0 igamma igammac index_select inner inverse
        isneginf isposinf kron kthvalue lcm ldexp le lerp less less_equal lgamma linspace log
        log10 log1p log2 log_softmax logaddexp logaddexp2 logcumsumexp logical_and logical_not
        logical_or logical_xor logit logspace logsumexp lt lu lu_solve lu_unpack masked_select
        matmul matrix_power max maximum mean median min minimum mm mode msort mul multinomial
        multiply mv mvlgamma nan_to_num nanmean nanmedian nanquantile nansum narrow_copy ne neg
        negative nextafter nonzero norm normal not_equal ones ormqr outer polar polygamma pow
        prod qr quantile rad2deg rand randint randn randperm range reciprocal remainder renorm
        round row_stack rsqrt searchsorted sgn sigmoid sign signbit sin sinc sinh softmax sort
        sqrt square stack std sub subtract sum svd take_along_dim tan tanh topk
        triangular_solve tril triu trunc var vdot vstack where xlogy zeros
        absolute arccos arccosh arcsin arcsinh arctan arctan2 arctanh index_add index_copy
        index_reduce isin scatter scatter_add scatter_reduce take true_divide""",
    "ember.linalg": """cholesky cholesky_ex cond cross det eig eigh eigvals eigvalsh
        householder_product inv inv_ex ldl_factor ldl_factor_ex ldl_solve lu lu_factor
        lu_factor_ex lu_solve matmul matrix_norm matrix_power matrix_rank multi_dot norm pinv qr
        slogdet solve solve_ex solve_triangular svd svdvals tensorinv tensorsolve vecdot
        vector_norm""",
    "ember.special": """airy_ai bessel_j0 bessel_j1 bessel_y0 bessel_y1 chebyshev_polynomial_t
        chebyshev_polynomial_u chebyshev_polynomial_v chebyshev_polynomial_w digamma entr erf
        erfc erfcx erfinv exp2 expit expm1 gammainc gammaincc gammaln hermite_polynomial_h
        hermite_polynomial_he i0 i0e i1 i1e laguerre_polynomial_l legendre_polynomial_p log1p
        log_ndtr logit logsumexp modified_bessel_i0 modified_bessel_i1 modified_bessel_k0
        modified_bessel_k1 multigammaln ndtr ndtri polygamma psi round scaled_modified_bessel_k0
        scaled_modified_bessel_k1 shifted_chebyshev_polynomial_t shifted_chebyshev_polynomial_u
        shifted_chebyshev_polynomial_v shifted_chebyshev_polynomial_w sinc spherical_bessel_j0
        xlog1py xlogy zeta""",
    "ember.fft": """fft fft2 fftfreq fftn hfft hfft2 hfftn ifft ifft2 ifftn ihfft ihfft2 ihfftn
        irfft irfft2 irfftn rfft rfft2 rfftfreq rfftn""",
}

#: functions that make a tensor from nothing: out's dtype stands for a missing dtype
FACTORIES = frozenset(
    "arange empty eye full linspace logspace ones rand randint randn randperm range zeros"
    " fftfreq rfftfreq".split()
)


#: functions whose out must have the result's dtype (torch's kernels for them write out as it
#: is, with its RuntimeError for another dtype)
EXACT_DTYPE = frozenset(
    "cross cummax cummin diag gather index_add index_copy index_reduce index_select kthvalue"
    " masked_select matmul mm msort nonzero scatter scatter_add scatter_reduce sort take"
    " take_along_dim topk tril triu bucketize"
    # the unary roundings and signs, clamps, extremes and their indices, softmaxes, quantiles
    " abs absolute ceil floor fix frac trunc round neg negative sign sgn conj_physical clamp"
    " clamp_min clamp_max clip nan_to_num amax amin aminmax argmax argmin mode logcumsumexp"
    " softmax log_softmax quantile nanquantile norm histc histogram searchsorted isin frexp"
    " complex polar addmm inner inverse triangular_solve"
    # ember.linalg's (and the top-level cholesky, qr, svd)
    " cholesky cholesky_ex det eigh eigvalsh inv inv_ex ldl_factor ldl_factor_ex lu_factor"
    " lu_factor_ex matrix_norm multi_dot qr slogdet solve solve_ex svd svdvals vecdot"
    " vector_norm"
    # ember.fft's inverses of a real input
    " ifft ihfft".split()
)


#: functions that compute in out's dtype, as if given dtype=out.dtype (torch's scans cast their
#: input to out's dtype first: cumsum(x, 0, out=float64) sums in float64, out=int64 truncates
#: the input); a dtype= that differs from out's is torch's RuntimeError
DTYPE_FROM_OUT = frozenset({"cumsum", "cumprod", "sum", "nansum", "mean", "nanmean", "prod"})


def _from_out(name: str, args: tuple, out: Tensor) -> bool:
    """Whether out's dtype is the computation's: always for the scans; for the reductions when
    input and out are both floating (torch refuses an integer mean into a float out, and has
    no integer nansum kernel; those keep their own checks)."""
    if name in ("cumsum", "cumprod"):
        return True
    x = args[0] if args else None
    return isinstance(x, Tensor) and x.array.dtype.kind in "fc" and out.array.dtype.kind in "fc"


def _dtype_from_out(name: str, dtype, out: Tensor):
    if dtype is not None and xp.dtype(dtype) != out.array.dtype:
        raise InputError(
            f"{name}(): expected out tensor to have dtype {torch_dtype_name(xp.dtype(dtype))},"
            f" but got {torch_dtype_name(out.array.dtype)} instead (the op runs in out's dtype)"
        )
    return out.array.dtype


def _check_grad(name: str, result: Tensor, out: Tensor) -> None:
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic"
            " differentiation, but one of the arguments requires grad."
        )


#: functions whose (values, indices) forms (a dim given) write out as it is, where their other
#: forms (max(x), max(x, y), median(x)) cast into out like the rest
EXACT_DTYPE_WITH_DIM = frozenset({"max", "min", "median", "nanmedian"})


def _write_one(name: str, result, out, exact: bool = False) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        result = Tensor(result)
    _check_grad(name, result, out)
    r, o = result.array, out.array
    if r.dtype != o.dtype and (exact or name in EXACT_DTYPE):
        raise InputTypeError(
            f"{name}(): expected out tensor to have dtype {torch_dtype_name(r.dtype)}, but got"
            f" {torch_dtype_name(o.dtype)} instead (out= casts nothing here, as torch's)"
        )
    if not can_cast(r.dtype, o.dtype):
        raise RuntimeError(
            f"result type {torch_dtype_name(r.dtype)} can't be cast to the desired output type"
            f" {torch_dtype_name(o.dtype)}"
        )
    if r.shape == o.shape:
        out._check_writeable(f"{name}(out=)")
        o[...] = r  # into out's own memory: a view given as out writes through
        return out
    if o.size and name not in FACTORIES:  # torch's factories resize out without a word
        warnings.warn(
            f"An output with one or more elements was resized since it had shape"
            f" {list(o.shape)}, which does not match the required output shape"
            f" {list(r.shape)}. This behavior is deprecated, and in a future PyTorch release"
            " outputs will not be resized unless they have zero elements. You can explicitly"
            " reuse an out tensor t by resizing it, inplace, to zero elements with"
            " t.resize_(0).",
            UserWarning,
            stacklevel=3,
        )
    out.array = r.astype(o.dtype, copy=True)
    return out


def write_out(name: str, result, out):
    """``result`` written into ``out`` (a tensor, or a tuple of them for several results)."""
    if not isinstance(result, tuple):
        return _write_one(name, result, out)
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {type(out)}")
    if len(out) != len(result):
        raise TypeError(f"expected tuple of {len(result)} elements but got {len(out)}")
    exact = name in EXACT_DTYPE_WITH_DIM
    written = [_write_one(name, r, o, exact) for r, o in zip(result, out)]
    return type(result)(*written) if hasattr(result, "_fields") else tuple(written)


def with_out(fn, name: str):
    """fn with torch's keyword-only ``out`` (see the module docstring)."""

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if name in FACTORIES and kwargs.get("dtype") is None and isinstance(out, Tensor):
            kwargs["dtype"] = out.dtype
        if name in DTYPE_FROM_OUT and isinstance(out, Tensor) and _from_out(name, args, out):
            kwargs["dtype"] = _dtype_from_out(name, kwargs.get("dtype"), out)
        return write_out(name, fn(*args, **kwargs), out)

    try:
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD]
        extra = [p for p in sig.parameters.values() if p.kind == p.VAR_KEYWORD]
        out_param = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
        call.__signature__ = sig.replace(parameters=[*params, out_param, *extra])
    except (TypeError, ValueError):  # a builtin without a signature: keep wraps' view of it
        pass
    call.without_out = fn  # the function itself (tests hold one implementation, two paths)
    return call


def install() -> None:
    """Give the listed functions of ember, ember.linalg, ember.special and ember.fft torch's
    ``out=`` (each once; a name a module lacks is skipped)."""
    import importlib

    made: dict = {}  # one wrapper per function, so ember.special.i0 is still ember.i0
    for module_name, names in FUNCTIONS.items():
        module = importlib.import_module(module_name)
        for name in names.split():
            fn = getattr(module, name, None)
            if fn is None or hasattr(fn, "without_out"):
                continue
            if id(fn) not in made:
                made[id(fn)] = with_out(fn, name)
            setattr(module, name, made[id(fn)])
