"""state_dict, load_state_dict and ember.load of torch files where ember used to differ from
torch 2.13 (found by fuzzing both side by side): positional state_dict arguments, a given
destination's entries, values that are not tensors, 0.3-era 1-element entries of 0-d
tensors, what a failed load leaves, assign into a shared module, the result's named tuple;
torch files that set attributes of ember's classes, hold a Counter, a bytearray, a complex or
a tensor with attributes, damaged pickles and storage records, and the refusals' class."""

import collections
import io
import json
import pickle
import warnings
import zipfile

import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


@pytest.fixture(params=["one pass", "walk"])
def load_path(request):
    """ember loads in one pass unless a module has hooks or overrides; a no-op load pre-hook
    takes the per-module walk (module_state_load.py). Both must give torch's result."""
    return request.param


def _net(lib, load_path="one pass"):
    """Linear, then a module with a 0-d buffer (a counter, as BatchNorm's, whose own
    _load_from_state_dict would always take the walk)."""
    nn = lib.nn
    count = nn.Module()
    count.register_buffer("n", lib.tensor(0))
    m = nn.Sequential(nn.Linear(2, 2), count)
    with lib.no_grad():
        m[0].weight.copy_(lib.arange(4.0).reshape(2, 2))
        m[0].bias.copy_(lib.tensor([5.0, 6.0]))
    if load_path == "walk":
        m.register_load_state_dict_pre_hook(lambda *args: None)
    return m


def _values(m):
    return {k: v.tolist() for k, v in m.state_dict().items()}


def _outcome(lib, m, sd, **kw):
    try:
        out = repr(m.load_state_dict(sd, **kw))
    except RuntimeError as e:
        out = str(e).replace("ember.", "torch.")
    return out, _values(m)


def test_state_dict_takes_positional_arguments_with_a_future_warning(lib):
    m = lib.nn.Linear(1, 1)
    dest = collections.OrderedDict()
    with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
        got = m.state_dict(dest, "p.", True)
    assert got is dest and list(dest) == ["p.weight", "p.bias"]
    assert dest["p.weight"] is m.weight  # keep_vars


def test_state_dict_writes_over_what_the_destination_held(lib):
    m = lib.nn.Linear(1, 1)
    sd = m.state_dict(destination={"weight": 0, "other": 1})
    assert list(sd) == ["weight", "other", "bias"] and sd["weight"].shape == (1, 1)


@pytest.mark.parametrize("value", [[[1.0, 2.0], [3.0, 4.0]], 3, None, "w"])
def test_values_that_are_not_tensors_are_refused(torch, load_path, value):
    def run(lib, path):
        m = _net(lib, path)
        return _outcome(lib, m, {**m.state_dict(), "0.weight": value})

    want = run(torch, "one pass")
    assert 'While copying the parameter named "0.weight", expected torch.Tensor' in want[0]
    assert run(ember, load_path) == want


def test_numpy_arrays_are_still_taken(load_path):
    m = _net(ember, load_path)
    m.load_state_dict({**m.state_dict(), "0.bias": ember.ones(2).numpy() * 3})
    assert m[0].bias.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("assign", [False, True])
def test_a_one_element_vector_fills_a_0d_tensor(torch, load_path, assign):
    def run(lib, path):
        m = _net(lib, path)
        sd = {**m.state_dict(), "1.n": lib.tensor([7])}
        return _outcome(lib, m, sd, assign=assign), tuple(m[1].n.shape)

    assert run(ember, load_path) == run(torch, "one pass")
    m = _net(ember, load_path)
    with pytest.raises(RuntimeError, match="size mismatch for 1.n"):
        m.load_state_dict({**m.state_dict(), "1.n": ember.tensor([7, 8])})


@pytest.mark.parametrize("strict", [True, False])
def test_what_matches_is_loaded_even_when_the_load_fails(torch, load_path, strict):
    def run(lib, path):
        m = _net(lib, path)
        sd = {k: v * 0 - 1 for k, v in m.state_dict().items() if k != "1.n"}
        sd["0.bias"] = lib.ones(3)
        sd["extra"] = lib.ones(1)
        return _outcome(lib, m, sd, strict=strict)

    assert run(ember, load_path) == run(torch, "one pass")


def _shared(lib, path):
    m = lib.nn.Module()
    m.a = m.b = lib.nn.Linear(2, 2)
    if path == "walk":
        m.register_load_state_dict_pre_hook(lambda *args: None)
    return m


