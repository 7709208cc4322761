"""ember.stft / ember.istft against torch.stft / torch.istft: outputs, dtypes and gradients
(through |stft|² and through istft(stft(x)) round trips, to the signal and to the window) for
n_fft / hop / win_length / window / center / pad_mode / normalized / onesided combinations,
1-D and batched, float32 and float64, complex input; gradcheck in float64; torch's errors."""

import warnings

import numpy as np
import pytest

import ember

TOL = {np.float32: 2e-5, np.float64: 1e-12}
CDT = {np.float32: np.complex64, np.float64: np.complex128}


def tnp(t):
    return t.detach().resolve_conj().numpy()


def _close(e, t, tol):
    t = tnp(t)
    scale = max(1.0, np.abs(t).max())
    np.testing.assert_allclose(e.detach().numpy(), t, rtol=tol, atol=tol * scale)


def _weights(shape, dtype, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# (n_fft, stft kwargs except n_fft, window kind: None | "hann" | "random"); input length 40
CASES = [
    (16, {}, None),
    (16, {}, "hann"),
    (16, {"hop_length": 3}, "hann"),
    (16, {"hop_length": 5, "win_length": 12}, "hann"),
    (16, {"hop_length": 4, "win_length": 11}, None),
    (15, {"hop_length": 4}, "random"),
    (16, {"normalized": True}, "hann"),
    (16, {"center": False, "hop_length": 4}, "hann"),
    (16, {"pad_mode": "constant"}, "random"),
    (16, {"pad_mode": "replicate", "hop_length": 2}, "hann"),
    (16, {"onesided": False}, "hann"),
    (16, {"onesided": False, "normalized": True, "hop_length": 6, "win_length": 10}, "random"),
    (7, {"hop_length": 1}, "random"),
    (8, {"center": False, "hop_length": 8}, None),
]
IDS = [f"n{n}-{'-'.join(f'{k}{v}' for k, v in kw.items()) or 'default'}-{w}" for n, kw, w in CASES]


def _window(kind, n, dtype):
    if kind == "hann":  # periodic Hann (torch.hann_window), > 0 inside
        return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(dtype)
    return (0.5 + np.random.default_rng(7).random(n)).astype(dtype)


def _args(lib, n_fft, kw, kind, dtype, grad=False):
    kw = dict(kw)
    if kind is not None:
        kw["window"] = lib.tensor(_window(kind, kw.get("win_length", n_fft), dtype),
                                  requires_grad=grad)  # fmt: skip
    return kw


def _stft(lib, x, n_fft, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.stft(x, n_fft, return_complex=True, **kw)


def _istft(lib, X, n_fft, kw, length=None):
    ikw = {k: v for k, v in kw.items() if k != "pad_mode"}
    if ikw.get("onesided") is False:  # a two-sided spectrum of a real signal → a real signal
        ikw.pop("onesided")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.istft(X, n_fft, length=length, **ikw)


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_fft,kw,kind", CASES, ids=IDS)
def test_stft_and_power_gradient_match_torch(torch, n_fft, kw, kind, dtype, batched):
    x0 = _weights((3, 40) if batched else (40,), dtype, seed=0)
    xe, xt = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ke, kt = _args(ember, n_fft, kw, kind, dtype, True), _args(torch, n_fft, kw, kind, dtype, True)
    ye, yt = _stft(ember, xe, n_fft, ke), _stft(torch, xt, n_fft, kt)
    assert ye.shape == tuple(yt.shape) and ye.dtype == CDT[dtype]
    _close(ye, yt, TOL[dtype])
    w = _weights(tuple(yt.shape), dtype, seed=2)
    ((ye.abs() ** 2) * ember.tensor(w)).sum().backward()
    ((yt.abs() ** 2) * torch.tensor(w)).sum().backward()
    _close(xe.grad, xt.grad, TOL[dtype] * 10)
    if kind is not None:
        _close(ke["window"].grad, kt["window"].grad, TOL[dtype] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_fft,kw,kind", CASES, ids=IDS)
def test_istft_round_trip_and_gradient_match_torch(torch, n_fft, kw, kind, dtype):
    x0 = _weights((2, 40), dtype, seed=3)
    xe, xt = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ke, kt = _args(ember, n_fft, kw, kind, dtype, True), _args(torch, n_fft, kw, kind, dtype, True)
    try:
        rt = _istft(torch, _stft(torch, xt, n_fft, kt), n_fft, kt)
    except RuntimeError as err:  # the envelope is 0 somewhere: ember refuses as well
        assert "window overlap add min" in str(err)
        with pytest.raises(RuntimeError, match="window overlap add min"):
            _istft(ember, _stft(ember, xe, n_fft, ke), n_fft, ke)
        return
    re = _istft(ember, _stft(ember, xe, n_fft, ke), n_fft, ke)
    assert re.shape == tuple(rt.shape) and re.dtype == dtype
    _close(re, rt, TOL[dtype])
    w = _weights(tuple(rt.shape), dtype, seed=4)
    ((re**2) * ember.tensor(w)).sum().backward()
    ((rt**2) * torch.tensor(w)).sum().backward()
    _close(xe.grad, xt.grad, TOL[dtype] * 10)
    if kind is not None:
        _close(ke["window"].grad, kt["window"].grad, TOL[dtype] * 10)


@pytest.mark.parametrize("length", [30, 40, 47])
def test_istft_length_and_padding(torch, length):
    x0 = _weights((40,), np.float64)
    kw = {"hop_length": 4, "window": None}
    X = torch.stft(torch.tensor(x0), 16, return_complex=True, window=torch.hann_window(16,
                   dtype=torch.float64))  # fmt: skip
    win = np.hanning(18)[1:-1]  # > 0 everywhere: center=False also inverts
    for center in (True, False):
        Xe = ember.tensor(X.numpy(), requires_grad=True)
        Xt = X.clone().requires_grad_(True)
        kw = {"hop_length": 4, "center": center, "length": length}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rt = torch.istft(Xt, 16, window=torch.tensor(win), **kw)
            re = ember.istft(Xe, 16, window=ember.tensor(win), **kw)
        assert re.shape == (length,)
        _close(re, rt, 1e-12)
        (re * ember.tensor(np.arange(length))).sum().backward()
        (rt * torch.tensor(np.arange(length))).sum().backward()
        _close(Xe.grad, Xt.grad, 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("onesided_out", [False, True])
def test_complex_input_stft_and_complex_istft(torch, dtype, onesided_out):
    """A complex signal: a two-sided spectrum; istft(return_complex=True) inverts it."""
    rng = np.random.default_rng(5)
    z0 = (rng.standard_normal((2, 33)) + 1j * rng.standard_normal((2, 33))).astype(CDT[dtype])
    win = _window("hann", 12, dtype)
    kw = {"hop_length": 3, "win_length": 12}
    ze, zt = ember.tensor(z0, requires_grad=True), torch.tensor(z0, requires_grad=True)
    we, wt = ember.tensor(win, requires_grad=True), torch.tensor(win, requires_grad=True)
    ye = ember.stft(ze, 16, window=we, **kw)  # complex input: return_complex may be left out
    yt = torch.stft(zt, 16, window=wt, **kw)
    assert ye.shape == tuple(yt.shape) == (2, 16, 12) and ye.dtype == CDT[dtype]
    _close(ye, yt, TOL[dtype])
    if onesided_out:  # |stft|²
        le, lt = (ye.abs() ** 2).sum(), (yt.abs() ** 2).sum()
    else:  # istft back to the complex signal
        re = ember.istft(ye, 16, window=we, return_complex=True, **kw)
        rt = torch.istft(yt, 16, window=wt, return_complex=True, **kw)
        _close(re, rt, TOL[dtype])
        w = ember.tensor(_weights((2, 33, 2), dtype))
        le = (ember.view_as_real(re) * w).sum()
        lt = (torch.view_as_real(rt) * torch.tensor(w.numpy())).sum()
    le.backward()
    lt.backward()
    _close(ze.grad, zt.grad, TOL[dtype] * 10)
    _close(we.grad, wt.grad, TOL[dtype] * 10)


def test_return_complex_false_and_methods(torch):
    x0 = _weights((2, 40), np.float64)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        ye = ember.tensor(x0).stft(16, window=ember.ones(16, dtype=ember.float64),
                                   return_complex=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.tensor(x0).stft(16, window=torch.ones(16, dtype=torch.float64),
                                   return_complex=False)  # fmt: skip
    assert ye.shape == tuple(yt.shape) == (2, 9, 11, 2) and ye.dtype == np.float64
    _close(ye, yt, 1e-12)
    X = ember.view_as_complex(ye)
    r = X.istft(16, window=ember.ones(16, dtype=ember.float64))
    _close(r, torch.tensor(x0), 1e-12)


def test_gradcheck_small():
    rng = np.random.default_rng(6)
    x = ember.tensor(rng.standard_normal(12), requires_grad=True)
    w = ember.tensor(0.5 + rng.random(6), requires_grad=True)

    def power(x, w):
        return ember.stft(x, 8, hop_length=2, win_length=6, window=w, return_complex=True)

    def round_trip(x, w):
        X = ember.stft(x, 8, hop_length=2, win_length=6, window=w, return_complex=True)
        return ember.istft(X, 8, hop_length=2, win_length=6, window=w, length=11)

    assert ember.gradcheck(power, (x, w))
    assert ember.gradcheck(round_trip, (x, w))
    X = ember.tensor(rng.standard_normal((5, 7)) + 1j * rng.standard_normal((5, 7)),
                     requires_grad=True)  # fmt: skip
    assert ember.gradcheck(
        lambda X: ember.istft(X, 8, hop_length=2, win_length=6, window=w.detach()), (X,)
    )
    z = ember.tensor(rng.standard_normal(12) + 1j * rng.standard_normal(12), requires_grad=True)
    assert ember.gradcheck(
        lambda z: ember.stft(z, 8, hop_length=2, win_length=6, window=w.detach()), (z,)
    )


def _err(lib, f):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(lib)
    except RuntimeError as e:
        return str(e)
    return None


@pytest.mark.parametrize(
    "f",
    [
        lambda lib: lib.stft(lib.ones(40), 16),
        lambda lib: lib.stft(lib.ones(40), 16, window=lib.ones(10), return_complex=True),
        lambda lib: lib.stft(lib.ones(40), 16, win_length=20, return_complex=True),
        lambda lib: lib.stft(lib.ones(40), 16, hop_length=0, return_complex=True),
        lambda lib: lib.stft(lib.ones(10), 16, center=False, return_complex=True),
        lambda lib: lib.stft(lib.ones(40) * 1j, 16, onesided=True),
        lambda lib: lib.istft(lib.ones(9, 11), 16),
        lambda lib: lib.istft(lib.ones(10, 11) * 1j, 16),
        lambda lib: lib.istft(lib.ones(16, 11) * 1j, 16, onesided=True),
        lambda lib: lib.istft(lib.ones(9, 11) * 1j, 16, hop_length=17),
        lambda lib: lib.istft(lib.ones(9, 11) * 1j, 16, window=lib.hann_window(16), center=False),
        lambda lib: lib.istft(lib.ones(9, 11) * 1j, 16, return_complex=True),
    ],
)
def test_errors_match_torch(torch, f):
    te = _err(torch, f)
    assert te is not None
    ee = _err(ember, f)
    assert ee is not None
    key = te.split(") : ")[-1].split(": ")[-1].split("\n")[0][:40]
    assert key in ee, (te, ee)
