"""Storages (ember/storage.py) against torch: the same programs over ``lib`` give the same
sharing answers, sizes, values and reprs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

VIEWS = {
    "slice": lambda x: x[1:],
    "column": lambda x: x[:, 1],
    "transpose": lambda x: x.t(),
    "reshape": lambda x: x.reshape(-1),
    "expand": lambda x: x[:1].expand(4, 3),
    "detach": lambda x: x.detach(),
    "clone": lambda x: x.clone(),
    "contiguous_t": lambda x: x.t().contiguous(),
    "dtype_view": lambda x: x.view(lib_int32(x)),
}


def lib_int32(x):
    return torch.int32 if isinstance(x, torch.Tensor) else ember.int32


def _x(lib):
    return lib.arange(12, dtype=lib.float32).reshape(4, 3)


@pytest.mark.parametrize("name", VIEWS)
def test_sharing_and_sizes_as_torch(name):
    out = {}
    for lib in (torch, ember):
        x = _x(lib)
        v = VIEWS[name](x)
        s, sv = x.untyped_storage(), v.untyped_storage()
        out[lib] = (sv.data_ptr() == s.data_ptr(), sv.nbytes(), len(sv), v.storage_offset())
    assert out[ember] == out[torch]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int16", "uint8", "bool"])
def test_bytes_and_typed_values_as_torch(dtype):
    out = {}
    for lib in (torch, ember):
        x = lib.tensor(np.array([0, 1, 2, 3, 250, 7]).astype(dtype))[1:5]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ts = x.storage()
        out[lib] = (
            x.untyped_storage().tolist(),
            ts.tolist(),
            ts.size(),
            ts.element_size(),
            ts.nbytes(),
            ts[2],
            x.storage_type().__name__,
            ts.type().split(".")[-1],
        )
    assert out[ember] == out[torch]


def test_writes_through_storages_reach_the_tensor():
    out = {}
    for lib in (torch, ember):
        x = _x(lib)
        s = x.untyped_storage()
        s[1:5].fill_(0)  # the second float's four bytes, through a slice view of the storage
        s[8] = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ts = x.storage()
        ts[5] = -1.0
        out[lib] = x.tolist()
    assert out[ember] == out[torch]


@pytest.mark.parametrize(
    "geometry", [(), (0, (12,)), (1, (2, 2), (1, 2)), (3, (3, 3)), (2, (5,), (2,))]
)
def test_set_from_a_storage_as_torch(geometry):
    out = {}
    for lib in (torch, ember):
        x = _x(lib)
        y = lib.empty(0).set_(x.untyped_storage(), *geometry)
        y.mul_(10) if geometry else None  # a view: the write shows in x
        out[lib] = (y.tolist(), tuple(y.shape), x.tolist())
    assert out[ember] == out[torch]


def test_new_storages_copy_and_clone_as_torch():
    out = {}
    for lib in (torch, ember):
        a = lib.UntypedStorage(4)
        a.fill_(3)
        b = lib.UntypedStorage.from_buffer(b"\x01\x02\x03\x04", dtype=lib.uint8)
        c = b.clone()
        b.copy_(a)
        f = lib.FloatStorage(2)
        f.fill_(1.5)
        out[lib] = (a.tolist(), b.tolist(), c.tolist(), f.tolist(), len(f), f.nbytes())
    assert out[ember] == out[torch]


def test_reprs_as_torch():
    out = {}
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            typed = repr(x.storage())
        s = lib.UntypedStorage(3)
        s.fill_(7)
        out[lib] = (typed, repr(s), repr(lib.UntypedStorage(0)))
    got = tuple(r.replace("ember", "torch") for r in out[ember])
    assert got == out[torch]


def test_typed_storage_warns_once_as_torch():
    import ember.storage as S

    S._warned[0] = False
    x = ember.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x.storage()
        x.storage()
    assert len(caught) == 1 and "TypedStorage is deprecated" in str(caught[0].message)


def test_set_refuses_a_storage_of_another_dtype():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        typed = ember.ones(2, dtype=ember.float64).storage()
    with pytest.raises(RuntimeError, match="Expected a Storage of type"):
        ember.empty(0).set_(typed)
