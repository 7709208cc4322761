"""The special functions NumPy lacks (erf, erfinv, expit, log Γ and its derivatives, the
incomplete gamma and beta functions, the normal quantile and log-CDF): SciPy's on the CPU,
CuPy's kernels of the same names on the GPU. Part of the backend seam; ``backend.py``
re-exports every name.
"""

from __future__ import annotations

import math

import numpy

from .backend import ON_GPU, _cupy, _cupyx


def _erf_fallback(x):
    # math.erf element by element: exact but slow; used only without SciPy.
    f = numpy.frompyfunc(math.erf, 1, 1)
    return f(x).astype(x.dtype)


def _expit_fallback(x):
    # σ(x) = ½(1 + tanh(x/2)): no overflow, at some relative precision for x ≪ 0.
    y = numpy.tanh(x * 0.5)
    y += 1
    y *= 0.5
    return y


def _needs_scipy(*args):  # pragma: no cover - SciPy ships with the default install
    raise ImportError("special functions (erfinv, gammaln, psi …) need SciPy: pip install scipy")


def _special_functions() -> dict:
    """erf, erfinv, expit (NumPy has none of them); log Γ and its derivatives (lgamma,
    digamma; the Gamma and Beta distributions), the regularised incomplete gamma P and
    Q = 1 − P (the gamma draws' reparameterisation) and beta (the binomial CDF), the normal
    quantile and log-CDF, accurate in the tails where erf-based forms cancel: SciPy's
    vectorised, stable versions on the CPU, CuPy's kernels of the same names on the GPU."""
    names = ("erf", "erfinv", "expit", "betainc", "erfc", "gammainc", "gammaincc", "gammaln",
             "log_ndtr", "ndtri", "polygamma", "psi")  # fmt: skip
    if ON_GPU:
        found = {n: getattr(_cupyx.scipy.special, n) for n in names}
        cupy_polygamma = found["polygamma"]  # CuPy's takes the order only as an array
        found["polygamma"] = lambda n, x: cupy_polygamma(_cupy.asarray(n), x)
        return found
    try:
        import scipy.special
    except ImportError:  # pragma: no cover - SciPy ships with the default install
        found = dict.fromkeys(names, _needs_scipy)
        found.update(erf=_erf_fallback, expit=_expit_fallback)
        return found
    return {n: getattr(scipy.special, n) for n in names}


_special = _special_functions()
erf, erfinv, expit = _special["erf"], _special["erfinv"], _special["expit"]
betainc, erfc, gammainc, gammaincc = (_special[n] for n in ("betainc", "erfc", "gammainc",
                                                            "gammaincc"))  # fmt: skip
gammaln, log_ndtr, ndtri, polygamma, psi = (_special[n] for n in ("gammaln", "log_ndtr", "ndtri",
                                                                  "polygamma", "psi"))  # fmt: skip
