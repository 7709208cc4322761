"""Reading torch's bfloat16 and float8 safetensors files: widened to float32 exactly (the
values torch's .float() gives), through ember.load, BertModel.from_pretrained's reader and
load_state_dict, with clear errors for malformed files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.torch
import torch

import ember
from ember.safetensors_read import load_bytes, load_file
from ember.serialization import CheckpointError


def _save(tmp_path, tensors, name="w.safetensors"):
    path = tmp_path / name
    safetensors.torch.save_file(tensors, str(path))
    return path


def test_every_bfloat16_and_float8_value_as_torch(tmp_path):
    every_byte = torch.arange(256, dtype=torch.uint8)
    every_half = torch.arange(65536, dtype=torch.int32).to(torch.int16)
    src = {
        "e4m3": every_byte.clone().view(torch.float8_e4m3fn),
        "e5m2": every_byte.clone().view(torch.float8_e5m2),
        "bf16": every_half.view(torch.bfloat16).reshape(256, 256),
    }
    got = load_file(_save(tmp_path, src))
    for name, t in src.items():
        assert got[name].dtype == np.float32 and got[name].shape == tuple(t.shape)
        np.testing.assert_array_equal(got[name], t.float().numpy())  # NaN positions equal too


def test_a_bfloat16_state_dict_loads_into_an_ember_model(tmp_path):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    half = {k: v.to(torch.bfloat16) for k, v in ref.state_dict().items()}
    path = _save(tmp_path, half)
    ours = ember.nn.Sequential(ember.nn.Linear(5, 4), ember.nn.Tanh(), ember.nn.Linear(4, 2))
    state = ember.load(path)
    assert all(v.dtype == ember.float32 for v in state.values())
    ours.load_state_dict(state)
    ref.load_state_dict({k: v.float() for k, v in half.items()})
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ember.tensor(x)).detach().numpy(), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-6
    )
    state["0.weight"].add_(1.0)  # writable, as every loaded tensor is


def test_files_without_such_dtypes_read_as_before(tmp_path):
    src = {"a": torch.arange(6, dtype=torch.int64).reshape(2, 3), "b": torch.ones(2) * 0.5}
    got = load_file(_save(tmp_path, src))
    for name, t in src.items():
        np.testing.assert_array_equal(got[name], t.numpy())


def _raw(header: dict, data: bytes) -> bytes:
    h = json.dumps(header).encode()
    return len(h).to_bytes(8, "little") + h + data


def _entry(kind, n, begin, end):
    return {"dtype": kind, "shape": [n], "data_offsets": [begin, end]}


@pytest.mark.parametrize(
    "header, data, message",
    [
        ({"w": _entry("BF16", 2, 0, 8)}, b"\0" * 8, "8 bytes for shape"),
        ({"w": _entry("BF16", 2, 0, 4)}, b"\0" * 2, "outside"),
        ({"w": _entry("BF16", 1, 0, 2), "v": _entry("F8_E8M0", 1, 2, 3)}, b"\0" * 3, "F8_E8M0"),
        ({"w": _entry("BF16", 1, 0, 2), "v": 3}, b"\0" * 2, "not a JSON"),
    ],
)
def test_malformed_files_say_what_is_wrong(tmp_path, header, data, message):
    with pytest.raises(ValueError, match=message):
        load_bytes(_raw(header, data))
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_raw(header, data))
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        ember.load(path)
    with pytest.raises(ValueError, match="8-byte header"):
        load_bytes(b"\1\2")
