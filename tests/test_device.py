"""Devices as PyTorch users write them: every tensor lives on the CPU in this version, "cpu"
is accepted wherever torch takes ``device=``, and "cuda" is a clear error saying why."""

import numpy as np
import pytest

import ember
from ember import nn

MAKERS = [
    lambda d: ember.tensor([1.0, 2.0], device=d),
    lambda d: ember.zeros(2, 3, device=d),
    lambda d: ember.ones((2, 3), device=d),
    lambda d: ember.empty(2, device=d),
    lambda d: ember.full((2,), 7.0, device=d),
    lambda d: ember.eye(3, device=d),
    lambda d: ember.arange(5, device=d),
    lambda d: ember.linspace(0, 1, 5, device=d),
    lambda d: ember.randn(2, 2, device=d),
    lambda d: ember.rand(2, device=d),
    lambda d: ember.randint(0, 5, (3,), device=d),
    lambda d: ember.randperm(4, device=d),
    lambda d: ember.zeros_like(ember.ones(2), device=d),
    lambda d: ember.ones_like(ember.ones(2), device=d),
    lambda d: ember.full_like(ember.ones(2), 3.0, device=d),
    lambda d: ember.randn_like(ember.ones(2), device=d),
    lambda d: ember.rand_like(ember.ones(2), device=d),
]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("device", [None, "cpu", "cpu:0"])
def test_every_maker_takes_the_cpu(make, device):
    assert make(device).device == "cpu"


@pytest.mark.parametrize("make", MAKERS)
def test_every_maker_refuses_cuda_and_says_why(make):
    with pytest.raises(RuntimeError, match=r"device 'cuda:1' was asked for.*CPU only"):
        make("cuda:1")


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", "cpu:1", ""])
def test_an_unknown_device_name_says_what_is_expected(name):
    with pytest.raises(ValueError, match=r"expected 'cpu', 'cuda' or 'cuda:N'"):
        ember.zeros(1, device=name)


def test_cuda_module_answers_as_torch_cuda_does():
    assert ember.cuda.is_available() is False and ember.cuda.device_count() == 0
    assert "CPU only" in ember.cuda.why_unavailable()
    device = "cuda" if ember.cuda.is_available() else "cpu"  # the PyTorch idiom runs unchanged
    model = nn.Linear(3, 2).to(device)
    x = ember.randn(4, 3, device=device)
    assert model(x).device == "cpu"


def test_to_a_device_keeps_the_tensor_and_refuses_cuda():
    x = ember.tensor(np.arange(3.0), requires_grad=True)
    assert x.to("cpu") is x and x.to(ember.float32).dtype == np.float32
    with pytest.raises(RuntimeError, match="ember.cuda.is_available"):
        x.to("cuda")
    with pytest.raises(ValueError, match="unknown device 'mps'"):
        nn.Linear(2, 2).to("mps")


def test_positional_arguments_keep_their_meaning():
    """device is keyword-only where a maker takes positional arguments after dtype."""
    t = ember.tensor([1.0], None, True)
    assert t.requires_grad and t.device == "cpu"
    assert ember.full((2,), 1.0, ember.float64, True).requires_grad


def test_recurrent_layers_take_torchs_device_keyword():
    assert nn.LSTM(2, 3, device="cpu").weight_ih_l0.device == "cpu"
    assert nn.GRUCell(2, 3, device=None).weight_hh.device == "cpu"
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.GRU(2, 3, device="cuda")
    with pytest.raises(ValueError, match="unknown device"):
        nn.LSTMCell(2, 3, device="xla")


LAYERS = [
    lambda d: nn.Linear(3, 2, device=d),
    lambda d: nn.Embedding(5, 2, device=d),
    lambda d: nn.Conv1d(2, 3, 3, device=d),
    lambda d: nn.Conv2d(2, 3, 3, device=d),
    lambda d: nn.BatchNorm1d(3, device=d),
    lambda d: nn.BatchNorm2d(3, device=d),
    lambda d: nn.GroupNorm(1, 3, device=d),
    lambda d: nn.LayerNorm(3, device=d),
    lambda d: nn.MultiheadAttention(4, 2, device=d),
    lambda d: nn.TransformerEncoderLayer(4, 2, 8, device=d),
    lambda d: nn.TransformerDecoderLayer(4, 2, 8, device=d),
    lambda d: nn.Transformer(4, 2, 1, 1, 8, device=d),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layers_take_torchs_device_keyword(make):
    assert all(p.device == "cpu" for p in make("cpu").parameters())
    with pytest.raises(RuntimeError, match="CPU only"):
        make("cuda")


def test_device_objects_as_torch_device():
    x = ember.ones(2)
    assert x.device == "cpu" and x.device == ember.device("cpu") and x.device.type == "cpu"
    assert x.device.index is None and repr(x.device) == "device(type='cpu')"
    assert x.device != "tpu" and x.device != "cuda"  # not a device name, or another device
    cuda1 = ember.device("cuda", 1)
    assert str(cuda1) == "cuda:1" and cuda1 == ember.device("cuda:1") and cuda1.index == 1
    assert ember.zeros(2, device=ember.device("cpu")).device == "cpu"
    assert x.to(ember.device("cpu")) is x
    model = nn.Linear(2, 2)
    assert model.to(ember.device("cpu"), ember.float64) is model
    assert model.weight.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to(cuda1)
    with pytest.raises(ValueError, match="unknown device 'mps'"):
        ember.device("mps")


def test_torch_module_paths():
    import ember.nn.functional as F_at_torch_path
    from ember.utils.data import DataLoader, TensorDataset

    assert F_at_torch_path.cross_entropy is ember.functional.cross_entropy
    assert set(ember.functional.__all__) <= set(dir(F_at_torch_path))
    assert DataLoader is ember.data.DataLoader and TensorDataset is ember.data.TensorDataset
    assert ember.utils.data.random_split is ember.data.random_split
