"""profile(with_flops=True): each matrix-product op's FLOPs, forward and backward, against the
formulas (profiler_flops.py) and against torch's profiler on the same step."""

import re
import warnings

import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.profiler import profile


def flops_by_key(prof):
    return {e.key: e.flops for e in prof.key_averages()}


def test_linear_forward_and_backward_count_two_mnk_per_operand():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    x = ember.randn(4, 8)
    with profile(with_flops=True) as prof:
        model(x).pow(2).mean().backward()
    f = flops_by_key(prof)
    forward = 2 * 4 * 8 * 16 + 2 * 4 * 16 * 2
    assert f["Linear"] == forward
    # the first layer's input needs no gradient: its backward is ∂W alone
    assert f["LinearBackward"] == 2 * (2 * 4 * 16 * 2) + 2 * 4 * 8 * 16
    assert f["ReLU"] == f["ReLUBackward"] == 0
    table = prof.key_averages().table()
    assert "Total KFLOPs" in table.splitlines()[1]
    linear_row = next(r for r in table.splitlines() if re.match(r"\s*Linear\s", r))
    assert f"{forward / 1000:8.3f}".strip() in linear_row
    relu_row = next(r for r in table.splitlines() if re.match(r"\s*ReLU\s", r))
    assert relu_row.rstrip().split()[-1] == "--"


def test_no_flops_column_without_with_flops():
    with profile() as prof:
        nn.Linear(3, 4)(ember.randn(2, 3))
    assert "FLOPs" not in prof.key_averages().table()
    assert all(e.flops == 0 for e in prof.events())


def test_with_flops_no_longer_warns_but_with_modules_does():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with profile(with_flops=True):
            pass
    with pytest.warns(Warning, match="with_modules is ignored"):
        profile(with_modules=True)


def test_conv_matmul_and_attention_formulas():
    conv = nn.Conv2d(3, 8, 3, padding=1, groups=1)
    depthwise = nn.Conv2d(8, 8, 3, groups=8)
    x = ember.randn(2, 3, 10, 10, requires_grad=True)
    q, k, v = (ember.randn(2, 4, 5, 6, requires_grad=True) for _ in range(3))
    a, b = ember.randn(3, 4, 5), ember.randn(5, 7, requires_grad=True)
    with profile(with_flops=True) as prof:
        y = depthwise(conv(x))
        att = F.scaled_dot_product_attention(q, k, v)
        m = a @ b
        (y.sum() + att.sum() + m.sum()).backward()
    f = flops_by_key(prof)
    conv_fwd = 2 * (2 * 8 * 10 * 10) * 3 * 9
    dw_fwd = 2 * (2 * 8 * 8 * 8) * 1 * 9
    assert f["Conv2d"] == conv_fwd + dw_fwd
    assert f["Conv2dBackward"] == 2 * conv_fwd + 2 * dw_fwd  # x and every weight need grads
    qk = pv = 2 * (2 * 4 * 5) * 5 * 6
    assert f["ScaledDotProductAttention"] == qk + pv
    assert f["ScaledDotProductAttentionBackward"] == 2 * qk + 2 * pv
    assert f["MatMul"] == 2 * (3 * 4 * 7) * 5
    assert f["MatMulBackward"] == 2 * (3 * 4 * 7) * 5  # only b needs a gradient


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recurrent_layer_counts_input_and_recurrent_products(mode):
    T, B, I, H = 6, 3, 5, 7
    layer = getattr(nn, mode)(I, H)
    x = ember.randn(T, B, I, requires_grad=True)
    with profile(with_flops=True) as prof:
        layer(x)[0].sum().backward()
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode] * H
    f_x, f_h = 2 * T * B * gates * I, 2 * T * B * gates * H
    f = {k: v for k, v in flops_by_key(prof).items() if v}
    assert sum(v for k, v in f.items() if not k.endswith("Backward")) == f_x + f_h
    # the recurrence, ∂x, ∂W_ih, ∂W_hh
    assert sum(v for k, v in f.items() if k.endswith("Backward")) == f_h + 2 * f_x + f_h


def test_lstm_projection_is_counted():
    T, B, I, H, P = 4, 2, 3, 6, 2
    layer = nn.LSTM(I, H, proj_size=P)
    with profile(with_flops=True) as prof:
        layer(ember.randn(T, B, I))[0].sum().backward()
    f = {k: v for k, v in flops_by_key(prof).items() if v}
    f_x, f_h, f_r = 2 * T * B * 4 * H * I, 2 * T * B * 4 * H * P, 2 * T * B * H * P
    assert sum(v for k, v in f.items() if not k.endswith("Backward")) == f_x + f_h + f_r
    # no ∂x (x needs none): the recurrence with its projection, ∂W_ih, ∂W_hh, ∂W_hr
    assert sum(v for k, v in f.items() if k.endswith("Backward")) == (f_h + f_r) + f_x + f_h + f_r


def test_matches_torch_profiler_flops_on_an_mlp_step(torch):
    """torch counts aten::addmm (forward) and aten::mm (backward) as 2·m·k·n: the same total."""
    import torch.profiler as torch_profiler

    ember.manual_seed(0)
    ours = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 10))
    theirs = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
    x = ember.randn(16, 20, requires_grad=True)
    tx = torch.randn(16, 20, requires_grad=True)
    with profile(with_flops=True) as prof:
        ours(x).sum().backward()
    with torch_profiler.profile(with_flops=True) as tprof:
        theirs(tx).sum().backward()
    products = ("aten::addmm", "aten::mm", "aten::bmm", "aten::matmul", "aten::linear")
    torch_total = sum(e.flops for e in tprof.key_averages() if e.key in products)
    our_total = sum(e.flops for e in prof.key_averages())
    assert our_total == torch_total == 3 * (2 * 16 * 20 * 32 + 2 * 16 * 32 * 10)


def test_chrome_trace_carries_flops(tmp_path):
    import json

    with profile(with_flops=True) as prof:
        nn.Linear(3, 4)(ember.randn(2, 3))
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    ops = [e for e in json.loads(path.read_text())["traceEvents"] if e.get("name") == "Linear"]
    assert ops and ops[0]["args"]["flops"] == 2 * 2 * 3 * 4
