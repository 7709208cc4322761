"""ember.func's vjp, jvp, jacrev, jacfwd and hessian against torch.func with the same inputs
(float64, 1e-10): scalar/vector/matrix functions, argnums, pytree inputs and outputs,
has_aux, nesting with each other, grad, vmap and functional_call, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, vjp, vmap
from ember.func_vmap import _flatten, _unflatten

torch = pytest.importorskip("torch")
tf = torch.func

RNG = np.random.default_rng(11)


def arr(*shape):
    return RNG.standard_normal(shape)


def close(e, t):
    """Two result trees alike: the same containers, tensors' shapes and values."""
    if isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            close(a, b)
    elif isinstance(t, dict):
        assert type(e) is dict and list(e) == list(t)
        for k in t:
            close(e[k], t[k])
    elif isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor)
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().array, t.detach().numpy(), rtol=0, atol=1e-10)
    else:
        assert e == t


def both(*arrays):
    """NumPy arrays (or trees of them) as (ember tuple, torch tuple)."""

    def conv(lib, x):
        if isinstance(x, np.ndarray):
            return lib.tensor(x.copy())
        if isinstance(x, (tuple, list)):
            return type(x)(conv(lib, v) for v in x)
        if isinstance(x, dict):
            return {k: conv(lib, v) for k, v in x.items()}
        return x

    return conv(ember, arrays), conv(torch, arrays)


def same_error(run_e, run_t):
    """Both raise, the same exception type, ember's message starting as torch's."""
    with pytest.raises(Exception) as te:
        run_t()
    with pytest.raises(Exception) as ee:
        run_e()
    assert type(ee.value) is type(te.value), (ee.value, te.value)
    assert str(ee.value)[:40] == str(te.value)[:40], (str(ee.value), str(te.value))


# functions written with methods only, so one definition runs on both libraries
FUNCS = {
    "scalar": lambda x, y: (x.sin() * y).sum() + (x * x).sum() * y.sum(),
    "vector": lambda x, y: (x * y).tanh() + x.exp() * y.sum(),
    "matrix": lambda x, y: x.reshape(-1, 1) * y.reshape(1, -1).sin(),
    "pytree": lambda x, y: {"a": (x * y).sum(), "b": (x.cos(), y * x.sum())},
}
ARGNUMS = [0, 1, (0, 1), (1, 0), -1]


# ------------------------------------------------------------ jacrev, jacfwd
@pytest.mark.parametrize("name", list(FUNCS))
@pytest.mark.parametrize("argnums", ARGNUMS)
@pytest.mark.parametrize("kind", ["jacrev", "jacfwd"])
def test_jacobians(name, argnums, kind):
    f = FUNCS[name]
    (xe, ye), (xt, yt) = both(arr(3), arr(3))
    # torch's jacfwd ignores a negative int argnum (its _replace_args compares i == -1, so
    # the Jacobian comes out zero): there the reference is torch's jacrev, the same matrix
    ref = "jacrev" if argnums == -1 else kind
    close(getattr(ember.func, kind)(f, argnums)(xe, ye), getattr(tf, ref)(f, argnums)(xt, yt))


@pytest.mark.parametrize("kind", ["jacrev", "jacfwd"])
def test_jacobian_of_matrix_input_and_pytree_argument(kind):
    f = lambda p, x: (x @ p["w"] + p["b"]).tanh()  # noqa: E731
    (pe, xe), (pt, xt) = both({"w": arr(3, 2), "b": arr(2)}, arr(4, 3))
    close(getattr(ember.func, kind)(f)(pe, xe), getattr(tf, kind)(f)(pt, xt))
    close(getattr(ember.func, kind)(f, (0, 1))(pe, xe), getattr(tf, kind)(f, (0, 1))(pt, xt))


@pytest.mark.parametrize("kind", ["jacrev", "jacfwd"])
def test_jacobian_has_aux(kind):
    f = lambda x: ((x * x).sin(), {"n": x.sum(), "m": x * 2})  # noqa: E731
    (xe,), (xt,) = both(arr(2, 3))
    je, ae = getattr(ember.func, kind)(f, has_aux=True)(xe)
    jt, at = getattr(tf, kind)(f, has_aux=True)(xt)
    close(je, jt)
    close(ae, at)
    assert not ae["n"].requires_grad


