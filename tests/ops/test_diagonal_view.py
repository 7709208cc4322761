"""x.diagonal(offset, dim1, dim2) as a view (ember/ops/diagonal.py), against torch: the values,
writes through it changing x (no_grad, or x not requiring grad), read-only where x is, the
gradients (first and second order), and the ONNX export of a model that takes a diagonal."""

import numpy as np
import pytest

import ember
from ember.ops.diagonal import Diagonal

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal((3, 4, 5))
DIMS_3D = [(0, 1), (1, 0), (-1, -2), (0, 2), (2, 0), (1, 2)]


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 2])
@pytest.mark.parametrize("dims", DIMS_3D)
def test_values_on_3d(torch, offset, dims):
    got = ember.tensor(X3).diagonal(offset, *dims)
    _same(got.numpy(), torch.tensor(X3).diagonal(offset, *dims).numpy())


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (1, 4), (0, 3), (3, 0), (0, 0)])
@pytest.mark.parametrize("offset", [-6, -3, -1, 0, 1, 3, 6])
def test_values_non_square_and_empty(torch, shape, offset):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    for dims in [(0, 1), (1, 0)]:
        got = ember.tensor(a).diagonal(offset, *dims)
        _same(got.numpy(), torch.tensor(a).diagonal(offset, *dims).numpy())


def test_values_of_a_batch_and_of_a_view(torch):
    a = RNG.standard_normal((2, 3, 4, 4))
    e, t = ember.tensor(a), torch.tensor(a)
    _same(e.diagonal(dim1=-2, dim2=-1).numpy(), t.diagonal(dim1=-2, dim2=-1).numpy())
    _same(e.diagonal(1, 1, 3).numpy(), t.diagonal(1, 1, 3).numpy())
    # of a non-contiguous input (a transpose and a strided slice): the strides compose
    ev, tv = e.transpose(1, 3)[:, ::2], t.transpose(1, 3)[:, ::2]
    _same(ev.diagonal(-1, 1, 2).numpy(), tv.diagonal(-1, 1, 2).numpy())
    _same(ember.tensor(a[0, 0]).trace().numpy(), torch.tensor(a[0, 0]).trace().numpy())


def test_is_a_view_not_a_copy():
    x = ember.tensor(X3.copy())
    d = x.diagonal(1, 0, 2)
    assert np.shares_memory(d.array, x.array)
    assert ember.tensor(np.zeros((3, 0))).diagonal().shape == (0,)


def test_dims_are_checked():
    x = ember.tensor(X3)
    with pytest.raises(ValueError, match="cannot be the same dim"):
        x.diagonal(0, 1, -2)
    with pytest.raises(IndexError):
        x.diagonal(0, 0, 3)


# ------------------------------------------------------------------ writes through the view

WRITES = {
    "mul_": lambda d: d.mul_(0),
    "setitem": lambda d: d.__setitem__(slice(None), 5.0),
    "fill_": lambda d: d.fill_(1),
    "add_": lambda d: d.add_(d),
    "zero_": lambda d: d.zero_(),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("offset, dims", [(0, (0, 1)), (1, (0, 1)), (-1, (1, 0)), (2, (2, 1))])
@pytest.mark.parametrize("mode", ["no_grad", "plain"])
def test_writes_through_the_diagonal_change_x(torch, write, offset, dims, mode):
    def run(lib, new):
        x = new(X3.copy())
        if mode == "no_grad":
            with lib.no_grad():
                WRITES[write](x.diagonal(offset, *dims))
        else:
            WRITES[write](x.diagonal(offset, *dims))
        return x.detach().numpy()

    grad = mode == "no_grad"
    got = run(ember, lambda a: ember.tensor(a, requires_grad=grad))
    want = run(torch, lambda a: torch.tensor(a, requires_grad=grad))
    _same(got, want)
    assert not np.array_equal(want, X3)  # the write did change x


def test_diagonal_of_a_diagonal_writes_x(torch):
    for lib in (ember, torch):
        x = lib.zeros(3, 3, 3)
        x.diagonal(0, 0, 1).diagonal().fill_(7)
        assert x.numpy()[1, 1, 1] == 7 and x.numpy().sum() == 21


def test_diagonal_of_a_broadcast_plane_as_torch(torch):
    """The diagonal of a broadcast plane repeats one element: an elementwise write into it, or
    a copy into a part that repeats one, is refused with torch's message; a constant goes into
    the memory, and the diagonal of expand(3, 3), which repeats nothing, is written, all as in
    torch."""
    e = ember.arange(3.0).expand(2, 2, 3)
    t = torch.arange(3.0).expand(2, 2, 3)
    _same(e.diagonal().numpy(), t.diagonal().numpy())
    for x in (e, t):
        with pytest.raises(RuntimeError, match="more than one element"):
            x.diagonal().mul_(2)
        with pytest.raises(RuntimeError, match="more than one element"):
            x.diagonal()[0] = 2.0  # copied into a row whose two elements share memory
    writes = (lambda x: x.diagonal().fill_(1), lambda x: x.diagonal()[1:].zero_(),
              lambda x: x.diagonal().__setitem__((2, 1), 5.0))  # fmt: skip
    for write in writes:
        out = []
        for lib in (ember, torch):
            base = lib.arange(3.0)
            write(base.expand(2, 2, 3))
            out.append(base.numpy())
        _same(out[0], out[1])
    out = []
    for lib in (ember, torch):
        base = lib.arange(3.0)
        base.expand(3, 3).diagonal().mul_(2)
        out.append(base.numpy())
    _same(out[0], out[1])


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("offset", [-2, 0, 1, 3])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, -2), (0, 2)])
def test_gradient_against_torch(torch, offset, dims):
    def run(lib):
        x = lib.tensor(X3, requires_grad=True)
        d = x.diagonal(offset, *dims)
        w = lib.tensor(np.linspace(-1.0, 2.0, d.numel()).reshape(tuple(d.shape)))
        (d.sin() * w).sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-12, atol=1e-14)


