"""Every callable that ember shares with torch, swept against torch with simple arguments.

For each Tensor method and each function of ember / ember.functional / ember.linalg /
ember.special / ember.fft that torch has under the same name, the argument lists of ``ARGS``
are tried in turn on four inputs (float64, float32, int64, float64 requiring grad), then those of
``tensor_args`` (a second tensor, for the binary ops); the first list that either framework
takes is compared:
- where torch computes a result, ember must too (ember taking arguments torch refuses is
  allowed: it goes further);
- the results' dtypes, shapes, requires_grad and values must agree (float32 to 1e-5, float64 to
  1e-9), tuple by tuple;
- for the input requiring grad, the gradient of the result's sum must agree.
The differences known and accepted are in ``KNOWN``, each with its reason. This sweep found
x / 0 raising ZeroDivisionError, the int paths of linalg.matrix_power and linalg.matmul,
adaptive_avg_pool's output size 0 and F.linear's weight vector.
tests/test_results_new_memory.py sweeps which results share memory.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.functional as EF

ARGS = [(), (0,), (1,), (-1,), (0, 1), ((0,),), (2,), (0.5,)]


def tensor_args(lib, kind, shape):
    """Argument lists with a second tensor (for the binary ops), of the input's kind: one of
    its shape, a row that broadcasts, a positive one, and with a scalar or a third tensor."""
    rng = np.random.default_rng(5)
    other, row = rng.standard_normal(shape), rng.standard_normal(shape[-1:])
    positive = np.abs(rng.standard_normal(shape)) + 0.5
    if kind == "i64":

        def make(a):
            return lib.tensor(np.round(a * 3).astype(np.int64))
    else:
        dtype = lib.float32 if kind == "f32" else lib.float64

        def make(a):
            return lib.tensor(a, dtype=dtype)

    other = make(other)
    return [(other,), (make(row),), (make(positive),), (other, 0.5), (other, make(positive))]


#: not functions of their input's values: random draws, global settings, IO, memory addresses,
#: context managers, and in-place forms (swept by tests/test_inplace_*.py)
SKIP = {
    "alpha_dropout", "bernoulli", "compile", "const_data_ptr", "cpu", "cuda", "data_ptr", "device",
    "dim_order", "dropout", "dropout1d", "dropout2d", "dropout3d", "element_size", "empty",
    "empty_like", "empty_strided", "enable_grad", "feature_alpha_dropout", "fork_rng",
    "get_device", "get_rng_state", "gumbel_softmax", "inference_mode", "initial_seed",
    "is_pinned", "is_shared", "itemsize", "load", "manual_seed", "multinomial", "nbytes",
    "new_empty", "new_empty_strided", "no_grad", "normal", "numpy", "pin_memory", "poisson",
    "rand", "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm", "rrelu",
    "binomial",
    "save", "seed", "set_default_device", "set_default_dtype", "set_flush_denormal",
    "set_grad_enabled", "set_num_threads", "set_printoptions", "set_rng_state", "storage",
    "storage_offset", "to", "tolist", "type", "untyped_storage", "use_deterministic_algorithms",
}  # fmt: skip

#: (where, name) → why ember differs from torch there, accepted
KNOWN = {
    ("top", "Tensor"): "torch.Tensor(t) of a tensor requiring grad keeps requires_grad",
    ("special", "Tensor"): "the same class, seen from torch.special",
    ("fft", "Tensor"): "the same class, seen from torch.fft",
    ("top", "detach_copy"): "torch's detach_copy result requires grad (ember's is detached)",
    ("top", "histogramdd"): "torch marks the histogram of an input requiring grad as such",
    ("method", "unique_consecutive"): "torch marks unique's values as requiring grad",
    ("top", "unique_consecutive"): "the same",
    ("linalg", "slogdet"): "torch marks slogdet's sign as requiring grad",
    ("top", "pca_lowrank"): "random projections: signs and bases differ",
    ("top", "svd_lowrank"): "random projections: signs differ",
    ("linalg", "eigh"): "eigenvectors are defined up to sign (LAPACK drivers differ)",
    ("method", "histogram"): "torch marks the histogram of an input requiring grad as such",
    ("top", "histogram"): "the same",
    ("method", "unique"): "torch marks unique's values as requiring grad",
    ("top", "unique"): "the same",
    ("method", "retain_grad"): "ember returns the tensor (torch returns None)",
    ("method", "bfloat16"): "NumPy has no bfloat16 (the ml_dtypes package would add one)",
    ("method", "chalf"): "NumPy has no complex32",
    ("special", "airy_ai"): "torch's Ai is off by up to 1e-4 relative below x = -2; ember gives"
    " SciPy's value (Ai(-2.3250) = 0.0091688693, torch 0.0091695898)",
    ("method", "sgn"): "torch's gradient of sgn is a ZeroTensor that cannot be read",
    ("top", "sgn"): "the same",
    ("method", "floor_divide"): "torch has no derivative for floor_divide (ember's is zero)",
    ("top", "floor_divide"): "the same",
    ("method", "geqrf"): "torch has no derivative for geqrf",
    ("top", "geqrf"): "the same",
    ("linalg", "ldl_factor"): "torch has no derivative for ldl_factor",
    ("linalg", "ldl_factor_ex"): "the same",
    ("special", "zeta"): "torch has no derivative for zeta",
    ("top_1d", "vander"): "torch's vander cannot differentiate a 1-D input (a version error)",
    ("F", "native_channel_shuffle"): "torch has no derivative for native_channel_shuffle",
    ("F", "fractional_max_pool2d"): "kernel 0 with output size 1 is refused",
    ("F", "fractional_max_pool2d_with_indices"): "the same",
    ("F", "fractional_max_pool3d"): "the same",
    ("F", "fractional_max_pool3d_with_indices"): "the same",
    ("F", "multilabel_soft_margin_loss"): "a scalar target is refused (torch broadcasts it)",
    ("method", "igamma"): "torch has no derivative for igamma's first argument",
    ("top", "igamma"): "the same",
    ("method", "igammac"): "the same for igammac",
    ("top", "igammac"): "the same",
    ("top", "searchsorted"): "an unsorted sequence (outside searchsorted's domain)",
    ("top", "hinge_embedding_loss"): "an integer input gives a float loss (torch: integer)",
    ("F", "gaussian_nll_loss"): "an integer input gives a float loss (torch: integer)",
    ("special", "gammainc"): "torch has no derivative for gammainc's first argument",
    ("special", "gammaincc"): "the same for gammaincc",
    ("linalg", "lstsq"): "torch marks the (empty) residuals as requiring grad",
}


def _inputs(lib, kind, base):
    if kind == "i64":
        return lib.tensor(np.arange(base.size).reshape(base.shape) - 5)
    dtype = lib.float32 if kind == "f32" else lib.float64
    return lib.tensor(base.copy(), dtype=dtype, requires_grad=kind == "f64g")


def _describe(y, lib):
    if isinstance(y, (tuple, list)):
        return tuple(_describe(v, lib) for v in y[:3])
    if isinstance(y, lib.Tensor):
        dtype = str(y.dtype).rsplit(".", 1)[-1]
        values = y.detach().resolve_conj().resolve_neg().numpy()  # torch: fft outputs are lazy conj
        return ("T", dtype, tuple(y.shape), values, bool(y.requires_grad))
    if isinstance(y, (bool, int, float)):
        return ("S", type(y).__name__, y)
    return ("O",)


def _same(a, b) -> bool:
    if type(a) is not type(b) or len(a) != len(b):
        return False
    tag = a[0] if a and isinstance(a[0], str) else None
    if tag != (b[0] if b and isinstance(b[0], str) else None):
        return False
    if tag == "T":
        if a[1:3] != b[1:3] or a[4] != b[4]:
            return False
        if a[3].dtype.kind not in "fc":
            return np.array_equal(a[3], b[3])
        tol = 1e-5 if a[1] in ("float32", "complex64") else 1e-9
        return np.allclose(a[3], b[3], rtol=tol, atol=tol, equal_nan=True)
    if tag == "S":
        if a[1] != b[1]:
            return False
        both_nan = isinstance(a[2], float) and math.isnan(a[2]) and math.isnan(b[2])
        return a[2] == b[2] or both_nan or math.isclose(a[2], b[2], rel_tol=1e-6)
    if tag == "O":
        return True
    return all(_same(x, y) for x, y in zip(a, b))


def _gradients_agree(torch, ye, yt, xe, xt) -> bool:
    if isinstance(ye, (tuple, list)):
        if not ye:  # an empty tuple (the shape of a 0-d tensor)
            return True
        ye, yt = ye[0], yt[0]
    if not (isinstance(ye, ember.Tensor) and ye.requires_grad and ye.numel()):
        return True
    try:  # a complex result through |y|: torch takes gradients of real scalars only
        le, lt = (ye.abs(), yt.abs()) if yt.is_complex() else (ye, yt)
        ge = ember.autograd.grad(le.sum(), xe, allow_unused=True)[0]
        gt = torch.autograd.grad(lt.sum(), xt, allow_unused=True)[0]
        ge, gt = (None if g is None else g.numpy() for g in (ge, gt))
    except Exception:  # noqa: BLE001 - a derivative one of them does not have
        return False
    if ge is None or gt is None:
        return ge is None and gt is None
    return np.allclose(ge, gt, rtol=1e-7, atol=1e-9, equal_nan=True)


def _sweep(torch, where, names, get, base):
    """(how many names were compared, the differences found: (where, name, why))."""
    compared, differ = 0, []
    for name in names:
        for kind in ("f64", "f32", "i64", "f64g"):
            lists = {lib: ARGS + tensor_args(lib, kind, base.shape) for lib in (ember, torch)}
            for i, args in enumerate(lists[ember]):
                results = []
                for lib in (ember, torch):
                    x = _inputs(lib, kind, base)
                    try:
                        with np.errstate(all="ignore"):
                            results.append((get(lib, name)(x, *lists[lib][i]), x))
                    except Exception:  # noqa: BLE001 - these arguments do not fit
                        results.append(None)
                if results == [None, None]:
                    continue
                compared += 1
                if results[1] is None:
                    break  # ember takes what torch refuses: it goes further
                if results[0] is None:
                    differ.append((where, name, f"ember raises for {kind} {args}"))
                    break
                (ye, xe), (yt, xt) = results
                if not _same(_describe(ye, ember), _describe(yt, torch)):
                    differ.append((where, name, f"results differ for {kind} {args}"))
                elif kind == "f64g" and not _gradients_agree(torch, ye, yt, xe, xt):
                    differ.append((where, name, f"gradients differ for {args}"))
                break
    return compared, differ


#: global settings (set_default_tensor_type(t) would change the process's default dtype)
SKIP_PREFIXES = ("set_", "use_", "enable_", "disable_", "register_", "autocast")


def _shared(a, b):
    return sorted(
        n for n in set(dir(a)) & set(dir(b))
        if not n.startswith(("_", *SKIP_PREFIXES)) and not n.endswith("_") and n not in SKIP
        and callable(getattr(a, n)) and callable(getattr(b, n))
    )  # fmt: skip


SWEEPS = {  # where → (ember's namespace, torch's, an input, the fewest names compared)
    "method": (lambda: ember.Tensor, lambda t: t.Tensor, (3, 4), 150),
    "top": (lambda: ember, lambda t: t, (3, 4), 200),
    "F": (lambda: EF, lambda t: t.nn.functional, (2, 3, 4, 4), 60),
    "linalg": (lambda: ember.linalg, lambda t: t.linalg, (4, 4), 25),
    "special": (lambda: ember.special, lambda t: t.special, (4, 4), 40),
    "fft": (lambda: ember.fft, lambda t: t.fft, (4, 6), 60),
    "method_1d": (lambda: ember.Tensor, lambda t: t.Tensor, (5,), 150),
    "top_1d": (lambda: ember, lambda t: t, (5,), 200),
}


def _run(torch, where, names=None):
    ours, theirs, shape, _ = SWEEPS[where]
    mods = {ember: ours(), torch: theirs(torch)}
    base = np.random.default_rng(0).standard_normal(shape)
    if where == "linalg":
        base = base + 4 * np.eye(shape[-1])  # well conditioned

    def get(lib, name):
        return getattr(mods[lib], name)

    if names is None:
        names = _shared(mods[ember], mods[torch])
    return _sweep(torch, where, names, get, base)


def _known(where: str, name: str) -> bool:
    """Accepted in this sweep, or in the 2-D sweep of the same names (for the 1-D ones)."""
    return (where, name) in KNOWN or (where.removesuffix("_1d"), name) in KNOWN


@pytest.mark.parametrize("where", sorted(SWEEPS))
def test_the_shared_surface_computes_what_torch_computes(torch, where):
    compared, differ = _run(torch, where)
    assert compared >= SWEEPS[where][3], f"only {compared} names compared"
    unknown = [d for d in differ if not _known(*d[:2])]
    assert not unknown, "\n".join(map(str, unknown))


@pytest.mark.parametrize("where", sorted(SWEEPS))
def test_each_known_difference_is_still_one(torch, where):
    """An entry of KNOWN that the sweep no longer finds should go."""
    names = [n for w, n in KNOWN if w == where]
    _, differ = _run(torch, where, names)
    assert sorted({d[1] for d in differ}) == sorted(names)
