"""torch.special's classical orthogonal polynomials p_n(x) on raw arrays, as torch evaluates them.

x and n arrive broadcastable and in one floating dtype (torch's common dtype). n is cast to an
integer as C++ casts it, toward zero (2.7 → 2, −0.5 → 0); nan, ±∞ and values past int64's
range count as negative. Each element takes the first of torch's cases that claims it, in
torch's order: n < 0 → 0; the closed values at the interval's ends (|x| = 1, or x ∈ {0, 1}
for the shifted ones); cos/sin forms for large n inside the interval (Chebyshev); n = 0, 1;
else the three-term recurrence, e.g. Legendre's

    (k + 1)·P_{k+1}(x) = (2k + 1)·x·P_k(x) − k·P_{k−1}(x)

run for k up to n, in the input's dtype, stopping (as torch) once a value is nan. Outside the
interval the recurrence grows and may overflow (then nan, as torch). Hermite's H_n and He_n
are nan beyond n = 128 (float32) or 512 (float64), torch's limit.

Vectorised: the recurrence loops over k (up to the largest n among the elements still
running), each step over all of those elements at once. For x = nan torch returns an
uninitialised value for some of these (its loop never runs); here the result is nan.
"""

from __future__ import annotations

from ..backend import errstate, get_array_module


def orders(n):
    """n as int64, truncated toward zero; nan, ±∞ and |n| ≥ 2⁶³ become −1 (torch: negative)."""
    xp = get_array_module(n)
    if n.dtype.kind in "biu":
        return n.astype(xp.int64)
    ok = xp.isfinite(n) & (xp.abs(n) < 2.0**63)
    return xp.where(ok, xp.trunc(xp.where(ok, n, -1)), -1).astype(xp.int64)


class _Cases:
    """The output, filled case by case: each element from the first case that claims it."""

    def __init__(self, x, n):
        xp = self.xp = get_array_module(x)
        x, n = xp.broadcast_arrays(x, orders(n))
        self.shape = x.shape
        self.x, self.n = x.reshape(-1), n.reshape(-1)
        self.out = xp.zeros(self.x.shape, dtype=x.dtype)
        self.left = xp.ones(self.x.shape, dtype=bool)

    def put(self, mask, value) -> None:
        """Unclaimed elements in ``mask`` take ``value``: a constant, or value(x, n, T(n))
        evaluated on those elements only (n as int64, T(n) in x's dtype)."""
        m = mask & self.left
        if not m.any():
            return
        if callable(value):
            x, n = self.x[m], self.n[m]
            with errstate(all="ignore"):
                value = value(x, n, n.astype(x.dtype))
        self.out[m] = value
        self.left &= ~m

    def recur(self, first, step):
        """The rest (n ≥ 2): p_0 = 1, p_1 = first(x), p_j = step(j, x, p_{j−2}, p_{j−1}) for
        j = 2 … n; an element leaves once j passes its n or its p_{j−1} is nan."""
        xp = self.xp
        idx = xp.nonzero(self.left)[0]
        x, n = self.x[idx], self.n[idx]
        p, q = xp.ones_like(x), first(x)
        j = 2
        with errstate(all="ignore"):
            while idx.size:
                stop = (n < j) | xp.isnan(q)
                if stop.any():
                    self.out[idx[stop]] = q[stop]
                    keep = ~stop
                    idx, x, n, p, q = idx[keep], x[keep], n[keep], p[keep], q[keep]
                    if not idx.size:
                        break
                p, q = q, step(j, x, p, q)
                j += 1
        return self.out.reshape(self.shape)


def _parity(n, even, odd):
    """even where n is even, else odd (torch's n % 2 == 0 tests)."""
    return get_array_module(n).where(n % 2 == 0, even, odd)


def _chebyshev_step(j, x, p, q):
    return (x + x) * q - p


