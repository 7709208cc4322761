"""ember.autocast against torch.autocast("cpu", dtype=torch.float16): output dtypes and
values of the listed ops, float32 gradients for float32 parameters, state handling."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF

F16 = dict(rtol=2e-2, atol=2e-2)


def _t(a):
    return torch.from_numpy(np.asarray(a))


def _e(a, requires_grad=False):
    return ember.tensor(np.asarray(a), requires_grad=requires_grad)


def _region():
    return ember.autocast("cpu", dtype=ember.float16), torch.autocast("cpu", dtype=torch.float16)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_mlp_by_functions_matches_torch_with_float32_gradients():
    x, w1, b1, w2, b2 = (
        _rand(4, 8),
        _rand(16, 8, seed=1),
        _rand(16, seed=2),
        _rand(3, 16, seed=3),
        _rand(3, seed=4),
    )
    ep = [_e(a, True) for a in (w1, b1, w2, b2)]
    tp = [_t(a).requires_grad_() for a in (w1, b1, w2, b2)]
    t = np.array([0, 2, 1, 2])
    ours, ref = _region()
    with ours:
        h = EF.relu(EF.linear(_e(x), ep[0], ep[1]))
        assert h.dtype == ember.float16
        # ember's F.linear refuses a float16 input with float32 weights before autocast
        # sees it (see test_nn_linear_chain below); a float32 copy is cast straight back
        z = EF.linear(h.float(), ep[2], ep[3])
        loss = EF.cross_entropy(z, _e(t))
    with ref:
        rz = torch.nn.functional.linear(
            torch.relu(torch.nn.functional.linear(_t(x), tp[0], tp[1])), tp[2], tp[3]
        )
        rloss = torch.nn.functional.cross_entropy(rz, _t(t))
    assert z.dtype == ember.float16 and rz.dtype == torch.float16
    assert loss.dtype == ember.float32 and rloss.dtype == torch.float32
    np.testing.assert_allclose(z.detach().numpy(), rz.detach().numpy(), **F16)
    np.testing.assert_allclose(loss.item(), rloss.item(), rtol=1e-2)
    loss.backward()
    rloss.backward()
    for a, b in zip(ep, tp):
        assert a.grad.dtype == ember.float32
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=3e-2, atol=3e-3)


def test_nn_linear_chain():
    net = enn.Sequential(enn.Linear(8, 8), enn.ReLU(), enn.Linear(8, 2))
    with ember.autocast("cpu", dtype=ember.float16):
        assert net(ember.randn(3, 8)).dtype == ember.float16


def test_conv_net_matches_torch():
    x, w, b = _rand(2, 3, 9, 9), _rand(4, 3, 3, 3, seed=1), _rand(4, seed=2)
    we, te = _e(w, True), _t(w).requires_grad_()
    ours, ref = _region()
    with ours:
        y = EF.conv2d(_e(x), we, _e(b), padding=1)
        p = EF.max_pool2d(y, 2)
        s = ember.cat([p.flatten(1), _e(_rand(2, 3, seed=5))], dim=1)  # promote: float32
        out = (s * s).sum()
    with ref:
        ry = torch.nn.functional.conv2d(_t(x), te, _t(b), padding=1)
        rp = torch.nn.functional.max_pool2d(ry, 2)
        rs = torch.cat([rp.flatten(1), _t(_rand(2, 3, seed=5))], dim=1)
        rout = (rs * rs).sum()
    assert (y.dtype, p.dtype, s.dtype) == (ember.float16, ember.float16, ember.float32)
    assert (ry.dtype, rp.dtype, rs.dtype) == (torch.float16, torch.float16, torch.float32)
    np.testing.assert_allclose(y.detach().numpy(), ry.detach().numpy(), **F16)
    out.backward()
    rout.backward()
    assert we.grad.dtype == ember.float32
    # float16 products (ε = 9.8e-4) summed over 2·9·9 positions: both sit within 5e-4 of the
    # largest gradient (~300) from the float64 answer, so they agree to 1e-3 of it
    g = te.grad.numpy()
    np.testing.assert_allclose(we.grad.numpy(), g, rtol=2e-2, atol=1e-3 * np.abs(g).max())


def test_attention_matches_torch():
    q, k, v = _rand(2, 2, 5, 4), _rand(2, 2, 5, 4, seed=1), _rand(2, 2, 5, 4, seed=2)
    qe, qt = _e(q, True), _t(q).requires_grad_()
    ours, ref = _region()
    with ours:
        y = EF.scaled_dot_product_attention(qe, _e(k), _e(v), is_causal=True)
        a = (qe @ _e(k).transpose(-2, -1)).softmax(-1)  # softmax: not in the CPU list
    with ref:
        ry = torch.nn.functional.scaled_dot_product_attention(qt, _t(k), _t(v), is_causal=True)
        ra = (qt @ _t(k).transpose(-2, -1)).softmax(-1)
    assert y.dtype == ember.float16 and ry.dtype == torch.float16
    assert a.dtype == ember.float16 and ra.dtype == torch.float16
    np.testing.assert_allclose(y.detach().numpy(), ry.detach().numpy(), **F16)
    np.testing.assert_allclose(a.detach().numpy(), ra.detach().numpy(), **F16)
    y.float().sum().backward()
    ry.float().sum().backward()
    assert qe.grad.dtype == ember.float32
    np.testing.assert_allclose(qe.grad.numpy(), qt.grad.numpy(), rtol=3e-2, atol=3e-2)


def test_rnn_matches_torch_and_lstm_runs_in_float16():
    # torch's CPU LSTM under float16 autocast fails in oneDNN, so its tanh RNN (which it
    # autocasts through linear) is the reference; ember's LSTM is checked against itself
    # in float16
    ember.manual_seed(0)
    rnn = enn.RNN(4, 3, batch_first=True)
    ref = torch.nn.RNN(4, 3, batch_first=True)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            p.copy_(_t(getattr(rnn, name).array))
    x = _rand(2, 5, 4)
    ours, rref = _region()
    with ours:
        y, _ = rnn(_e(x))
    with rref:
        ry, _ = ref(_t(x))
    assert y.dtype == ember.float16 and ry.dtype == torch.float16
    np.testing.assert_allclose(y.detach().numpy(), ry.detach().numpy(), **F16)
    y.float().sum().backward()
    ry.float().sum().backward()
    assert rnn.weight_ih_l0.grad.dtype == ember.float32
    np.testing.assert_allclose(
        rnn.weight_ih_l0.grad.numpy(), ref.weight_ih_l0.grad.numpy(), rtol=3e-2, atol=3e-2
    )

    lstm = enn.LSTM(4, 3, batch_first=True)
    with ember.autocast("cpu", dtype=ember.float16):
        h, _ = lstm(_e(x))
    assert h.dtype == ember.float16
    half = enn.LSTM(4, 3, batch_first=True)
    half.load_state_dict(lstm.state_dict())
    h16, _ = half.half()(_e(x).half())
    np.testing.assert_array_equal(h.detach().numpy(), h16.detach().numpy())
    h.float().sum().backward()
    assert lstm.weight_hh_l0.grad.dtype == ember.float32


def test_lists_as_torch_cpu():
    h = _rand(4, 5)
    ours, ref = _region()
    with ours:
        e16 = _e(h).half()
        got = {
            "softmax": e16.softmax(-1).dtype,
            "exp": e16.exp().dtype,
            "sum": e16.sum().dtype,
            "prod": e16.prod().dtype,
            "add": (e16 + _e(h)).dtype,
            "stack": ember.stack([e16, _e(h)]).dtype,
            "ce": EF.cross_entropy(e16, _e(np.array([0, 1, 2, 3]))).dtype,
            "bce": EF.binary_cross_entropy_with_logits(e16, e16.sigmoid()).dtype,
            "mm64": (_e(h).double() @ _e(h.T)).dtype,
        }
    with ref:
        t16 = _t(h).half()
        want = {
            "softmax": t16.softmax(-1).dtype,
            "exp": t16.exp().dtype,
            "sum": t16.sum().dtype,
            "prod": t16.prod().dtype,
            "add": (t16 + _t(h)).dtype,
            "stack": torch.stack([t16, _t(h)]).dtype,
            "ce": torch.nn.functional.cross_entropy(t16, torch.tensor([0, 1, 2, 3])).dtype,
            "bce": torch.nn.functional.binary_cross_entropy_with_logits(t16, t16.sigmoid()).dtype,
        }
    assert (
        got["mm64"] == ember.float64
    )  # float64 is never lowered (torch: float64 @ float32 is an error)
    del got["mm64"]
    assert {k: str(v) for k, v in got.items()} == {
        k: str(v).replace("torch.", "") for k, v in want.items()
    }


def test_state_nesting_decorator_and_threads():
    assert not ember.is_autocast_enabled("cpu")
    with ember.autocast("cpu", dtype=ember.float16):
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") == ember.float16
        with ember.autocast("cpu", enabled=False):
            assert not ember.is_autocast_enabled("cpu")
            assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32
        seen = []
        th = threading.Thread(
            target=lambda: seen.append((ember.ones(2, 2) @ ember.ones(2, 2)).dtype)
        )
        th.start()
        th.join()
        assert seen == [ember.float32]  # state is per thread
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float16
    assert not ember.is_autocast_enabled("cpu")
    assert str(ember.get_autocast_dtype("cpu")) == "bfloat16"  # torch's default, unset

    @ember.autocast("cpu", dtype=ember.float16)
    def f(a):
        return a @ a

    assert f(ember.ones(2, 2)).dtype == ember.float16
    assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32
    with pytest.raises(TypeError, match="requires a callable"):
        ember.autocast("cpu", dtype=ember.float16)(3)


def test_bfloat16_refused_unless_disabled():
    with pytest.raises(TypeError, match="float16"):
        with ember.autocast(device_type="cpu"):
            pass
    with ember.autocast(device_type="cpu", enabled=False):
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        ember.autocast("tpu")


@pytest.mark.skipif(ember.cuda.is_available(), reason="the process runs on CUDA")
def test_cuda_region_without_cuda_warns_and_casts_nothing():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        region = ember.amp.autocast(device_type="cuda", dtype=ember.float16)
    with region:
        assert not ember.is_autocast_enabled()
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32


def test_weight_cache_casts_a_parameter_once():
    w = _e(_rand(3, 3), True)
    with ember.autocast("cpu", dtype=ember.float16):
        a = ember.ones(3, 3) @ w
        b = ember.ones(3, 3) @ w
    assert a.grad_fn.parents[1] is b.grad_fn.parents[1]  # one cast, as torch's weight cache
    (a.float() + b.float()).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full((3, 3), 6.0))


def test_custom_fwd_and_bwd():
    seen = {}

    class Mul2(ember.autograd.Function):
        @staticmethod
        @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
        def forward(ctx, x):
            seen["fwd"] = (x.dtype, ember.is_autocast_enabled("cpu"))
            return x * 2

        @staticmethod
        @ember.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd"] = ember.is_autocast_enabled("cpu")
            return g * 2

    x = ember.ones(2, requires_grad=True)
    with ember.autocast("cpu", dtype=ember.float16):
        y = Mul2.apply(x.half())
    assert seen["fwd"] == (ember.float32, False) and y.dtype == ember.float32
    y.sum().backward()
    assert seen["bwd"] is False and x.grad.dtype == ember.float32


def test_cuda_tables_applied_to_host_arrays(monkeypatch):
    # the CUDA op lists, checked on the host: a CPU process never activates them itself
    from ember.amp import autocast_mode, policies

    monkeypatch.setattr(autocast_mode, "_policy", policies.build("cuda"))
    h = _e(_rand(3, 4)).half()
    with ember.autocast("cpu", dtype=ember.float16):
        assert h.softmax(-1).dtype == ember.float32  # softmax, exp, sum, layer_norm: float32
        assert h.exp().dtype == ember.float32 and h.sum().dtype == ember.float32
        assert EF.layer_norm(h, (4,)).dtype == ember.float32
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float16
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            EF.binary_cross_entropy(h.float().sigmoid(), h.float().sigmoid())


@pytest.mark.skipif(ember.cuda.is_available(), reason="the process runs on CUDA")
def test_cuda_amp_deprecated_spellings():
    cuda_amp = ember.cuda.amp

    with pytest.warns(FutureWarning, match="torch.amp.GradScaler\\('cuda'"):
        scaler = cuda_amp.GradScaler(enabled=False)
    assert not scaler.is_enabled()
    with pytest.warns(FutureWarning, match="torch.amp.autocast\\('cuda'"):
        with pytest.warns(UserWarning, match="CUDA is not available"):
            region = cuda_amp.autocast()
    with region:
        assert not ember.is_autocast_enabled()


def _composite_ops(lib, T):
    """Ops ember composes of primitives that torch's autocast casts as one op."""
    a, b, v, w = _rand(4, 5), _rand(5, 3, seed=1), _rand(5, seed=2), _rand(4, seed=3)
    a3, b3, c3 = _rand(2, 4, 5, seed=4), _rand(2, 5, 3, seed=5), _rand(2, 4, 3, seed=6)
    return {
        "addmm": lambda: lib.addmm(T(_rand(4, 3, seed=7)), T(a), T(b), beta=0.5),
        "Tensor.addmm": lambda: T(_rand(4, 3, seed=7)).addmm(T(a), T(b)),
        "baddbmm": lambda: lib.baddbmm(T(c3), T(a3), T(b3)),
        "addbmm": lambda: lib.addbmm(T(_rand(4, 3, seed=8)), T(a3), T(b3), alpha=2),
        "vecdot": lambda: lib.linalg.vecdot(T(a), T(a)),
        "mv": lambda: lib.mv(T(a), T(v)),
        "addmv": lambda: lib.addmv(T(w), T(a), T(v)),
        "addr": lambda: lib.addr(T(_rand(5, 4, seed=9)), T(v), T(w)),
        "dot": lambda: lib.dot(T(v), T(v)),
        "vdot": lambda: lib.vdot(T(v), T(v)),
        "tensordot": lambda: lib.tensordot(T(a), T(b), 1),
    }


