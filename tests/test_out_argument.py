"""torch's out= keyword against torch: the same functions of ember, ember.linalg, ember.special
and ember.fft write the same values into out and return it (one tensor or a named tuple of
several), writing through a view, resizing an empty out, casting by torch's rules, and
refusing what torch refuses (grad, a lossy cast, the wrong number or kind of outs)."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(12)
X = RNG.uniform(0.2, 0.9, (3, 4))
Y = RNG.uniform(0.2, 0.9, (3, 4))
SPD = np.eye(3) * 3 + X[:, :3] @ X[:, :3].T

UNARY = """abs acos asin atan ceil cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix
    floor frac i0 lgamma log log10 log1p log2 logit neg negative rad2deg reciprocal round rsqrt
    sgn sigmoid sign sin sinc sinh sqrt square tan tanh trunc nan_to_num""".split()
BINARY = """add atan2 copysign div divide float_power fmax fmin fmod hypot igamma igammac ldexp
    lerp_half logaddexp logaddexp2 maximum minimum mul multiply nextafter pow remainder sub
    subtract xlogy eq ne lt le gt ge""".split()
DIM = "sum prod mean amax amin logsumexp nansum nanmean cumsum cumprod std var argmax".split()
TUPLES = "max min sort topk kthvalue mode median cummax cummin aminmax".split()
SPECIAL = "entr erfcx expit i0e i1 i1e log_ndtr ndtr ndtri psi gammaln xlog1py".split()
LINALG = "inv det cholesky eigvalsh svdvals matrix_norm vector_norm slogdet qr eigh".split()
FFT = "fft ifft rfft hfft".split()


def _call(lib, name):
    a, b = lib.tensor(X), lib.tensor(Y)
    if name in UNARY:
        return getattr(lib, name), (a,)
    if name == "lerp_half":
        return lib.lerp, (a, b, 0.5)
    if name in BINARY:
        return getattr(lib, name), (a, b)
    if name in DIM:
        return getattr(lib, name), (a, 1)
    if name in TUPLES:
        extra = {"topk": (2,), "kthvalue": (2,)}.get(name, ())
        dim = () if name == "aminmax" else (1,)
        return getattr(lib, name), (a, *extra, *dim)
    if name in SPECIAL:
        return getattr(lib.special, name), (a, b) if name == "xlog1py" else (a,)
    if name in LINALG:
        arg = a[0] if name == "vector_norm" else lib.tensor(SPD)
        return getattr(lib.linalg, name), (arg,)
    if name in FFT:
        return getattr(lib.fft, name), (a,)
    raise KeyError(name)


def _empty_like(result, lib):
    return lib.empty(0, dtype=result.dtype)


@pytest.mark.parametrize("name", UNARY + BINARY + DIM + TUPLES + SPECIAL + LINALG + FFT)
def test_out_matches_torch(name):
    results = {}
    for lib in (ember, torch):
        fn, args = _call(lib, name)
        plain = fn(*args)
        many = isinstance(plain, tuple)
        outs = tuple(_empty_like(p, lib) for p in plain) if many else _empty_like(plain, lib)
        got = fn(*args, out=outs)
        if many:
            assert len(got) == len(plain) and all(g is o for g, o in zip(got, outs))
        else:
            assert got is outs
        results[lib.__name__] = [np.asarray(t.detach().numpy() if lib is torch else t.array)
                                 for t in (got if many else (got,))]  # fmt: skip
    for e, t in zip(results["ember"], results["torch"]):
        assert e.shape == t.shape and e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-6)


def test_views_resizing_casting_and_factories_as_torch():
    for lib in (ember, torch):
        b = lib.zeros(2, 3)
        lib.add(lib.ones(3, 2), 1, out=b.t())  # through a transposed view into b
        assert b.tolist() == [[2.0] * 3] * 2
        o = lib.empty(2, dtype=lib.float64)
        assert lib.add(lib.ones(2), lib.ones(2), out=o).dtype == lib.float64
        assert lib.add(lib.ones(2, dtype=lib.int64), 1, out=lib.empty(2)).dtype == lib.float32
        assert lib.arange(3, out=lib.zeros(3, dtype=lib.int64)).tolist() == [0, 1, 2]
        assert lib.zeros(2, out=lib.empty(0, dtype=lib.int64)).dtype == lib.int64
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            big = lib.zeros(5)
            lib.add(lib.ones(2), 1, out=big)
        assert tuple(big.shape) == (2,) and "was resized since it had shape [5]" in str(
            w[0].message
        )
        v, i = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64)
        r = lib.max(lib.tensor(X), 0, out=(v, i))
        assert r.values is v and r.indices is i


def test_refusals_as_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.add(lib.ones(2, requires_grad=True), 1, out=lib.empty(2))
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired"):
            lib.add(lib.ones(2), lib.ones(2), out=lib.empty(2, dtype=lib.int64))
        with pytest.raises(TypeError, match="expected tuple of 2 elements but got 1"):
            lib.max(lib.tensor(X), 0, out=(lib.empty(0),))
        with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
            lib.add(lib.ones(2), 1, out=[1])
    with ember.no_grad():  # no graph to record: allowed, as in torch
        ember.add(ember.ones(2, requires_grad=True), 1, out=ember.empty(2))
