"""Indexing a tensor that needs no gradient (an int64 / bool model input, a detached value),
fmod / remainder / floor_divide / div with a rounding mode, heaviside and unique are computed
in an exported graph (ember/onnx/ops_mod.py, ops_unique.py; indexing through GetItem while an
observer watches), exactly as ember computes them eagerly; plus torch's dtype for all/any of a
uint8 tensor and its refusal of round(integers, decimals)."""

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
from ember.function import observers  # noqa: E402
from tests.test_onnx_export_compare import Fn, _Seen  # noqa: E402
from tests.test_onnx_export_rounding import check_exact, halves  # noqa: E402


def ints(*shape, seed=0, low=-20, high=20, dtype=np.int64):
    return ember.tensor(np.random.default_rng(seed).integers(low, high, shape).astype(dtype))


def int_others(*rest, dtype=np.int64, low=-20, high=20):
    return [ints(5, *rest, seed=1, dtype=dtype, low=low, high=high),
            ints(1, *rest, seed=2, dtype=dtype, low=low, high=high)]  # fmt: skip


# ------------------------------------------------------------------ indexing without grad

INDEX_MODELS = {  # name: (fn, nodes, n_out)
    "first_token": (lambda x: x[:, 0], {"Slice", "Squeeze"}, 1),
    "last_of_mask": (lambda x: (x > 3)[..., -1], {"Greater", "Slice"}, 1),
    "detached": (lambda x: x.float().detach()[1:] * 2, {"Cast", "Slice"}, 1),
    "stride_and_tail": (lambda x: x[:, ::2] + x[:, -3:], {"Slice", "Add"}, 1),
    "reshaped_ids": (lambda x: x.reshape(-1, 3)[:, 1:], {"Reshape", "Slice"}, 1),
    "ids_and_mask": (lambda x: (x[:, 1:4] % 5, (x != 0)[:, 0].long()), {"Slice", "Mod"}, 2),
}


@pytest.mark.parametrize("name", sorted(INDEX_MODELS))
def test_indexing_an_integer_input_is_computed_in_the_graph(name, tmp_path):
    fn, nodes, n = INDEX_MODELS[name]
    found = check_exact(Fn(fn), ints(4, 6), int_others(6), tmp_path / f"{name}.onnx", n_out=n)
    assert nodes <= found, (nodes, found)


def test_indexing_a_bool_input(tmp_path):
    x = ember.tensor(np.random.default_rng(0).random((4, 5)) > 0.5)
    others = [ember.tensor(np.random.default_rng(k).random((b, 5)) > 0.5) for k, b in [(1, 6),
              (2, 1)]]  # fmt: skip
    found = check_exact(Fn(lambda m: m[..., -1] | m[:, 0]), x, others, tmp_path / "b.onnx")
    assert {"Slice", "Or"} <= found


def test_indexing_is_the_same_with_an_observer():
    x = ember.tensor(np.arange(16, dtype=np.float32).reshape(4, 4))
    ids = ints(3, 5)
    keys = [0, (slice(None), slice(1, 3)), (Ellipsis, -1), (None, 1), np.array([2, 0, 2])]
    plain = [t[k] for t in (x, ids) for k in keys]
    seen = _Seen()
    observers.append(seen)
    try:
        watched = [t[k] for t in (x, ids) for k in keys]
    finally:
        observers.remove(seen)
    assert seen.ops == ["GetItem"] * len(plain)
    for w, p in zip(watched, plain):
        assert w.array.dtype == p.array.dtype and not w.requires_grad
        np.testing.assert_array_equal(w.numpy(), p.numpy())


def test_indexing_without_an_observer_records_nothing():
    seen = _Seen()
    x = ember.tensor(np.ones((3, 3), np.float32))
    y = x[1:]
    assert seen.ops == [] and y._ctx is None
    w = ember.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    assert w[1:]._ctx is not None  # a gradient to record: the op as before


# ------------------------------------------------------------------ fmod / remainder / div


def _float_input(dtype):
    x = halves(4, 6, dtype=dtype)
    x.array[0, :4] = [1.0, -1.0, 0.0, -0.0]
    return x, [halves(5, 6, seed=1, dtype=dtype), halves(1, 6, seed=2, dtype=dtype)]


