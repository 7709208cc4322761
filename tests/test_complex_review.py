"""Review of complex numbers: dtypes, creation, vdot, sgn, serialization, against torch."""

import numpy as np
import pytest
import torch

import ember

DTYPES = ["float32", "float64", "complex64", "complex128", "int64", "bool"]


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), ()), ((), (3,)), ((), ())])
def test_binary_result_dtype_matches_torch(da, db, shapes):
    sa, sb = shapes
    for op in ("__add__", "__mul__", "__truediv__"):
        ta, tb = torch.ones(sa, dtype=getattr(torch, da)), torch.ones(sb, dtype=getattr(torch, db))
        ea = ember.tensor(np.ones(sa, dtype=da))
        eb = ember.tensor(np.ones(sb, dtype=db))
        want = _name(getattr(ta, op)(tb).dtype)
        assert _name(getattr(ea, op)(eb).dtype) == want, (op, da, sa, db, sb)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32", "float64"])
@pytest.mark.parametrize("shape", [(3,), ()])
@pytest.mark.parametrize("scalar", [1j, 1 + 2j])
def test_python_complex_scalar_result_dtype_matches_torch(dtype, shape, scalar):
    t, e = torch.ones(shape, dtype=getattr(torch, dtype)), ember.tensor(np.ones(shape, dtype))
    for op in ("__add__", "__mul__", "__radd__", "__rmul__", "__truediv__", "__rtruediv__"):
        want = getattr(t, op)(scalar)
        got = getattr(e, op)(scalar)
        assert _name(got.dtype) == _name(want.dtype), op
        np.testing.assert_allclose(got.numpy(), want.numpy())


def test_complex_zero_dim_operand_gradients_match_torch():
    # float32 (3,) · complex128 0-dim: torch computes in complex64
    x0, c0 = np.array([1.0, -2.0, 0.5]), 0.3 - 1.2j
    res = []
    for m in (ember, torch):
        x = m.tensor(x0, dtype=m.float32, requires_grad=True)
        c = m.tensor(c0, dtype=m.complex128, requires_grad=True)
        y = x * c
        (y * (1 - 1j)).real.sum().backward()
        res.append((_name(y.dtype), x.grad.numpy(), _name(c.grad.dtype), c.grad.numpy()))
    (dy, gx, dc, gc), (wy, wx, wc, wgc) = res
    assert (dy, dc) == (wy, wc)
    np.testing.assert_allclose(gx, wx, rtol=1e-6)
    np.testing.assert_allclose(gc, wgc, rtol=1e-6)


def test_full_and_linspace_with_complex_values_are_complex():
    for got, want in [
        (ember.full((2,), 1j), torch.full((2,), 1j)),
        (ember.full((2,), np.complex128(1 + 1j)), torch.full((2,), 1 + 1j)),
        (ember.linspace(0, 1j, 3), torch.linspace(0, 1j, 3)),
        (ember.linspace(1j, 2, 4), torch.linspace(1j, 2, 4)),
    ]:
        assert _name(got.dtype) == _name(want.dtype)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_vdot_conjugates_its_first_argument():
    a0 = np.array([1 + 2j, 3 - 1j, -0.5j])
    b0 = np.array([2 - 1j, 1 + 1j, 0.25 + 2j])
    res = []
    for m in (ember, torch):
        a, b = m.tensor(a0, requires_grad=True), m.tensor(b0, requires_grad=True)
        y = m.vdot(a, b)
        (y * (0.5 + 2j)).real.backward()
        res.append((y.detach().numpy(), a.grad.numpy(), b.grad.numpy(), a.vdot(b).detach().numpy()))
    for g, w in zip(*res):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_sgn_of_complex_has_torch_gradient():
    z0 = np.array([1 + 2j, -3 + 0.5j, 0j, -1j])
    res = []
    for m in (ember, torch):
        z = m.tensor(z0, requires_grad=True)
        y = z.sgn()
        (y * (0.3 - 0.7j)).real.sum().backward()
        res.append((y.detach().numpy(), z.grad.numpy()))
    for g, w in zip(*res):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)
    assert ember.sgn(ember.tensor(z0, dtype=ember.complex64)).dtype == ember.complex64


def test_save_and_load_complex_tensors(tmp_path):
    z = np.array([[1 + 2j, -3j], [np.inf - 0.0j, 0.5]])
    p = ember.tensor(z, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1)
    (p * p).abs().sum().backward()
    opt.step()
    obj = {
        "w": ember.tensor(z),
        "w64": ember.tensor(z, dtype=ember.complex64),
        "scalar": ember.tensor(1 - 1j),
        "empty": np.zeros((0, 2), np.complex64),
        "opt": opt.state_dict(),
        "real": ember.ones(2),
    }
    path = tmp_path / "c.safetensors"
    ember.save(obj, path)
    back = ember.load(path)
    for k in ("w", "w64", "scalar"):
        assert back[k].dtype == obj[k].dtype and back[k].shape == obj[k].shape
        np.testing.assert_array_equal(back[k].numpy(), obj[k].numpy())
    assert isinstance(back["empty"], np.ndarray) and back["empty"].dtype == np.complex64
    assert back["empty"].shape == (0, 2)
    assert back["real"].dtype == ember.float32
    for k, v in obj["opt"]["state"][0].items():
        if hasattr(v, "dtype") and getattr(v, "ndim", 0):
            assert back["opt"]["state"][0][k].dtype == v.dtype
            np.testing.assert_array_equal(back["opt"]["state"][0][k], v)
    # the optimizer goes on from the loaded state as from the original
    q = ember.tensor(p.detach().numpy(), requires_grad=True)
    opt2 = ember.optim.Adam([q], lr=0.1)
    opt2.load_state_dict(back["opt"])
    for t, o in ((p, opt), (q, opt2)):
        o.zero_grad()
        (t * t).abs().sum().backward()
        o.step()
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12)


