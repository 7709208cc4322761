"""ember.autograd.forward_ad against torch.autograd.forward_ad: the same primals and tangents
(float64) give the same outputs' tangents (1e-10) through ops of every family, modules and a
custom Function's jvp; tangents flow under no_grad, through views and in-place changes, and
are forgotten when the level closes; reverse-over-forward differentiates a tangent; torch's
errors."""

from __future__ import annotations

import ember.autograd.forward_ad as fwAD
import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
tAD = torch.autograd.forward_ad
tF = torch.nn.functional

RNG = np.random.default_rng(5)


def arr(*shape):
    return RNG.standard_normal(shape)


def pair(a):
    return ember.tensor(a), torch.tensor(a)


def close(e, t, atol=1e-10):
    assert t is not None and e is not None, (e, t)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().array, t.detach().numpy(), rtol=0, atol=atol)


def tangents_alike(ember_fn, torch_fn, *shapes, positive=False):
    """Run both functions on dual inputs of ``shapes`` and compare outputs and tangents."""
    xs = [np.abs(arr(*s)) + 0.5 if positive else arr(*s) for s in shapes]
    ts = [arr(*s) for s in shapes]
    with fwAD.dual_level(), tAD.dual_level():
        ed = [fwAD.make_dual(ember.tensor(x), ember.tensor(t)) for x, t in zip(xs, ts)]
        td = [tAD.make_dual(torch.tensor(x), torch.tensor(t)) for x, t in zip(xs, ts)]
        eo, to = ember_fn(*ed), torch_fn(*td)
        eo, to = (eo, to) if isinstance(to, tuple) else ((eo,), (to,))
        for e, t in zip(eo, to):
            ep, et = fwAD.unpack_dual(e)
            tp, tt = tAD.unpack_dual(t)
            close(ep, tp)
            if tt is None:
                assert et is None
            else:
                close(et, tt)


