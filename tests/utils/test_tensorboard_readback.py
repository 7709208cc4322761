"""ember's event files read by TensorBoard's own reader (EventAccumulator), and compared with
what torch.utils.tensorboard writes for the same calls. Skipped without tensorboard."""

import io

import numpy as np
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter, crc32c, masked_crc32c

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

KEEP_ALL = {ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0}


def _load(path):
    acc = ea.EventAccumulator(str(path), size_guidance=KEEP_ALL)
    acc.Reload()
    return acc


def _pixels(png):
    Image = pytest.importorskip("PIL.Image")
    return np.asarray(Image.open(io.BytesIO(png)))


def test_crc_matches_tensorboards():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_masked

    rng = np.random.default_rng(1)
    for n in (0, 1, 9, 100, 20_000):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert masked_crc32c(data) == tb_masked(data)
    assert crc32c(b"123456789") == 0xE3069283


def test_scalars_read_back(tmp_path):
    values = np.random.default_rng(0).normal(size=200).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        for i, v in enumerate(values):
            w.add_scalar("loss", v, i, walltime=1000.0 + i)
        w.add_scalar("t", ember.tensor(1.5, requires_grad=True), 7, walltime=5.0)
        w.add_scalar("new", 0.1, 1, walltime=6.0, new_style=True, double_precision=True)
    acc = _load(tmp_path)
    got = acc.Scalars("loss")
    assert [e.step for e in got] == list(range(200))
    assert [e.wall_time for e in got] == [1000.0 + i for i in range(200)]
    np.testing.assert_array_equal([e.value for e in got], values)
    assert [(e.wall_time, e.step, e.value) for e in acc.Scalars("t")] == [(5.0, 7, 1.5)]
    (new,) = acc.Tensors("new")
    assert new.step == 1 and new.tensor_proto.double_val == [0.1]
    assert acc.SummaryMetadata("new").plugin_data.plugin_name == "scalars"


def test_histograms_read_back(tmp_path):
    values = np.random.default_rng(0).normal(size=500)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("h", values, 3, bins=20, walltime=2.0)
        w.add_histogram("tf", ember.tensor(values), 4)
    acc = _load(tmp_path)
    (h,) = acc.Histograms("h")
    counts, edges = np.histogram(values, bins=20)
    hv = h.histogram_value
    assert (h.step, h.wall_time) == (3, 2.0)
    assert (hv.min, hv.max, hv.num) == (values.min(), values.max(), 500)
    assert hv.sum == pytest.approx(values.sum()) and hv.sum_squares == pytest.approx(
        values @ values
    )
    assert hv.bucket == [0, *counts] and hv.bucket_limit == pytest.approx(list(edges))
    (tf,) = acc.Histograms("tf")
    assert sum(tf.histogram_value.bucket) == 500
    assert acc.CompressedHistograms("tf")  # the distributions view derives from it


def test_images_read_back(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (3, 6, 9), dtype=np.uint8)
    floats = rng.random((10, 12))
    with SummaryWriter(tmp_path) as w:
        w.add_image("rgb", ember.tensor(rgb), 1, walltime=3.0)
        w.add_image("gray", floats, 2, dataformats="HW")
        w.add_images("batch", rng.random((3, 8, 8, 3)), 3, dataformats="NHWC")
    acc = _load(tmp_path)
    (img,) = acc.Images("rgb")
    assert (img.step, img.wall_time, img.width, img.height) == (1, 3.0, 9, 6)
    np.testing.assert_array_equal(_pixels(img.encoded_image_string), rgb.transpose(1, 2, 0))
    (gray,) = acc.Images("gray")
    g = (floats.astype(np.float32) * 255).astype(np.uint8)
    np.testing.assert_array_equal(_pixels(gray.encoded_image_string), np.stack([g] * 3, -1))
    (batch,) = acc.Images("batch")
    assert (batch.width, batch.height) == (24, 8)


