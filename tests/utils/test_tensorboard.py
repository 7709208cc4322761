"""ember.utils.tensorboard without TensorBoard: CRC32C vectors, TFRecord framing, and the event
files parsed back field by field (numbers from tensorboard's event/summary/tensor .proto)."""

import glob
import os
import socket
import struct
import sys
import time
import zlib

import numpy as np
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter, crc32c, masked_crc32c, read_records
from ember.utils.tensorboard import record as record_module
from ember.utils.tensorboard.proto import decode


# ------------------------------------------------------------------ a minimal reader
def _double(b):
    return struct.unpack("<d", b)[0]


def _events(log_dir):
    """Every Event in the folder's event files (not subfolders), in file then record order."""
    out = []
    for path in sorted(glob.glob(os.path.join(str(log_dir), "events.out.tfevents.*"))):
        for data in read_records(path):
            f = decode(data)
            ev = {"wall_time": _double(f[1][0]), "step": f.get(2, [0])[0]}
            if 3 in f:
                ev["file_version"] = f[3][0].decode()
            if 7 in f:
                ev["session_log"] = decode(f[7][0])[1][0]
            if 5 in f:
                ev["values"] = [_value(decode(v)) for v in decode(f[5][0]).get(1, [])]
            out.append(ev)
    return out


def _value(f):
    v = {"tag": f[1][0].decode()}
    if 2 in f:
        v["simple_value"] = struct.unpack("<f", f[2][0])[0]
    if 4 in f:
        img = decode(f[4][0])
        v["image"] = {"height": img[1][0], "width": img[2][0], "colorspace": img[3][0]}
        v["image"]["png"] = img[4][0]
    if 5 in f:
        h = decode(f[5][0])
        v["histo"] = {k: _double(h[i][0]) for i, k in enumerate(_HISTO_SCALARS, 1)}
        v["histo"]["bucket_limit"] = np.frombuffer(h[6][0], "<f8")
        v["histo"]["bucket"] = np.frombuffer(h[7][0], "<f8")
    if 8 in f:
        v["tensor"] = decode(f[8][0])
    if 9 in f:
        plugin = decode(decode(f[9][0])[1][0])
        v["plugin"] = plugin[1][0].decode()
        v["plugin_content"] = plugin.get(2, [b""])[0]
    return v


_HISTO_SCALARS = ("min", "max", "num", "sum", "sum_squares")


def _summaries(log_dir):
    return [(ev, v) for ev in _events(log_dir) for v in ev.get("values", [])]


