"""nn.Module: parameters found from attributes with dotted names, buffers, state_dict and strict
loading (also from torch), train/eval, freezing, repr, summary, hooks, containers."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.register_buffer("running", ember.zeros(4))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [Block(), Block()]  # a plain list of modules is found
        self.heads = {"a": nn.Linear(4, 2), "b": nn.Linear(4, 1, bias=False)}
        self.scale = nn.Parameter(np.ones(1, np.float32))
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        h = self.drop(self.blocks[1](self.blocks[0].fc(x)[:, :3]))
        return self.heads["a"](h) * self.scale


def test_named_parameters_have_dotted_names_in_torch_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "scale",
        "blocks.0.fc.weight",
        "blocks.0.fc.bias",
        "blocks.1.fc.weight",
        "blocks.1.fc.bias",
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
    ]
    assert len(list(Net().parameters())) == 8


def test_shared_parameters_are_listed_once():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.b = m.a
    assert len(list(m.parameters())) == 2


def test_buffers_and_persistence():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "blocks.0.running",
        "blocks.0.scratch",
        "blocks.1.running",
        "blocks.1.scratch",
    ]
    keys = list(net.state_dict())
    assert "blocks.0.running" in keys and "blocks.0.scratch" not in keys
    assert all(not b.requires_grad for b in net.buffers())
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    assert sum(len(g["params"]) for g in opt.param_groups) == 8  # buffers never optimised


def test_state_dict_round_trip_between_models():
    a, b = Net(), Net()
    for t in a.state_dict().values():
        t.array[...] = np.random.default_rng(0).standard_normal(t.shape)
    b.load_state_dict(a.state_dict())
    for (ka, ta), (kb, tb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(ta.array, tb.array)
        assert ta.array is not tb.array  # copied, not aliased


def test_state_dict_entries_are_detached_views_unless_keep_vars(torch):
    """torch's: each entry is param.detach(), the same memory without grad (so .numpy() and
    in-place edits work and reach the module); keep_vars gives the Parameters themselves."""
    for lib in (ember, torch):
        m = lib.nn.BatchNorm1d(3)
        sd = m.state_dict()
        assert [type(v).__name__ for v in sd.values()] == ["Tensor"] * 5
        assert not any(v.requires_grad for v in sd.values())
        sd["weight"].numpy()[0] = 5.0
        sd["bias"].add_(1.0)
        m(lib.ones(4, 3) * lib.arange(4.0)[:, None])  # train mode: running stats in place
        assert sd["weight"].tolist() == m.weight.tolist() == [5.0, 1.0, 1.0]
        assert sd["bias"].tolist() == [1.0, 1.0, 1.0]
        assert sd["running_mean"].tolist() == m.running_mean.tolist()
        kept = m.state_dict(keep_vars=True)
        assert kept["weight"] is m.weight and kept["running_var"] is m.running_var
    lazy = ember.nn.LazyLinear(2).state_dict()
    assert [repr(v) for v in lazy.values()] == ["<UninitializedParameter>"] * 2


def test_strict_load_lists_missing_unexpected_and_wrong_shapes():
    net = Net()
    sd = OrderedDict((k, v.array.copy()) for k, v in net.state_dict().items())
    del sd["heads.b.weight"]
    sd["extra.weight"] = np.zeros(3)
    sd["blocks.1.fc.weight"] = np.zeros((5, 3))
    with pytest.raises(RuntimeError) as err:  # torch's type and words (also a ValueError)
        net.load_state_dict(sd)
    assert isinstance(err.value, ValueError)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "heads.b.weight". ' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight". ' in msg
    assert (
        "size mismatch for blocks.1.fc.weight: copying a param with shape ember.Size([5, 3])"
        " from checkpoint, the shape in current model is ember.Size([4, 3])." in msg
    )


def test_strict_load_without_shape_errors_raises_key_error_and_non_strict_reports():
    net = Net()
    sd = OrderedDict((k, v.array.copy()) for k, v in net.state_dict().items())
    del sd["scale"]
    with pytest.raises(KeyError, match='Missing key\\(s\\) in state_dict: "scale"'):
        net.load_state_dict(sd)
    sd["bogus"] = np.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["bogus"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['scale'], unexpected_keys=['bogus'])"
    assert repr(Net().load_state_dict(Net().state_dict())) == "<All keys matched successfully>"


def test_load_from_a_torch_state_dict(torch):
    mt = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    me = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    assert list(me.state_dict()) == list(mt.state_dict())
    me.load_state_dict(mt.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        me(ember.tensor(x)).array, mt(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_train_eval_recurse():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    assert len(list(net.modules())) == 1 + 2 * 2 + 2 + 1  # net, 2×(block, fc), 2 heads, drop


def test_freezing_with_requires_grad_():
    net = Net()
    net.blocks[0].requires_grad_(False)
    x = ember.randn(2, 3)
    net(x).sum().backward()
    assert net.blocks[0].fc.weight.grad is None
    assert net.blocks[1].fc.weight.grad is not None
    assert net.num_parameters(trainable_only=True) < net.num_parameters()


def test_zero_grad_and_dtype_casts():
    net = Net()
    net(ember.randn(2, 3)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(b.dtype == np.float64 for b in net.buffers())
    with pytest.raises(RuntimeError, match="device 'cuda:0' was asked for, but ember runs on"):
        net.to("cuda:0")
    assert net.to("cpu") is net


def test_repr_is_readable():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.2))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2, inplace=False)\n"
        ")"
    )


def test_summary_lists_each_layer_shape_and_parameters():
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 2))
    lines = []
    text = m.summary((4, 3, 4), print_fn=lines.append)
    assert lines == [text]
    assert "1 (Linear)" in text and "(4, 5)" in text and "65" in text
    assert "3 (Linear)" in text and "(4, 2)" in text and "12" in text
    assert "total parameters: 77" in text
    assert m.training  # summary restores the mode


def test_forward_hook_and_removal():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    layer(ember.zeros(3, 2))
    handle.remove()
    layer(ember.zeros(3, 2))
    assert seen == [(3, 2)]
    pre = layer.register_forward_pre_hook(lambda mod, inp: seen.append("pre"))
    layer(ember.zeros(1, 2))
    pre.remove()
    assert seen[-1] == "pre"


def test_containers():
    seq = nn.Sequential(OrderedDict([("inp", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert [n for n, _ in seq.named_parameters()] == ["inp.weight", "inp.bias"]
    assert isinstance(seq[1], nn.Tanh) and len(seq) == 2
    assert isinstance(seq[:1], nn.Sequential) and len(seq[:1]) == 1
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.append(nn.Linear(2, 2))
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.Linear(1, 1, bias=False)
    assert [n for n, _ in md.named_parameters()] == ["x.weight", "x.bias", "y.weight"]
    assert "y" in md and list(md.keys()) == ["x", "y"]
    outer = nn.Module()
    outer.layers = ml
    assert [n for n, _ in outer.named_parameters()][0] == "layers.0.weight"


def test_apply_visits_every_module():
    net = Net()
    kinds = []
    net.apply(lambda m: kinds.append(type(m).__name__))
    assert kinds.count("Linear") == 4 and kinds[-1] == "Net"


def test_layers_follow_the_default_dtype_as_torch(torch):
    """torch's layers make their parameters in torch.get_default_dtype(); ember's alike."""
    makers = [
        lambda m: m.Linear(3, 2),
        lambda m: m.Conv2d(2, 3, 3),
        lambda m: m.LSTM(3, 4),
        lambda m: m.GRUCell(3, 4),
        lambda m: m.Embedding(5, 2),
        lambda m: m.LayerNorm(3),
        lambda m: m.BatchNorm1d(3),
        lambda m: m.MultiheadAttention(4, 2),
        lambda m: m.PReLU(),
    ]
    before = ember.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        for make in makers:
            ours, theirs = make(ember.nn), make(torch.nn)
            for (k, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
                assert str(p.dtype).removeprefix("ember.") == "float64" == str(tp.dtype)[6:], k
    finally:
        ember.set_default_dtype(before)
        torch.set_default_dtype(torch.float32)
    assert ember.nn.Linear(3, 2).weight.dtype == ember.float32
