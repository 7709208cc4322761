"""Second derivatives (autograd_higher_index_loss.py, and the convolution of an input without
grad) against torch: gather, index_select, scatter(_add), interpolate, nll_loss, the two binary
cross-entropies, einsum, the transposed convolution, and MAML's inner step through conv."""

import numpy as np
import pytest

import ember
from ember.ops import conv as C


def _both(torch, build):
    """build(lib) → a list of arrays, for ember and torch; compared to 1e-10."""
    got, want = build(ember), build(torch)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def _grads_then_penalty(lib, y, wrt):
    """The gradients of y with create_graph=True, then backward of Σ g³ (every g's graph is
    differentiated again); returns the gradients and the second-order .grad of each input."""
    gs = lib.autograd.grad(y, wrt, create_graph=True)
    sum(((g * g * g).sum() for g in gs), start=gs[0].sum() * 0.0).backward()
    return [g.detach().numpy() for g in gs] + [t.grad.numpy() for t in wrt]


X = np.random.default_rng(0).standard_normal((4, 5))
SRC = np.random.default_rng(1).standard_normal((3, 6))


@pytest.mark.parametrize("dim", [0, 1])
def test_gather_and_index_select_with_repeated_indices(torch, dim):
    index = np.array([[0, 2, 2, 1], [3, 3, 0, 0], [1, 1, 1, 2]])  # smaller than x, repeats
    picks = np.array([4, 0, 2, 0, 0]) if dim else np.array([3, 0, 3, 1])

    def build(lib):
        x = lib.tensor(X, requires_grad=True)
        y = (x.gather(dim, lib.tensor(index)).tanh() * 1.5).sum()
        y = y + (x.index_select(dim, lib.tensor(picks)) ** 3).sin().sum()
        return _grads_then_penalty(lib, y, [x])

    _both(torch, build)


@pytest.mark.parametrize("op", ["scatter_add", "scatter_src", "scatter_value"])
def test_scatter_with_respect_to_self_and_src(torch, op):
    """src larger than index (its leading block is read, the rest gets 0: torch's backward
    refuses that src, so its reference reads the block by slicing); scatter_add with repeated
    indices, scatter without (torch leaves which repeat wins unspecified)."""
    repeated = np.array([[0, 3, 3, 1, 0], [2, 2, 0, 1, 3]])
    distinct = np.array([[0, 3, 1, 2, 0], [2, 1, 0, 3, 3]])

    def build(lib):
        x = lib.tensor(X, requires_grad=True)
        src = lib.tensor(SRC, requires_grad=True)
        block = src if lib is ember else src[:2, :5]
        if op == "scatter_add":
            y, wrt = x.scatter_add(0, lib.tensor(repeated), block * block), [x, src]
        elif op == "scatter_src":
            y, wrt = x.scatter(0, lib.tensor(distinct), block.sin()), [x, src]
        else:
            y, wrt = (x * x).scatter(0, lib.tensor(distinct), 0.5), [x]
        return _grads_then_penalty(lib, (y.tanh() * y).sum(), wrt)

    _both(torch, build)


def test_gather_and_scatter_add_third_derivative(torch):
    """Each one's derivative is the other, so every order is recorded."""

    def build(lib):
        x = lib.tensor(X, requires_grad=True)
        y = x.gather(1, lib.tensor(np.array([[0, 0, 4], [1, 2, 1], [3, 3, 3], [4, 0, 2]]))) ** 4
        y = y.sum() + (x.index_select(0, lib.tensor(np.array([1, 1, 3]))) ** 3).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * x).sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad((g2 * g2).sum(), x)
        return [g1.detach().numpy(), g2.detach().numpy(), g3.numpy()]

    _both(torch, build)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["linear", "bilinear"])
def test_interpolate_linear_through_index_select(torch, mode, align_corners):
    shape = (2, 3, 5) if mode == "linear" else (1, 2, 4, 5)
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal(shape)

    def build(lib):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.interpolate(x, scale_factor=2.5 if mode == "linear" else 1.5,
                                          mode=mode, align_corners=align_corners)  # fmt: skip
        return _grads_then_penalty(lib, (y * y.sin()).sum(), [x])

    _both(torch, build)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignored", ["none", "some", "all"])
def test_nll_loss(torch, reduction, weighted, ignored):
    """Class weights, ignore_index (the mean of an all-ignored batch is NaN, its gradient 0),
    and (N, C, d) inputs."""
    t = {"none": [[1, 4], [0, 2], [3, 3]], "some": [[1, -1], [0, 2], [-1, 3]],
         "all": [[-1, -1], [-1, -1], [-1, -1]]}[ignored]  # fmt: skip
    rng = np.random.default_rng(3)
    z0 = rng.standard_normal((3, 5, 2))

    def build(lib):
        F = lib.nn.functional
        z = lib.tensor(z0, requires_grad=True)
        w = lib.tensor(np.array([0.5, 2.0, 1.5, 1.0, 3.0])) if weighted else None
        loss = F.nll_loss(F.log_softmax(z * z, dim=1), lib.tensor(np.array(t)), weight=w,
                          ignore_index=-1, reduction=reduction)  # fmt: skip
        loss = loss.sum() if reduction == "none" else loss
        return [np.asarray(loss.detach().numpy())] + _grads_then_penalty(lib, loss, [z])

    if ignored == "all" and reduction == "mean":
        _both(torch, lambda lib: build(lib)[1:])  # the loss itself is NaN in both
    else:
        _both(torch, build)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("soft_target", [False, True])
