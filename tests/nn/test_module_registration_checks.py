"""Module's registration and mode methods refuse what torch refuses, and apply() visits in
torch's order (found by a module-API comparison with torch)."""

import numpy as np
import pytest

import ember


def _param(lib):
    return lib.nn.Parameter(lib.ones(1))


REFUSED = {
    "a parameter name with a dot": (KeyError, lambda L, m: m.register_parameter("a.b", _param(L))),
    "an empty parameter name": (KeyError, lambda L, m: m.register_parameter("", _param(L))),
    "a parameter over an attribute": (
        KeyError, lambda L, m: (setattr(m, "foo", 3), m.register_parameter("foo", _param(L)))
    ),
    "a parameter over a method": (
        KeyError, lambda L, m: m.register_parameter("forward", _param(L))
    ),
    "a plain tensor as parameter": (TypeError, lambda L, m: m.register_parameter("p", L.ones(1))),
    "a number as buffer": (TypeError, lambda L, m: m.register_buffer("b", 3)),
    "a buffer over a parameter": (KeyError, lambda L, m: m.register_buffer("weight", L.ones(1))),
    "an empty buffer name": (KeyError, lambda L, m: m.register_buffer("", L.ones(1))),
    "a buffer name with a dot": (KeyError, lambda L, m: m.register_buffer("x.y", L.ones(1))),
    "a buffer name that is not a string": (TypeError, lambda L, m: m.register_buffer(1, L.ones(1))),
    "a training mode that is not a bool": (ValueError, lambda L, m: m.train("yes")),
    "a state_dict that is no mapping": (
        TypeError, lambda L, m: m.load_state_dict([("weight", L.zeros(2, 2))])
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_as_torch(torch, case):
    error, f = REFUSED[case]
    for lib in (torch, ember):
        with pytest.raises(error):
            f(lib, lib.nn.Linear(2, 2))


def test_allowed_as_torch(torch):
    for lib in (torch, ember):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("b", lib.ones(1))
        m.register_buffer("b", lib.zeros(2))  # a buffer may replace a buffer
        m.register_parameter("weight", lib.nn.Parameter(lib.ones(2, 2)))  # and a parameter one
        m.register_parameter("extra", None)
        assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
        assert [n for n, _ in m.named_buffers()] == ["b"]
    ember.nn.Linear(2, 2).register_buffer("arr", np.ones(3))  # ember: a NumPy array is a tensor


def test_apply_visits_children_before_their_parent_in_order(torch):
    def order(lib):
        seen = []
        model = lib.nn.Sequential(
            lib.nn.Linear(1, 1), lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        )
        model.apply(lambda m: seen.append(type(m).__name__))
        return seen

    assert order(ember) == order(torch) == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]
