"""ember.hub (torch.hub's checkpoint downloads): a torch state_dict file fetched by URL (a
file:// URL here: no network) loads into an ember layer; the cache is used on the second
call; torchvision-style hash prefixes are checked; code-running entry points are refused."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

import ember


@pytest.fixture
def served(tmp_path):
    """A torch Linear's state_dict saved under a torchvision-style name with its hash."""
    torch.manual_seed(0)
    ref = torch.nn.Linear(4, 3)
    plain = tmp_path / "src" / "linear.pth"
    plain.parent.mkdir()
    torch.save(ref.state_dict(), plain)
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    named = plain.with_name(f"linear-{digest[:8]}.pth")
    plain.rename(named)
    return ref, named, digest


def test_a_state_dict_by_url_loads_into_an_ember_layer_and_is_cached(served, tmp_path, monkeypatch):
    ref, path, _ = served
    monkeypatch.setattr(ember.hub, "_hub_dir", [None])  # set_dir below is undone afterwards
    ember.hub.set_dir(tmp_path / "hub")
    sd = ember.hub.load_state_dict_from_url(path.as_uri(), progress=False, check_hash=True)
    assert (tmp_path / "hub" / "checkpoints" / path.name).is_file()
    lin = ember.nn.Linear(4, 3)
    lin.load_state_dict(sd)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(
        lin(ember.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-6
    )
    path.unlink()  # the second call reads the cache
    again = ember.hub.load_state_dict_from_url(path.as_uri(), progress=False)
    np.testing.assert_array_equal(again["weight"].numpy(), sd["weight"].numpy())


def test_a_wrong_hash_prefix_leaves_no_file(served, tmp_path):
    _, path, _ = served
    bad = path.with_name("linear-00000000.pth")
    path.rename(bad)
    with pytest.raises(RuntimeError, match='invalid hash value .expected "00000000"'):
        ember.hub.load_state_dict_from_url(
            bad.as_uri(), model_dir=str(tmp_path / "m"), progress=False, check_hash=True
        )
    assert not any((tmp_path / "m").iterdir())


def test_download_url_to_file_and_the_refused_entry_points(served, tmp_path):
    _, path, digest = served
    dst = tmp_path / "out" / "w.pth"
    ember.hub.download_url_to_file(path.as_uri(), dst, hash_prefix=digest[:12], progress=False)
    assert dst.read_bytes() == path.read_bytes()
    with pytest.raises(RuntimeError, match="never runs downloaded code"):
        ember.hub.load("pytorch/vision", "resnet18")