def test_complex_gradient_against_torch(torch):
    z = X3 + 1j * np.cos(X3)

    def run(lib):
        x = lib.tensor(z, requires_grad=True)
        d = x.diagonal(-1, 2, 1)
        (d * d.conj().exp()).abs().sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-12, atol=1e-14)


def test_gradient_of_an_empty_diagonal_is_zero(torch):
    for lib in (ember, torch):
        x = lib.tensor(X3, requires_grad=True)
        (x.diagonal(9).sum() + x.sum() * 0).backward()
        assert not x.grad.numpy().any()


@pytest.mark.parametrize("offset, dims", [(0, (0, 1)), (-1, (2, 0)), (2, (1, 2))])
def test_gradcheck(offset, dims):
    x = ember.tensor(X3, requires_grad=True)
    assert ember.gradcheck(lambda t: t.diagonal(offset, *dims) ** 2, (x,))


def test_backward_is_one_op():
    x = ember.tensor(X3, requires_grad=True)
    d = x.diagonal(1, 0, 2)
    assert type(d.grad_fn) is Diagonal
    gy = np.arange(1.0, d.numel() + 1).reshape(tuple(d.shape))
    (gx,) = d.grad_fn.backward(gy)
    want = np.zeros_like(X3)
    i = np.arange(d.shape[-1])
    want[i, :, i + 1] = gy.T
    _same(gx, want)


@pytest.mark.parametrize("offset, dims", [(0, (0, 1)), (1, (0, 1)), (-1, (2, 1)), (0, (0, 2))])
def test_double_backward_against_torch(torch, offset, dims):
    def run(lib):
        x = lib.tensor(X3, requires_grad=True)
        (g,) = lib.autograd.grad((x.diagonal(offset, *dims) ** 3).sum(), [x], create_graph=True)
        v = lib.tensor(np.cos(np.arange(X3.size)).reshape(X3.shape))
        (gg,) = lib.autograd.grad((g * v).sum(), [x])
        return g.detach().numpy(), gg.numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_double_backward_through_the_gradient_with_respect_to_g(torch):
    """The recorded derivative is differentiable in g too: the diagonal of a weight used twice."""

    def run(lib):
        x = lib.tensor(X3[0], requires_grad=True)
        (g,) = lib.autograd.grad((x.diagonal(1) * x.diagonal(1)).sum(), [x], create_graph=True)
        (g.diagonal(1).exp().sum()).backward()
        return x.grad.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ ONNX export


@pytest.mark.parametrize("offset, dims", [(0, (1, 2)), (1, (2, 1)), (-1, (1, 2)), (5, (1, 2))])
def test_onnx_export_with_a_dynamic_batch(tmp_path, offset, dims):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from tests.test_onnx_export_compare import Fn
    from tests.test_onnx_export_rounding import check_exact

    x = ember.tensor(RNG.standard_normal((2, 3, 4)).astype(np.float32))
    others = [ember.tensor(RNG.standard_normal((b, 3, 4)).astype(np.float32)) for b in (5, 1)]
    model = Fn(lambda t: t.diagonal(offset, *dims) * 2.0 + t[:, 0, :1])
    found = check_exact(model, x, others, tmp_path / "diag.onnx")
    assert "Slice" in found


@pytest.mark.parametrize("offset", [-2, 0, 1])
def test_onnx_export_with_a_dynamic_diagonal_dim(tmp_path, offset):
    """A dynamic axis inside the plane: the diagonal's length and stride follow it."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from tests.test_onnx_export import export_session
    from tests.test_onnx_export_compare import Fn

    model = Fn(lambda t: t.diagonal(offset, 0, 1) + 1.0)
    x = ember.tensor(RNG.standard_normal((4, 6, 2)).astype(np.float32))
    dyn = {"x": {0: "r", 1: "c"}}
    _, sess = export_session(model, (x,), tmp_path / "d.onnx", input_names=["x"],
                             output_names=["y"], dynamic_axes=dyn)  # fmt: skip
    assert isinstance(sess, ort.InferenceSession)
    for shape in [(4, 6, 2), (7, 3, 2), (2, 2, 2), (1, 5, 2)]:
        a = RNG.standard_normal(shape).astype(np.float32)
        (got,) = sess.run(None, {"x": a})
        with ember.no_grad():
            want = model(ember.tensor(a)).numpy()
        _same(got, want)
