"""Against torch: load_state_dict(assign=True), nn.utils.skip_init,
nn.utils.convert_conv{2,3}d_weight_memory_format and nn.RNNBase's leading ``mode``."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


def _pair():
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    return ours, theirs


def _state(module, dtype=np.float64):
    """Fresh float64 values for every floating entry (so assign's dtype shows)."""
    return {
        k: rng.standard_normal(tuple(v.shape)).astype(dtype) if "num_batches" not in k else v
        for k, v in module.state_dict().items()
    }


# ------------------------------------------------------------ load_state_dict(assign=True)
@pytest.mark.parametrize("hooked", [False, True])
def test_assign_keeps_dtype_memory_and_requires_grad(hooked):
    ours, theirs = _pair()
    ours[0].bias.requires_grad_(False)
    theirs[0].bias.requires_grad_(False)
    if hooked:  # the slower path with load-state-dict hooks takes assign too
        ours.register_load_state_dict_post_hook(lambda m, keys: None)
        theirs.register_load_state_dict_post_hook(lambda m, keys: None)
    arrays = _state(ours)
    sd = {k: ember.Tensor(a) if isinstance(a, np.ndarray) else a for k, a in arrays.items()}
    tsd = {k: torch.as_tensor(np.asarray(v)) for k, v in sd.items()}
    r, tr = ours.load_state_dict(sd, assign=True), theirs.load_state_dict(tsd, assign=True)
    assert r.missing_keys == tr.missing_keys == [] and r.unexpected_keys == tr.unexpected_keys
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname and str(p.dtype) == str(tp.dtype).split(".")[1] == "float64"
        assert isinstance(p, nn.Parameter) and isinstance(tp, torch.nn.Parameter)
        assert p.requires_grad == tp.requires_grad  # the module's, not the state dict's
        assert (p.data_ptr() == sd[name].data_ptr()) == (tp.data_ptr() == tsd[name].data_ptr())
        assert p.data_ptr() == sd[name].data_ptr()
    buffers = dict(ours.named_buffers())
    tbuffers = dict(theirs.named_buffers())
    assert list(buffers) == list(tbuffers)
    assert buffers["1.running_mean"] is sd["1.running_mean"]  # a buffer is the tensor given
    assert tbuffers["1.running_mean"] is tsd["1.running_mean"]
    assert ours[0].weight.requires_grad and not ours[0].bias.requires_grad


def test_assign_then_train_without_optimizer_matches_torch():
    ours, theirs = _pair()
    sd = _state(ours)
    ours.load_state_dict({k: ember.Tensor(v) for k, v in sd.items()}, assign=True)
    theirs.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in sd.items()}, assign=True)
    x = rng.standard_normal((5, 3))
    for _ in range(2):
        out = ours(ember.Tensor(x)).square().sum()
        tout = theirs(torch.tensor(x)).square().sum()
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-10)
        out.backward()
        tout.backward()
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)
            with ember.no_grad():
                p -= 0.1 * p.grad
            with torch.no_grad():
                tp -= 0.1 * tp.grad
            p.grad, tp.grad = None, None
    np.testing.assert_allclose(
        ours[1].running_mean.numpy(), theirs[1].running_mean.numpy(), rtol=1e-10
    )


def test_assign_takes_a_parameter_itself_and_numpy_and_torch_without_copy():
    ours = nn.Linear(3, 2)
    weight = nn.Parameter(ember.Tensor(rng.standard_normal((2, 3))), requires_grad=False)
    bias = rng.standard_normal(2)
    ours.load_state_dict({"weight": weight, "bias": bias}, assign=True)
    assert ours.weight is weight and ours.weight.requires_grad  # the module's requires_grad
    theirs = torch.nn.Linear(3, 2)
    tweight = torch.nn.Parameter(torch.randn(2, 3), requires_grad=False)
    theirs.load_state_dict({"weight": tweight, "bias": torch.randn(2)}, assign=True)
    assert theirs.weight is tweight and theirs.weight.requires_grad
    assert ours.bias.data_ptr() == bias.ctypes.data and ours.bias.dtype == np.float64
    t = {"weight": torch.randn(2, 3, dtype=torch.float64), "bias": torch.randn(2)}
    ours.load_state_dict(t, assign=True)
    assert ours.weight.data_ptr() == t["weight"].data_ptr() and ours.weight.dtype == np.float64


