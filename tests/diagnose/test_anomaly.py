"""detect_anomaly names the first op, the layer, the pass and the shape; costs nothing off."""

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import function
from ember.nn.module import Module
from ember.nn.module_tracking import module_stack


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


class LogHead(nn.Module):
    """log of a linear output: NaN wherever the output is negative."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 2)
        nn.init.constant_(self.proj.bias, -5.0)  # negative outputs: log gives NaN

    def forward(self, x):
        return self.proj(x).log()


class SqrtHead(nn.Module):
    """sqrt(0) is finite; its derivative 1/(2√x) is not."""

    def forward(self, x):
        return (x * 0.0).sqrt()


class Net(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.encoder = Block()
        self.head = head

    def forward(self, x):
        return self.head(self.encoder(x))


def test_forward_nan_names_op_layer_and_shape():
    net = Net(LogHead())
    x = ember.randn(5, 4)
    with pytest.raises(RuntimeError) as e, np.errstate(invalid="ignore"):
        with ember.detect_anomaly():
            net(x)
    msg = str(e.value)
    assert "forward" in msg and "op Log" in msg
    assert "layer 'head' (LogHead)" in msg
    assert "(5, 2)" in msg and "NaN" in msg
    assert "test_anomaly.py" in msg  # the line of user code that made the op
    assert "clamp" in msg  # the hint for log


def test_backward_inf_names_op_and_layer():
    net = Net(SqrtHead())
    x = ember.randn(5, 4)
    with pytest.raises(RuntimeError) as e, np.errstate(divide="ignore"):
        with ember.detect_anomaly(net):
            net(x).sum().backward()
    msg = str(e.value)
    assert "backward" in msg and "op Sqrt" in msg
    assert "layer 'head' (SqrtHead)" in msg and "(5, 3)" in msg and "Inf" in msg


def test_nested_layer_name_with_model_given():
    net = Net(LogHead())
    with np.errstate(over="ignore"):
        net.encoder.fc2.weight.array[...] = 3e38  # the product overflows to inf
    with pytest.raises(RuntimeError, match=r"op Linear in layer 'encoder.fc2' \(Linear\)"):
        with ember.detect_anomaly(net), np.errstate(over="ignore", invalid="ignore"):
            net(ember.ones(2, 4))


def test_nonfinite_parameter_is_named_as_the_source():
    net = Net(LogHead())
    net.encoder.fc1.weight.array[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="parameter 'encoder.fc1.weight' holds non-finite"):
        with ember.detect_anomaly(net):
            net(ember.randn(2, 4))


def test_finite_run_passes_and_everything_is_restored():
    plain_call = Module.__call__
    net = Net(nn.Identity())
    with ember.detect_anomaly(net):
        net(ember.randn(2, 4)).sum().backward()
    assert function.observers == [] and Module.__call__ is plain_call and module_stack == []
    # also after an anomaly was raised
    with pytest.raises(RuntimeError), np.errstate(invalid="ignore"):
        with ember.detect_anomaly():
            Net(LogHead())(ember.randn(5, 4))
    assert function.observers == [] and Module.__call__ is plain_call and module_stack == []


def test_op_outside_any_module_and_bad_model_argument():
    x = ember.zeros(3, requires_grad=True)
    with (
        pytest.raises(RuntimeError, match="op Log outside any module"),
        np.errstate(divide="ignore"),
    ):
        with ember.detect_anomaly():
            x.log()
    with pytest.raises(TypeError, match="ember Module"):
        with ember.detect_anomaly(model="net"):
            pass


def test_torch_autograd_names_check_backward_only(torch):
    mask = ember.tensor([[True, False], [False, False]])
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    assert not ember.autograd.is_anomaly_enabled()
    with np.errstate(divide="ignore"), ember.autograd.detect_anomaly():
        assert ember.autograd.is_anomaly_enabled()
        w = ember.randn(2, 2, requires_grad=True)  # a masked -inf in the forward is no error,
        w.masked_fill(mask, float("-inf")).softmax(-1).sum().backward()  # as in torch
        with pytest.raises(RuntimeError, match="backward: op Sqrt .* non-finite gradient"):
            x.sqrt().sum().backward()
    assert not ember.autograd.is_anomaly_enabled()
    with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="nan"):
        tx = torch.tensor([0.0, 1.0], requires_grad=True)  # torch raises alike (0·inf = nan)
        (tx.sqrt() * 0).sum().backward()


def test_set_detect_anomaly_process_wide_and_as_a_block():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    ember.autograd.set_detect_anomaly(True)
    try:
        assert ember.autograd.is_anomaly_enabled()
        with np.errstate(divide="ignore"), pytest.raises(RuntimeError, match="op Sqrt"):
            x.sqrt().sum().backward()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not ember.autograd.is_anomaly_enabled()
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()  # off: the inf gradient goes through, as in torch
    assert np.isinf(x.grad.numpy()[0])
    with ember.autograd.set_detect_anomaly(True):
        assert ember.autograd.is_anomaly_enabled()
    assert not ember.autograd.is_anomaly_enabled()
