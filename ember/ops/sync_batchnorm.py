"""Synchronised batch normalisation: the statistics are those of the union of every rank's
batch (torch.nn.SyncBatchNorm), forward and backward by hand.

Rank r holds x_r (N_r, C, ...) with M_r = N_r·(pixels) positions per channel; M = Σ_r M_r.
Forward, per channel, each rank first on its own rows (local_moments says how float32
keeps both accurate):

    μ_r  = (1/M_r) Σ_i x_i                     this rank's mean
    m2_r = Σ_i (x_i − μ_r)²                     its sum of squared deviations

then one exchange of (M_r, μ_r, m2_r) per channel (float64, rank order), and on every rank
the same arithmetic on the same numbers (Chan, Golub & LeVeque 1979, pairwise combination):

    μ   = Σ_r M_r·μ_r / M
    σ²  = (Σ_r m2_r + Σ_r M_r·(μ_r − μ)²) / M           biased: it normalises
    x̂_i = (x_i − μ) / √(σ² + ε),   y_i = γ·x̂_i + β
    running_var takes the unbiased (Σ_r m2_r + Σ_r M_r·(μ_r − μ)²) / (M − 1)

Why this and not Σx²/M − μ²: that difference cancels, and in float32 its error relative to
σ² is about 6e-8·μ²/σ² (all digits gone at |μ| ≈ 4000·σ); every term above is a sum of
non-negative numbers, each accurate to a few ulps, so σ² is too, whatever |μ|/σ.
torch's batch_norm_gather_stats_with_counts combines the same per-rank (count, mean,
variance) by Chan's sequential update; it sends 1/√(σ_r² + ε) and recovers σ_r² from it,
which loses digits when σ_r² ≪ ε, so the two agree to rounding, not to the bit.

Backward, with sums over every rank's positions (Σ_all), one all_reduce of the two:

    ∂L/∂x_i = γ / √(σ² + ε) · (∂L/∂y_i − Σ_all ∂L/∂y / M − x̂_i · Σ_all ∂L/∂y·x̂ / M)

∂L/∂γ = Σ_i ∂L/∂y_i·x̂_i and ∂L/∂β = Σ_i ∂L/∂y_i stay this rank's sums, as torch's: the
data-parallel wrapper averages parameter gradients itself. The exchange is skipped when
x needs no gradient (torch does the same), which every rank decides alike.

Ioffe & Szegedy 2015, "Batch Normalization"; Peng et al. 2018, "MegDet" (cross-GPU BN).
"""

from __future__ import annotations

from ..backend import get_array_module, vecdot
from .batchnorm import BatchNorm, channel_rows


def local_moments(x):
    """(C, 3) float64 rows (M_r, μ_r, m2_r) of x (N, C, ...); zeros for an empty x.

    The corrected two-pass form (Chan, Golub & LeVeque 1983): with μ̃ the mean in x's dtype
    and d = x − μ̃, μ_r = μ̃ + Σd/M_r and m2_r = Σd² − (Σd)²/M_r. In float32, μ̃ is off by
    about ulp(μ), and that error would enter Σ_r M_r·(μ_r − μ)² to first order; Σd (float64)
    takes it out, leaving σ²'s relative error a few ulps whatever |μ|/σ.
    """
    xp = get_array_module(x)
    c = x.shape[1]
    m = x.size // c if c else 0
    out = xp.zeros((c, 3), xp.float64)
    out[:, 0] = m
    if m:
        X = channel_rows(x)  # (C, M_r), sums along contiguous rows as BatchNorm's
        mu_t = X.sum(axis=1) / m
        d = X - mu_t[:, None]
        s1 = d.sum(axis=1, dtype=xp.float64)
        out[:, 1] = mu_t + s1 / m
        out[:, 2] = xp.maximum(vecdot(d, d) - s1 * s1 / m, 0.0)
    return out


def combine_moments(rows):
    """(μ, m2, M) from the ranks' (W, C, 3) rows: the pairwise formulas of the docstring."""
    counts, mus, m2s = rows[..., 0], rows[..., 1], rows[..., 2]
    m = counts[:, 0].sum()
    mu = (counts * mus).sum(axis=0) / m
    m2 = m2s.sum(axis=0) + (counts * (mus - mu) ** 2).sum(axis=0)
    return mu, m2, float(m)


class SyncBatchNorm(BatchNorm):
    """Outputs (y, μ, σ²_unbiased): the global statistics, the same bits on every rank, for the
    running averages (they take no gradient).

    Inputs: x (N, C, ...), γ (C,) or None, β (C,) or None. Constants: ``eps``, and ``comm``,
    the two messages: ``comm.gather(a)`` returns every rank's (C, 3) array a stacked in rank
    order (W, C, 3), ``comm.all_reduce(a)`` sums a over the ranks in place.

    Normalising reuses BatchNorm's forward with the global μ, σ² standing in as constants,
    so X − μ and 1/√(σ² + ε) are kept for the backward exactly as there.
    """

    def forward(self, x, gamma=None, beta=None, *, eps=1e-5, comm=None):  # type: ignore[override]
        dt = x.dtype
        mu, m2, m = combine_moments(comm.gather(local_moments(x)))
        if m <= 1:
            raise ValueError(
                "SyncBatchNorm: expected more than 1 value per channel when training, got"
                f" {m:g} over all ranks (this rank's input has shape {x.shape})"
            )
        y, _, _ = super().forward(x, gamma, beta, mu.astype(dt), (m2 / m).astype(dt),
                                  use_batch_stats=False, eps=eps)  # fmt: skip
        self.total, self.comm = m, comm
        return y, mu, m2 / (m - 1)

    def backward(self, gy, g_mu=None, g_var=None):
        if g_mu is not None or g_var is not None:
            raise RuntimeError("sync_batch_norm: the batch statistics it returns carry no gradient")
        xp = get_array_module(gy)
        x_c, rstd, gamma, m = self.x_c, self.rstd, self.gamma, self.total
        need_x, need_g, need_b = self.needs_input_grad[:3]
        c = x_c.shape[0]
        G = channel_rows(gy) if gy.size else xp.zeros((c, 0), gy.dtype)  # ∂L/∂y as (C, M_r)
        g_beta = G.sum(axis=1)  # this rank's Σ ∂L/∂y
        g_gamma = vecdot(G, x_c) * rstd  # this rank's Σ ∂L/∂y · x̂
        gx = None
        if need_x:
            sums = xp.concatenate([g_beta, g_gamma])
            self.comm.all_reduce(sums)  # one message: Σ_all ∂L/∂y, Σ_all ∂L/∂y·x̂
            s_b, s_g = sums[:c], sums[c:]
            scale = rstd if gamma is None else rstd * gamma
            gx = x_c * (-rstd * s_g / m)[:, None]  # − x̂ · Σ_all ∂L/∂y·x̂ / M
            gx += G
            gx -= (s_b / m)[:, None]
            gx *= scale[:, None]
            gx = gx.reshape((gy.shape[1], gy.shape[0]) + gy.shape[2:]).swapaxes(0, 1)
        return gx, g_gamma if need_g else None, g_beta if need_b else None