def _png_pixels(png):
    """Decode the PNGs encode_png writes (8-bit, filter type 0 on every row)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + n
    w, h, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * c)
    assert depth == 8 and not rows[:, 0].any()
    return rows[:, 1:].reshape(h, w, c)


# ------------------------------------------------------------------ CRC32C and framing
@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", 0x00000000),
        (b"a", 0xC1D04330),
        (b"123456789", 0xE3069283),
        (bytes(32), 0x8A9136AA),  # RFC 3720 (iSCSI) B.4 test vectors
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
    ],
)
def test_crc32c_known_vectors(data, expected):
    assert crc32c(data) == expected


def test_crc32c_long_input_lanes_match_the_byte_loop():
    # inputs past the lane threshold run the NumPy path; a continued CRC over short pieces
    # (each below the threshold) runs the plain loop: both must agree
    rng = np.random.default_rng(0)
    for n in (record_module._LANES_FROM, record_module._LANES_FROM + 1, 100_003, 300_000):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        crc = 0
        for i in range(0, n, 4096):
            crc = crc32c(data[i : i + 4096], crc)
        assert crc32c(data) == crc


def test_crc32c_is_fast_enough_for_thousands_of_scalars():
    start = time.perf_counter()
    for i in range(5000):
        masked_crc32c(b"x" * 40 + struct.pack("<i", i))
    assert time.perf_counter() - start < 2.0


def test_record_framing_and_corruption_detected(tmp_path):
    from ember.utils.tensorboard.record import encode_record

    rec = encode_record(b"hello")
    assert rec[:8] == struct.pack("<Q", 5) and rec[12:17] == b"hello"
    c = crc32c(b"hello")
    masked = (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert struct.unpack("<I", rec[17:])[0] == masked == masked_crc32c(b"hello")
    path = tmp_path / "f"
    path.write_bytes(rec + encode_record(b"world") + rec[:10])  # a torn last record
    assert list(read_records(path)) == [b"hello", b"world"]
    broken = bytearray(rec)
    broken[13] ^= 1
    path.write_bytes(bytes(broken))
    with pytest.raises(ValueError, match="bad data CRC"):
        list(read_records(path))


# ------------------------------------------------------------------ event files
def test_file_starts_with_the_version_event_and_scalars_read_back(tmp_path):
    with SummaryWriter(tmp_path, filename_suffix=".x") as w:
        w.add_scalar("loss", 0.5, 3, walltime=1234.5)
        w.add_scalar("loss", ember.tensor(2.0, requires_grad=True) * 2, 4, walltime=1235.0)
        w.add_scalar("acc", np.float64(0.25), np.int64(5))
        w.add_scalar("zero", 0.0, 0, walltime=1.0)  # a oneof zero is still written
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert path.endswith(".x") and socket.gethostname() in path
    events = _events(tmp_path)
    assert events[0]["file_version"] == "brain.Event:2"
    got = [
        (ev["step"], ev["wall_time"], v["tag"], v["simple_value"]) for ev, v in _summaries(tmp_path)
    ]
    assert got[:2] == [(3, 1234.5, "loss", 0.5), (4, 1235.0, "loss", 4.0)]
    assert got[2][0] == 5 and got[2][2:] == ("acc", 0.25) and abs(got[2][1] - time.time()) < 60
    assert got[3] == (0, 1.0, "zero", 0.0)


def test_histogram_fields(tmp_path):
    values = np.random.default_rng(0).normal(size=1000)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("h", values, 1, bins=10)
        w.add_histogram("tf", ember.tensor(values.astype(np.float32)), 2)
    (_, h), (_, tf) = _summaries(tmp_path)
    counts, edges = np.histogram(values, bins=10)
    hist = h["histo"]
    assert hist["min"] == values.min() and hist["max"] == values.max() and hist["num"] == 1000
    assert np.isclose(hist["sum"], values.sum()) and np.isclose(
        hist["sum_squares"], values @ values
    )
    # a leading empty bucket carries the leftmost edge (TensorBoard keeps right edges only)
    np.testing.assert_array_equal(hist["bucket"], np.concatenate([[0], counts]))
    np.testing.assert_array_equal(hist["bucket_limit"], edges)
    t = tf["histo"]
    assert t["bucket"].sum() == 1000 and np.all(np.diff(t["bucket_limit"]) > 0)
    assert t["bucket_limit"][0] <= values.min() and t["bucket_limit"][-1] >= values.max()


def test_histogram_max_bins_and_trimming(tmp_path):
    values = np.array([5.0, 5.5, 6.0, 9.0])
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("h", values, bins=np.arange(0.0, 21.0), max_bins=5)
    ((_, v),) = _summaries(tmp_path)
    # 20 unit bins merged 4 to a bucket: [0,4) [4,8) [8,12) ...; trimmed to [4,12) plus one
    np.testing.assert_array_equal(v["histo"]["bucket"], [0, 3, 1])
    np.testing.assert_array_equal(v["histo"]["bucket_limit"], [4, 8, 12])


def test_images_decode_to_the_same_pixels(tmp_path):
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    chw = rng.random((4, 6, 4))  # RGBA floats in [0, 1]
    gray = rng.random((3, 4)).astype(np.float32)
    batch = rng.integers(0, 256, (10, 1, 2, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image("hwc", hwc, 0, dataformats="HWC")
        w.add_image("chw", ember.tensor(chw), 1)
        w.add_image("gray", gray, 2, dataformats="HW")
        w.add_images("batch", batch, 3)
    imgs = {v["tag"]: v["image"] for _, v in _summaries(tmp_path)}
    assert (imgs["hwc"]["height"], imgs["hwc"]["width"], imgs["hwc"]["colorspace"]) == (5, 7, 3)
    np.testing.assert_array_equal(_png_pixels(imgs["hwc"]["png"]), hwc)
    expected = (chw.transpose(1, 2, 0).astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_png_pixels(imgs["chw"]["png"]), expected)
    assert imgs["chw"]["colorspace"] == 4
    g = (gray * 255).astype(np.uint8)
    np.testing.assert_array_equal(_png_pixels(imgs["gray"]["png"]), np.stack([g, g, g], -1))
    grid = _png_pixels(imgs["batch"]["png"])  # 8 to a row: 2 rows of 8 tiles, 2 tiles used
    assert grid.shape == (4, 24, 3)
    np.testing.assert_array_equal(grid[2:4, 3:6, 0], batch[9, 0])
    assert not grid[2:, 6:].any()


def test_image_errors_say_what_was_expected(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"'CHW' must have 3 dimensions, got 2 \(shape"):
            w.add_image("x", np.zeros((4, 4)))
        with pytest.raises(ValueError, match="permutation of HW, CHW or NCHW"):
            w.add_image("x", np.zeros((4, 4, 3)), dataformats="HWX")
        with pytest.raises(ValueError, match="1, 3 or 4 channels.*got 2"):
            w.add_image("x", np.zeros((2, 4, 4)))
        with pytest.raises(ValueError, match="4-letter dataformats"):
            w.add_images("x", np.zeros((4, 4, 3)), dataformats="HWC")
        with pytest.raises(TypeError, match="img_tensor must be an ember Tensor"):
            w.add_image("x", "not an image")


def test_other_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"exactly one number, got shape \(2,\)"):
            w.add_scalar("x", np.zeros(2))
        with pytest.raises(TypeError, match="tag must be a str"):
            w.add_scalar(3, 1.0)
        with pytest.raises(ValueError, match="global_step must be a whole number"):
            w.add_scalar("x", 1.0, 1.5)
        with pytest.raises(ValueError, match="values is empty"):
            w.add_histogram("h", np.array([]))
        with pytest.raises(TypeError, match="text_string must be a str"):
            w.add_text("t", 3)


def test_text_is_a_string_tensor_for_the_text_plugin(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "héllo **world**", 7)
    ((ev, v),) = _summaries(tmp_path)
    assert ev["step"] == 7 and v["tag"] == "notes/text_summary" and v["plugin"] == "text"
    t = v["tensor"]
    assert t[1] == [7] and t[8] == ["héllo **world**".encode()]  # DT_STRING, string_val
    assert decode(t[2][0]) == {2: [b"\x08\x01"]}  # shape [1]


def test_add_scalars_writes_one_subfolder_per_key(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("run/loss", {"train": step, "val": 10 + step}, step)
    for key, offset in (("train", 0), ("val", 10)):
        got = [
            (ev["step"], v["tag"], v["simple_value"])
            for ev, v in _summaries(tmp_path / f"run_loss_{key}")
        ]
        assert got == [(s, "run/loss", float(offset + s)) for s in range(3)]
    assert _summaries(tmp_path) == []


def test_purge_step_writes_a_session_start(tmp_path):
    SummaryWriter(tmp_path, purge_step=5).close()
    events = _events(tmp_path)
    assert events[1]["step"] == 5 and events[1]["file_version"] == "brain.Event:2"
    assert events[2]["step"] == 5 and events[2]["session_log"] == 1  # START


def test_queue_flush_close_and_reopen(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3, flush_secs=0)
    w.add_scalar("a", 1.0, 1)
    w.add_scalar("a", 2.0, 2)
    assert _summaries(tmp_path) == []  # queued
    w.add_scalar("a", 3.0, 3)  # the queue is full: written
    assert len(_summaries(tmp_path)) == 3
    w.add_scalar("a", 4.0, 4)
    w.flush()
    assert len(_summaries(tmp_path)) == 4
    w.close()
    w.add_scalar("a", 5.0, 5)  # after close, as torch: a new event file
    w.close()
    assert len(glob.glob(str(tmp_path / "events.*"))) == 2 and len(_summaries(tmp_path)) == 5


def test_flush_secs_writes_in_the_background(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=0.05)
    w.add_scalar("a", 1.0, 1)
    deadline = time.time() + 10
    while not _summaries(tmp_path) and time.time() < deadline:
        time.sleep(0.02)
    assert len(_summaries(tmp_path)) == 1
    w.close()


def test_default_log_dir_is_torchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    w.close()
    parent, name = os.path.split(w.log_dir)
    assert parent == "runs" and name.endswith("_" + socket.gethostname() + "_lr0.1")
    assert os.path.isdir(w.get_logdir())


def test_add_figure_uses_agg_and_leaves_the_figure_alone(tmp_path):
    from matplotlib.figure import Figure

    had_pyplot = "matplotlib.pyplot" in sys.modules
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    canvas = fig.canvas
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", fig, 1)
        w.add_figure("figs", [fig, fig], 2)
    assert fig.canvas is canvas and ("matplotlib.pyplot" in sys.modules) == had_pyplot
    (_, one), (_, two) = _summaries(tmp_path)
    assert (one["image"]["height"], one["image"]["width"], one["image"]["colorspace"]) == (
        50,
        100,
        3,
    )
    px = _png_pixels(one["image"]["png"])
    assert px.shape == (50, 100, 3) and px.min() < 128 and px.max() == 255  # a line on white
    assert (two["image"]["height"], two["image"]["width"]) == (50, 200)
    with pytest.raises(TypeError, match="matplotlib Figure"), SummaryWriter(tmp_path) as w:
        w.add_figure("x", np.zeros((3, 4, 4)))


def test_add_hparams_writes_the_plugin_summaries_in_a_subfolder(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "opt": "adam", "bn": True, "skip": None}, {"hp/acc": 0.9},
                      run_name="trial")  # fmt: skip
    got = _summaries(tmp_path / "trial")
    tags = [v["tag"] for _, v in got]
    assert tags == ["_hparams_/experiment", "_hparams_/session_start_info",
                    "_hparams_/session_end_info", "hp/acc"]  # fmt: skip
    assert {v.get("plugin") for _, v in got[:3]} == {"hparams"}
    start = decode(decode(got[1][1]["plugin_content"])[3][0])
    hp = {decode(e)[1][0].decode(): decode(decode(e)[2][0]) for e in start[1]}
    assert set(hp) == {"lr", "opt", "bn"} and _double(hp["lr"][2][0]) == 0.1
    assert hp["opt"] == {3: [b"adam"]} and hp["bn"] == {4: [1]}
    with pytest.raises(ValueError, match="hparam value must be"), SummaryWriter(tmp_path) as w:
        w.add_hparams({"x": [1, 2]}, {})
