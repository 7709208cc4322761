"""ember.amp.GradScaler against torch.amp.GradScaler("cpu"): same scales, same skipped
steps, same parameters, on a float16 autocast model whose scaled gradients overflow."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((5, 6)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    ours = enn.Linear(6, 5)
    ours.weight.array[...] = w
    ours.bias.array[...] = b
    ref = torch.nn.Linear(6, 5)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(w))
        ref.bias.copy_(torch.from_numpy(b))
    return ours, ref


def _batches(n, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = (rng.standard_normal((4, 6)) * 30).astype(np.float32)
        yield x, rng.integers(0, 5, 4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflows the test is about
def test_scales_skips_and_parameters_match_torch():
    ours, ref = _pair()
    opt = ember.optim.SGD(ours.parameters(), lr=1e-3)
    ropt = torch.optim.SGD(ref.parameters(), lr=1e-3)
    kw = dict(init_scale=2.0**20, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    scaler, rscaler = ember.amp.GradScaler("cpu", **kw), torch.amp.GradScaler("cpu", **kw)
    scales, skipped = [], []
    for x, t in _batches(12):
        opt.zero_grad()
        ropt.zero_grad()
        with ember.autocast("cpu", dtype=ember.float16):
            loss = EF.cross_entropy(ours(ember.tensor(x)), ember.tensor(t))
        with torch.autocast("cpu", dtype=torch.float16):
            rloss = torch.nn.functional.cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(t))
        assert loss.dtype == ember.float32 and rloss.dtype == torch.float32
        scaler.scale(loss).backward()
        rscaler.scale(rloss).backward()
        before = ours.weight.array.copy()
        scaler.step(opt)
        rscaler.step(ropt)
        skipped.append(bool((ours.weight.array == before).all()))
        scaler.update()
        rscaler.update()
        scales.append(scaler.get_scale())
        assert scaler.get_scale() == rscaler.get_scale()
        assert scaler._get_growth_tracker() == rscaler._get_growth_tracker()
        np.testing.assert_allclose(
            ours.weight.array, ref.weight.detach().numpy(), rtol=2e-3, atol=2e-4
        )
        np.testing.assert_allclose(ours.bias.array, ref.bias.detach().numpy(), rtol=2e-3, atol=2e-4)
    assert any(skipped) and not all(skipped)  # some steps overflowed, some did not
    assert scaler.state_dict() == rscaler.state_dict()


def test_unscale_then_step_and_the_stage_errors():
    ours, _ = _pair()
    opt = ember.optim.SGD(ours.parameters(), lr=0.1)
    scaler = ember.amp.GradScaler("cpu", init_scale=8.0)
    x = ember.ones(2, 6)
    scaler.scale(ours(x).sum()).backward()
    g = ours.weight.grad.array.copy()
    scaler.unscale_(opt)
    np.testing.assert_allclose(ours.weight.grad.array, g / 8.0)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()
    assert scaler.get_scale() == 8.0 and scaler._get_growth_tracker() == 1


def test_update_new_scale_and_state_dict_round_trip():
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0, growth_interval=7)
    with pytest.raises(AssertionError, match="_scale is None"):
        scaler.update()
    scaler.scale(ember.ones(1))
    scaler.update(new_scale=32.0)
    assert scaler.get_scale() == 32.0
    sd = scaler.state_dict()
    assert sd == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                  "growth_interval": 7, "_growth_tracker": 0}  # fmt: skip
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(sd)
    assert other.state_dict() == sd
    copy = pickle.loads(pickle.dumps(scaler))
    assert copy.get_scale() == 32.0
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        other.load_state_dict({})


def test_scale_nested_outputs_keeps_dtype():
    scaler = ember.amp.GradScaler("cpu", init_scale=2.0)
    a = ember.ones(2).to(ember.float16)
    out = scaler.scale([a, (ember.ones(1), a)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].dtype == ember.float16 and float(out[1][0].sum()) == 2.0
    with pytest.raises(ValueError, match="Tensor or an iterable"):
        scaler.scale(3.0)


def test_disabled_is_a_pass_through():
    ours, _ = _pair()
    opt = ember.optim.SGD(ours.parameters(), lr=0.1)
    scaler = ember.amp.GradScaler("cpu", enabled=False)
    loss = ours(ember.ones(1, 6)).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
    loss.backward()
    before = ours.weight.array.copy()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert not (ours.weight.array == before).all()
    assert scaler.state_dict() == {} and not scaler.is_enabled()


@pytest.mark.skipif(ember.cuda.is_available(), reason="the process runs on CUDA")
def test_cuda_scaler_without_cuda_warns_and_disables_as_torch():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = ember.amp.GradScaler()
    assert not scaler.is_enabled()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fp16_gradients_are_refused():
    p = ember.nn.Parameter(ember.ones(2).to(ember.float16))
    opt = ember.optim.SGD([p], lr=0.1)
    scaler = ember.amp.GradScaler("cpu")
    scaler.scale((p * 2).sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.step(opt)


def test_unscale_divides_shared_gradient_arrays_once():
    # y = w1 + w2 gives both parameters the same gradient array
    w1, w2 = ember.nn.Parameter(ember.ones(3)), ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([w1, w2], lr=1.0)
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0)
    scaler.scale((w1 + w2).sum()).backward()
    scaler.unscale_(opt)
    np.testing.assert_array_equal(w1.grad.numpy(), np.ones(3))
    np.testing.assert_array_equal(w2.grad.numpy(), np.ones(3))
