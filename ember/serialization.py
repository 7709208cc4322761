"""``ember.save`` / ``ember.load``: any nest of tensors and plain values in one safetensors file.

The file is a standard safetensors file: every Tensor or array in ``obj`` is one named tensor,
so ``safetensors.torch.load_file`` reads the weights of a saved ``state_dict`` unchanged, and a
file written by PyTorch (``safetensors.torch.save_file(model.state_dict(), p)``) loads here as a
dict of Tensors. Everything that is not an array (optimizer scalars, scheduler state, RNG state,
loop counters) is JSON inside the file's ``__metadata__`` under the key ``ember``, with the
array leaves replaced by references to tensor names (a complex array, which safetensors cannot
hold, is stored as its view_as_real: float pairs in a last axis of 2, marked complex in the
JSON). Nothing is pickled: opening a file parses JSON and copies bytes, it never runs code.

Integrity: the metadata also holds the sha256 of all tensor bytes, so a file cut short or
changed on disk fails to load with an error naming the file, rather than loading garbage.

Atomicity: ``save`` writes a temporary file in the target's folder, fsyncs it and renames it
over the target (``os.replace`` is atomic on POSIX and Windows), so a write that fails midway
leaves the previous file as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy
import safetensors
import safetensors.numpy

from . import backend, serialization_torch
from .safetensors_read import load_bytes
from .tensor import Tensor

FORMAT = "ember.save/1"


class CheckpointError(ValueError):
    """A file that ``ember.load`` cannot read: truncated, corrupt, or not written by a saver."""


class TorchFileError(CheckpointError, pickle.UnpicklingError):
    """A ``torch.save`` file that ``ember.load`` refuses (it names code, or is damaged): a
    CheckpointError, and the ``pickle.UnpicklingError`` that ``torch.load`` raises for what
    its ``weights_only=True`` refuses, so ``except`` clauses written for torch catch it."""


# ------------------------------------------------------------------ encoding


class _Encoder:
    """Walks a nest of dicts/lists/tuples and pulls every array out into ``tensors``."""

    def __init__(self) -> None:
        self.tensors: dict[str, numpy.ndarray] = {}

    def name_for(self, path: list[str]) -> str:
        # A flat state_dict keeps its own keys, so the file reads as a plain weights file.
        base = ".".join(path) or "tensor"
        name, n = base, 1
        while name in self.tensors:
            name, n = f"{base}#{n}", n + 1
        return name

    def encode(self, value: Any, path: list[str]):
        if isinstance(value, Tensor) or _is_torch_tensor(value):
            return self._array(numpy.asarray(_host(value)), path, "tensor")
        if isinstance(value, numpy.ndarray):
            return self._array(value, path, "ndarray")
        if backend.is_array(value):  # a device array (optimizer state on the GPU): a host copy
            return self._array(backend.to_numpy(value), path, "ndarray")
        if isinstance(value, numpy.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {
                    ("__key__" + k if k.startswith("__") else k): self.encode(v, path + [k])
                    for k, v in value.items()
                }
            items = []
            for k, v in value.items():
                if not isinstance(k, (bool, int, float, str)) and k is not None:
                    raise TypeError(
                        f"ember.save: dict key {k!r} at {'.'.join(path) or '<root>'} is a "
                        f"{type(k).__name__}; keys must be str, int, float, bool or None"
                    )
                items.append([k, self.encode(v, path + [str(k)])])
            return {"__dict__": items}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, path + [str(i)]) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, path + [str(i)]) for i, v in enumerate(value)]
        raise TypeError(
            f"ember.save: cannot store a {type(value).__name__} at "
            f"{'.'.join(path) or '<root>'}; expected Tensors, arrays, numbers, strings, None, "
            "and dicts/lists/tuples of them (call .state_dict() on modules and optimizers)"
        )

    def _array(self, a: numpy.ndarray, path: list[str], kind: str) -> dict:
        if a.dtype == object:
            raise TypeError(f"ember.save: array at {'.'.join(path)} has dtype object")
        name = self.name_for(path)
        # (not ascontiguousarray: it turns a 0-d array into shape (1,))
        a = a if a.flags.c_contiguous else a.copy(order="C")
        if a.dtype.kind == "c":  # safetensors has no complex dtypes: stored as view_as_real
            a, kind = numpy.stack([a.real, a.imag], axis=-1), "complex_" + kind
        self.tensors[name] = a
        return {"__" + kind + "__": name}


def _is_torch_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _host(value):
    if isinstance(value, Tensor):
        return backend.to_numpy(value.array)  # a host copy when the tensor lives on a device
    return value.detach().cpu().numpy()


def _digest(tensors: dict[str, numpy.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        a = tensors[name]
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.reshape(-1).view(numpy.uint8))  # C-contiguous already: no copy
    return h.hexdigest()


_ARRAY_KEYS = ("__tensor__", "__ndarray__", "__complex_tensor__", "__complex_ndarray__")
_COMPLEX = {"<f4": numpy.complex64, "<f8": numpy.complex128}


def _decode(value: Any, tensors: dict[str, numpy.ndarray], path: str):
    if isinstance(value, list):
        return [_decode(v, tensors, path) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key in _ARRAY_KEYS:
            if inner not in tensors:
                raise CheckpointError(f"{path}: metadata refers to a missing tensor {inner!r}")
            a = tensors[inner]
            if key.startswith("__complex_"):  # (..., 2) real pairs back to complex numbers
                z = numpy.empty(a.shape[:-1], _COMPLEX[a.dtype.str])
                z.real, z.imag = a[..., 0], a[..., 1]
                a = z
            return Tensor(a) if key.endswith("tensor__") else a
        if key == "__tuple__":
            return tuple(_decode(v, tensors, path) for v in inner)
        if key == "__dict__":
            return {k: _decode(v, tensors, path) for k, v in inner}
    return {
        (k[len("__key__") :] if k.startswith("__key__") else k): _decode(v, tensors, path)
        for k, v in value.items()
    }


def _load_torch(raw: bytes, path: Path):
    if serialization_torch.is_legacy_torch(raw):
        raise TorchFileError(
            f"{path}: a torch file in the legacy format (before torch 1.6); re-save it with a"
            " current torch.save, or as safetensors"
        )
    try:
        return serialization_torch.load_torch_zip(raw, str(path))
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise TorchFileError(str(e) if str(path) in str(e) else f"{path}: {e}") from e


def _writable(tensors: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    # Arrays parsed from a bytes object are read-only views; training updates them in place.
    return {k: a if a.flags.writeable else a.copy() for k, a in tensors.items()}


# ------------------------------------------------------------------ atomic writes


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _write_all(f, data: bytes) -> None:
    # In chunks, so a failure (disk full, a test's injected error) can strike midway.
    view = memoryview(data)
    chunk = 1 << 24
    for start in range(0, len(view), chunk):
        f.write(view[start : start + chunk])


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the folder's entry is on disk (POSIX).
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


# ------------------------------------------------------------------ public API


def save(obj: Any, path, pickle_module=None, pickle_protocol: int = 2) -> None:
    """Save ``obj`` (a Tensor, array, or a nest of dicts/lists/tuples of them and plain values).

    ``ember.save(model.state_dict(), "model.safetensors")`` writes a plain weights file;
    ``ember.save({"model": ..., "optimizer": opt.state_dict(), "epoch": 3}, p)`` keeps the
    non-array parts as JSON in the same file. The write to a path is atomic; ``path`` may
    also be a binary file object (written from where it stands, as torch.save writes one).
    ``pickle_module`` and ``pickle_protocol`` are torch's, taken and unused: nothing is
    pickled.
    """
    enc = _Encoder()
    skeleton = enc.encode(obj, [])
    metadata = {
        "format": FORMAT,
        "ember": json.dumps(skeleton, separators=(",", ":")),
        "sha256": _digest(enc.tensors),
    }
    data = safetensors.numpy.save(enc.tensors, metadata=metadata)
    if hasattr(path, "write"):
        path.write(data)
    else:
        atomic_write_bytes(path, data)


def load(path, map_location=None, *, weights_only: bool | None = None, mmap=None) -> Any:
    """Read what ``save`` wrote; a safetensors file from elsewhere loads as {name: Tensor},
    and a file written by ``torch.save`` (a state_dict, a checkpoint dict of tensors and
    plain values) as the same nest with ember Tensors, read without running any of its code
    (serialization_torch.py; torch's ``weights_only=True``). ``path``: a path or a binary
    file object. ``map_location``: torch's argument, accepted; tensors load where ember
    computes. ``weights_only=False`` (torch's unpickling of arbitrary objects) is refused.

    Raises FileNotFoundError for a missing file and CheckpointError (naming the file) for one
    that is truncated, corrupt, or whose tensor bytes no longer match their recorded sha256.
    """
    if weights_only is False:
        raise ValueError(
            "ember.load(weights_only=False): ember never unpickles arbitrary objects (opening"
            " a file must not run code); torch files load with weights_only semantics"
        )
    if hasattr(path, "read"):
        raw, path = path.read(), Path(getattr(path, "name", "<file object>"))
    else:
        path = Path(path)
        if not path.exists():  # (a folder: read_bytes raises IsADirectoryError, as torch)
            raise FileNotFoundError(f"no checkpoint file at {path}")
        raw = path.read_bytes()
    if serialization_torch.is_torch_zip(raw) or serialization_torch.is_legacy_torch(raw):
        return _load_torch(raw, path)
    try:
        tensors, metadata = load_bytes(raw)  # BF16 and float8 widened to float32
    except (safetensors.SafetensorError, ValueError) as e:
        raise CheckpointError(
            f"{path}: not a readable safetensors file ({len(raw)} bytes; truncated or "
            f"corrupt?): {e}"
        ) from e
    if metadata.get("format") != FORMAT:
        # Written by another tool (e.g. safetensors.torch.save_file): a flat dict of weights.
        return {name: Tensor(a) for name, a in _writable(tensors).items()}
    expected = metadata.get("sha256")
    got = _digest(tensors)
    if expected != got:
        raise CheckpointError(
            f"{path}: tensor data is corrupt (sha256 of the tensors is {got}, the file "
            f"recorded {expected})"
        )
    try:
        skeleton = json.loads(metadata["ember"])
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: the ember metadata is missing or not JSON: {e}") from e
    return _decode(skeleton, _writable(tensors), str(path))