def test_assign_false_still_copies_and_converts():
    ours = nn.Linear(3, 2)
    sd = {k: ember.Tensor(v) for k, v in _state(ours).items()}
    ours.load_state_dict(sd)
    assert ours.weight.dtype == np.float32 and ours.weight.data_ptr() != sd["weight"].data_ptr()


def test_assign_errors_and_partial_load_as_torch():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with pytest.raises(Exception, match="weight"):
        ours.load_state_dict({"weight": np.zeros((3, 3)), "bias": np.zeros(2)}, assign=True)
    with pytest.raises(RuntimeError, match="weight"):
        theirs.load_state_dict({"weight": torch.zeros(3, 3), "bias": torch.zeros(2)}, assign=True)
    with pytest.raises(KeyError, match="bias"):
        ours.load_state_dict({"weight": np.zeros((2, 3))}, assign=True)
    with pytest.raises(RuntimeError, match="bias"):
        theirs.load_state_dict({"weight": torch.zeros(2, 3)}, assign=True)
    old_bias = ours.bias
    r = ours.load_state_dict({"weight": np.zeros((2, 3))}, strict=False, assign=True)
    tr = theirs.load_state_dict({"weight": torch.zeros(2, 3)}, strict=False, assign=True)
    assert r.missing_keys == tr.missing_keys == ["bias"] and ours.bias is old_bias
    assert ours.weight.dtype == np.float64 and theirs.weight.dtype == torch.float32


def test_assign_inside_a_parameter_list():
    ours = nn.ParameterList([nn.Parameter(ember.zeros(2)), nn.Parameter(ember.zeros(3))])
    new = ember.Tensor(np.arange(3.0))
    ours.load_state_dict({"0": ember.ones(2), "1": new}, assign=True)
    assert ours[1].data_ptr() == new.data_ptr() and isinstance(ours[1], nn.Parameter)
    assert len(list(ours.parameters())) == 2


# ------------------------------------------------------------ skip_init
def test_skip_init_builds_a_working_module():
    m = nn.utils.skip_init(nn.Linear, 6, 2, dtype=ember.float64)
    t = torch.nn.utils.skip_init(torch.nn.Linear, 6, 2, dtype=torch.float64)
    assert tuple(m.weight.shape) == tuple(t.weight.shape) and m.weight.dtype == np.float64
    assert m.weight.requires_grad and t.weight.requires_grad
    assert m(ember.ones(4, 6, dtype=ember.float64)).shape == (4, 2)
    conv = nn.utils.skip_init(nn.Conv2d, 3, 4, 3, bias=False)
    assert conv(ember.ones(1, 3, 5, 5)).shape == (1, 4, 3, 3) and conv.bias is None


def test_skip_init_really_skips_and_restores_init():
    before = nn.init.uniform_
    ember.manual_seed(0)
    nn.utils.skip_init(nn.Linear, 300, 300)
    after_skip = ember.rand(3).numpy()
    ember.manual_seed(0)
    after_nothing = ember.rand(3).numpy()
    np.testing.assert_array_equal(after_skip, after_nothing)  # no random numbers drawn
    assert nn.init.uniform_ is before
    m = nn.Linear(300, 300)
    assert float(m.weight.abs().max()) <= 1 / np.sqrt(300) and float(m.weight.std()) > 0


def test_skip_init_errors_as_torch():
    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    class TNoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()

    msg = "Module must support a 'device' arg to skip initialization"
    with pytest.raises(RuntimeError, match=msg):
        nn.utils.skip_init(NoDevice, 3)
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.utils.skip_init(TNoDevice, 3)
    for ours, theirs in ((nn.LSTM, torch.nn.LSTM), (nn.GRU, torch.nn.GRU)):  # (*args, **kw)
        with pytest.raises(RuntimeError, match=msg):
            nn.utils.skip_init(ours, 3, 4)
        with pytest.raises(RuntimeError, match=msg):
            torch.nn.utils.skip_init(theirs, 3, 4)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        torch.nn.utils.skip_init(int)