def test_text_read_back_by_the_text_plugin(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "# hello\nwörld", 2)
    acc = _load(tmp_path)
    (t,) = acc.Tensors("notes/text_summary")
    assert t.step == 2 and t.tensor_proto.string_val == ["# hello\nwörld".encode()]
    assert acc.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"
    from tensorboard.util import tensor_util

    assert tensor_util.make_ndarray(t.tensor_proto).tolist() == ["# hello\nwörld".encode()]


def test_add_scalars_subfolders_read_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(4):
            w.add_scalars("loss", {"train": 1.0 / (step + 1), "val": 2.0}, step)
    for key in ("train", "val"):
        acc = _load(tmp_path / f"loss_{key}")
        assert [e.step for e in acc.Scalars("loss")] == [0, 1, 2, 3]
    assert _load(tmp_path / "loss_val").Scalars("loss")[2].value == 2.0


def test_purge_step_drops_the_earlier_attempts_later_steps(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(10):
            w.add_scalar("x", step, step)
    with SummaryWriter(tmp_path, purge_step=5) as w:
        for step in range(5, 8):
            w.add_scalar("x", 100 + step, step)
    got = [(e.step, e.value) for e in _load(tmp_path).Scalars("x")]
    assert got == [(s, s) for s in range(5)] + [(s, 100 + s) for s in range(5, 8)]


def test_hparams_read_back(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.01, "opt": "sgd", "bn": False}, {"hp/loss": 0.5},
                      hparam_domain_discrete={"opt": ["sgd", "adam"]}, run_name="r")  # fmt: skip
    acc = _load(tmp_path / "r")
    data = acc.PluginTagToContent("hparams")
    exp = plugin_data_pb2.HParamsPluginData.FromString(data["_hparams_/experiment"]).experiment
    assert [i.name for i in exp.hparam_infos] == ["lr", "opt", "bn"]
    assert [v.string_value for v in exp.hparam_infos[1].domain_discrete.values] == ["sgd", "adam"]
    assert [m.name.tag for m in exp.metric_infos] == ["hp/loss"]
    start = plugin_data_pb2.HParamsPluginData.FromString(data["_hparams_/session_start_info"])
    hp = start.session_start_info.hparams
    assert (hp["lr"].number_value, hp["opt"].string_value, hp["bn"].bool_value) == (
        0.01, "sgd", False,
    )  # fmt: skip
    assert acc.Scalars("hp/loss")[0].value == 0.5


def test_same_as_torch_summary_writer(tmp_path, torch):
    """Histograms (default TensorFlow buckets), images and text as torch's writer gives them."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    rng = np.random.default_rng(0)
    values = rng.normal(size=300) * 3
    img = rng.random((3, 5, 4)).astype(np.float32)
    for Writer, sub in ((SummaryWriter, "ember"), (TorchWriter, "torch")):
        with Writer(str(tmp_path / sub)) as w:
            w.add_histogram("h", values, 1)
            w.add_histogram("h20", values, 1, bins=20, max_bins=10)
            w.add_image("img", img, 1)
            w.add_images("imgs", np.stack([img] * 3), 1)
            w.add_text("t", "hi", 1)
            w.add_scalar("s", 0.3, 1)
    ours, theirs = _load(tmp_path / "ember"), _load(tmp_path / "torch")
    for tag in ("h", "h20"):
        a, b = ours.Histograms(tag)[0].histogram_value, theirs.Histograms(tag)[0].histogram_value
        assert a.bucket == b.bucket and a.bucket_limit == pytest.approx(b.bucket_limit, rel=1e-12)
        assert (a.min, a.max, a.num) == (b.min, b.max, b.num)
    for tag in ("img", "imgs"):
        a, b = ours.Images(tag)[0], theirs.Images(tag)[0]
        assert (a.width, a.height) == (b.width, b.height)
        np.testing.assert_array_equal(
            _pixels(a.encoded_image_string), _pixels(b.encoded_image_string)
        )
    tb = "t/text_summary"
    assert ours.Tensors(tb)[0].tensor_proto == theirs.Tensors(tb)[0].tensor_proto
    assert ours.SummaryMetadata(tb) == theirs.SummaryMetadata(tb)
    assert ours.Scalars("s")[0].value == theirs.Scalars("s")[0].value
