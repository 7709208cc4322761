"""Shared checks for the fft tests: inputs, a real loss over complex outputs, and one
transform's values, dtypes and gradients held to torch's."""

import numpy as np

import ember

TOL = {np.float32: 3e-5, np.float64: 1e-12}
NORMS = [None, "backward", "ortho", "forward"]


def tnp(t):
    return t.detach().resolve_conj().numpy()


def real_loss(lib, out, seed=1):
    """A real scalar weighing each real and imaginary part of out differently."""
    rng = np.random.default_rng(seed)
    o = lib.view_as_real(out.resolve_conj()) if out.is_complex() else out
    w = rng.standard_normal(tuple(o.shape)).astype(str(o.dtype).split(".")[-1])
    return (o * lib.tensor(w)).sum()


def make_input(shape, cin, dtype, seed=0):
    """Standard normal values of ``shape``, complex (of dtype's width) with ``cin``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if cin:
        x = x + 1j * rng.standard_normal(shape)
        return x.astype(np.complex64 if dtype == np.float32 else np.complex128)
    return x.astype(dtype)


def check_matches_torch(torch, case, dtype, norm) -> None:
    """case = (name, kwargs, input shape, complex input?): ember.fft's and torch.fft's
    outputs (shape, dtype, values) and the gradients of real_loss agree."""
    name, kw, shape, cin = case
    a = make_input(shape, cin, dtype)
    e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    eo = getattr(ember.fft, name)(e, norm=norm, **kw)
    to = getattr(torch.fft, name)(t, norm=norm, **kw)
    assert tuple(eo.shape) == tuple(to.shape)
    assert eo.dtype == np.dtype(str(to.dtype).split(".")[-1])
    tol = TOL[dtype]
    scale = max(1.0, np.abs(tnp(to)).max())
    np.testing.assert_allclose(eo.detach().numpy(), tnp(to), rtol=tol, atol=tol * scale)
    real_loss(ember, eo).backward()
    real_loss(torch, to).backward()
    assert e.grad.dtype == e.dtype
    scale = max(1.0, np.abs(tnp(t.grad)).max())
    np.testing.assert_allclose(e.grad.numpy(), tnp(t.grad), rtol=tol, atol=tol * scale)


def case_ids(cases, mark_complex: bool = False) -> list[str]:
    """Test ids of (name, kwargs, shape, complex input?) cases: name-kwargs (-c/-r)."""
    return [
        f"{n}-{'-'.join(f'{k}{v}' for k, v in kw.items()) or 'default'}"
        + (f"-{'c' if c else 'r'}" if mark_complex else "")
        for n, kw, _, c in cases
    ]


def check_gradcheck(case, norm) -> None:
    """ember.gradcheck of one case's transform (float64 input, complex with the flag)."""
    name, kw, shape, cin = case
    x = ember.tensor(make_input(shape, cin, np.float64), requires_grad=True)
    assert ember.gradcheck(lambda v: getattr(ember.fft, name)(v, norm=norm, **kw), (x,))
