"""ember.fft against torch.fft: every transform with each norm and with padding/cutting
n or s, outputs (values and dtypes) and gradients on the same inputs; gradcheck in float64 /
complex128; |fft(x)|² and an FNO-style spectral layer trained a few steps beside torch."""

import numpy as np
import pytest

import ember
from tests.fft.fft_reference import NORMS, TOL, case_ids, check_gradcheck, check_matches_torch, tnp

# (name, kwargs, input shape, complex input?)
C2C = ["fft", "ifft"]
CASES = [
    (name, kw, (3, 8), cin)
    for name in C2C
    for kw in ({}, {"n": 5}, {"n": 12}, {"dim": 0})
    for cin in (False, True)
] + [
    ("rfft", kw, (3, 8), False) for kw in ({}, {"n": 5}, {"n": 11}, {"dim": 0})
] + [
    ("irfft", kw, (3, 5), True) for kw in ({}, {"n": 7}, {"n": 8}, {"n": 12}, {"n": 3}, {"dim": 0})
] + [
    ("hfft", kw, (3, 5), True) for kw in ({}, {"n": 7}, {"n": 10})
] + [
    ("ihfft", kw, (3, 8), False) for kw in ({}, {"n": 7})
] + [
    (name, kw, (2, 4, 6), cin)
    for name in ("fft2", "ifft2", "fftn", "ifftn")
    for kw in ({}, {"s": (3, 8)}, {"dim": (0, 2)}, {"s": (5, -1), "dim": (0, 1)})
    for cin in (False, True)
] + [
    (name, kw, (2, 4, 6), False)
    for name in ("rfft2", "rfftn")
    for kw in ({}, {"s": (3, 7)}, {"dim": (0, 1)})
] + [
    (name, kw, (2, 4, 4), True)
    for name in ("irfft2", "irfftn")
    for kw in ({}, {"s": (3, 7)}, {"s": (4, 6)}, {"dim": (0, 1)})
]  # fmt: skip


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES, mark_complex=True))
def test_matches_torch(torch, case, dtype, norm):
    check_matches_torch(torch, case, dtype, norm)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES, mark_complex=True))
def test_gradcheck(case, norm):
    check_gradcheck(case, norm)


def test_integer_input_and_defaults(torch):
    a = np.arange(6)
    assert ember.fft.fft(ember.tensor(a)).dtype == np.complex64
    np.testing.assert_allclose(ember.fft.rfft(ember.tensor(a)).numpy(),
                               tnp(torch.fft.rfft(torch.tensor(a))), rtol=1e-6)  # fmt: skip
    with pytest.raises(RuntimeError, match="rfft expects a real input"):
        ember.fft.rfft(ember.tensor([1j, 2j]))
    with pytest.raises(ValueError, match="Invalid normalization mode"):
        ember.fft.fft(ember.ones(4), norm="none")


@pytest.mark.parametrize("n, d", [(8, 1.0), (7, 0.5), (1, 2.0)])
def test_frequencies(torch, n, d):
    for name in ("fftfreq", "rfftfreq"):
        e, t = getattr(ember.fft, name)(n, d), getattr(torch.fft, name)(n, d)
        assert e.dtype == np.float32
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    assert ember.fft.fftfreq(n, d, dtype=ember.float64).dtype == np.float64


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_shifts(torch, dim):
    a = np.random.default_rng(0).standard_normal((5, 6))
    for name in ("fftshift", "ifftshift"):
        e = ember.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        eo, to = getattr(ember.fft, name)(e, dim=dim), getattr(torch.fft, name)(t, dim=dim)
        np.testing.assert_array_equal(eo.detach().numpy(), tnp(to))
        w = np.arange(30.0).reshape(5, 6)
        (eo * ember.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(e.grad.numpy(), tnp(t.grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_power_spectrum_loss(torch, dtype):
    """L = Σ|fft(x)|² (= n·Σx² by Parseval, so ∂L/∂x = 2n·x)."""
    a = np.random.default_rng(1).standard_normal((4, 16)).astype(dtype)
    e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    le = (ember.fft.fft(e).abs() ** 2).sum()
    lt = (torch.fft.fft(t).abs() ** 2).sum()
    le.backward()
    lt.backward()
    tol = TOL[dtype]
    np.testing.assert_allclose(le.item(), lt.item(), rtol=tol)
    np.testing.assert_allclose(e.grad.numpy(), tnp(t.grad), rtol=tol, atol=tol * 32)
    np.testing.assert_allclose(e.grad.numpy(), 2 * 16 * a, rtol=tol * 10, atol=tol * 32)


class SpectralConv1d(ember.nn.Module):
    """FNO's spectral layer: y = irfft(W ⊙ rfft(x)[..., :modes]), W complex (out, in, modes),
    the higher modes dropped."""

    def __init__(self, weight, modes):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.tensor(weight))
        self.modes = modes

    def forward(self, x):
        X = ember.fft.rfft(x)  # (B, in, n//2 + 1)
        low = X[..., : self.modes]
        Y = (low[:, None, :, :] * self.weight[None]).sum(dim=2)  # (B, out, modes)
        return ember.fft.irfft(Y, n=x.shape[-1])


def _torch_spectral(torch, weight, modes):
    w = torch.nn.Parameter(torch.tensor(weight))

    def forward(x):
        X = torch.fft.rfft(x)
        Y = (X[..., :modes][:, None, :, :] * w[None]).sum(dim=2)
        return torch.fft.irfft(Y, n=x.shape[-1])

    return w, forward


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fno_spectral_layer_trains_like_torch(torch, dtype):
    rng = np.random.default_rng(2)
    cdtype = np.complex64 if dtype == np.float32 else np.complex128
    B, C, n, modes = 4, 3, 16, 5
    weight = (0.3 * (rng.standard_normal((C, C, modes))
                     + 1j * rng.standard_normal((C, C, modes)))).astype(cdtype)  # fmt: skip
    x = rng.standard_normal((B, C, n)).astype(dtype)
    target = np.sin(np.linspace(0, 4 * np.pi, n)).astype(dtype) * np.ones((B, C, 1), dtype)
    layer = SpectralConv1d(weight, modes)
    tw, tforward = _torch_spectral(torch, weight, modes)
    eopt = ember.optim.SGD(layer.parameters(), lr=0.5, momentum=0.9)
    topt = torch.optim.SGD([tw], lr=0.5, momentum=0.9)
    losses = []
    for _ in range(5):
        eopt.zero_grad()
        topt.zero_grad()
        le = ((layer(ember.tensor(x)) - ember.tensor(target)) ** 2).mean()
        lt = ((tforward(torch.tensor(x)) - torch.tensor(target)) ** 2).mean()
        le.backward()
        lt.backward()
        tol = TOL[dtype] * 10
        np.testing.assert_allclose(le.item(), lt.item(), rtol=tol)
        np.testing.assert_allclose(layer.weight.grad.numpy(), tnp(tw.grad), rtol=tol, atol=tol)
        eopt.step()
        topt.step()
        losses.append(le.item())
    np.testing.assert_allclose(layer.weight.detach().numpy(), tnp(tw), rtol=tol, atol=tol)
    assert losses[-1] < losses[0]
