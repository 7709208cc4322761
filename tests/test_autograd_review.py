"""Review of the engine's early leaf accumulation and its complex dispatch, against torch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops.attention import ScaledDotProductAttention
from ember.tensor import apply
from ember.utils.checkpoint import checkpoint

RNG = np.random.default_rng(0)
W1, W2, X = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3)), RNG.normal(size=(2, 3))


def _grads_seen_by_hook(m):
    """What a post-accumulate hook on the first layer's weight finds in the other leaves'
    .grad (the later layer's weight and bias, which torch accumulates before it)."""
    w1 = m.tensor(W1, requires_grad=True)
    w2 = m.tensor(W2, requires_grad=True)
    b = m.tensor(np.ones(3), requires_grad=True)
    seen = []

    def hook(t):
        seen.append([None if p.grad is None else p.grad.numpy().copy() for p in (w2, b)])

    w1.register_post_accumulate_grad_hook(hook)
    out = ((m.tensor(X) @ w1).tanh() @ w2 + b).sum()
    out.backward(retain_graph=True)
    out.backward()
    return seen


def test_post_accumulate_hook_sees_other_leaves_already_accumulated():
    got, want = _grads_seen_by_hook(ember), _grads_seen_by_hook(torch)
    assert len(got) == len(want) == 2
    for g_call, w_call in zip(got, want):
        for g, w in zip(g_call, w_call):
            assert g is not None, "a leaf without hooks was not yet accumulated"
            np.testing.assert_allclose(g, w, rtol=1e-12)


def test_removed_hooks_leave_accumulation_after_the_sweep():
    # a stale (emptied) hook list must not make every backward walk the graph
    w = ember.tensor(W1, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: None).remove()
    from ember.autograd import awaited_edges

    y = (w * 2).sum()
    assert awaited_edges(y._ctx) is None
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.ones((3, 3)))


def test_multi_output_node_with_complex_gradient_on_a_later_output_is_refused():
    # only the attention weights (output 1) get a gradient: gys[0] is None, gys[1] complex.
    # The op has no complex rule, so ember must refuse, as it does when output 0 is used,
    # not run its real backward on complex numbers. (F.scaled_dot_product_attention refuses
    # complex input at the call, as torch; the primitive itself is applied here.)
    q = ember.tensor(RNG.normal(size=(2, 3, 4)) + 1j * RNG.normal(size=(2, 3, 4)),
                     requires_grad=True)  # fmt: skip

    def sdpa(q):
        return apply(ScaledDotProductAttention, q, q, q, None, scale=0.5, dropout_mask=None)

    out, w = sdpa(q)
    with pytest.raises(TypeError, match="ScaledDotProductAttention has no complex gradient"):
        w.abs().sum().backward()
    out, w = sdpa(q)
    with pytest.raises(TypeError, match="ScaledDotProductAttention has no complex gradient"):
        ember.autograd.grad(w.abs().sum(), [q])


def test_split_complex_first_piece_unused_matches_torch():
    z0 = RNG.normal(size=(4, 3)) + 1j * RNG.normal(size=(4, 3))
    grads = []
    for m in (ember, torch):
        z = m.tensor(z0, requires_grad=True)
        (z.split([1, 3])[1] * (0.3 - 0.7j)).real.sum().backward()
        grads.append(z.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-12)


def _checkpointed(m, multi):
    z0 = np.random.default_rng(1).normal(size=(4, 3, 2)) @ np.array([1, 1j])
    w0 = np.random.default_rng(2).normal(size=(3, 3, 2)) @ np.array([1, 1j])
    r0 = np.random.default_rng(3).normal(size=(4, 3))
    z, w = m.tensor(z0, requires_grad=True), m.tensor(w0, requires_grad=True)
    r = m.tensor(r0, requires_grad=True)
    if m is ember:
        cp = checkpoint
    else:
        import torch.utils.checkpoint as tcp

        def cp(f, *a):
            return tcp.checkpoint(f, *a, use_reentrant=False)

    if multi:  # the first output (real) gets no gradient, the second is complex
        _, b = cp(lambda u, v: ((u @ w).abs(), (u * v).exp()), z, r)
        loss = (b * (1 + 2j)).real.sum()
    else:
        loss = cp(lambda u, v: (u @ w) * v, z, r).abs().sum()
    loss.backward()
    return [None if t.grad is None else t.grad.numpy() for t in (z, w, r)]


@pytest.mark.parametrize("multi", [False, True])
def test_checkpoint_of_a_complex_function_matches_torch(multi):
    for g, w in zip(_checkpointed(ember, multi), _checkpointed(torch, multi)):
        if w is None:
            assert g is None
        else:
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-10)
