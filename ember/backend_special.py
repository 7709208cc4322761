"""The special functions NumPy lacks (erf, erfinv, expit, log Γ and its derivatives, the
incomplete gamma and beta functions, the normal quantile and log-CDF; the Bessel and Airy
functions, erfcx and the Hurwitz ζ of torch.special): SciPy's on the CPU, CuPy's kernels of
the same names on the GPU. Part of the backend seam; ``backend.py`` re-exports the first group,
ops/special_bessel.py imports the second from here.
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


# torch.special's Bessel family, erfcx and ζ. CuPy has kernels for all but the Airy function;
# that one (rarely hot) makes a host round trip through SciPy rather than failing on the GPU
_BESSEL_NAMES = ("airy", "erfcx", "i0", "i0e", "i1", "i1e", "j0", "j1", "k0", "k0e", "k1",
                 "k1e", "y0", "y1", "zeta")  # fmt: skip


def _on_host(name: str):
    def run(*args):  # pragma: no cover - GPU only
        import scipy.special

        out = getattr(scipy.special, name)(*(_cupy.asnumpy(a) for a in args))
        if isinstance(out, tuple):
            return tuple(_cupy.asarray(o) for o in out)
        return _cupy.asarray(out)

    return run


def _bessel_functions() -> dict:
    if ON_GPU:  # pragma: no cover - GPU only
        found = {}
        for n in _BESSEL_NAMES:
            fn = getattr(_cupyx.scipy.special, n, None)
            found[n] = fn if fn is not None else _on_host(n)
        return found
    try:
        import scipy.special
    except ImportError:  # pragma: no cover - SciPy ships with the default install
        return dict.fromkeys(_BESSEL_NAMES, _needs_scipy)
    return {n: getattr(scipy.special, n) for n in _BESSEL_NAMES}


_bessel = _bessel_functions()
airy, erfcx, zeta = _bessel["airy"], _bessel["erfcx"], _bessel["zeta"]
i0, i0e, i1, i1e = _bessel["i0"], _bessel["i0e"], _bessel["i1"], _bessel["i1e"]
j0, j1, y0, y1 = _bessel["j0"], _bessel["j1"], _bessel["y0"], _bessel["y1"]
k0, k0e, k1, k1e = _bessel["k0"], _bessel["k0e"], _bessel["k1"], _bessel["k1e"]