# name: (f(m, F, *inputs) with m = ember or torch and F its functional, input shapes, positive)
CASES = {
    "sin": (lambda m, F, x: x.sin(), [(3, 4)]),
    "exp·log": (lambda m, F, x: x.exp() * x.log(), [(5,)], True),
    "pow, div": (lambda m, F, x, y: x**3 / y, [(2, 3), (2, 3)], True),
    "broadcast add": (lambda m, F, x, y: x + y, [(2, 3), (3,)]),
    "matmul": (lambda m, F, a, b: a @ b, [(3, 4), (4, 2)]),
    "sum dims": (lambda m, F, x: x.sum(1), [(3, 4, 2)]),
    "mean, var": (lambda m, F, x: (x.mean(0), x.var(1)), [(4, 5)]),
    "softmax": (lambda m, F, x: F.softmax(x, -1), [(3, 6)]),
    "log_softmax": (lambda m, F, x: F.log_softmax(x, 0), [(3, 6)]),
    "tanh·sigmoid": (lambda m, F, x: x.tanh() * x.sigmoid(), [(7,)]),
    "relu, gelu": (lambda m, F, x: (F.relu(x), F.gelu(x)), [(9,)]),
    "silu": (lambda m, F, x: F.silu(x), [(4, 4)]),
    "layer_norm": (lambda m, F, x, w: F.layer_norm(x, (5,), w), [(3, 5), (5,)]),
    "indexing, transpose": (lambda m, F, x: x[1:, ::2].t(), [(4, 6)]),
    "reshape, permute": (lambda m, F, x: x.reshape(2, 3, 4).permute(2, 0, 1), [(6, 4)]),
    "cat, stack": (lambda m, F, a, b: m.cat([a, m.stack([b, b])]), [(1, 3), (3,)]),
    "where": (lambda m, F, x, y: m.where(x > 0, x, y * 2), [(5,), (5,)]),
    "max, sort, topk": (
        lambda m, F, x: (x.max(1).values, x.sort(1).values, x.topk(2).values),
        [(3, 5)],
    ),
    "cumsum, norm": (lambda m, F, x: (x.cumsum(0), x.norm()), [(6,)]),
    # tangents come from a rule's derivative at a zero gradient: logcumsumexp's log-space rule
    # once dropped g's zeros there (zero tangents); softsign and angle once had no rule
    "logcumsumexp": (lambda m, F, x: (x.logcumsumexp(0), x.logcumsumexp(1)), [(4, 3)]),
    "softsign, angle": (lambda m, F, x: (F.softsign(x), x.angle()), [(5,)]),
    "nextafter": (lambda m, F, x, y: m.nextafter(x, y), [(2, 3), (3,)]),
    "conv2d": (
        lambda m, F, x, w: F.conv2d(x, w, padding=1, stride=2),
        [(2, 3, 7, 6), (4, 3, 3, 3)],
    ),
    "max_pool2d": (lambda m, F, x: F.max_pool2d(x, 2), [(1, 2, 4, 6)]),
    "cross_entropy": (lambda m, F, x: F.cross_entropy(x, m.tensor([1, 0, 3])), [(3, 4)]),
    "mse_loss": (lambda m, F, x, y: F.mse_loss(x, y), [(4, 3), (4, 3)]),
    "attention": (
        lambda m, F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [(2, 5, 4), (2, 5, 4), (2, 5, 3)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_op_tangents_match_torch(name):
    f, shapes, *positive = CASES[name]
    tangents_alike(
        lambda *a: f(ember, F, *a), lambda *a: f(torch, tF, *a), *shapes, positive=bool(positive)
    )


def test_integer_and_boolean_outputs_have_no_tangent():
    tangents_alike(lambda x: (x > 0, x.argmax()), lambda x: (x > 0, x.argmax()), (4,))


def test_modules_match_torch():
    ember.manual_seed(0)
    lstm, lin = ember.nn.LSTM(3, 4, batch_first=True).double(), ember.nn.Linear(4, 2).double()
    tl, tlin = torch.nn.LSTM(3, 4, batch_first=True).double(), torch.nn.Linear(4, 2).double()
    tl.load_state_dict({k: torch.tensor(v.array) for k, v in lstm.state_dict().items()})
    tlin.load_state_dict({k: torch.tensor(v.array) for k, v in lin.state_dict().items()})
    tangents_alike(lambda x: lin(lstm(x)[0]), lambda x: tlin(tl(x)[0]), (2, 5, 3))


def test_tangent_flows_under_no_grad_and_detach_drops_it():
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(arr(3)), ember.tensor(arr(3)))
        with ember.no_grad():
            assert fwAD.unpack_dual(d * 2).tangent is not None
        assert fwAD.unpack_dual(d.detach()).tangent is None


def test_views_and_in_place_changes_carry_tangents_as_torch():
    x, t = arr(4), arr(4)

    def run(mod, AD):
        with AD.dual_level():
            d = AD.make_dual(mod.tensor(x), mod.tensor(t))
            y = mod.zeros(4, dtype=mod.float64)
            y.copy_(d)
            z = mod.zeros(5, dtype=mod.float64)
            z[1:] = d
            w = d.clone()
            w.mul_(2)
            v = d.clone()
            v[:2].mul_(3)  # through a view: v's tangent changes too
            u = d.clone()
            u.zero_()
            s = d.clone()
            s.t_()
            return [AD.unpack_dual(a).tangent for a in (y, z, w, v, u, s, d[1::2])]

    for e, tt in zip(run(ember, fwAD), run(torch, tAD)):
        close(e, tt)


def test_level_exit_forgets_tangents_and_errors_match_torch():
    x = ember.tensor(arr(3))
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, x)
    assert fwAD.unpack_dual(x).tangent is None
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given forward"):
            fwAD.make_dual(x, ember.zeros(2))
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex"):
            fwAD.make_dual(ember.arange(3), x)
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex"):
            fwAD.make_dual(x, ember.arange(3))
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(x, x, level=2)
        d = fwAD.make_dual(x, ember.ones(3))
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same level"):
            fwAD.make_dual(d, x)
        with pytest.raises(RuntimeError, match="not the last one that was created"):
            fwAD.exit_dual_level(level=3)
        y = d * 2
        assert "tangent=tensor([2., 2., 2.], dtype=float64))" in repr(y)
    assert fwAD.unpack_dual(d).tangent is None and y._fw is None
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwAD.exit_dual_level()
    with fwAD.dual_level():
        assert fwAD.unpack_dual(d).tangent is None


def test_reverse_over_forward_matches_torch():
    """∂/∂x of (J·t)ᵀ·1 with J the Jacobian of tanh(W·x): the tangent has a graph to x."""
    x, t, w = arr(4), arr(4), arr(3, 4)

    def run(mod, AD):
        xx = mod.tensor(x, requires_grad=True)
        with AD.dual_level():
            d = AD.make_dual(xx, mod.tensor(t))
            out = (mod.tensor(w) @ d).tanh()
            jt = AD.unpack_dual(out).tangent
            assert jt.requires_grad
            jt.sum().backward()
        return xx.grad

    close(run(ember, fwAD), run(torch, tAD))


def test_custom_function_uses_its_jvp_and_refuses_without_one():
    class Scale(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_forward(x)
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

        @staticmethod
        def jvp(ctx, tx, tk):
            assert tk is None and len(ctx.saved_tensors) == 1
            return tx * ctx.k

    class NoJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, -1.0]))
        close(fwAD.unpack_dual(Scale.apply(d, 3.0)).tangent, torch.tensor([3.0, -3.0]))
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            NoJvp.apply(d)
        assert fwAD.unpack_dual(NoJvp.apply(ember.ones(2))).tangent is None


def test_dual_level_as_decorator_and_complex_refused():
    @fwAD.dual_level()
    def directional(x, v):
        return fwAD.unpack_dual(fwAD.make_dual(x, v).exp()).tangent

    x = ember.tensor(arr(3))
    close(directional(x, ember.ones(3)), torch.tensor(np.exp(x.array)))
    with fwAD.dual_level():
        c = fwAD.make_dual(ember.tensor(arr(2) + 1j), ember.tensor(arr(2) + 0j))
        with pytest.raises(NotImplementedError, match="complex dual tensor"):
            c.abs()


def test_forward_over_reverse_gives_hessian_vector_products_as_torch():
    """Inside the level, the recorded backward of a dual input carries tangents too: the
    tangent of ∇f(x) is H·t."""
    x, t, w = arr(4), arr(4), arr(3, 4)

    def run(mod, AD):
        xx = mod.tensor(x, requires_grad=True)
        with AD.dual_level():
            d = AD.make_dual(xx, mod.tensor(t))
            y = ((mod.tensor(w) @ d).tanh() * d[:3].exp()).sum()
            (g,) = mod.autograd.grad(y, xx, create_graph=True)
            return AD.unpack_dual(g).tangent

    close(run(ember, fwAD), run(torch, tAD))