def test_jacrev_chunk_size_and_unused_input():
    f = lambda x, y: x.exp() * 3  # noqa: E731
    (xe, ye), (xt, yt) = both(arr(4), arr(2))
    close(jacrev(f, (0, 1), chunk_size=2)(xe, ye), tf.jacrev(f, (0, 1), chunk_size=2)(xt, yt))
    close(jacfwd(f, (0, 1))(xe, ye), tf.jacfwd(f, (0, 1))(xt, yt))


# ------------------------------------------------------------ nesting
@pytest.mark.parametrize("outer", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("inner", ["jacrev", "jacfwd"])
def test_second_jacobians(outer, inner):
    f = lambda x: (x.sin() * x.sum()).exp()  # noqa: E731
    (xe,), (xt,) = both(arr(3))
    e = getattr(ember.func, outer)(getattr(ember.func, inner)(f))(xe)
    t = getattr(tf, outer)(getattr(tf, inner)(f))(xt)
    close(e, t)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_hessian(argnums):
    f = lambda x, y: (x.sin() * y).sum() * (x * x).sum() + (y**3).sum()  # noqa: E731
    (xe, ye), (xt, yt) = both(arr(3), arr(3))
    close(hessian(f, argnums)(xe, ye), tf.hessian(f, argnums)(xt, yt))


def test_hessian_matrix_input_and_third_derivative():
    f = lambda x: (x.tanh() ** 2).sum()  # noqa: E731
    (xe,), (xt,) = both(arr(2, 2))
    close(hessian(f)(xe), tf.hessian(f)(xt))
    close(jacrev(hessian(f))(xe), tf.jacrev(tf.hessian(f))(xt))


def test_hessian_of_loss_wrt_parameters_via_functional_call():
    w, b, x, y = arr(2, 3), arr(2), arr(5, 3), arr(5, 2)
    me, mt = ember.nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    (pe, xe, ye), (pt, xt, yt) = both({"weight": w, "bias": b}, x, y)

    def loss(lib, m):
        call = functional_call if lib is ember else tf.functional_call
        return lambda p, x, y: (call(m, p, (x,)).tanh() - y).pow(2).mean()

    close(hessian(loss(ember, me))(pe, xe, ye), tf.hessian(loss(torch, mt))(pt, xt, yt))
    close(jacrev(loss(ember, me))(pe, xe, ye), tf.jacrev(loss(torch, mt))(pt, xt, yt))


def test_with_grad():
    f = lambda x: (x.sin() * x).sum()  # noqa: E731
    (xe,), (xt,) = both(arr(3))
    close(jacrev(grad(f))(xe), tf.jacrev(tf.grad(f))(xt))
    close(jacfwd(grad(f))(xe), tf.jacfwd(tf.grad(f))(xt))
    g = lambda x: jacrev(lambda z: z.exp() * z)(x).sum()  # noqa: E731
    gt = lambda x: tf.jacrev(lambda z: z.exp() * z)(x).sum()  # noqa: E731
    close(grad(g)(xe), tf.grad(gt)(xt))


def test_with_vmap():
    f = lambda w, x: (x @ w).tanh()  # noqa: E731
    (we, xe), (wt, xt) = both(arr(3, 2), arr(4, 3))
    for k in ("jacrev", "jacfwd"):  # per-sample Jacobians
        e = vmap(getattr(ember.func, k)(f, argnums=(0, 1)), in_dims=(None, 0))(we, xe)
        close(e, tf.vmap(getattr(tf, k)(f, argnums=(0, 1)), in_dims=(None, 0))(wt, xt))
    close(vmap(hessian(lambda x: (x.sin() ** 2).sum()))(xe),
          tf.vmap(tf.hessian(lambda x: (x.sin() ** 2).sum()))(xt))  # fmt: skip
    h = lambda x: vmap(lambda r: (r * r).sum())(x)  # noqa: E731
    ht = lambda x: tf.vmap(lambda r: (r * r).sum())(x)  # noqa: E731
    close(jacrev(h)(xe), tf.jacrev(ht)(xt))
    close(jacfwd(h)(xe), tf.jacfwd(ht)(xt))


def test_results_keep_graph_to_outside_tensors():
    """A captured tensor that requires grad: the Jacobian is differentiable towards it."""
    we = ember.tensor(arr(3), requires_grad=True)
    wt = torch.tensor(we.detach().array.copy(), requires_grad=True)
    (xe,), (xt,) = both(arr(3))
    jacrev(lambda x: (x * we).sin())(xe).sum().backward()
    tf.jacrev(lambda x: (x * wt).sin())(xt).sum().backward()
    close(we.grad, wt.grad)
    assert not jacrev(lambda x: x.sin())(xe).requires_grad


# ------------------------------------------------------------ vjp
@pytest.mark.parametrize("name", list(FUNCS))
def test_vjp(name):
    f = FUNCS[name]
    (xe, ye), (xt, yt) = both(arr(3), arr(3))
    oe, fe = vjp(f, xe, ye)
    ot, ft = tf.vjp(f, xt, yt)
    close(oe, ot)
    flat, spec = torch.utils._pytree.tree_flatten(ot)
    cots = [arr(*o.shape) for o in flat]
    ce = _unflatten(_flatten(oe, []), iter(ember.tensor(c) for c in cots))
    ct = torch.utils._pytree.tree_unflatten([torch.tensor(c) for c in cots], spec)
    close(fe(ce), ft(ct))
    close(fe(ce), ft(ct))  # callable again


def test_vjp_pytree_primal_has_aux_and_vjp_of_vjp():
    f = lambda p, x: ((p["a"] * x).sin(), (p["a"] ** 2).sum() * x)  # noqa: E731
    (pe, xe, ve), (pt, xt, vt) = both({"a": arr(2, 2)}, arr(2, 2), arr(2, 2))
    oe, fe, ae = vjp(f, pe, xe, has_aux=True)
    ot, ft, at = tf.vjp(f, pt, xt, has_aux=True)
    close((oe, ae), (ot, at))
    close(fe(ve), ft(vt))
    # a vjp inside a grad: second derivative through vjp_fn
    g = lambda lib, fn: lambda x: fn(lambda z: z.sin() * z, x)[1](x)[0].sum()  # noqa: E731
    close(grad(g(ember, vjp))(xe), tf.grad(g(torch, tf.vjp))(xt))


# ------------------------------------------------------------ jvp
@pytest.mark.parametrize("name", list(FUNCS))
def test_jvp(name):
    f = FUNCS[name]
    (xe, ye, te, se), (xt, yt, tt, st) = both(arr(3), arr(3), arr(3), arr(3))
    close(jvp(f, (xe, ye), (te, se)), tf.jvp(f, (xt, yt), (tt, st)))


def test_jvp_pytree_primals_has_aux_and_nesting():
    f = lambda p: ((p["a"] @ p["b"]).exp(), p["a"].sum())  # noqa: E731
    (pe, te), (pt, tt) = both({"a": arr(2, 3), "b": arr(3, 2)}, {"a": arr(2, 3), "b": arr(3, 2)})
    close(jvp(f, (pe,), (te,), has_aux=True), tf.jvp(f, (pt,), (tt,), has_aux=True))
    # jvp of a gradient: a Hessian-vector product; and jvp inside vmap
    h = lambda lib, g: lambda x: g(lambda z: (z.sin() * z).sum())(x)  # noqa: E731
    (xe, ve), (xt, vt) = both(arr(3), arr(3))
    close(jvp(h(ember, grad), (xe,), (ve,)), tf.jvp(h(torch, tf.grad), (xt,), (vt,)))
    close(vmap(lambda x, v: jvp(lambda z: z.sin(), (x,), (v,))[1])(xe, ve),
          tf.vmap(lambda x, v: tf.jvp(lambda z: z.sin(), (x,), (v,))[1])(xt, vt))  # fmt: skip


def test_jvp_independent_output():
    f = lambda x, y: (x * 2, y.detach() + 1)  # noqa: E731
    (xe, ye, te), (xt, yt, tt) = both(arr(2), arr(2), arr(2))
    close(jvp(f, (xe, ye), (te, te)), tf.jvp(f, (xt, yt), (tt, tt)))
    same_error(lambda: jvp(f, (xe, ye), (te, te), strict=True),
               lambda: tf.jvp(f, (xt, yt), (tt, tt), strict=True))  # fmt: skip


# ------------------------------------------------------------ errors
ERRORS = {
    "non-tensor output": lambda F, X, Y: F.jacrev(lambda x: 3.0)(X[F]),
    "non-tensor leaf (jvp)": lambda F, X, Y: F.jacfwd(lambda x: (x, "s"))(X[F]),
    "non-tensor leaf (vjp)": lambda F, X, Y: F.vjp(lambda x: [x, 2], X[F]),
    "argnums range": lambda F, X, Y: F.jacrev(lambda x, y: x, argnums=2)(X[F], Y[F]),
    "negative range": lambda F, X, Y: F.jacfwd(lambda x, y: x, argnums=-3)(X[F], Y[F]),
    "repeated": lambda F, X, Y: F.jacrev(lambda x, y: x, argnums=(0, 0))(X[F], Y[F]),
    "argnums type": lambda F, X, Y: F.jacrev(lambda x: x, argnums=[0])(X[F]),
    "aux not a tuple": lambda F, X, Y: F.jacrev(lambda x: x, has_aux=True)(X[F]),
    "aux 3-tuple": lambda F, X, Y: F.jacfwd(lambda x: (x, x, x), has_aux=True)(X[F]),
    "vjp aux": lambda F, X, Y: F.vjp(lambda x: x, X[F], has_aux=True),
    "jvp aux": lambda F, X, Y: F.jvp(lambda x: x, (X[F],), (Y[F],), has_aux=True),
    "primals not a tuple": lambda F, X, Y: F.jvp(lambda x: x, X[F], Y[F]),
    "tangents structure": lambda F, X, Y: F.jvp(lambda x, y: x, (X[F], Y[F]), (Y[F],)),
    "chunk_size": lambda F, X, Y: F.jacrev(lambda x: x, chunk_size=0),
    "randomness": lambda F, X, Y: F.jacfwd(lambda x: x, randomness="bad")(X[F]),
    "cotangent structure": lambda F, X, Y: F.vjp(lambda x: x, X[F])[1]((Y[F],)),
    "non-tensor input": lambda F, X, Y: F.jacrev(lambda x: x)(3.0),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors(case):
    """torch's exception type and message (x, y: 3-vectors; F is ember.func or torch.func)."""
    (xe, ye), (xt, yt) = both(arr(3), arr(3))
    X, Y = {ember.func: xe, tf: xt}, {ember.func: ye, tf: yt}
    run = ERRORS[case]
    same_error(lambda: run(ember.func, X, Y), lambda: run(tf, X, Y))


def test_jacfwd_randomness():
    (xe,), (xt,) = both(arr(3))
    fe = lambda x: x * ember.rand(3, dtype=ember.float64)  # noqa: E731
    ft = lambda x: x * torch.rand(3, dtype=torch.float64)  # noqa: E731
    same_error(lambda: jacfwd(fe)(xe), lambda: tf.jacfwd(ft)(xt))
    assert jacfwd(fe, randomness="same")(xe).shape == (3, 3)
    close(jacrev(lambda x: x * 2)(xe), tf.jacrev(lambda x: x * 2)(xt))


def test_linearize_runs_func_once_and_matches_torch():
    from ember.func import linearize

    x, y, t, u = arr(3), arr(3), arr(3), arr(3)
    calls = []

    def f(mod):
        def fn(a, b):
            calls.append(1)
            return {"s": (a * b).sin(), "n": (a.exp() * b).sum()}

        return fn

    out_e, fn_e = linearize(f(ember), ember.tensor(x), ember.tensor(y))
    out_t, fn_t = tf.linearize(f(torch), torch.tensor(x), torch.tensor(y))
    close(out_e, out_t)
    calls.clear()
    for a, b in ((t, u), (u, t)):
        close(fn_e(ember.tensor(a), ember.tensor(b)), fn_t(torch.tensor(a), torch.tensor(b)))
    assert not calls  # jvp_fn replays the kept graph; func does not run again
    for bad in ((ember.ones(2, dtype=ember.float64),) * 2, (ember.ones(3),) * 2):
        with pytest.raises(RuntimeError, match="tangent:0 with (shape|dtype)"):
            fn_e(*bad)
    with pytest.raises(RuntimeError, match="to have the same argspec as the primals"):
        fn_e(ember.tensor(t))
