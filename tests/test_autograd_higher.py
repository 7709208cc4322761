"""Second and higher derivatives (autograd_higher.py) against torch and by finite differences."""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8], [2.0, -0.4, 0.9]])


def _both(torch, build):
    """build(lib, x) → a list of arrays, for ember and torch; compared to 1e-10."""
    got = build(ember, ember.tensor(X, requires_grad=True))
    want = build(torch, torch.tensor(X, requires_grad=True))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


ELEMENTWISE = {
    "poly": lambda lib, x: x**3 - 2.0 * x * x + x / 3.0,
    "exp_log": lambda lib, x: (x * x + 1.0).log() * x.exp(),
    "trig": lambda lib, x: x.sin() * x.cos() + 1.0 / (x * x + 2.0),
    "tanh_sigmoid": lambda lib, x: x.tanh() * x.sigmoid(),
    "silu_relu": lambda lib, x: lib.nn.functional.silu(x) * x.relu() - (x.abs() + 1.0).sqrt(),
    "div_sub": lambda lib, x: (x - x.sum()) / (x * x + 1.0),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_hessian_vector_products_match_torch(torch, name):
    f = ELEMENTWISE[name]
    v = np.linspace(-1.0, 1.0, X.size).reshape(X.shape)

    def build(lib, x):
        (g,) = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
        (hv,) = lib.autograd.grad(g, x, grad_outputs=lib.tensor(v))
        return [g.detach().numpy(), hv.numpy()]

    _both(torch, build)


def _mlp(lib, params, x):
    w1, b1, w2, b2 = params
    h = lib.nn.functional.linear(x, w1, b1).tanh()
    h = lib.nn.functional.silu(h @ w2.transpose(0, 1) + b2)
    return h.reshape(-1).sum() * 0.5 + h.mean()


def _params(lib):
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    return [lib.tensor(rng.standard_normal(s) * 0.7, requires_grad=True) for s in shapes]


def test_a_gradient_penalty_trains_as_torch(torch):
    """WGAN-GP's term ‖∇ₓ D(x)‖²: its gradients with respect to the critic's weights."""

    def build(lib, x):
        params = _params(lib)
        (gx,) = lib.autograd.grad(_mlp(lib, params, x), x, create_graph=True)
        penalty = ((gx * gx).sum(axis=1).sqrt() - 1.0) ** 2
        penalty.mean().backward()
        return [p.grad.numpy() for p in params] + [x.grad.numpy()]

    _both(torch, build)


def test_a_physics_informed_loss_on_the_second_derivative(torch):
    """u(x) a small network, the loss on u'' (two recorded derivatives, then backward)."""
    xs = np.linspace(-1, 1, 5).reshape(5, 1)

    def build(lib, _):
        params = [lib.tensor(a, requires_grad=True) for a in (
            np.linspace(-1, 1, 6).reshape(6, 1), np.linspace(0, 0.5, 6),
            np.linspace(1, -1, 6).reshape(1, 6), np.array([0.1]))]  # fmt: skip
        x = lib.tensor(xs, requires_grad=True)
        u = lib.nn.functional.linear(lib.nn.functional.linear(x, *params[:2]).tanh(), *params[2:])
        (du,) = lib.autograd.grad(u.sum(), x, create_graph=True)
        (d2u,) = lib.autograd.grad(du.sum(), x, create_graph=True)
        ((d2u + u) ** 2).mean().backward()
        return [d2u.detach().numpy()] + [p.grad.numpy() for p in params]

    _both(torch, build)


def test_shapes_indexing_and_where_have_recorded_derivatives(torch):
    def build(lib, x):
        y = x.reshape(3, 2).permute(1, 0)[:, 1:] * x[:, :2]
        z = lib.where(x > 0, x * x, -x)[None].expand(2, 2, 3).sum(axis=(0, 1))
        z = z + lib.cat([x, x * 2.0], 0).sum(axis=0) * lib.stack([x[0], x[1].tanh()]).sum(0)
        total = (y * y).sum() + (z * x.float().double()).sum() + (x @ x.transpose(0, 1)).mean()
        (g,) = lib.autograd.grad(total, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return [g.detach().numpy(), gg.numpy()]

    _both(torch, build)


def test_backward_with_create_graph_and_inputs_as_torch(torch):
    def build(lib, x):
        w = lib.tensor(np.array([[0.5, -0.3], [0.8, 0.1], [0.2, 0.4]]), requires_grad=True)
        (x @ w).tanh().sum().backward(create_graph=True)
        penalty = (x.grad**2).sum()
        x.grad, w.grad = None, None
        penalty.backward(inputs=[w])
        assert x.grad is None
        return [w.grad.numpy()]

    _both(torch, build)


def test_third_derivative():
    x = ember.tensor(np.array([0.5, -2.0, 3.0]), requires_grad=True)
    (g1,) = ember.autograd.grad((x**4).sum(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = ember.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), 24 * x.detach().numpy(), rtol=1e-12)


def test_hessian_vector_products_equal_finite_differences():
    """H·v from the recorded gradient against (∇f(x + εv) − ∇f(x − εv)) / 2ε: every second
    derivative checked numerically, in float64."""
    w = ember.tensor(np.array([[0.5, -0.3, 0.2], [0.8, 0.1, -0.6]]))

    def gradient(x, create_graph=False):
        y = (x @ w.transpose(0, 1)).tanh() * x[:, :2].sigmoid()
        f = y.sum() + (x**3).sum() + (x * x + 1.0).log().mean()
        return ember.autograd.grad(f, x, create_graph=create_graph)[0]

    v = np.random.default_rng(0).standard_normal(X.shape)
    x = ember.tensor(X, requires_grad=True)
    (hv,) = ember.autograd.grad(gradient(x, create_graph=True), x, grad_outputs=ember.tensor(v))
    eps = 1e-6
    plus = gradient(ember.tensor(X + eps * v, requires_grad=True)).numpy()
    minus = gradient(ember.tensor(X - eps * v, requires_grad=True)).numpy()
    np.testing.assert_allclose(hv.numpy(), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_softmax_family_and_cross_entropy_second_derivatives(torch, reduction, smoothing, weighted):
    t = np.array([0, 2])

    def build(lib, x):
        F = lib.nn.functional
        target = lib.tensor(t)
        weight = lib.tensor(np.array([0.5, 2.0, 1.5])) if weighted else None
        loss = F.cross_entropy(x * 1.5, target, weight=weight, reduction=reduction,
                               label_smoothing=smoothing, ignore_index=2)  # fmt: skip
        loss = loss.sum() + (F.softmax(x, dim=1) * F.log_softmax(x, dim=0)).sum()
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return [g.detach().numpy(), gg.numpy()]

    _both(torch, build)


@pytest.mark.parametrize("approximate, by_freq", [("none", False), ("tanh", False), ("none", True)])
def test_transformer_pieces_gelu_layer_norm_embedding(torch, approximate, by_freq):
    """A gradient penalty through an embedding (with scale_grad_by_freq too: index 2 occurs
    twice), layer norm (fused: differentiated through its composed form) and GELU, against
    torch: gradients of the weights."""
    ids = np.array([[1, 3, 0], [2, 2, 4]])

    def build(lib, _):
        F = lib.nn.functional
        rng = np.random.default_rng(3)
        table = lib.tensor(rng.standard_normal((5, 4)), requires_grad=True)
        gamma = lib.tensor(1.0 + 0.3 * rng.standard_normal(4), requires_grad=True)
        beta = lib.tensor(0.1 * rng.standard_normal(4), requires_grad=True)
        e = F.embedding(lib.tensor(ids), table, padding_idx=0, scale_grad_by_freq=by_freq)
        h = F.gelu(F.layer_norm(e, (4,), gamma, beta), approximate=approximate)
        y = (h * h.tanh()).sum()
        (ge,) = lib.autograd.grad(y, e, create_graph=True)  # e: a non-leaf input
        (gt,) = lib.autograd.grad(y, table, create_graph=True)
        ((ge * ge).sum() + (gt * gt).sum()).backward()
        return [ge.detach().numpy(), table.grad.numpy(), gamma.grad.numpy(), beta.grad.numpy()]

    _both(torch, build)


CONV = [dict(), dict(padding=1), dict(stride=2, padding=1), dict(dilation=2, padding=2, groups=2),
        dict(padding="same")]  # fmt: skip


@pytest.mark.parametrize("cfg", CONV, ids=[str(c) for c in CONV])
def test_a_convolutional_critics_gradient_penalty(torch, cfg):
    """WGAN-GP on a conv layer: ∂/∂(x, W, b) of ‖∇ₓ D(x)‖², and 1-D convolution too."""
    rng = np.random.default_rng(1)
    groups = cfg.get("groups", 1)
    x0, b0 = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal(6)
    w0 = rng.standard_normal((6, 4 // groups, 3, 3)) * 0.3

    def build(lib, _):
        F = lib.nn.functional
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        y = F.conv2d(x, w, b, **cfg).tanh().sum()
        y = y + F.conv1d(x[:, :, 0], w[:, :, 0], b, **cfg).sigmoid().sum()
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (gx * gx).sum().backward()
        return [gx.detach().numpy(), w.grad.numpy(), b.grad.numpy(), x.grad.numpy()]

    _both(torch, build)


POOLS = {
    "max2": lambda F, h: F.max_pool2d(h, 2),
    "max3_stride2_pad1": lambda F, h: F.max_pool2d(h, 3, 2, 1),
    "max_dilated_ceil": lambda F, h: F.max_pool2d(h, 2, 1, 0, 2, ceil_mode=True),
    "max1d": lambda F, h: F.max_pool1d(h.reshape(2, 3, 42), 3, 2),
    "avg2": lambda F, h: F.avg_pool2d(h, 2),
    "avg3_excluding_pad": lambda F, h: F.avg_pool2d(h, 3, 2, 1, count_include_pad=False),
}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("pool", list(POOLS))
def test_batch_norm_and_pooling_second_derivatives(torch, pool, training):
    rng = np.random.default_rng(2)
    x0, w0, b0 = (
        rng.standard_normal((2, 3, 7, 6)),
        rng.standard_normal(3) + 1,
        rng.standard_normal(3),
    )

    def build(lib, _):
        F = lib.nn.functional
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        rm, rv = lib.tensor(np.full(3, 0.1)), lib.tensor(np.full(3, 1.5))
        h = POOLS[pool](F, F.batch_norm(x, rm, rv, w, b, training=training)).tanh()
        (gx,) = lib.autograd.grad((h * h).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        return [gx.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]

    _both(torch, build)


@pytest.mark.parametrize("mask", ["none", "causal", "boolean"])
def test_attention_second_derivatives(torch, mask):
    """scaled_dot_product_attention and MultiheadAttention (weights output used too), against
    torch's math kernel (its CPU flash kernel has no double backward)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    rng = np.random.default_rng(4)
    q0, k0, v0 = (rng.standard_normal(s) for s in ((2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)))
    x0 = rng.standard_normal((2, 4, 6))

    def build(lib, _):
        F = lib.nn.functional
        q, k, v = (lib.tensor(a, requires_grad=True) for a in (q0, k0, v0))
        kw = {"is_causal": True} if mask == "causal" else {}
        if mask == "boolean":
            kw["attn_mask"] = lib.tensor(np.tril(np.ones((4, 5), bool), 1))
        o = F.scaled_dot_product_attention(q, k, v, **kw)
        lib.manual_seed(0)
        mha = lib.nn.MultiheadAttention(6, 2, batch_first=True).double()
        x = lib.tensor(x0, requires_grad=True)
        h, weights = mha(x, x, x)
        y = (o * o.tanh()).sum() + (h * h).sum() + (weights * weights).sum()
        gq, gx = lib.autograd.grad(y, [q, x], create_graph=True)
        ((gq * gq).sum() + (gx * gx).sum()).backward()
        return [gq.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()]

    with sdpa_kernel(SDPBackend.MATH):
        _both(torch, build)


def test_an_op_without_a_recorded_derivative_is_named():
    """The CTC loss has none (torch has no double backward of it either)."""
    x = ember.tensor(X, requires_grad=True)
    log_probs = x.reshape(2, 1, 3).log_softmax(2)
    targets, lengths = ember.tensor(np.array([[1]])), ember.tensor(np.array([2]))
    loss = ember.nn.functional.ctc_loss(log_probs, targets, lengths, ember.tensor(np.array([1])))
    with pytest.raises(NotImplementedError, match="CTCLoss has no recorded derivative"):
        ember.autograd.grad(loss, x, create_graph=True)
    (g,) = ember.autograd.grad(loss, x)  # first order still works, on the kept graph
    assert g.shape == x.shape


def test_a_convolution_of_an_input_without_grad_has_second_derivatives(torch):
    """MAML's case: ∂L/∂W with create_graph=True where the images need no grad (the op keeps
    a reference to them), then backward of Σ(∂L/∂W)², against torch."""
    x0 = np.linspace(-1.0, 1.0, 50).reshape(1, 2, 5, 5)
    w0 = np.linspace(-0.3, 0.4, 54).reshape(3, 2, 3, 3)

    def build(lib, _):
        w = lib.tensor(w0, requires_grad=True)
        y = lib.nn.functional.conv2d(lib.tensor(x0), w, padding=1).tanh().sum()
        (gw,) = lib.autograd.grad(y, w, create_graph=True)
        (gw * gw).sum().backward()
        return [gw.detach().numpy(), w.grad.numpy()]

    _both(torch, build)


def test_hooks_run_under_create_graph_as_torch(torch):
    """register_hook on a leaf and on a non-leaf (a nonlinear hook, whose own ops are recorded
    too): the create_graph gradients and a second derivative through them, by autograd.grad
    and by backward(create_graph=True), as torch's."""

    def build(lib, _):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(np.linspace(-1.0, 1.0, 3), requires_grad=True)
        w.register_hook(lambda g: g * 3.0)
        h = x * w
        h.register_hook(lambda g: g * g)
        y = (h.tanh() * h).sum()
        gx, gw = lib.autograd.grad(y, [x, w], create_graph=True)
        (hx,) = lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), [x])
        out = [gx.detach().numpy(), gw.detach().numpy(), hx.numpy()]
        v = lib.tensor(X, requires_grad=True)
        v.register_hook(lambda g: g * 2.0)
        u = v * v
        u.register_hook(lambda g: g + 1.0)
        (u * u).sum().backward(create_graph=True)
        g = v.grad
        out.append(g.detach().numpy().copy())
        v.grad = None
        (g * g).sum().backward()
        return [*out, v.grad.numpy()]

    _both(torch, build)


def test_overlapping_tensor_split_pieces_have_recorded_derivatives(torch):
    """tensor_split at unsorted indices gives pieces that overlap (and an empty one): each
    piece's gradient goes back to its own place, at every order, as torch's."""

    def build(lib, _):
        x = lib.tensor(np.linspace(-1.0, 1.0, 12).reshape(2, 6), requires_grad=True)
        parts = x.tensor_split([4, 1, 3], dim=1)
        y = sum((p * p * p).sum() * (i + 1) for i, p in enumerate(parts))
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x)
        return [g.detach().numpy(), h.numpy()]

    _both(torch, build)


def test_retain_grad_under_create_graph_as_torch(torch):
    """A non-leaf's retain_grad() gets its recorded gradient (one that can be differentiated
    again), through backward(create_graph=True) and through autograd.grad, as torch's."""

    def build(lib, _):
        x = lib.tensor(X, requires_grad=True)
        h = x * x
        h.retain_grad()
        (h * h).sum().backward(create_graph=True)
        first = h.grad.detach().numpy().copy()
        assert h.grad.requires_grad
        (h.grad * h.grad).sum().backward()
        x2 = lib.tensor(X, requires_grad=True)
        h2 = x2 * x2
        h2.retain_grad()
        lib.autograd.grad((h2 * h2).sum(), x2, create_graph=True)
        return [first, x.grad.detach().numpy(), h2.grad.detach().numpy()]

    _both(torch, build)