def test_binary_cross_entropy_with_logits(torch, reduction, weighted, pos_weighted, soft_target):
    """Logits from large negative to large positive (and 0, where the stable form switches
    branches); the target needing grad too (soft labels from a model)."""
    z0 = np.array([[-40.0, -3.0, 0.0, 0.7], [2.5, 35.0, -0.2, 600.0], [0.0, -8.0, -600.0, -1.4]])
    y0 = np.array([[0.1, 0.9, 0.5, 1.0], [0.0, 0.3, 0.7, 0.4], [1.0, 0.2, 0.6, 0.5]])

    def build(lib):
        z = lib.tensor(z0, requires_grad=True)
        y = lib.tensor(y0, requires_grad=soft_target)
        w = lib.tensor(np.array([0.5, 2.0, 1.5, 1.0])) if weighted else None
        pw = lib.tensor(np.array([3.0, 0.5, 1.0, 2.0])) if pos_weighted else None
        loss = lib.nn.functional.binary_cross_entropy_with_logits(
            z * 1.5, y, weight=w, pos_weight=pw, reduction=reduction
        )
        loss = (loss * loss).sum() if reduction == "none" else loss
        return _grads_then_penalty(lib, loss, [z, y] if soft_target else [z])

    _both(torch, build)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("soft_target", [False, True])
def test_binary_cross_entropy(torch, reduction, weighted, soft_target):
    x0 = np.array([[0.1, 0.9, 0.45, 0.7], [0.2, 0.35, 0.6, 0.05]])
    y0 = np.array([[0.0, 1.0, 0.3, 0.8], [0.5, 0.1, 1.0, 0.25]])

    def build(lib):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.tensor(y0, requires_grad=soft_target)
        w = lib.tensor(np.array([0.5, 2.0, 1.5, 1.0])) if weighted else None
        p = x * 0.9 + 0.05
        if lib is ember:
            loss = lib.nn.functional.binary_cross_entropy(p, y, weight=w, reduction=reduction)
        else:  # torch's fused double backward adds 1e-12 to p and 1 − p in its denominator
            loss = -(y * p.log() + (1 - y) * (1 - p).log()) * (1 if w is None else w)
            loss = {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]
        loss = (loss * loss).sum() if reduction == "none" else loss
        return _grads_then_penalty(lib, loss, [x, y] if soft_target else [x])

    _both(torch, build)


EINSUM = {
    "ij,jk->ik": [(3, 4), (4, 2)],
    "bij,bjk->bik": [(2, 3, 4), (2, 4, 2)],
    "...ij,...jk->...ik": [(1, 3, 4), (2, 4, 2)],  # a batch dim of 1 broadcast
    "ij,ij,j->i": [(3, 4), (3, 4), (4,)],
    "i,j->ij": [(3,), (4,)],
    "ii->i": [(3, 3)],
    "iij->ij": [(3, 3, 2)],
    "ij->j": [(3, 4)],  # i summed out of the one operand
    "ij,jk": [(3, 4), (4, 2)],  # implicit output
    "bi,bj,k->bk": [(2, 3), (2, 4), (5,)],  # i, j summed out of one operand each
}


@pytest.mark.parametrize("equation", list(EINSUM))
def test_einsum(torch, equation):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in EINSUM[equation]]

    def build(lib):
        ops = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = lib.einsum(equation, *ops)
        return _grads_then_penalty(lib, (y.sin() * y).sum(), ops)

    _both(torch, build)


def test_einsum_with_a_constant_operand(torch):
    rng = np.random.default_rng(7)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))

    def build(lib):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0)
        y = lib.einsum("ij,jk,ik->i", a, b, a)
        return _grads_then_penalty(lib, (y * y).sum(), [a])

    _both(torch, build)


CONV_T = [dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1),
          dict(padding=2, dilation=2), dict(stride=3, output_padding=2, groups=2),
          dict(stride=2, padding=1, dilation=2, output_padding=1, groups=2)]  # fmt: skip


