"""Shared checks for the distribution tests: one distribution built in ember and in torch from
the same float64 arrays, a quantity computed in both, values and gradients compared."""

from __future__ import annotations

import numpy as np

import ember

RTOL, ATOL = 1e-9, 1e-11


def rng(seed: int):
    return np.random.default_rng(seed)


def randn(*shape, seed=0):
    return rng(seed).standard_normal(shape)


def uniform(lo, hi, *shape, seed=0):
    return rng(seed).uniform(lo, hi, shape)


def lower_cholesky(*batch, d=3, seed=0):
    """Lower-triangular matrices with a positive diagonal (well conditioned)."""
    r = rng(seed)
    m = np.tril(r.standard_normal(batch + (d, d))) * 0.5
    idx = np.arange(d)
    m[..., idx, idx] = r.uniform(0.6, 1.5, batch + (d,))
    return m


def spd(*batch, d=3, seed=0):
    L = lower_cholesky(*batch, d=d, seed=seed)
    return L @ np.swapaxes(L, -1, -2)


def tensors(torch, arrays: dict, grad=True):
    """ember and torch tensors from the same arrays (floats require grad)."""
    e, t = {}, {}
    for k, a in arrays.items():
        if a is None or isinstance(a, (float, int)):
            e[k] = t[k] = a
            continue
        a = np.asarray(a)
        g = grad and a.dtype.kind == "f"
        e[k] = ember.tensor(a, requires_grad=g)
        t[k] = torch.tensor(a, requires_grad=g)
    return e, t


def assert_close(e, t, what=""):
    """An ember tensor equals a torch tensor (shape, and values with nan/inf in place)."""
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    e = e.array if isinstance(e, ember.Tensor) else np.asarray(e)
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {e.shape} vs torch {t.shape}"
    np.testing.assert_allclose(e, t, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def compare(torch, make_e, make_t, params: dict, fn, value=None, grad=True, seed=0):
    """``fn(dist, value)`` of ember's ``make_e(**params)`` against torch's ``make_t(**params)``:
    values, and the gradients of Σ w·out (w random) w.r.t. every float parameter and value."""
    arrays = dict(params)
    if value is not None:
        arrays["__value"] = value
    e, t = tensors(torch, arrays, grad)
    ve, vt = e.pop("__value", None), t.pop("__value", None)
    de, dt = make_e(**e), make_t(**t)
    oe, ot = fn(de, ve), fn(dt, vt)
    assert_close(oe, ot, "value")
    if not (grad and ot.requires_grad):
        return oe, ot
    w = rng(seed + 100).standard_normal(tuple(ot.shape))
    finite = np.isfinite(ot.detach().numpy())
    w = np.where(finite, w, 0.0)  # infinities carry no gradient worth comparing
    le = oe.where(ember.Tensor(finite), ember.Tensor(np.zeros((), oe.dtype)))
    (le * ember.Tensor(w)).sum().backward()
    lt = torch.where(torch.tensor(finite), ot, torch.zeros((), dtype=ot.dtype))
    (lt * torch.tensor(w)).sum().backward()
    for k in list(params) + (["__value"] if value is not None else []):
        te = ve if k == "__value" else e[k]
        tt = vt if k == "__value" else t[k]
        if not (isinstance(tt, torch.Tensor) and tt.requires_grad):
            continue
        if tt.grad is None:
            assert te.grad is None or not np.any(te.grad.array), f"{k}: torch has no gradient"
            continue
        assert te.grad is not None, f"{k}: ember computed no gradient"
        np.testing.assert_allclose(
            te.grad.array, tt.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=f"gradient of {k}"
        )
    return oe, ot


def compare_kl(torch, case) -> None:
    """KL(p ‖ q) and its gradients against torch's for a case (p's class name, q's, p's
    parameters, q's parameters), the classes taken from ember.distributions and torch's."""
    pname, qname, pp, qp = case
    params = {f"p_{k}": v for k, v in pp.items()} | {f"q_{k}": v for k, v in qp.items()}

    def maker(module):
        def make(**kw):
            p = getattr(module, pname)(**{k[2:]: v for k, v in kw.items() if k[0] == "p"})
            q = getattr(module, qname)(**{k[2:]: v for k, v in kw.items() if k[0] == "q"})
            return p, q

        return make

    def kl(pq, v):
        if isinstance(pq[0], ember.distributions.Distribution):
            return ember.distributions.kl_divergence(*pq)
        return torch.distributions.kl_divergence(*pq)

    compare(torch, maker(ember.distributions), maker(torch.distributions), params, kl)


def makers(torch, name: str, validate=True):
    """(make_e, make_t): the distribution ``name`` built from keyword parameters in ember and
    in torch, with ``validate_args``."""

    def make_e(**kw):
        return getattr(ember.distributions, name)(**kw, validate_args=validate)

    def make_t(**kw):
        return getattr(torch.distributions, name)(**kw, validate_args=validate)

    return make_e, make_t


def as_ember(v):
    """A NumPy parameter as an ember tensor (numbers as they are)."""
    return ember.tensor(v) if isinstance(v, np.ndarray) else v


def as_torch(torch, v):
    """A NumPy parameter as a torch tensor (numbers as they are)."""
    return torch.tensor(v) if isinstance(v, np.ndarray) else v


def torch_has(torch, make_t, params: dict, what: str) -> bool:
    """Whether torch's distribution gives ``what`` (an attribute, or "entropy") for
    ``params``, rather than NotImplementedError."""
    d = make_t(**{k: as_torch(torch, v) for k, v in params.items()})
    try:
        d.entropy() if what == "entropy" else getattr(d, what)
    except NotImplementedError:
        return False
    return True


def check_rsample(torch, d, pe: dict, pt: dict, seed: int, shape: tuple, torch_draw,
                  grad_rtol: float = 1e-9):  # fmt: skip
    """ember's ``d.rsample(shape)`` after seeding against ``torch_draw()`` (torch's formula fed
    the same noise, drawn again from ember's generator after reseeding), and the gradients of
    Σ w·x w.r.t. the parameters ``pe`` / ``pt``. Returns ember's draw."""
    ember.manual_seed(seed)
    x = d.rsample(shape)
    assert x.requires_grad and x.shape == tuple(shape) + d.batch_shape + d.event_shape
    ember.manual_seed(seed)
    xt = torch_draw()
    np.testing.assert_allclose(x.array, xt.detach().numpy(), rtol=1e-12, atol=1e-13)
    w = randn(*x.shape, seed=99)
    (x * ember.tensor(w)).sum().backward()
    (xt * torch.tensor(w)).sum().backward()
    for k in pe:
        np.testing.assert_allclose(
            pe[k].grad.array, pt[k].grad.numpy(), rtol=grad_rtol, atol=1e-12,
            err_msg=f"gradient of {k}",
        )  # fmt: skip
    return x


def draw_u(shape):
    """U[0, 1) noise from ember's generator, float64 (what rsample draws)."""
    from ember.distributions.distribution import draw_uniform

    return draw_uniform(shape, np.float64)


def apply_transforms(transforms, x):
    for t in transforms:
        x = t(x)
    return x


def stats_ok(x, mean, var, n, k=5.0):
    """Sample means of ``x`` (n draws along axis 0) within k standard errors of ``mean``."""
    se = np.sqrt(var / n)
    return np.all(np.abs(x.mean(0) - mean) <= k * se + 1e-12)
