"""A Python value taken from a tensor during export (item(), float(), bool(), tolist()) is baked
into the graph as a constant: the exporter warns (ember.onnx.TracerWarning) exactly where that
value followed the inputs, naming the conversion and the module, and stays quiet where it did
not (a value computed from the weights alone, a shape check)."""

import io
import warnings

import numpy as np
import pytest

pytest.importorskip("onnx")

import ember  # noqa: E402
from ember import nn  # noqa: E402
from ember.onnx import TracerWarning  # noqa: E402


class _Scaled(nn.Module):
    """y · s, s a Python number taken from ``pick(y, layer)``."""

    def __init__(self, pick):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.pick = pick

    def forward(self, x):
        y = self.lin(x)
        return y * self.pick(y, self.lin)


def _export(model, x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.onnx.export(model, (x,), io.BytesIO())
    return [w for w in caught if issubclass(w.category, TracerWarning)]


def _x(seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal((3, 4)).astype(np.float32))


@pytest.mark.parametrize(
    "pick, what",
    [
        (lambda y, lin: float(y.abs().max()), "item()"),
        (lambda y, lin: y.sum().item(), "item()"),
        (lambda y, lin: y[0].tolist()[1], "tolist()"),
    ],
    ids=["float", "item", "tolist"],
)
def test_a_value_that_follows_the_inputs_is_named(pick, what):
    ember.manual_seed(0)
    caught = _export(_Scaled(pick), _x())
    assert len(caught) == 1
    message = str(caught[0].message)
    assert what in message and "the root _Scaled" in message
    assert "holds" in message and "as a constant" in message


@pytest.mark.parametrize(
    "pick",
    [
        lambda y, lin: float(lin.weight.abs().max()),  # the weights only: a true constant
        lambda y, lin: 1.0 if bool((y > 1e9).any()) else 0.5,  # the same on every input
        lambda y, lin: float(y.shape[0]),  # a shape is no tensor value
    ],
    ids=["weights", "a_check", "shape"],
)
def test_a_value_that_does_not_follow_the_inputs_is_quiet(pick):
    ember.manual_seed(0)
    assert _export(_Scaled(pick), _x()) == []


ORDERED = ember.arange(12.0).reshape(3, 4)  # the probe's inputs, drawn at random, are not


def test_a_branch_on_a_tensor_that_follows_the_inputs_is_named():
    class Branch(nn.Module):
        def forward(self, x):
            return x * (2.0 if x[0, 0] < x[2, 3] else -1.0)

    caught = _export(Branch(), ORDERED)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "bool() (an if or a while on a tensor) in the root Branch" in message


def test_control_flow_that_takes_more_values_on_other_inputs_is_named():
    class Loop(nn.Module):
        def forward(self, x):
            k = 0
            while k < 12 and x[k // 4, k % 4] < 5.5:  # stops at the first element past 5.5
                k += 1
            return x * float(k)

    caught = _export(Loop(), ORDERED)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "took 7 Python value(s) from tensors on the traced inputs and 1 on other" in message
    assert "Python control flow follows the input values" in message


def test_eager_runs_take_values_without_any_observer():
    x = _x()
    assert float(x.sum()) == pytest.approx(float(x.numpy().sum()), rel=1e-6)
    assert x.tolist() == x.numpy().tolist()