def chebyshev_t(x, n):
    """T_n(x): T_{k+1} = 2x·T_k − T_{k−1}; cos(n·acos x) for |x| < 1, n > 6."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(xp.abs(c.x) == 1, lambda x, n, nf: xp.where((x > 0) | (n % 2 == 0), 1, -1))
    c.put((c.n > 6) & (xp.abs(c.x) < 1), lambda x, n, nf: xp.cos(nf * xp.arccos(x)))
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x)
    return c.recur(lambda x: x, _chebyshev_step)


def _u_inside(y, n):
    """U_n(y) = sin((n + 1)·θ)/sin θ, θ = acos y (its limit where sin θ = 0)."""
    xp = get_array_module(y)
    t, m = xp.arccos(y), (n + 1).astype(y.dtype)
    return xp.where(xp.sin(t) != 0, xp.sin(m * t) / xp.sin(t), m * xp.cos(m * t) / y)


def chebyshev_u(x, n):
    """U_n(x): U_{k+1} = 2x·U_k − U_{k−1}, U_1 = 2x; sin((n+1)θ)/sin θ for |x| < 1, n > 8."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(xp.abs(c.x) == 1, lambda x, n, nf: xp.where((x > 0) | (n % 2 == 0), n + 1, -(n + 1)))
    c.put((c.n > 8) & (xp.abs(c.x) < 1), lambda x, n, nf: _u_inside(x, n))
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x + x)
    return c.recur(lambda x: x + x, _chebyshev_step)


def _v_inside(y, n, nf):
    """V_n(y) = cos((n + ½)θ)/cos(θ/2), θ = acos y; ±(2n + 1) where sin(θ/2) = 1."""
    xp = get_array_module(y)
    t = xp.arccos(y)
    v = xp.cos((nf + 0.5) * t) / xp.cos(t / 2)
    return xp.where(xp.sin(t / 2) != 1, v, _parity(n, 2 * n + 1, -(2 * n + 1)))


def _w_inside(y, n, nf, at_one):
    """W_n(y) = sin((n + ½)θ)/sin(θ/2), θ = acos y; ``at_one`` where cos(θ/2) = 1."""
    xp = get_array_module(y)
    t = xp.arccos(y)
    w = xp.sin((nf + 0.5) * t) / xp.sin(t / 2)
    return xp.where(xp.cos(t / 2) != 1, w, at_one)


def chebyshev_v(x, n):
    """V_n(x): V_{k+1} = 2x·V_k − V_{k−1}, V_1 = 2x − 1; trigonometric for |x| < 1, n > 8."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 1, 1)
    c.put(c.x == -1, lambda x, n, nf: _parity(n, 2 * n + 1, -(2 * n + 1)))
    c.put((c.n > 8) & (xp.abs(c.x) < 1), _v_inside)
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x + x - 1)
    return c.recur(lambda x: x + x - 1, _chebyshev_step)


def chebyshev_w(x, n):
    """W_n(x): W_{k+1} = 2x·W_k − W_{k−1}, W_1 = 2x + 1; trigonometric for |x| < 1, n > 8."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 1, lambda x, n, nf: 2 * n + 1)
    c.put(c.x == -1, lambda x, n, nf: _parity(n, 1, -1))
    inside = (c.n > 8) & (xp.abs(c.x) < 1)
    c.put(inside, lambda x, n, nf: _w_inside(x, n, nf, xp.where(x > 0, 2 * n + 1,
                                                                  _parity(n, 1, -1))))  # fmt: skip
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x + x + 1)
    return c.recur(lambda x: x + x + 1, _chebyshev_step)


# The shifted polynomials p*_n(x) = p_n(2x − 1) on [0, 1], with torch's own end cases (x = 1,
# x = 0) and thresholds; y = 2x − 1 is formed in the input's dtype, as torch forms it.
def _shifted_step(j, y, p, q):
    return (y + y) * q - p


