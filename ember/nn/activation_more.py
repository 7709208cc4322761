"""torch's other activation and distance modules: the functions of
ember.functional.activation_more with a Module face, torch's constructor arguments and repr.

``inplace=True``, where torch takes it (and shown in the repr as torch shows it), makes the
input itself the result, as torch's.
"""

from __future__ import annotations

import warnings

from .. import backend
from ..backend import xp
from ..errors import InputAssertionError, InputError
from ..functional import activation_more as A
from .module import Module, Parameter


def _with_inplace(s: str, inplace: bool) -> str:
    """``s`` with ", inplace=True" added when set, as torch's reprs show it."""
    return ", ".join(part for part in (s, "inplace=True" if inplace else "") if part)


class _Inplace(Module):
    """An activation whose one argument is ``inplace`` (ReLU, SiLU, SELU, …)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return _with_inplace("", self.inplace)


class SELU(_Inplace):
    """SELU(x) = λ·(x if x > 0 else α·(eˣ − 1)), α ≈ 1.6733, λ ≈ 1.0507"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.selu(x, self.inplace)


class Mish(_Inplace):
    """Mish(x) = x·tanh(Softplus(x))"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.mish(x, self.inplace)


class Hardsigmoid(_Inplace):
    """Hardsigmoid(x) = min(max(x + 3, 0), 6) / 6"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.hardsigmoid(x, self.inplace)

    def extra_repr(self):
        return ""  # torch's repr of this one leaves inplace out


class Hardswish(_Inplace):
    """Hardswish(x) = x·min(max(x + 3, 0), 6) / 6"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.hardswish(x, self.inplace)

    def extra_repr(self):
        return ""  # torch's repr of this one leaves inplace out


class _Alpha(Module):
    """What ELU and CELU share (torch derives neither from the other)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self):
        return _with_inplace(f"alpha={self.alpha}", self.inplace)


class ELU(_Alpha):
    """ELU(x) = x if x > 0 else α·(eˣ − 1)"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.elu(x, self.alpha, self.inplace)


class CELU(_Alpha):
    """CELU(x) = x if x > 0 else α·(e^{x/α} − 1)"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.celu(x, self.alpha, self.inplace)


class Softplus(Module):
    """Softplus(x) = log(1 + e^{βx}) / β, x where βx > threshold"""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):  # noqa: A002
        x = input
        return A.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """Softsign(x) = x / (1 + |x|)"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.softsign(x)


class Tanhshrink(Module):
    """Tanhshrink(x) = x − tanh(x)"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.tanhshrink(x)


class LogSigmoid(Module):
    """LogSigmoid(x) = log σ(x) = −Softplus(−x)"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.logsigmoid(x)


class _Shrink(Module):
    """What Hardshrink and Softshrink share (torch derives neither from the other)."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    """Hardshrink(x) = x if |x| > λ else 0"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.hardshrink(x, self.lambd)


class Softshrink(_Shrink):
    """Softshrink(x) = x − λ if x > λ, x + λ if x < −λ, else 0"""

    def forward(self, input):  # noqa: A002
        x = input
        return A.softshrink(x, self.lambd)


class Hardtanh(Module):
    """Hardtanh(x) = min(max(x, min_val), max_val)

    ``min_value`` and ``max_value`` are torch's deprecated names of min_val and max_val: given,
    they replace them, with torch's FutureWarning."""

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ):
        super().__init__()
        if min_value is not None:
            warnings.warn(
                "keyword argument `min_value` is deprecated and renamed to `min_val`",
                FutureWarning,
                stacklevel=2,
            )
            min_val = min_value
        if max_value is not None:
            warnings.warn(
                "keyword argument `max_value` is deprecated and renamed to `max_val`",
                FutureWarning,
                stacklevel=2,
            )
            max_val = max_value
        if max_val <= min_val:  # torch asserts it
            raise InputAssertionError(
                f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):  # noqa: A002
        x = input
        return A.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return _with_inplace(f"min_val={self.min_val}, max_val={self.max_val}", self.inplace)


class ReLU6(Hardtanh):
    """ReLU6(x) = min(max(0, x), 6): a Hardtanh from 0 to 6, as torch's"""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input):  # noqa: A002
        x = input
        return A.relu6(x, self.inplace)

    def extra_repr(self):
        return _with_inplace("", self.inplace)


class Threshold(Module):
    """Threshold(x) = x if x > threshold else value"""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):  # noqa: A002
        x = input
        return A.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return _with_inplace(f"threshold={self.threshold}, value={self.value}", self.inplace)


class GLU(Module):
    """GLU(a, b) = a ⊗ σ(b), the input halved along ``dim``"""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        x = input
        return A.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """Softmin(x)_i = e^{−x_i} / Σ_j e^{−x_j} along ``dim``"""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        x = input
        return A.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """PReLU(x) = x if x > 0 else a·x, a learned

    ``weight`` (num_parameters,): one slope shared by every channel (num_parameters=1) or one
    per channel (dim 1 of the input), all starting at ``init``; stored as torch stores it, so a
    torch state_dict loads unchanged. (He et al. 2015.)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        backend.check_device(device)
        self.num_parameters, self.init = num_parameters, init
        if num_parameters < 0:  # torch's RuntimeError (NumPy's ValueError before)
            raise InputError(f"PReLU: num_parameters must not be negative, got {num_parameters}")
        self.weight = Parameter(xp.full(num_parameters, init, dtype=dtype or backend.DEFAULT_DTYPE))

    def reset_parameters(self) -> None:
        self.weight.array[...] = self.init

    def forward(self, input):  # noqa: A002
        x = input
        return A.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class CosineSimilarity(Module):
    """cos(x₁, x₂) = Σ (x₁ / max(‖x₁‖, ε)) ⊗ (x₂ / max(‖x₂‖, ε)) along ``dim``"""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return A.cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self):
        return ""  # torch's repr shows no fields


class PairwiseDistance(Module):
    """d(x₁, x₂) = ‖x₁ − x₂ + ε‖_p over the last dimension"""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return A.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self):
        return ""  # torch's repr shows no fields
