"""`ember train --augment`: the spec, the batch operations against ember.vision's transforms,
training batches augmented and validation batches not, seeded draws, exact resume, errors."""

import json

import numpy as np
import pytest

import ember
from ember import optim
from ember.cli import main
from ember.data import DataLoader, TensorDataset
from ember.models import MLP
from ember.tensor import Tensor
from ember.train import Trainer, load_checkpoint
from ember.train.augment import (
    BatchAugment,
    augment_seed,
    crop_batch,
    hflip_batch,
    parse_augment,
    resolve_augment,
    shift_batch,
)
from ember.vision.transforms import RandomCrop, RandomHorizontalFlip


def _images(shape=(6, 1, 8, 8), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------ the spec
def test_the_spec_is_parsed_and_resolved_for_the_data():
    assert parse_augment("crop:4,hflip") == [("crop", 4), ("hflip", None)]
    assert parse_augment(" Crop , HFLIP ") == [("crop", None), ("hflip", None)]
    assert parse_augment("none") == parse_augment(None) == []
    assert parse_augment("shift:3") == [("shift", 3)]
    # default sizes: 2 pixels on 28×28 images (as the brief's MNIST default), 1 on 8×8, L/10
    assert resolve_augment("crop,hflip", (1, 28, 28)) == "crop:2,hflip"
    assert resolve_augment("hflip,crop:4", (1, 28, 28)) == "hflip,crop:4"  # order kept
    assert resolve_augment("crop", (1, 8, 8)) == "crop:1"
    assert resolve_augment("shift", (40,)) == "shift:4"
    assert resolve_augment("none", (40,)) == resolve_augment(None, (1, 8, 8)) == "none"


@pytest.mark.parametrize(
    "spec, shape, message",
    [
        ("rotate", (1, 28, 28), "unknown augmentation 'rotate'; known: crop[:P], hflip, shift"),
        ("crop,,hflip", (1, 28, 28), "an empty entry; known"),
        ("crop:x", (1, 28, 28), "crop:P needs a positive integer P, got 'x'"),
        ("crop:0", (1, 28, 28), "needs a positive integer P, got '0'"),
        ("crop:-2", (1, 28, 28), "needs a positive integer P, got '-2'"),
        ("hflip:2", (1, 28, 28), "hflip takes no size"),
        ("crop,crop:3", (1, 28, 28), "crop is given twice"),
        ("none,hflip", (1, 28, 28), "'none' cannot be combined"),
        ("crop:28", (1, 28, 28), "by their whole size or more"),
        ("crop", (40,), "crop is for images, but mnist1d's inputs are 1-D signals of shape (40,)"),
        ("hflip", (40,), "for these use shift[:P]"),
        ("shift", (1, 28, 28), "shift is for 1-D signals, but mnist's inputs are images"),
        ("shift:40", (40,), "by their whole size or more"),
    ],
)
def test_specs_that_do_not_fit_are_clear_errors(spec, shape, message):
    with pytest.raises(ValueError) as e:
        resolve_augment(spec, shape, "mnist1d" if len(shape) == 1 else "mnist")
    assert message in str(e.value)


def test_hflip_warns_on_digits_but_not_on_fashion_mnist(recwarn):
    for name in ("mnist", "digits"):
        with pytest.warns(UserWarning, match=f"hflip on {name}: a mirrored digit"):
            BatchAugment("hflip", (1, 28, 28), dataset=name)
    BatchAugment("crop,hflip", (1, 28, 28), dataset="fashion-mnist")
    BatchAugment("crop", (1, 28, 28), dataset="mnist")
    assert not [w for w in recwarn if "hflip" in str(w.message)]


# ------------------------------------------------------------------ the batch operations
class _Offsets:
    """Stands in for the generator RandomCrop draws from, handing out given offsets."""

    def __init__(self, values, high):
        self.values, self.high = list(values), high

    def integers(self, low, high, shape):
        assert (low, high, shape) == (0, self.high, ())  # top, then left, in 0 … 2P
        return np.int64(self.values.pop(0))


@pytest.mark.parametrize("fill", [0.0, -0.4242])
@pytest.mark.parametrize("shape, P", [((5, 1, 8, 8), 2), ((4, 3, 7, 10), 3)])
def test_crop_is_random_crops_result_for_the_same_offsets(monkeypatch, shape, P, fill):
    x = _images(shape)
    B, _, H, W = shape
    offsets = np.random.default_rng(1).integers(0, 2 * P + 1, (B, 2))
    offsets[0] = (0, 2 * P)  # the extremes: shifted down-left …
    offsets[1] = (2 * P, 0)  # … and up-right
    got = crop_batch(x, offsets[:, 0], offsets[:, 1], P, fill)
    assert got.shape == x.shape and got.dtype == x.dtype

    crop = RandomCrop((H, W), padding=P, fill=fill)
    # RandomCrop draws from ember's default generator wherever vision defines it
    fake = _Offsets(offsets.ravel(), 2 * P + 1)
    monkeypatch.setitem(RandomCrop.__call__.__globals__, "default_generator", fake)
    for b in range(B):
        np.testing.assert_array_equal(got[b], crop(Tensor(x[b])).numpy())
    assert not fake.values

    # and plainly: the image shifted by (P − t, P − l), the uncovered border filled
    for b, (t, l) in enumerate(offsets):
        want = np.full_like(x[b], fill)
        dy, dx = P - t, P - l
        want[:, max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = x[
            b, :, max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
        ]
        np.testing.assert_array_equal(got[b], want)


def test_hflip_mirrors_the_masked_images_only():
    x = _images((5, 2, 4, 6))
    mask = np.array([True, False, True, True, False])
    got = hflip_batch(x, mask)
    flip = RandomHorizontalFlip(p=1.0)
    for b in range(5):
        want = flip(Tensor(x[b])).numpy() if mask[b] else x[b]
        np.testing.assert_array_equal(got[b], want)
    np.testing.assert_array_equal(got[1], x[1])
    assert not np.array_equal(got[0], x[0])


@pytest.mark.parametrize("shape", [(6, 40), (6, 2, 40)])
def test_shift_rolls_each_signal(shape):
    x = _images(shape)
    k = np.array([0, 1, -1, 4, -4, 3])
    got = shift_batch(x, k)
    for b in range(6):
        np.testing.assert_array_equal(got[b], np.roll(x[b], k[b], axis=-1))


def test_one_draw_per_augmentation_per_batch_from_the_seeded_generator():
    x = _images((16, 1, 8, 8))
    aug = BatchAugment("crop:2,hflip", (1, 8, 8), seed=7, fill=-1.0)
    g = ember.Generator().manual_seed(7)
    for _ in range(3):  # the stream goes on from batch to batch
        offsets = g.integers(0, 5, (16, 2))
        want = hflip_batch(crop_batch(x, offsets[:, 0], offsets[:, 1], 2, -1.0),
                           g.integers(0, 2, (16,)).astype(bool))  # fmt: skip
        np.testing.assert_array_equal(aug.augment(x), want)

    out, t = aug((Tensor(x), Tensor(np.arange(16))))
    assert isinstance(out, Tensor) and out.dtype == ember.float32 and out.shape == (16, 1, 8, 8)
    assert t.numpy().tolist() == list(range(16))  # targets untouched
    with pytest.raises(ValueError, match=r"expected batches of shape \(B, 1, 8, 8\)"):
        aug.augment(_images((4, 1, 28, 28)))


def test_same_seed_same_batches_other_seed_other_batches():
    x = _images((32, 1, 8, 8))

    def batches(seed):
        aug = BatchAugment("crop,hflip", (1, 8, 8), seed=seed)
        return [aug.augment(x) for _ in range(3)]

    a, b, c = batches(augment_seed(0)), batches(augment_seed(0)), batches(augment_seed(1))
    for u, v, w in zip(a, b, c):
        np.testing.assert_array_equal(u, v)
        assert not np.array_equal(u, w)
    assert not np.array_equal(a[0], a[1])  # each batch gets new draws
    assert augment_seed(0) != 0 and augment_seed(0) != augment_seed(1)


# ------------------------------------------------------------------ in the Trainer
class _Recording(Trainer):
    """Keeps every batch the loss is computed on, with whether the model was training."""

    def compute_loss(self, batch):
        self.seen.append((self.model.training, batch[0].numpy().copy()))
        return super().compute_loss(batch)


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return TensorDataset(_images((n, 1, 8, 8), seed), rng.integers(0, 3, n))


def _trainer(run_dir=None, seed=0, aug_seed=3, cls=Trainer):
    ember.manual_seed(seed)
    model = MLP(64, (8,), 3)
    aug = BatchAugment("crop:1,hflip", (1, 8, 8), seed=aug_seed)
    trainer = cls(model, optim.Adam(model.parameters(), lr=0.01), run_dir=run_dir,
                  progress=False, augment=aug)  # fmt: skip
    return trainer, DataLoader(_data(), batch_size=8, shuffle=True, seed=seed)


def test_training_batches_are_augmented_anew_each_epoch_validation_batches_never():
    trainer, _ = _trainer(cls=_Recording)
    trainer.seen = []
    raw = _data()
    plain = DataLoader(raw, batch_size=24)  # one unshuffled batch: the same images each epoch
    trainer.fit(plain, DataLoader(raw, batch_size=24), epochs=3, test_loader=plain)
    train = [x for training, x in trainer.seen if training]
    evals = [x for training, x in trainer.seen if not training]
    assert len(train) == 3 and len(evals) == 4  # 3 validations and the test
    x = raw.arrays[0]
    for a in train:
        assert not np.array_equal(a, x)
    assert not np.array_equal(train[0], train[1]) and not np.array_equal(train[1], train[2])
    for e in evals:
        np.testing.assert_array_equal(e, x)
    np.testing.assert_array_equal(trainer.last_batch[0].numpy(), train[-1])


def _params(trainer):
    return {k: v.detach().numpy().copy() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize("stop", [dict(epochs=2), dict(epochs=3, max_steps=5)])
def test_resume_draws_the_augmentations_of_the_uninterrupted_run(tmp_path, stop):
    straight, loader = _trainer(tmp_path / "straight")
    straight.fit(loader, epochs=3)  # 3 batches per epoch

    first, loader = _trainer(tmp_path / "resumed")
    first.fit(loader, **stop)
    # a fresh process with other seeds everywhere: the checkpoint decides
    second, loader = _trainer(tmp_path / "resumed", seed=99, aug_seed=99)
    second.fit(loader, epochs=3, resume=tmp_path / "resumed")
    assert second.step == straight.step == 9
    a, b = _params(straight), _params(second)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k
    saved = load_checkpoint(tmp_path / "resumed")["rng"]["augment"]
    assert saved["spec"] == "crop:1,hflip"
    assert saved["generator"] == straight.augment.generator.get_state()


def test_a_checkpoint_with_other_augmentation_is_refused(tmp_path):
    first, loader = _trainer(tmp_path)
    first.fit(loader, epochs=1)
    other, loader = _trainer()
    other.augment = BatchAugment("hflip", (1, 8, 8))
    with pytest.raises(ValueError, match="augmented with 'crop:1,hflip', this run's are with"):
        other.fit(loader, epochs=2, resume=tmp_path)


# ------------------------------------------------------------------ ember train --augment
def _train(shared_data, run_dir, *extra, data="digits"):
    argv = ["train", "mlp", "--data", data, "--data-root", str(shared_data / data)]
    argv += ["--run-dir", str(run_dir), "--no-progress", "-o", "hidden_sizes=32"]
    return main([*argv, *extra])


def test_cli_records_and_shows_the_augmentation_and_resumes_exactly(shared_data, tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    # 1295 digits for training, 41 batches of 32 an epoch: 30 steps stop inside epoch 1, and
    # the resumed run crosses into epoch 2
    assert _train(shared_data, straight, "--steps", "50", "--augment", "crop,hflip") == 0
    err = capsys.readouterr().err
    assert "augment crop:1,hflip (crops pad with 0, the inputs' black)" in err
    assert "warning: augment hflip on digits" in err
    assert json.loads((straight / "config.json").read_text())["augment"] == "crop:1,hflip"

    assert _train(shared_data, resumed, "--steps", "30", "--augment", "crop,hflip") == 0
    conflicting = ["train", "--resume", str(resumed), "--steps", "50", "--no-progress"]
    assert main([*conflicting, "--augment", "hflip"]) == 2
    err = capsys.readouterr().err
    assert f"--augment hflip: the run in {resumed} was trained with --augment crop:1,hflip" in err
    assert main([*conflicting, "--augment", "crop:1,hflip"]) == 0  # the same, spelled out
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    assert b["loop"]["step"] == 50
    for k in a["model"]:
        assert a["model"][k].numpy().tobytes() == b["model"][k].numpy().tobytes(), k


def test_cli_rejects_image_augmentation_of_1d_signals(shared_data, tmp_path, capsys):
    assert _train(shared_data, tmp_path / "run", "--augment", "crop,hflip", data="mnist1d") == 2
    err = capsys.readouterr().err
    assert "augment crop is for images, but mnist1d's inputs are 1-D signals" in err
    assert not (tmp_path / "run").exists()  # refused before a run folder was made
    assert _train(shared_data, tmp_path / "images", "--augment", "shift") == 2
    assert "shift is for 1-D signals, but digits's inputs are images" in capsys.readouterr().err
    assert _train(shared_data, tmp_path / "blur", "--augment", "blur") == 2
    assert "unknown augmentation 'blur'; known: crop[:P], hflip" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    # the 1-D one: a random circular shift, as MNIST-1D's signals are made
    assert _train(shared_data, tmp_path / "ok", "--steps", "2", "--augment", "shift",
                  data="mnist1d") == 0  # fmt: skip
    assert "augment shift:4" in capsys.readouterr().err
    assert json.loads((tmp_path / "ok" / "config.json").read_text())["augment"] == "shift:4"


def test_crop_fill_per_channel_pads_each_channel_with_its_own_value():
    x = _images((3, 3, 5, 6))
    fill = (0.5, -1.0, 0.25)
    got = crop_batch(x, np.array([0, 4, 2]), np.array([4, 0, 2]), 2, fill)
    for c, f in enumerate(fill):  # image 0 moved down-left: its top rows and right columns pad
        assert (got[0, c, :2] == np.float32(f)).all() and (got[0, c, :, -2:] == np.float32(f)).all()
        np.testing.assert_array_equal(got[0, c, 2:, :-2], x[0, c, :3, 2:])
    np.testing.assert_array_equal(got[2], x[2])  # offset (P, P): the image itself
    with pytest.raises(ValueError, match="crop fill has 2 values for 3 channels"):
        crop_batch(x, np.zeros(3, int), np.zeros(3, int), 2, (0.0, 1.0))
