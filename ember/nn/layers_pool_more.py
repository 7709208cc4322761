"""Modules torch.nn has that ember lacked: FractionalMaxPool2d, FractionalMaxPool3d,
AdaptiveLogSoftmaxWithLoss; ``__all__`` lists them (ember.nn star-imports it).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

from ..backend import xp
from ..functional import cat, log_softmax
from ..functional import pool_extra as PE
from ..tensor import Tensor
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d", "AdaptiveLogSoftmaxWithLoss"]


def _ntuple(value, d: int):
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return tuple(value) * d if len(value) == 1 else tuple(value)
    return (value,) * d


class _FractionalMaxPool(Module):
    _d = 2

    def __init__(
        self,
        kernel_size,
        output_size=None,
        output_ratio=None,
        return_indices: bool = False,
        _random_samples=None,
    ):
        super().__init__()
        name, d = type(self).__name__, self._d
        self.kernel_size = _ntuple(kernel_size, d)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, d)
        self.output_ratio = _ntuple(output_ratio, d)
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{name} requires specifying either an output size, or a pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor):  # noqa: A002 - torch's argument name
        f = PE.fractional_max_pool2d if self._d == 2 else PE.fractional_max_pool3d
        return f(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPool):
    """Fractional max pooling over (H, W) (Graham 2014, arXiv:1412.6071): pseudo-random,
    overlapping-free window starts per plane, one sample u ∈ [0, 1) per dim:

        α   = (n_in − k) / (n_out − 1)
        b_i = ⌊(i + u)·α⌋ − ⌊u·α⌋   (i < n_out − 1),   b_{n_out−1} = n_in − k
        y[n, c, i, j] = max_{0≤p<k_H, 0≤q<k_W} x[n, c, b^H_i + p, b^W_j + q]

    (N, C, H, W) or (C, H, W) → (N, C, H_out, W_out), with H_out = ⌊H·r⌋ for ``output_ratio``
    r. u is drawn from ember's generator at each call, or fixed by ``_random_samples``
    (N, C, 2), ordered (width, height) as torch's; ``return_indices`` adds the flat H·W index
    of each maximum."""

    _d = 2


class FractionalMaxPool3d(_FractionalMaxPool):
    """Fractional max pooling over (T, H, W) (Graham 2014), the 2-D rule in every dim:

        b_i = ⌊(i + u)·α⌋ − ⌊u·α⌋,  α = (n_in − k) / (n_out − 1),  b_{n_out−1} = n_in − k
        y[n, c, t, i, j] = max_{p, q, r} x[n, c, b^T_t + p, b^H_i + q, b^W_j + r]

    (N, C, T, H, W) or (C, T, H, W) → (N, C, T_out, H_out, W_out); ``_random_samples``
    (N, C, 3) ordered (time, height, width); torch's size check n_out + k − 1 < n_in."""

    _d = 3


_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation (Grave et al. 2017, arXiv:1609.04309): frequent classes
    c < c₀ sit in a head with one extra logit per tail cluster; cluster i holds classes
    [c_i, c_{i+1}) behind a low-rank projection of width ⌊d / div_value^{i+1}⌋:

        h = log_softmax(W_head·x)                              (c₀ + n_clusters logits)
        log p(c | x) = h[c]                                    c < c₀
        log p(c | x) = h[c₀ + i] + log_softmax(W_i2·W_i1·x)[c − c_i]    c_i ≤ c < c_{i+1}
        loss = −(1/N) Σ_n log p(y_n | x_n)

    Storage as torch's: ``head`` Linear(d, c₀ + n_clusters, bias=head_bias), ``tail`` a
    ModuleList of Sequential(Linear(d, hsz, bias=False), Linear(hsz, osz, bias=False)), so a
    torch state_dict loads unchanged. ``forward(input (N, d) or (d,), target (N,) or ())``
    returns (output = log p(y | x), loss); ``log_prob`` (N, n_classes); ``predict`` (N,)."""

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Sequence[int],
        div_value: float = 4.0,
        head_bias: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an"
                " increasing order, where each value is between 1 and n_classes-1"
            )
        kw = dict(device=device, dtype=dtype)
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hsz, bias=False, **kw),
                    Linear(hsz, osz, bias=False, **kw),
                )
            )

    def reset_parameters(self) -> None:
        """The head and every tail projection re-initialised as torch's Linear."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError(
                    "Input and target should have the same size in the batch dimension."
                )
            if input_.ndim != 2:
                raise RuntimeError(
                    "1D target tensor expects 2D input tensors, but found inputs with size"
                    f" {tuple(input_.shape)}"
                )
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(
                    "0D target tensor expects 1D input tensors, but found inputs with size"
                    f" {tuple(input_.shape)}"
                )
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        x = input_ if batched else input_.unsqueeze(0)
        y = (target_ if batched else target_.unsqueeze(0)).array
        if y.size and (int(y.min()) < 0 or int(y.max()) >= self.n_classes):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range"
                f" [{int(y.min())}, {int(y.max())}] were found. "
            )
        c0 = self.shortlist_size
        # the head's column: the class itself in the shortlist, else its cluster's logit
        cluster = xp.searchsorted(xp.asarray(self.cutoffs), y, side="right")  # 0: shortlist
        head_col = xp.where(cluster == 0, y, c0 + cluster - 1).astype(xp.int64)
        h = log_softmax(self.head(x), dim=1)
        output = h.gather(1, Tensor(head_col[:, None])).squeeze(1)
        for i in range(1, len(self.cutoffs)):  # one pass per cluster, on its rows only
            rows = xp.nonzero(cluster == i)[0]
            if rows.size == 0:
                continue
            rows_t = Tensor(rows.astype(xp.int64))
            rel = (y[rows] - self.cutoffs[i - 1]).astype(xp.int64)
            local = log_softmax(self.tail[i - 1](x.index_select(0, rows_t)), dim=1)
            output = output.index_add(0, rows_t, local.gather(1, Tensor(rel[:, None])).squeeze(1))
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        h = log_softmax(head_output, dim=1)
        c0 = self.shortlist_size
        parts = [h[:, :c0]]
        for i in range(self.n_clusters):
            parts.append(log_softmax(self.tail[i](x), dim=1) + h[:, c0 + i : c0 + i + 1])
        return cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:  # noqa: A002 - torch's argument name
        """log p(c | x) for every class c: (N, in_features) → (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:  # noqa: A002
        """argmax_c log p(c | x): (N, in_features) → (N,); the tails run only on rows whose
        head argmax is a cluster logit."""
        head_output = self.head(input)
        out = head_output.array.argmax(axis=1)
        outside = out >= self.shortlist_size
        if outside.any():
            rows = Tensor(xp.nonzero(outside)[0].astype(xp.int64))
            lp = self._get_full_log_prob(
                input.index_select(0, rows), head_output.index_select(0, rows)
            )
            out[outside] = lp.array.argmax(axis=1)
        return Tensor(out.astype(xp.int64))