@pytest.mark.parametrize("needs", ["all", "x", "weight"])
@pytest.mark.parametrize("cfg", CONV_T, ids=[str(c) for c in CONV_T])
def test_conv_transpose_1d_and_2d(torch, cfg, needs):
    """Stride, padding, output_padding, dilation, groups; x and W needing grad, or one alone
    (the other kept by the op as a constant)."""
    groups = cfg.get("groups", 1)
    rng = np.random.default_rng(8)
    x0, b0 = rng.standard_normal((2, 4, 4, 3)), rng.standard_normal(3 * groups)
    w0 = rng.standard_normal((4, 3, 3, 2)) * 0.4

    def build(lib):
        F = lib.nn.functional
        x = lib.tensor(x0, requires_grad=needs != "weight")
        w = lib.tensor(w0, requires_grad=needs != "x")
        b = lib.tensor(b0, requires_grad=True)
        y = F.conv_transpose2d(x, w, b, **cfg).tanh().sum()
        y = y + F.conv_transpose1d(x[:, :, 1], w[:, :, 1], b, **cfg).sin().sum()
        wrt = [t for t in (x, w) if t.requires_grad]
        gs = lib.autograd.grad(y, wrt, create_graph=True)
        sum((g * g).sum() for g in gs).backward()
        return [g.detach().numpy() for g in gs] + [t.grad.numpy() for t in wrt + [b]]

    _both(torch, build)


ALGORITHMS = ["winograd", "shifted", "im2col"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_convolution_of_an_input_without_grad(torch, monkeypatch, algorithm):
    """∂L/∂W with create_graph=True where x needs none (the op keeps a reference to it), in
    1-D (never Winograd: its kernel is 1 × k) and 2-D, whichever algorithm ran the forward."""
    monkeypatch.setattr(C, "POLICY", algorithm)
    rng = np.random.default_rng(5)
    x0, w0 = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3)) * 0.4
    b0 = rng.standard_normal(4)

    def build(lib):
        F = lib.nn.functional
        x = lib.tensor(x0)
        w, b = lib.tensor(w0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        y2 = F.conv2d(x, w, b, padding=1)
        y1 = F.conv1d(x[:, :, 2], w[:, :, 1], b, padding=1)
        if lib is ember:  # the forward that ran is the one asked for
            assert y2._ctx.winograd == (algorithm == "winograd")
            assert y2._ctx.shifted == (algorithm == "shifted")
            assert not y1._ctx.winograd and y1._ctx.shifted == (algorithm == "shifted")
            assert y2._ctx.input is x.array and y1._ctx.input.shape == (2, 3, 5)
        loss = (y2.tanh() ** 2).sum() + y1.sin().sum()
        return _grads_then_penalty(lib, loss, [w, b])

    _both(torch, build)


@pytest.mark.parametrize("cfg", [dict(stride=2), dict(dilation=2, padding=2, groups=3)])
def test_a_convolution_of_an_input_without_grad_strided_grouped(torch, cfg):
    rng = np.random.default_rng(6)
    groups = cfg.get("groups", 1)
    x0, w0 = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((6, 3 // groups, 3, 3))

    def build(lib):
        F = lib.nn.functional
        w = lib.tensor(w0 * 0.3, requires_grad=True)
        y = F.conv2d(lib.tensor(x0), w, **cfg).tanh().sum()
        y = y + F.conv1d(lib.tensor(x0[:, :, 0]), w[:, :, 0], **cfg).tanh().sum()
        return _grads_then_penalty(lib, y, [w])

    _both(torch, build)


@pytest.mark.parametrize("one_d", [False, True])
def test_maml_inner_step_through_a_convolution(torch, one_d):
    """MAML: w' = w − α·∂L_train(w)/∂w (create_graph=True, the images need no grad), then the
    outer loss on w' over new images, backward to the initial weights."""
    shape = (4, 2, 8) if one_d else (4, 2, 6, 6)
    k = (3,) if one_d else (3, 3)
    rng = np.random.default_rng(9)
    xs, xq = rng.standard_normal(shape), rng.standard_normal(shape)
    ts, tq = np.array([0, 2, 1, 2]), np.array([1, 0, 2, 2])
    w0, b0 = rng.standard_normal((5, 2) + k) * 0.3, rng.standard_normal(5) * 0.1
    h0 = rng.standard_normal((3, 5)) * 0.5

    def build(lib):
        F = lib.nn.functional
        conv = F.conv1d if one_d else F.conv2d
        params = [lib.tensor(a, requires_grad=True) for a in (w0, b0, h0)]

        def loss(p, x, t):
            w, b, head = p
            h = conv(lib.tensor(x), w, b, padding=1).tanh()
            feats = h.reshape(h.shape[0], h.shape[1], -1).mean(2)
            return F.nll_loss(F.log_softmax(feats @ head.transpose(0, 1), dim=1), lib.tensor(t))

        grads = lib.autograd.grad(loss(params, xs, ts), params, create_graph=True)
        fast = [p - 0.4 * g for p, g in zip(params, grads)]
        loss(fast, xq, tq).backward()
        return [g.detach().numpy() for g in grads] + [p.grad.numpy() for p in params]

    _both(torch, build)