def test_assign_into_a_module_shared_under_two_names(torch, load_path):
    def run(lib, path):
        m = _shared(lib, path)
        sd = {"a.weight": lib.ones(2, 2), "b.weight": lib.full((2, 2), 5.0)}
        out = repr(m.load_state_dict(sd, strict=False, assign=True))
        return out, m.a is m.b, m.a.weight.tolist(), m.a.weight.requires_grad

    assert run(ember, load_path) == run(torch, "one pass")


def test_the_result_is_torchs_named_tuple(lib):
    r = lib.nn.Linear(1, 1).load_state_dict({"weight": lib.ones(1, 1)}, strict=False)
    assert r._fields == ("missing_keys", "unexpected_keys")
    assert r._asdict() == {"missing_keys": ["bias"], "unexpected_keys": []}
    assert type(r).__name__ == "_IncompatibleKeys"
    assert type(r).__mro__[1].__name__ == "IncompatibleKeys"
    assert str(r) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])"


# ------------------------------------------------------------------ torch files


def _archive(pkl: bytes, storages: dict | None = None) -> io.BytesIO:
    """A torch.save zip archive around a hand-written data.pkl."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)
    out.seek(0)
    return out


def _string(s: str) -> bytes:  # pickle's BINUNICODE
    return b"X" + len(s).to_bytes(4, "little") + s.encode()


#: BUILD on objects the unpickler hands out: each would change ember for every later load
_SETTING_ATTRIBUTES = {
    "a storage type": b"\x80\x02ctorch\nFloatStorage\n}" + _string("code") + _string("<f8")
    + b"sb.",
    "torch.Size": b"\x80\x02ctorch\nSize\nN}" + _string("__len__") + b"ctorch\nFloatStorage\n"
    + b"s\x86b.",
    "torch.device": b"\x80\x02ctorch\ndevice\nN}" + _string("__repr__")
    + b"c__builtin__\nset\ns\x86b.",
}  # fmt: skip


@pytest.mark.parametrize("what", sorted(_SETTING_ATTRIBUTES))
def test_a_file_cannot_set_attributes_of_what_it_names(torch, what):
    pkl = _SETTING_ATTRIBUTES[what]
    with pytest.raises(pickle.UnpicklingError):
        torch.load(_archive(pkl), weights_only=True)
    with pytest.raises(pickle.UnpicklingError, match="refusing to set the state"):
        ember.load(_archive(pkl))
    assert "__len__" not in vars(ember.Size) and "set" not in repr(ember.device("cpu"))
    buf = io.BytesIO()
    torch.save({"w": torch.arange(3.0)}, buf)
    buf.seek(0)
    assert ember.load(buf)["w"].tolist() == [0.0, 1.0, 2.0]  # float32 read as float32


def test_an_ordered_dicts_attributes_are_set_as_torchs(torch):
    buf = io.BytesIO()
    sd = torch.nn.Linear(1, 1).state_dict()
    torch.save(sd, buf)
    buf.seek(0)
    assert ember.load(buf)._metadata == sd._metadata


def _round_trip(torch, obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    want = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    buf.seek(0)
    return want, ember.load(buf)


def test_counters_bytearrays_and_complex_numbers_load_as_torchs(torch):
    obj = {"c": collections.Counter("aab"), "b": bytearray(b"xy"), "z": 1 - 2j}
    want, got = _round_trip(torch, obj)
    assert got == want and type(got["c"]) is collections.Counter


def test_a_tensor_with_attributes_loads_as_its_values(torch):
    t = torch.arange(3.0)
    t.note = "kept by torch"
    want, got = _round_trip(torch, {"t": t})
    assert want["t"].note == "kept by torch"
    assert type(got["t"]) is ember.Tensor and got["t"].tolist() == [0.0, 1.0, 2.0]


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("echo never",))


@pytest.mark.parametrize(
    "obj", [{"a": _RunsCode()}, {"m": "module"}], ids=["os.system", "a whole module"]
)
def test_refusals_are_the_unpickling_error_torch_raises(torch, obj):
    if obj.get("m") == "module":
        obj = {"m": torch.nn.Linear(1, 1)}
    buf = io.BytesIO()
    torch.save(obj, buf)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        ember.load(buf)


def test_a_storage_record_of_another_size_than_the_pickle_says_is_refused(torch):
    buf = io.BytesIO()
    torch.save({"w": torch.arange(4.0)[:2]}, buf)  # the view keeps its 4-element storage
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            raw = src.read(name)
            z.writestr(name, raw[:8] if name.endswith("/data/0") else raw)
    with pytest.raises(RuntimeError, match="does not match expected size"):
        torch.load(io.BytesIO(out.getvalue()), weights_only=True)
    with pytest.raises(ember.CheckpointError, match="has 8 bytes, the pickle says 4 elements"):
        ember.load(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize(
    "pkl, torch_error",
    [(b"\x80\x020.", pickle.UnpicklingError), (b"\x80\x02]h\x05.", KeyError)],
    ids=["pop", "memo"],
)
def test_a_damaged_pickle_is_a_checkpoint_error(torch, pkl, torch_error):
    """(ember's error is the same for every damage: a CheckpointError naming the file)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(torch_error):
            torch.load(_archive(pkl), weights_only=True)
    with pytest.raises(ember.CheckpointError, match="<file object>"):
        ember.load(_archive(pkl))


def test_the_root_modules_load_hooks_see_the_metadata(lib):
    m = lib.nn.Sequential(lib.nn.Linear(1, 1))
    seen = []
    for each in (m, m[0]):
        each.register_load_state_dict_pre_hook(
            lambda mod, sd, *args: seen.append(getattr(sd, "_metadata", None))
        )
    sd = m.state_dict()
    m.load_state_dict(sd)
    assert seen == [sd._metadata, None]


def test_save_writes_into_a_file_object_and_takes_torchs_pickle_arguments(torch, tmp_path):
    buf = io.BytesIO(b"head")
    buf.seek(4)
    ember.save({"w": ember.arange(3.0), "step": 2}, buf, pickle_protocol=2)
    buf.seek(4)
    got = ember.load(buf)
    assert got["w"].tolist() == [0.0, 1.0, 2.0] and got["step"] == 2
    for lib in (torch, ember):
        with pytest.raises(IsADirectoryError):
            lib.load(tmp_path)


# ------------------------------------------------------------------ safetensors with bfloat16


def _safetensors(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


_BF16 = {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}
_MALFORMED = {
    "a gap": ({"a": _BF16, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, 12),
    "an overlap": ({"a": _BF16, "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, 6),
    "bytes after": ({"a": _BF16}, 6),
    "not from 0": ({"a": {**_BF16, "data_offsets": [2, 6]}}, 6),
    "metadata not text": ({"a": _BF16, "__metadata__": {"step": 1}}, 4),
    "a float size": ({"a": {**_BF16, "shape": [2.0]}}, 4),
}


@pytest.mark.parametrize("what", sorted(_MALFORMED))
def test_a_malformed_bfloat16_file_is_refused_as_safetensors_refuses_it(what):
    """(a file without bfloat16 or float8 goes through safetensors itself)"""
    safetensors_torch = pytest.importorskip("safetensors.torch")
    header, size = _MALFORMED[what]
    raw = _safetensors(header, bytes(size))
    with pytest.raises(Exception, match="Error while deserializing"):
        safetensors_torch.load(raw)
    with pytest.raises(ember.CheckpointError):
        ember.load(io.BytesIO(raw))


def test_complex_tensors_beside_bfloat16_load_as_safetensors_reads_them(torch):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    src = {"z": torch.tensor([1 - 2j, 3j]), "h": torch.tensor([0.5, -2.0], dtype=torch.bfloat16)}
    got = ember.load(io.BytesIO(safetensors_torch.save(src)))
    assert got["z"].dtype == ember.complex64 and got["z"].tolist() == [1 - 2j, 3j]
    assert got["h"].dtype == ember.float32 and got["h"].tolist() == [0.5, -2.0]


def test_a_childs_own_state_dict_method_is_called(lib):
    class Tagged(lib.nn.Linear):
        def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
            out = super().state_dict(destination=destination, prefix=prefix, keep_vars=keep_vars)
            out[prefix + "tag"] = "v2"
            return out

    sd = lib.nn.Sequential(lib.nn.ReLU(), Tagged(1, 1)).state_dict()
    assert list(sd) == ["1.weight", "1.bias", "1.tag"] and list(sd._metadata) == ["", "0", "1"]