def shifted_chebyshev_t(x, n):
    """T*_n(x) = T_n(2x − 1)."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 1, 1)
    c.put(c.x == 0, lambda x, n, nf: _parity(n, 1, -1))
    y = c.x + c.x - 1
    c.put((c.n > 6) & (xp.abs(y) < 1), lambda x, n, nf: xp.cos(nf * xp.arccos(x + x - 1)))
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x + x - 1)
    return _recur_shifted(c, lambda y: y)


def _recur_shifted(c, first):
    c.x = c.x + c.x - 1  # the recurrence runs in y = 2x − 1
    return c.recur(first, _shifted_step)


def shifted_chebyshev_u(x, n):
    """U*_n(x) = U_n(2x − 1)."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 1, lambda x, n, nf: n + 1)
    c.put(c.x == 0, lambda x, n, nf: _parity(n, n + 1, -(n + 1)))
    y = c.x + c.x - 1
    c.put((c.n > 6) & (xp.abs(y) < 1), lambda x, n, nf: _u_inside(x + x - 1, n))
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: (x + x - 1) + (x + x - 1))
    return _recur_shifted(c, lambda y: y + y)


def shifted_chebyshev_v(x, n):
    """V*_n(x) = V_n(2x − 1)."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 1, 1)
    c.put(c.x == 0, lambda x, n, nf: _parity(n, 2 * n + 1, -(2 * n + 1)))
    y = c.x + c.x - 1
    c.put((c.n > 6) & (xp.abs(y) < 1), lambda x, n, nf: _v_inside(x + x - 1, n, nf))
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: (x + x - 1) + (x + x - 1) - 1)
    return _recur_shifted(c, lambda y: y + y - 1)


def shifted_chebyshev_w(x, n):
    """W*_n(x) = W_n(2x − 1) (torch's trigonometric form from n > 4 on)."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 1, lambda x, n, nf: 2 * n + 1)
    c.put(c.x == 0, lambda x, n, nf: _parity(n, 1, -1))
    y = c.x + c.x - 1
    c.put((c.n > 4) & (xp.abs(y) < 1),
          lambda x, n, nf: _w_inside(x + x - 1, n, nf, _parity(n, 1, -1)))  # fmt: skip
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: (x + x - 1) + (x + x - 1) + 1)
    return _recur_shifted(c, lambda y: y + y + 1)


def _hermite_limit(x) -> int:
    return 128 if x.dtype.itemsize <= 4 else 512


def hermite_h(x, n):
    """H_n(x), the physicists' Hermite polynomial: H_{k+1} = 2x·H_k − 2k·H_{k−1}, H_1 = 2x."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x + x)
    c.put(c.n > _hermite_limit(x), xp.nan)
    return c.recur(lambda x: x + x, lambda j, x, p, q: (x + x) * q - 2 * (j - 1) * p)


def hermite_he(x, n):
    """He_n(x), the probabilists' Hermite polynomial: He_{k+1} = x·He_k − k·He_{k−1}."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x)
    c.put(c.n > _hermite_limit(x), xp.nan)
    return c.recur(lambda x: x, lambda j, x, p, q: x * q - (j - 1) * p)


def laguerre_l(x, n):
    """L_n(x): (k + 1)·L_{k+1} = (2k + 1 − x)·L_k − k·L_{k−1}, L_1 = 1 − x; 1 at x = 0."""
    c = _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(c.x == 0, 1)
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: 1 - x)

    def step(j, x, p, q):
        k = j - 1
        return ((2 * k + (1 - x)) * q - k * p) / (k + 1)

    return c.recur(lambda x: 1 - x, step)


def legendre_p(x, n):
    """P_n(x): (k + 1)·P_{k+1} = (2k + 1)·x·P_k − k·P_{k−1}; ±1 at x = ±1."""
    xp, c = get_array_module(x), _Cases(x, n)
    c.put(c.n < 0, 0)
    c.put(xp.abs(c.x) == 1, lambda x, n, nf: xp.where((x > 0) | (n % 2 == 0), 1, -1))
    c.put(c.n == 0, 1)
    c.put(c.n == 1, lambda x, n, nf: x)

    def step(j, x, p, q):
        k = j - 1
        return ((2 * k + 1) * x * q - k * p) / (k + 1)

    return c.recur(lambda x: x, step)
