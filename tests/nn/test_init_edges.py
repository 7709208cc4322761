"""nn.init at its edges, as torch: random real-valued fills of an integer or bool tensor are
refused (NumPy cast the draws to zeros and small integers without a word), deterministic fills
of integers are taken, and zero-element tensors are a warned no-op."""

import pytest

import ember

FILLS = {
    "init.normal_": lambda L, t: L.nn.init.normal_(t),
    "init.uniform_": lambda L, t: L.nn.init.uniform_(t),
    "init.xavier_uniform_": lambda L, t: L.nn.init.xavier_uniform_(t),
    "init.xavier_normal_": lambda L, t: L.nn.init.xavier_normal_(t),
    "init.kaiming_uniform_": lambda L, t: L.nn.init.kaiming_uniform_(t),
    "init.kaiming_normal_": lambda L, t: L.nn.init.kaiming_normal_(t),
    "init.trunc_normal_": lambda L, t: L.nn.init.trunc_normal_(t),
    "init.orthogonal_": lambda L, t: L.nn.init.orthogonal_(t),
    "init.sparse_": lambda L, t: L.nn.init.sparse_(t, 0.5),
    "Tensor.normal_": lambda L, t: t.normal_(),
    "Tensor.uniform_": lambda L, t: t.uniform_(),
}


@pytest.mark.parametrize("name", sorted(FILLS))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_random_fills_of_integers_are_refused_as_torch(torch, name, dtype):
    with pytest.raises((NotImplementedError, RuntimeError)):  # (uint8 trunc_normal_: Runtime)
        FILLS[name](torch, torch.ones(3, 2, dtype=getattr(torch, dtype)))
    with pytest.raises(NotImplementedError, match="not implemented for"):
        FILLS[name](ember, ember.ones(3, 2, dtype=getattr(ember, dtype)))


def test_deterministic_fills_of_integers_as_torch(torch):
    def run(lib):
        init = lib.nn.init
        out = [
            init.constant_(lib.ones(2, 2, dtype=lib.int64), 3),
            init.eye_(lib.ones(2, 3, dtype=lib.int64)),
        ]
        out.append(init.dirac_(lib.ones(2, 2, 3, dtype=lib.int32)))
        return [t.tolist() for t in out]

    assert run(ember) == run(torch)


def test_zero_element_layers_and_inits_as_torch(torch):
    """Linear(0, n) builds, warns that its init is a no-op, and maps to its bias (ember divided
    by the fan of 0); Bilinear(0, …) is refused with torch's message."""
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            m = lib.nn.Linear(0, 3)
        assert tuple(m.weight.shape) == (3, 0) and m(lib.ones(2, 0)).tolist() == [[0.0] * 3] * 2
        assert tuple(lib.nn.init.orthogonal_(lib.ones(0, 3)).shape) == (0, 3)
        with pytest.raises(ValueError, match="in1_features must be > 0"):
            lib.nn.Bilinear(0, 2, 3)