FLOAT_MOD_MODELS = {
    "fmod": (lambda x: ember.fmod(x, 0.7) + x.fmod(-1.3) + ember.fmod(x, x[:1] + 0.1), {"Mod"}),
    "remainder": (
        lambda x: ember.remainder(x, 0.7) + (x % -1.3) + x.remainder(x[:1] - 0.25),
        {"Mod", "Where"},
    ),
    "floor_divide": (
        lambda x: (
            ember.floor_divide(x, 0.1)
            + (x // -0.3)
            + ember.div(x, x[:1] - 0.25, rounding_mode="floor")
        ),
        {"Floor", "Mod"},
    ),
    "trunc_div": (
        lambda x: ember.div(x, -0.3, rounding_mode="trunc") + x.div(0.7, rounding_mode="trunc"),
        {"Ceil", "Floor", "Where"},
    ),
    "by_zero": (lambda x: ember.floor_divide(x, x * 0) + ember.fmod(x, 0.0), {"Mod"}),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(FLOAT_MOD_MODELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_remainders_and_quotients_are_exact(name, dtype, tmp_path):
    fn, nodes = FLOAT_MOD_MODELS[name]
    x, others = _float_input(dtype)
    found = check_exact(Fn(fn), x, others, tmp_path / f"{name}.onnx")
    assert nodes <= found, (nodes, found)


def test_floor_divide_is_numpys_divmod_not_floor_of_the_quotient(tmp_path):
    """1 // 0.1 is 9 (NumPy, torch, Python), not floor(1 / 0.1) = 10."""
    x = ember.tensor(np.array([[1.0, 2.0, -1.0, 0.3]], np.float64))
    want = torch.floor_divide(torch.from_numpy(x.numpy()), 0.1).numpy()
    assert want[0, 0] == 9.0
    check_exact(Fn(lambda x: x // 0.1), x, [], tmp_path / "d.onnx")
    np.testing.assert_array_equal((x // 0.1).numpy(), want)


INT_MOD_MODELS = {
    "fmod": (lambda x: ember.fmod(x, 7) + x.fmod(-3), {"Mod"}),
    "remainder": (lambda x: (x % 7) + x.remainder(-3) + x % (x[:1].abs() + 1), {"Mod"}),
    "floor_divide": (
        lambda x: (x // 7) + ember.floor_divide(x, -3) + ember.div(x, -4, rounding_mode="floor"),
        {"Div", "Mod", "Sub"},
    ),
    "trunc_div": (
        lambda x: ember.div(x, 4, rounding_mode="trunc") + x.div(-3, rounding_mode="trunc"),
        {"Div"},
    ),
}


@pytest.mark.parametrize("name", sorted(INT_MOD_MODELS))
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_remainders_and_quotients_are_exact(name, dtype, tmp_path):
    fn, nodes = INT_MOD_MODELS[name]
    found = check_exact(Fn(fn), ints(4, 6, dtype=dtype), int_others(6, dtype=dtype),
                        tmp_path / f"{name}.onnx")  # fmt: skip
    assert nodes <= found, (nodes, found)


def test_integer_results_follow_torch():
    a = ints(4, 6)
    ta = torch.from_numpy(a.numpy())
    np.testing.assert_array_equal((a // -3).numpy(), (ta // -3).numpy())
    np.testing.assert_array_equal((a % -3).numpy(), (ta % -3).numpy())
    np.testing.assert_array_equal(ember.fmod(a, -3).numpy(), torch.fmod(ta, -3).numpy())
    np.testing.assert_array_equal(ember.div(a, 4, rounding_mode="trunc").numpy(),
                                  torch.div(ta, 4, rounding_mode="trunc").numpy())  # fmt: skip


# ------------------------------------------------------------------ heaviside, unique


def test_heaviside_is_computed_in_the_graph(tmp_path):
    x, others = _float_input(np.float32)
    x.array[1, 1] = np.nan

    def fn(x):
        return x.heaviside(ember.tensor(np.float32(0.5))) + ember.heaviside(x.round(), x * 2)

    found = check_exact(Fn(fn), x, others, tmp_path / "h.onnx")
    assert {"Where", "Equal", "Greater"} <= found
    i, io = ints(4, 6, low=-2, high=3), int_others(6, low=-2, high=3)
    found = check_exact(Fn(lambda x: x.heaviside(x * 3)), i, io, tmp_path / "hi.onnx")
    assert "Where" in found


UNIQUE_MODELS = {  # name: (fn, n_out)
    "values": (lambda x: x.unique(), 1),
    "inverse_counts": (lambda x: ember.unique(x, return_inverse=True, return_counts=True), 3),
    "dim": (lambda x: ember.unique(x.abs(), dim=1, return_inverse=True, return_counts=True), 3),
    "float": (lambda x: (x.float() * 0.5).unique(return_counts=True), 2),
    "int32": (lambda x: x.int().unique(return_inverse=True), 2),
    "bool": (lambda x: (x > 0).unique(return_counts=True), 2),
}


@pytest.mark.parametrize("name", sorted(UNIQUE_MODELS))
def test_unique_is_computed_in_the_graph(name, tmp_path):
    fn, n = UNIQUE_MODELS[name]
    x, others = ints(4, 6, low=-4, high=4), int_others(6, low=-4, high=4)
    found = check_exact(Fn(fn), x, others, tmp_path / f"{name}.onnx", n_out=n, batch_out=False)
    assert "Unique" in found


def test_heaviside_and_unique_are_the_same_with_an_observer():
    x = halves(3, 5)
    x.array[0, 0] = 0.0
    i = ints(3, 5, low=-3, high=3)
    v = ember.tensor(np.float32(0.5))

    def run():
        return [x.heaviside(v), *i.unique(return_inverse=True, return_counts=True),
                ember.unique(i, dim=0), x.heaviside(x)]  # fmt: skip

    plain = run()
    seen = _Seen()
    observers.append(seen)
    try:
        watched = run()
    finally:
        observers.remove(seen)
    assert seen.ops == ["Heaviside", "Unique", "Unique", "Heaviside"]
    for w, p in zip(watched, plain):
        assert w.array.dtype == p.array.dtype
        np.testing.assert_array_equal(w.numpy(), p.numpy())
    t = torch.from_numpy(i.numpy())
    for w, p in zip(plain[1:4], torch.unique(t, return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(w.numpy(), p.numpy())
    np.testing.assert_array_equal(plain[4].numpy(), torch.unique(t, dim=0).numpy())


def test_signbit_is_still_refused(tmp_path):
    """ONNX cannot read a NaN's sign bit: the value stays outside the graph and is refused."""
    with pytest.raises(NotImplementedError, match="outside ember's ops"):
        ember.onnx.export(Fn(lambda x: x.signbit()), (halves(4, 6),), str(tmp_path / "s.onnx"))


# ------------------------------------------------------------------ torch parity


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.bool_, np.float32])
@pytest.mark.parametrize("watch", [False, True])
def test_all_any_dtype_follows_torch(dtype, watch):
    a = np.array([[0, 3, 1], [2, 1, 1]]).astype(dtype)
    e, t = ember.tensor(a), torch.from_numpy(a)
    seen = _Seen()
    if watch:
        observers.append(seen)
    try:
        got = [e.all(), e.any(), e.all(1), e.any(0, keepdim=True), ember.all(e, 1)]
    finally:
        if watch:
            observers.remove(seen)
    want = [t.all(), t.any(), t.all(1), t.any(0, keepdim=True), torch.all(t, 1)]
    for g, w in zip(got, want):
        assert g.numpy().dtype == w.numpy().dtype, (g.numpy().dtype, w.numpy().dtype)
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_all_any_of_uint8_exported(tmp_path):
    x = ints(4, 6, low=0, high=3, dtype=np.uint8)
    others = int_others(6, dtype=np.uint8, low=0, high=3)
    found = check_exact(Fn(lambda x: (x.all(1), x.any(1))), x, others, tmp_path / "u.onnx",
                        n_out=2)  # fmt: skip
    assert "Cast" in found


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("decimals", [None, 0, 1, -1])
def test_round_of_integers_follows_torch(dtype, decimals):
    a = np.array([15, 25, 0, 1]).astype(dtype)
    kw = {} if decimals is None else {"decimals": decimals}
    try:
        want = torch.round(torch.from_numpy(a), **kw)
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="not implemented"):
            ember.round(ember.tensor(a), **kw)
        with pytest.raises(NotImplementedError, match="not implemented"):
            ember.tensor(a).round(**kw)
        return
    got = ember.round(ember.tensor(a), **kw)
    assert got.numpy().dtype == want.numpy().dtype
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(ember.tensor(a).round(**kw).numpy(), want.numpy())


def test_round_of_floats_with_decimals_still_follows_torch():
    a = np.array([0.125, -2.5, 1.2345, 15.0], np.float64)
    for d in (None, 0, 2, -1):
        kw = {} if d is None else {"decimals": d}
        np.testing.assert_array_equal(ember.round(ember.tensor(a), **kw).numpy(),
                                      torch.round(torch.from_numpy(a), **kw).numpy())  # fmt: skip
