"""torch's older, hook-based weight and spectral norm (torch.nn.utils.weight_norm and
torch.nn.utils.spectral_norm), as code such as temporal convolutional networks and vocoders
still calls them; ``nn.utils.parametrizations`` holds the newer form.

Weight norm:    w = g · v / ‖v‖   (‖v‖ over every dim but ``dim``)
                parameters ``weight_g`` and ``weight_v`` replace ``weight``
Spectral norm:  v ← normalise(Wᵀ·u),  u ← normalise(W·v)   (each training forward)
                w = W / σ,  σ = uᵀ·W·v
                parameter ``weight_orig``, buffers ``weight_u`` and ``weight_v``

Before every forward a pre-hook recomputes ``module.weight`` from them, so the gradient
reaches g and v (or W through σ, with u and v held fixed). The recomputed weight is a plain
attribute, not a parameter or buffer, as in torch: state_dict names are torch's.
"""

from __future__ import annotations

from ...backend import generator_or_default, xp
from ...function import no_grad
from ...tensor import Tensor
from ..module import Module, Parameter
from .parametrizations import _norm_except_dim, divide_by_sigma, normalise, weight_matrix


def _computed(module: Module, name: str) -> None:
    """Mark module.<name> as recomputed each forward: neither a parameter nor a buffer."""
    module._computed_tensors = module._computed_tensors | {name}


def _hooks(module: Module) -> dict:
    if "_norm_hooks" not in module.__dict__:
        module._norm_hooks = {}
    return module._norm_hooks


class WeightNorm:
    """The pre-hook of ``weight_norm``: w = g·v/‖v‖ before every forward."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparameterise ``module.<name>`` as g·v/‖v‖ (Salimans & Kingma 2016), torch's old API."""
    if name in _hooks(module):
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = module.__dict__.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    if dim is not None and not -max(weight.ndim, 1) <= dim < max(weight.ndim, 1):
        raise IndexError(  # torch's (ember wrapped it round)
            f"weight_norm: dim {dim} is out of range for a weight of {weight.ndim} dimensions"
        )
    fn = WeightNorm(name, dim)
    del module.__dict__[name]
    with no_grad():
        g = _norm_except_dim(weight, fn.dim)
    module.register_parameter(name + "_g", Parameter(xp.array(g.array)))
    module.register_parameter(name + "_v", Parameter(xp.array(weight.array)))
    _computed(module, name)
    setattr(module, name, fn.compute_weight(module))
    _hooks(module)[name] = (fn, module.register_forward_pre_hook(fn))
    return module


class SpectralNorm:
    """The pre-hook of ``spectral_norm``: w = W/σ(W) before every forward, with one power
    iteration (v first, then u, as torch's old form) in training mode."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got"
                f" n_power_iterations={n_power_iterations}"
            )
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        W = getattr(module, self.name + "_orig")
        u_buf, v_buf = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if do_power_iteration:
            m = weight_matrix(W.array, self.dim)
            u, v = u_buf.array, v_buf.array
            for _ in range(self.n):
                v = normalise(m.T @ u, self.eps)
                u = normalise(m @ v, self.eps)
            u_buf.array[...], v_buf.array[...] = u, v
        return divide_by_sigma(W, self.dim, u_buf.array, v_buf.array)

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Divide ``module.<name>`` by its largest singular value (Miyato et al. 2018), torch's
    old API; dim defaults to 1 for transposed convolutions, 0 otherwise."""
    if name in _hooks(module):
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    weight = module.__dict__.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    m = weight_matrix(weight.array, dim)
    gen = generator_or_default(None)
    u = normalise(gen.standard_normal((m.shape[0],), m.dtype), eps)
    v = normalise(gen.standard_normal((m.shape[1],), m.dtype), eps)
    del module.__dict__[name]
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", Tensor(u))
    module.register_buffer(name + "_v", Tensor(v))
    _computed(module, name)
    setattr(module, name, Tensor(weight.array))  # as torch: the raw weight until a forward
    _hooks(module)[name] = (fn, module.register_forward_pre_hook(fn))
    return module


def _remove(module: Module, name: str, kind: type, what: str) -> Module:
    entry = _hooks(module).get(name)
    if entry is None or not isinstance(entry[0], kind):
        raise ValueError(f"{what} of '{name}' not found in {type(module).__name__}")
    fn, handle = entry
    with no_grad():
        if kind is WeightNorm:
            w = fn.compute_weight(module)
            extra = [name + "_g", name + "_v"]
        else:
            w = fn.compute_weight(module, do_power_iteration=False)
            extra = [name + "_orig", name + "_u", name + "_v"]
    handle.remove()
    del _hooks(module)[name]
    for k in extra:
        del module.__dict__[k]
    module._computed_tensors = module._computed_tensors - {name}
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(xp.array(w.array)))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold g·v/‖v‖ back into one ``weight`` parameter."""
    return _remove(module, name, WeightNorm, "weight_norm")


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Fold W/σ back into one ``weight`` parameter."""
    return _remove(module, name, SpectralNorm, "spectral_norm")
