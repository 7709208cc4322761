"""Module API details against torch: a submodule reachable under several names is in the
state_dict (and expected by load_state_dict) under each, named_modules/parameters/buffers take
remove_duplicate, load_state_dict's errors are torch's RuntimeError in torch's words (also
KeyError/ValueError, as ember raised), nn.Identity ignores its arguments."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 3)
            self.b = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1, bias=False))
            self.register_buffer("r", lib.zeros(2))
            self.shared = self.a

    return Net()


def test_shared_submodules_and_remove_duplicate_as_torch():
    e, t = _net(ember), _net(torch)
    assert list(e.state_dict()) == list(t.state_dict())
    for kw in ({}, {"remove_duplicate": False}):
        assert [n for n, _ in e.named_modules(**kw)] == [n for n, _ in t.named_modules(**kw)]
        assert [n for n, _ in e.named_parameters(**kw)] == [n for n, _ in t.named_parameters(**kw)]
        assert [n for n, _ in e.named_buffers(**kw)] == [n for n, _ in t.named_buffers(**kw)]
    sd = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    e.load_state_dict(sd)
    np.testing.assert_array_equal(e.a.weight.array, t.a.weight.detach().numpy())


def test_load_state_dict_errors_in_torchs_words():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as err:
            _net(lib).load_state_dict({"a.weight": lib.zeros(3, 2)})
        msg = str(err.value).replace("torch.", "ember.")
        assert msg == (
            'Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "r",'
            ' "a.bias", "b.1.weight", "shared.weight", "shared.bias". '
        )
        full = {**_net(lib).state_dict(), "a.weight": lib.zeros(2, 2), "zz": lib.zeros(1)}
        with pytest.raises(RuntimeError) as err:
            _net(lib).load_state_dict(full)
        msg = str(err.value).replace("torch.", "ember.")
        assert 'Unexpected key(s) in state_dict: "zz". ' in msg
        assert (
            "size mismatch for a.weight: copying a param with shape ember.Size([2, 2]) from"
            " checkpoint, the shape in current model is ember.Size([3, 2])." in msg
        )
    with pytest.raises(KeyError):  # ember's earlier types still catch it
        _net(ember).load_state_dict({})


def test_identity_takes_any_arguments_as_torch():
    for lib in (ember, torch):
        assert tuple(lib.nn.Identity(3, x=4)(lib.ones(2)).shape) == (2,)


def test_to_takes_floating_and_complex_dtypes_as_torch(torch):
    """Module.to(dtype): floating and complex tensors take it (a complex buffer cast to a real
    dtype keeps its real part, with torch's warning), integer ones keep theirs; an integer
    dtype is refused (ember cast the weights to integers)."""
    results = []
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("z", lib.tensor([1 + 2j]))
        m.register_buffer("n", lib.tensor([3]))
        with pytest.warns(Warning, match="discards the imaginary part"):
            m.to(lib.float64)
        got = [str(t.dtype).replace("torch.", "") for t in (m.weight, m.z, m.n)]
        results.append((got, m.z.tolist()))
        with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
            m.to(lib.int32)
        m.to(lib.complex128)
        results.append(str(m.weight.dtype).replace("torch.", ""))
    assert results[:2] == results[2:]
    assert results[0] == (["float64", "float64", "int64"], [1.0])
