"""Review of the session's ONNX export and observed-op changes: the bugs found, each pinned."""

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F


def test_mish_float16_gradient_above_the_overflow_of_exp_is_torchs():
    """e^x overflows float16 above ~11.09: σ = z/(z + 1) was inf/inf = NaN in Mish's backward,
    where torch's gradient is 1 (and the forward x)."""
    v = np.array([-3.0, 0.5, 10.0, 11.5, 12.0, 15.0, 20.0, 30.0], dtype=np.float16)
    x = ember.tensor(v, requires_grad=True)
    y = F.mish(x)
    y.sum().backward()
    xt = torch.tensor(v, requires_grad=True)
    yt = torch.nn.functional.mish(xt)
    yt.sum().backward()
    big = v > 11
    np.testing.assert_array_equal(y.detach().numpy()[big], yt.detach().numpy()[big])
    np.testing.assert_array_equal(x.grad.numpy()[big], xt.grad.numpy()[big])
    assert x.grad.dtype == np.float16 and np.isfinite(x.grad.numpy()).all()


def test_softplus_float16_above_the_overflow_of_exp_is_torchs():
    """e^{βx} overflows float16 above ~11.09 below the threshold: Softplus gave inf (and a NaN
    gradient) where torch, computing in float32, gives ≈ x (gradient 1)."""
    v = np.array([-20.0, -1.0, 0.0, 1.0, 12.0, 15.0, 19.0, 21.0], dtype=np.float16)
    for beta, threshold in [(1.0, 20.0), (2.0, 30.0), (-1.0, 20.0)]:
        x = ember.tensor(v, requires_grad=True)
        y = F.softplus(x, beta=beta, threshold=threshold)
        y.sum().backward()
        xt = torch.tensor(v, requires_grad=True)
        yt = torch.nn.functional.softplus(xt, beta=beta, threshold=threshold)
        yt.sum().backward()
        assert y.dtype == np.float16 and x.grad.dtype == np.float16
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-3)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-3)


def test_argmax_argmin_keepdim_without_dim_keeps_every_dim_as_torch():
    """torch's x.argmax(keepdim=True) (no dim) has shape (1,)·ndim; ember gave a 0-d index."""
    v = np.array([[1.0, 0.0, 5.0], [2.0, 3.0, -1.0]], dtype=np.float32)
    x, xt = ember.tensor(v), torch.tensor(v)
    for name in ("argmax", "argmin"):
        want = getattr(xt, name)(keepdim=True).numpy()
        for got in (getattr(x, name)(keepdim=True), getattr(ember, name)(x, keepdim=True)):
            assert got.shape == want.shape
            np.testing.assert_array_equal(got.numpy(), want)
        assert getattr(x, name)().shape == ()


def test_argmax_keepdim_without_dim_exports_as_ember_computes(tmp_path):
    """The exported flattened argmax keeps every dim as 1 too, at every batch size."""
    pytest.importorskip("onnxruntime")
    from tests.test_onnx_export import export_session

    class M(ember.nn.Module):
        def forward(self, x):
            return x.argmax(keepdim=True) + x.argmin(keepdim=True)

    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    _, sess = export_session(M(), (x,), tmp_path / "m.onnx", input_names=["x"],
                             output_names=["y"], dynamic_axes={"x": {0: "b"}})  # fmt: skip
    for n in (4, 1, 6):
        xi = rng.standard_normal((n, 3)).astype(np.float32)
        want = M()(ember.tensor(xi)).numpy()
        got = sess.run(None, {"x": xi})[0]
        assert got.shape == want.shape == (1, 1)
        np.testing.assert_array_equal(got, want)