def _assigned(m):
    z0 = np.array([1 + 2j, -0.5j, 3.0, 2 - 1j])
    z = m.tensor(z0, requires_grad=True)
    w = m.tensor(np.array([0.5 + 1j, -2j, 1.5]), requires_grad=True)
    r = m.tensor(np.array([1.0, -2.0, 0.25, 4.0]), requires_grad=True)
    y = z * 1
    y[0] = 5j
    y[1:3] = w[:2] * 2
    y[m.tensor([3])] = r[3:] * (1 - 1j)
    y.mul_(2 + 1j)
    ((y.conj() * y).real.sum() + (y * (0.3 - 0.7j)).real.sum()).backward()
    return [t.grad.numpy() for t in (z, w, r)]


def test_indexed_assignment_on_a_complex_tensor_matches_torch():
    for g, w in zip(_assigned(ember), _assigned(torch)):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-12)


def _clipped(m, clip):
    p = m.tensor(np.array([1 + 2j, -3j, 0.5]), requires_grad=True)
    q = m.tensor(np.array([3.0, -1.0]), requires_grad=True)
    ((p * 10).abs().sum() + (q * q).sum()).backward()
    total = clip.clip_grad_norm_([p, q], 1.0)
    return float(total), p.grad.numpy(), q.grad.numpy()


def test_clip_grad_norm_of_complex_gradients_matches_torch():
    got, want = _clipped(ember, ember.nn.utils), _clipped(torch, torch.nn.utils)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    z = ember.tensor(np.array([3 + 4j]), requires_grad=True)
    z.abs().sum().backward()
    assert ember.nn.utils.get_total_norm([z.grad]).dtype == ember.float64


def test_clip_grad_value_refuses_complex_gradients_as_torch():
    p = ember.tensor(np.array([1 + 2j, -3j]), requires_grad=True)
    (p * 10).abs().sum().backward()
    before = p.grad.numpy().copy()
    with pytest.raises(NotImplementedError, match="complex"):
        ember.nn.utils.clip_grad_value_([p], 0.5)
    np.testing.assert_array_equal(p.grad.numpy(), before)


def test_a_complex_gradient_for_a_real_output_is_refused():
    r = ember.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="complex"):
        (r * 2).backward(ember.tensor(np.ones(3) * 1j))
    with pytest.raises(RuntimeError, match="complex"):
        ember.autograd.grad(r * 2, r, np.ones(3) * (1 + 1j))
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        ember.autograd.grad((r * 1j).sum(), r)
    assert r.grad is None
    # a real gradient for a complex output is still taken (Im = 0)
    z = ember.tensor(np.ones(3) * 1j, requires_grad=True)
    (z * 2).backward(ember.ones(3, dtype=ember.float64))
    np.testing.assert_allclose(z.grad.numpy(), 2 * np.ones(3))


def test_a_hook_that_changes_complex_to_real_is_refused():
    # torch: "hook ... has changed the type of value"; ember used to drop the gradient
    z = ember.tensor(np.array([1 + 1j, 2, 3j]), requires_grad=True)
    a, b = z.split([1, 2])
    b.register_hook(lambda g: g.real)
    with pytest.raises(RuntimeError, match="changed the type"):
        ((a * (1 + 1j)).real.sum() + (b * (2 - 1j)).real.sum()).backward()
    # a real non-leaf tensor's hook making its gradient complex: the ops below would drop Im
    x = ember.tensor(np.ones(2), requires_grad=True)
    r = x * 3
    r.register_hook(lambda g: g * 1j)
    with pytest.raises(TypeError, match="reached a real tensor"):
        (r * 2).sum().backward()
    assert x.grad is None


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_a_non_contiguous_complex_parameter_is_stepped_as_torch(name):
    z0 = np.arange(6).reshape(2, 3) * (1 + 1j) + 1
    kw = {"lr": 0.1, **({"momentum": 0.9} if name != "Adam" else {})}
    res = []
    for m in (ember, torch):
        p = m.nn.Parameter(m.tensor(z0).t())  # a transposed (non-contiguous) leaf
        opt = getattr(m.optim, name)([p], **kw)
        for _ in range(3):
            opt.zero_grad()
            (p * p * (1 - 0.5j)).abs().sum().backward()
            opt.step()
        res.append(p.detach().numpy())
    np.testing.assert_allclose(*res, rtol=1e-10)