def test_composite_ops_cast_as_one_op_as_torch_cpu():
    """addmm, baddbmm, addbmm and vecdot run wholly in float16 (ember's float16 product once
    went back to float32 through its add); mv, addmv, addr, dot and vdot are in no CPU list
    and stay float32 (ember lowered their MatMul); tensordot's mm is lowered, as torch's."""
    ours, ref = _region()
    with ours:
        got = {k: f() for k, f in _composite_ops(ember, _e).items()}
    with ref:
        want = {k: f() for k, f in _composite_ops(torch, _t).items()}
    assert {k: str(v.dtype) for k, v in got.items()} == {
        k: str(v.dtype).replace("torch.", "") for k, v in want.items()
    }
    for k in got:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), **F16, err_msg=k)


def test_composite_op_gradients_reach_float32_inputs():
    ins = [_e(a, True) for a in (_rand(4, 3), _rand(4, 5, seed=1), _rand(5, 3, seed=2))]
    with ember.autocast("cpu", dtype=ember.float16):
        out = ember.addmm(*ins)
        assert out.dtype == ember.float16
        assert ember.is_autocast_enabled("cpu")  # the body ran with autocast off, then back on
    out.float().sum().backward()
    tins = [_t(a.detach().numpy()).requires_grad_() for a in ins]
    torch.addmm(*tins).sum().backward()
    for e, t in zip(ins, tins):
        assert e.grad.dtype == ember.float32
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **F16)


def test_composite_cuda_table_applied_to_host_arrays(monkeypatch):
    """torch's CUDA lists: mv, addmv and addr lowered, dot and tensordot promoted (float32
    operands keep float32), vdot left alone."""
    from ember.amp import autocast_mode, policies

    monkeypatch.setattr(autocast_mode, "_policy", policies.build("cuda"))
    monkeypatch.setattr(autocast_mode, "_composite", policies.composite("cuda"))
    with ember.autocast("cpu", dtype=ember.float16):
        got = {k: str(f().dtype) for k, f in _composite_ops(ember, _e).items()}
    lowered = {"addmm", "Tensor.addmm", "baddbmm", "addbmm", "vecdot", "mv", "addmv", "addr"}
    assert got == {k: "float16" if k in lowered else "float32" for k in got}