# ------------------------------------------------------------ conv weight memory formats
def test_convert_conv2d_weight_memory_format_strides_as_torch():
    ours = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.Sequential(nn.ConvTranspose2d(8, 4, 3, groups=2)), nn.Linear(2, 2)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3),
        torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 4, 3, groups=2)),
        torch.nn.Linear(2, 2),
    )
    weight = ours[0].weight
    assert nn.utils.convert_conv2d_weight_memory_format(ours, ember.channels_last) is ours
    torch.nn.utils.convert_conv2d_weight_memory_format(theirs, torch.channels_last)
    assert ours[0].weight is weight  # the same Parameter, new memory
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert p.stride() == tp.stride()
    assert ours[0].weight.is_contiguous(memory_format=ember.channels_last)
    x = rng.standard_normal((1, 3, 6, 6)).astype(np.float32)
    before = nn.Conv2d(3, 8, 3)
    before.load_state_dict(ours[0].state_dict())
    np.testing.assert_allclose(
        ours[0](ember.Tensor(x)).detach().numpy(),
        before(ember.Tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    nn.utils.convert_conv2d_weight_memory_format(ours, ember.contiguous_format)
    torch.nn.utils.convert_conv2d_weight_memory_format(theirs, torch.contiguous_format)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert p.stride() == tp.stride()


def test_convert_conv3d_weight_memory_format_strides_as_torch():
    ours = nn.Sequential(nn.Conv3d(2, 4, 3), nn.ConvTranspose3d(4, 2, 2), nn.Conv2d(2, 2, 2))
    theirs = torch.nn.Sequential(
        torch.nn.Conv3d(2, 4, 3), torch.nn.ConvTranspose3d(4, 2, 2), torch.nn.Conv2d(2, 2, 2)
    )
    nn.utils.convert_conv3d_weight_memory_format(ours, ember.channels_last_3d)
    torch.nn.utils.convert_conv3d_weight_memory_format(theirs, torch.channels_last_3d)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert p.stride() == tp.stride()
    with pytest.raises(RuntimeError, match="rank 5"):
        nn.utils.convert_conv2d_weight_memory_format(nn.Conv2d(2, 2, 1), ember.channels_last_3d)
    with pytest.raises(RuntimeError, match="rank 5"):
        torch.nn.utils.convert_conv2d_weight_memory_format(
            torch.nn.Conv2d(2, 2, 1), torch.channels_last_3d
        )


# ------------------------------------------------------------ RNNBase(mode, ...)
def test_rnnbase_signature_is_torchs():
    ours = list(inspect.signature(nn.RNNBase).parameters)[:11]
    assert ours == list(inspect.signature(torch.nn.RNNBase).parameters)


@pytest.mark.parametrize(
    "mode, cls, kwargs",
    [
        ("LSTM", "LSTM", {}),
        ("LSTM", "LSTM", {"proj_size": 2}),
        ("GRU", "GRU", {}),
        ("RNN_TANH", "RNN", {"nonlinearity": "tanh"}),
        ("RNN_RELU", "RNN", {"nonlinearity": "relu"}),
    ],
)
def test_rnnbase_mode_builds_the_layer_torch_builds(mode, cls, kwargs):
    base_kwargs = {k: v for k, v in kwargs.items() if k != "nonlinearity"}
    base = nn.RNNBase(mode, 3, 5, 2, bidirectional=True, **base_kwargs)
    tbase = torch.nn.RNNBase(mode, 3, 5, 2, bidirectional=True, **base_kwargs)
    assert [(k, tuple(v.shape)) for k, v in base.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tbase.state_dict().items()
    ]
    # ember's RNNBase runs the mode (torch's has no forward): equal to torch's layer
    layer = getattr(torch.nn, cls)(3, 5, 2, bidirectional=True, **kwargs).double()
    base.load_state_dict({k: v.detach().numpy() for k, v in layer.state_dict().items()})
    base = base.double()
    x = rng.standard_normal((4, 2, 3))
    out, tout = base(ember.Tensor(x))[0], layer(torch.tensor(x))[0]
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-8)
    assert isinstance(base, nn.RNNBase)


def test_rnnbase_errors_and_subclass_signatures_kept():
    with pytest.raises(ValueError, match="Unrecognized RNN mode: LSTMX"):
        nn.RNNBase("LSTMX", 3, 4)
    with pytest.raises(ValueError, match="Unrecognized RNN mode: LSTMX"):
        torch.nn.RNNBase("LSTMX", 3, 4)
    with pytest.raises(ValueError, match="proj_size"):  # torch's GRU raises; its RNNBase not
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    lstm = nn.LSTM(3, 4, 1, True, False, 0.0, False, 2, forget_bias=1.0, dtype=ember.float64)
    assert lstm.proj_size == 2 and lstm.weight_hh_l0.dtype == np.float64
    assert nn.RNN(3, 4, 1, "relu").nonlinearity == "relu"
    assert (nn.LSTM.mode, nn.GRU.mode, nn.RNN.mode) == ("LSTM", "GRU", "RNN")
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
