"""Random real-valued fills of an integer or bool tensor are refused, as torch refuses them
(NumPy cast the draws to zeros and small integers without a word); deterministic fills of
integers are taken, as torch's."""

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
