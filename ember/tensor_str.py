"""How a tensor prints: torch's layout, digit for digit, so that ember's output and a PyTorch
tutorial's can be compared by eye.

torch's rules (torch/_tensor_str.py): floats with 4 digits after the point; scientific notation
when the nonzero finite magnitudes span more than 1000×, exceed 1e8, or go below
1e-4; floats that are all whole numbers print as ``1.``; every element padded to the widest;
tensors of more than 1000 elements summarised by their first and last 3 rows at every level;
lines wrapped at 80 columns; ``dtype=`` only for dtypes other than the default float, int64 and
bool. ``set_printoptions`` changes these for the process (ember's own options: NumPy's are left
alone). Formatting runs on the host, in Python, over at most ~1000 elements.
"""

from __future__ import annotations

import math

from . import backend

PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
#: The current print options (``ember.set_printoptions``).
PRINT_OPTS = {**PROFILES["default"], "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:  # fmt: skip
    """torch.set_printoptions: digits after the point, how many elements before a tensor is
    summarised, how many at each end of a summary, the line width, a profile ("default",
    "short", "full") and scientific notation (True, False, or None: as suits the values; as in
    torch, every call sets it)."""
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
        PRINT_OPTS.update(PROFILES[profile])
    given = dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    PRINT_OPTS.update({k: v for k, v in given.items() if v is not None})
    PRINT_OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options, as a dict (torch._tensor_str.get_printoptions)."""
    return dict(PRINT_OPTS)


class _Formatter:
    """One width and one notation for all the values a tensor prints."""

    def __init__(self, values, floating: bool):
        np = backend.numpy
        self.floating, self.int_mode, self.sci_mode, self.max_width = floating, True, False, 1
        p = PRINT_OPTS["precision"]
        flat = values.reshape(-1)
        if not floating:
            self.max_width = max([len(str(v)) for v in flat.tolist()], default=1)
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return  # torch: nothing to size by, and the sci_mode option is not consulted
        lo, hi = float(np.abs(finite).min()), float(np.abs(finite).max())
        vals = finite.tolist()
        self.int_mode = bool((finite == np.ceil(finite)).all())
        self.sci_mode = PRINT_OPTS["sci_mode"]
        if self.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        if self.sci_mode:
            widths = [len(f"{v:.{p}e}") for v in vals]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in vals]  # the "." that says float
        else:
            widths = [len(f"{v:.{p}f}") for v in vals]
        self.max_width = max(self.max_width, *widths)

    def format(self, value) -> str:
        p = PRINT_OPTS["precision"]
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{p}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{p}f}"
        return (self.max_width - len(text)) * " " + text


def _join_complex(real: str, imag: str) -> str:
    imag = (imag + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _vector(a, indent: int, summarize: bool, f1: _Formatter, f2: _Formatter | None) -> str:
    edge = PRINT_OPTS["edgeitems"]
    width = f1.max_width + 2 + (f2.max_width + 1 if f2 is not None else 0)
    per_line = max(1, int((PRINT_OPTS["linewidth"] - indent) // width))

    def fmt(values):
        if f2 is None:
            return [f1.format(v) for v in values.tolist()]
        return [
            _join_complex(f1.format(r), f2.format(i))
            for r, i in zip(values.real.tolist(), values.imag.tolist())
        ]

    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = fmt(a[:edge]) + [" ..."] + fmt(a[-edge:])
    else:
        data = fmt(a)
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent: int, summarize: bool, f1: _Formatter, f2: _Formatter | None) -> str:
    if a.ndim == 0:
        if f2 is None:
            return f1.format(a.item())
        return _join_complex(f1.format(a.real.item()), f2.format(a.imag.item()))
    if a.ndim == 1:
        return _vector(a, indent, summarize, f1, f2)
    edge = PRINT_OPTS["edgeitems"]
    n = a.shape[0]
    if summarize and n > 2 * edge:  # (a[-0:] would be every row)
        rows = [_nested(r, indent + 1, summarize, f1, f2) for r in a[:edge]]
        rows += ["..."] + [_nested(r, indent + 1, summarize, f1, f2) for r in a[n - edge :]]
    else:
        rows = [_nested(r, indent + 1, summarize, f1, f2) for r in a]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _summarized(a):
    """The elements a summary shows (torch's get_summarized_data), for sizing the format."""
    np, edge = backend.numpy, PRINT_OPTS["edgeitems"]
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:edge], a[-edge:]]) if a.shape[0] > 2 * edge else a
    if not edge:
        return a[:0]
    rows = list(a[:edge]) + list(a[-edge:]) if a.shape[0] > 2 * edge else list(a)
    return np.stack([_summarized(r) for r in rows])


def tensor_body(a, indent: int) -> str:
    """The bracketed values of host array ``a`` as torch prints them, ``indent`` columns in."""
    np = backend.numpy
    summarize = a.size > PRINT_OPTS["threshold"]
    if a.dtype == np.float16 or a.dtype.name == "bfloat16":
        a = a.astype(np.float32)
    shown = _summarized(a) if summarize else a
    if np.iscomplexobj(a):
        f1, f2 = _Formatter(shown.real, True), _Formatter(shown.imag, True)
    else:
        f1, f2 = _Formatter(shown, np.issubdtype(a.dtype, np.floating)), None
    return _nested(a, indent, summarize, f1, f2)


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts, last = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t) -> str:
    """``tensor([...], dtype=..., grad_fn=...)``: torch's repr, with ember's dtype names."""
    np = backend.numpy
    a = backend.to_numpy(t.array)
    prefix, suffixes = "tensor(", []
    default = np.dtype(backend.DEFAULT_DTYPE)
    complex_default = np.result_type(default, np.complex64)
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != default:  # nothing in "[]" says it is an integer tensor
            suffixes.append(f"dtype={t.dtype}")
    else:
        if not PRINT_OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype not in (default, complex_default, np.int64, np.bool_):
            suffixes.append(f"dtype={t.dtype}")
        body = tensor_body(a, len(prefix))
    tangent = getattr(t, "_fw", None)
    if tangent is not None:  # forward AD's dual tensor: torch prints its tangent too
        text = tensor_repr(tangent) if tangent.ndim else str(tangent.item())
        suffixes.append(f"tangent={text}")
    if t._ctx is not None:
        suffixes.append(f"grad_fn={t._ctx!r}")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, len(prefix))
