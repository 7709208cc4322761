"""ember.save / ember.load: safetensors files, JSON for the rest, atomic writes, clear errors."""

import os

import numpy as np
import pytest
import safetensors.numpy

import ember
from ember import nn
from ember.models import MLP


def test_round_trip_of_a_nested_state(tmp_path):
    w = ember.randn(3, 4)
    obj = {
        "model": {"fc.weight": w, "fc.bias": ember.zeros(4)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.ones(3, np.float32)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0]}],
        },
        "rng": {"state": 2**127 + 5, "name": "PCG64"},
        "flag": True,
        "nothing": None,
        "__tensor__": "a key that looks like a marker",
    }
    p = tmp_path / "state.safetensors"
    ember.save(obj, p)
    got = ember.load(p)
    assert isinstance(got["model"]["fc.weight"], ember.Tensor)
    assert np.array_equal(got["model"]["fc.weight"].array, w.array)
    st = got["optimizer"]["state"][0]  # int keys survive
    assert st["step"] == 3 and isinstance(st["exp_avg"], np.ndarray)
    assert got["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples survive
    assert got["rng"]["state"] == 2**127 + 5
    assert got["flag"] is True and got["nothing"] is None
    assert got["__tensor__"] == "a key that looks like a marker"


def test_a_saved_state_dict_is_a_plain_weights_file(tmp_path):
    model = MLP(8, (5,), 3)
    p = tmp_path / "m.safetensors"
    ember.save(model.state_dict(), p)
    plain = safetensors.numpy.load_file(str(p))
    assert set(plain) == {"1.weight", "1.bias", "3.weight", "3.bias"}
    other = MLP(8, (5,), 3)
    other.load_state_dict(ember.load(p))
    for a, b in zip(model.parameters(), other.parameters()):
        assert np.array_equal(a.array, b.array)


def test_torch_safetensors_file_loads_into_the_matching_ember_model(torch, tmp_path):
    from safetensors.torch import save_file

    tmodel = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 7), torch.nn.ReLU(), torch.nn.Linear(7, 4)
    )
    p = tmp_path / "torch.safetensors"
    save_file(tmodel.state_dict(), str(p))
    model = MLP(12, (7,), 4)
    model.load_state_dict(ember.load(p))
    x = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(ember.tensor(x)).array, expected, rtol=1e-5, atol=1e-6)


def test_a_failed_write_leaves_the_previous_file_loadable(tmp_path, monkeypatch):
    p = tmp_path / "ck.safetensors"
    ember.save({"w": ember.ones(1000), "epoch": 1}, p)
    before = p.read_bytes()

    import ember.serialization as S

    real = S._write_all

    def write_half_then_fail(f, data):
        real(f, data[: len(data) // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(S, "_write_all", write_half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        ember.save({"w": ember.zeros(1000), "epoch": 2}, p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert ember.load(p)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ck.safetensors"]  # no temporary file left behind


def test_a_failed_rename_also_keeps_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "ck.safetensors"
    ember.save({"epoch": 1}, p)

    def fail(*a, **k):
        raise OSError("rename failed (simulated)")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="simulated"):
        ember.save({"epoch": 2}, p)
    monkeypatch.undo()
    assert ember.load(p)["epoch"] == 1 and os.listdir(tmp_path) == ["ck.safetensors"]


def test_truncated_file_is_a_clear_error_naming_it(tmp_path):
    p = tmp_path / "ck.safetensors"
    ember.save({"w": ember.randn(50, 50)}, p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ember.CheckpointError, match=str(p)):
        ember.load(p)
    p.write_bytes(data[:5])
    with pytest.raises(ember.CheckpointError, match="truncated or corrupt"):
        ember.load(p)


def test_corrupt_tensor_bytes_are_detected(tmp_path):
    p = tmp_path / "ck.safetensors"
    ember.save({"w": ember.randn(50, 50)}, p)
    data = bytearray(p.read_bytes())
    data[-7] ^= 0x01
    p.write_bytes(bytes(data))
    with pytest.raises(ember.CheckpointError, match=r"ck.safetensors: tensor data is corrupt"):
        ember.load(p)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        ember.load(tmp_path / "nope.safetensors")


def test_unsupported_values_are_named():
    with pytest.raises(TypeError, match=r"cannot store a Linear at layer"):
        ember.save({"layer": nn.Linear(2, 2)}, "unused.safetensors")


def test_shapes_and_dtypes_survive_exactly(tmp_path):
    arrays = {
        "scalar": np.array(3.5, np.float32),
        "empty": np.zeros((0, 4)),
        "mask": np.array([True, False]),
        "strided": np.arange(10, dtype=np.int64)[::3],
        "transposed": np.arange(12.0).reshape(3, 4).T,
        "half": np.ones(3, np.float16),
        "bytes": np.arange(5, dtype=np.uint8),
    }
    p = tmp_path / "a.safetensors"
    ember.save({**arrays, "t": ember.tensor(2.0), "n": np.int64(7)}, p)
    got = ember.load(p)
    for k, a in arrays.items():
        assert got[k].dtype == a.dtype and got[k].shape == a.shape and np.array_equal(got[k], a)
    assert got["t"].shape == () and got["t"].item() == 2.0 and got["n"] == 7
