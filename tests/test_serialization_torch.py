"""ember.load of files written by torch.save (serialization_torch.py): checkpoints of every
dtype, views, Parameters and plain values come back equal; a torch state_dict file drives an
ember layer to torch's outputs; and nothing in a file can run code."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.serialization import CheckpointError


def _save(obj, path, **kw):
    torch.save(obj, str(path), **kw)
    return path


def _same(e, t):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        want = t.detach().float() if t.dtype in (torch.bfloat16, torch.float8_e4m3fn) else t
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(e.detach().numpy(), want.detach().numpy())
        assert e.requires_grad == t.requires_grad
        assert isinstance(e, nn.Parameter) == isinstance(t, torch.nn.Parameter)
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            _same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) or isinstance(t, torch.Size)
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
    else:
        assert e == t, (e, t)


def test_a_checkpoint_of_every_kind_of_value_loads_equal(tmp_path):
    base = torch.arange(24.0).reshape(4, 6)
    obj = {
        "model": torch.nn.Linear(3, 2).state_dict(),
        "step": 5,
        "lr": 0.1,
        "names": ["a", "b"],
        "nested": {"t": (1, 2.5, None, True), "s": {3, 4}},
        "views": [base.t(), base[1:3, ::2], base[2], base],  # one storage, four views
        "p": torch.nn.Parameter(torch.ones(2)),
        "frozen": torch.nn.Parameter(torch.ones(1), requires_grad=False),
        "shape": torch.Size([2, 3]),
        "empty": torch.ones(0, 3),
        "scalar": torch.tensor(3.0),
    }
    for dt in (torch.float64, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
               torch.uint8, torch.uint16, torch.bool, torch.complex64, torch.complex128,
               torch.bfloat16, torch.float8_e4m3fn):  # fmt: skip
        obj[str(dt)] = (torch.arange(6) % 3).to(dt).reshape(2, 3)
    got = ember.load(_save(obj, tmp_path / "ckpt.pt"))
    assert set(got) == set(obj)
    for k in obj:
        if k == "shape":
            assert got[k] == ember.Size([2, 3])
        elif k == "nested":
            assert got[k] == {"t": (1, 2.5, None, True), "s": {3, 4}}
        else:
            _same(got[k], obj[k])
    assert got["torch.bfloat16"].dtype == ember.float32  # widened, exactly
    assert got["model"]._metadata == obj["model"]._metadata  # state_dict metadata kept
    views = got["views"]
    views[3][0, 0] = 100.0  # each tensor owns its memory (torch's views are copies here)
    assert float(views[0][0, 0]) == 0.0


def test_dtypes_saved_as_values_become_embers(tmp_path):
    got = ember.load(
        _save({"a": torch.float16, "b": [torch.int64, torch.bfloat16]}, tmp_path / "d")
    )
    assert got == {"a": ember.float16, "b": [ember.int64, ember.float32]}


def test_a_torch_lstm_state_dict_file_gives_torchs_outputs(tmp_path):
    torch.manual_seed(0)
    ref = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True)
    path = _save(ref.state_dict(), tmp_path / "lstm.pth")
    mine = nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True)
    mine.load_state_dict(ember.load(path, map_location="cpu"))
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    y, (h, c) = mine(ember.tensor(x))
    yt, (ht, ct) = ref(torch.tensor(x))
    for a, b in ((y, yt), (h, ht), (c, ct)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_file_objects_load_too(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(ember.load(buf)["w"].numpy(), np.ones(2, np.float32))


class _Runs:
    """Pickled as a call of os.system: loading it with pickle would run the command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_in_a_file_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    path = _save({"w": torch.ones(2), "x": _Runs(marker)}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=r"refusing to load (posix|os)\.system"):
        ember.load(path)
    assert not marker.exists()


def test_a_pickled_module_is_refused_with_what_to_save_instead(tmp_path):
    path = _save(torch.nn.Linear(2, 2), tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match=r"torch\.nn\.modules\.linear\.Linear.*state_dict"):
        ember.load(path)


def _rewrite(path, change):
    """A copy of the archive with each record's bytes passed through change(name, bytes)."""
    out = path.with_suffix(".bad")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = change(name, src.read(name))
            if data is not None:
                dst.writestr(name, data)
    return out


def test_damaged_archives_are_refused_with_the_reason(tmp_path):
    path = _save({"w": torch.arange(6.0).reshape(2, 3)}, tmp_path / "ok.pt")
    short = _rewrite(path, lambda n, b: b[:8] if n.endswith("data/0") else b)
    with pytest.raises(CheckpointError, match="data/0 has 8 bytes, the pickle says 6 elements"):
        ember.load(short)
    missing = _rewrite(path, lambda n, b: None if n.endswith("data/0") else b)
    with pytest.raises(CheckpointError, match="no storage record data/0"):
        ember.load(missing)
    raw = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="cut.pt"):
        ember.load(cut)


def test_legacy_files_and_weights_only_false_are_refused(tmp_path):
    path = _save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="legacy format"):
        ember.load(path)
    with pytest.raises(ValueError, match="weights_only=False"):
        ember.load(path, weights_only=False)
