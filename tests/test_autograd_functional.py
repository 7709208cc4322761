"""ember.autograd.functional against torch.autograd.functional: values (float64, 1e-10),
return structures, requires_grad of the results, and the errors for bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ember.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp

import ember

RNG = np.random.default_rng(7)
XA, YA = RNG.standard_normal(3), RNG.standard_normal((2, 3))
VX, VY = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def pair(torch, *arrays, requires_grad=False):
    """The same float64 values as ember and torch tensors."""
    e = tuple(ember.tensor(a.copy(), requires_grad=requires_grad) for a in arrays)
    t = tuple(torch.tensor(a.copy(), requires_grad=requires_grad) for a in arrays)
    return (e[0], t[0]) if len(arrays) == 1 else (e, t)


def same(e, t, torch, check_requires_grad=True):
    """ember's result has torch's structure, values and requires_grad."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.array, t.detach().numpy(), rtol=0, atol=1e-10)
        assert e.requires_grad == t.requires_grad or not check_requires_grad
        return
    assert type(t) in (tuple, list) and type(e) is type(t), (type(e), type(t))
    assert len(e) == len(t)
    for a, b in zip(e, t):
        same(a, b, torch, check_requires_grad)


def _words(msg: str) -> str:
    # shapes print as torch.Size([3]) there and (3,) here; torch has a typo ("isonly")
    return re.sub(r"[^A-Za-z0-9]", "", msg.replace("torch.Size", ""))


def same_error(torch, call_ember, call_torch, exc=RuntimeError):
    """Both raise ``exc``, and ember's message is torch's or its first sentences."""
    with pytest.raises(exc) as te:
        call_torch()
    with pytest.raises(exc) as ee:
        call_ember()
    assert _words(str(te.value)).startswith(_words(str(ee.value))), (str(ee.value), str(te.value))


# functions written once, run on either library's tensors
def one_to_one(x):
    return (x.tanh() * x.exp()).sum(0) if x.ndim > 1 else x.tanh() * x.exp()


def two_to_two(x, y):
    return (x * y).tanh().sum(0), (x.exp() * y).sum()


def scalar_of_two(x, y):
    return (x * y).tanh().sum() * x.exp().sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_single_and_tuple(torch, create_graph):
    xe, xt = pair(torch, XA)
    ve, vt = pair(torch, VX)
    e = vjp(one_to_one, xe, ve, create_graph=create_graph)
    t = torch.autograd.functional.vjp(one_to_one, xt, vt, create_graph=create_graph)
    same(e, t, torch)
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    (ve, we), (vt, wt) = pair(torch, RNG.standard_normal(3), np.array(0.7))
    e = vjp(two_to_two, (xe, ye), (ve, we), create_graph=create_graph)
    t = torch.autograd.functional.vjp(two_to_two, (xt, yt), (vt, wt), create_graph=create_graph)
    same(e, t, torch)


def test_vjp_scalar_output_needs_no_v_and_unused_input_gives_zeros(torch):
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    e = vjp(lambda x, y: (x * x).sum(), (xe, ye))
    t = torch.autograd.functional.vjp(lambda x, y: (x * x).sum(), (xt, yt))
    same(e, t, torch)
    assert not e[1][1].array.any()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp_single_and_tuple(torch, create_graph):
    xe, xt = pair(torch, XA)
    ve, vt = pair(torch, VX)
    e = jvp(one_to_one, xe, ve, create_graph=create_graph)
    t = torch.autograd.functional.jvp(one_to_one, xt, vt, create_graph=create_graph)
    same(e, t, torch)
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    (ve, we), (vt, wt) = pair(torch, VX, VY)
    e = jvp(two_to_two, (xe, ye), (ve, we), create_graph=create_graph)
    t = torch.autograd.functional.jvp(two_to_two, (xt, yt), (vt, wt), create_graph=create_graph)
    same(e, t, torch)


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_structures(torch, create_graph):
    TF = torch.autograd.functional
    xe, xt = pair(torch, XA)
    same(jacobian(one_to_one, xe, create_graph), TF.jacobian(one_to_one, xt, create_graph), torch)
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    # tuple in, tuple out: a tuple over outputs of tuples over inputs
    e = jacobian(two_to_two, (xe, ye), create_graph)
    t = TF.jacobian(two_to_two, (xt, yt), create_graph)
    same(e, t, torch)
    assert e[0][1].shape == (3, 2, 3)
    # tuple in, one out; one in, tuple out
    same(
        jacobian(scalar_of_two, (xe, ye), create_graph),
        TF.jacobian(scalar_of_two, (xt, yt), create_graph),
        torch,
    )
    same(
        jacobian(lambda x: (x.sin(), x.sum()), xe, create_graph),
        TF.jacobian(lambda x: (x.sin(), x.sum()), xt, create_graph),
        torch,
    )


def test_jacobian_of_output_not_requiring_grad_is_zeros(torch):
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    e = jacobian(lambda x, y: (x * 2, ember.ones(2)), (xe, ye))
    t = torch.autograd.functional.jacobian(lambda x, y: (x * 2, torch.ones(2)), (xt, yt))
    same(e, t, torch)


def test_jacobian_vectorize_and_forward_mode_strategy(torch):
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    TF = torch.autograd.functional
    t = TF.jacobian(two_to_two, (xt, yt))
    same(jacobian(two_to_two, (xe, ye), vectorize=True), t, torch)
    e = jacobian(two_to_two, (xe, ye), vectorize=True, strategy="forward-mode")
    same(e, TF.jacobian(two_to_two, (xt, yt), vectorize=True, strategy="forward-mode"), torch)
    for kwargs, exc in [
        ({"strategy": "forward-mode"}, NotImplementedError),
        ({"strategy": "forward-mode", "vectorize": True, "create_graph": True},
         NotImplementedError),
        ({"strategy": "forward-mode", "vectorize": True, "strict": True}, RuntimeError),
        ({"vectorize": True, "strict": True}, RuntimeError),
        ({"strategy": "sideways"}, AssertionError),
    ]:  # fmt: skip
        same_error(
            torch,
            lambda kw=kwargs: jacobian(two_to_two, (xe, ye), **kw),
            lambda kw=kwargs: TF.jacobian(two_to_two, (xt, yt), **kw),
            exc,
        )


def test_jacobian_of_mlp_wrt_input_and_weights(torch):
    em = ember.nn.Sequential(ember.nn.Linear(3, 5), ember.nn.Tanh(), ember.nn.Linear(5, 2))
    em = em.double()
    tm = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    tm = tm.double()
    tm.load_state_dict({k: torch.tensor(v.array) for k, v in em.state_dict().items()})
    xe, xt = pair(torch, RNG.standard_normal((4, 3)))
    same(jacobian(em, xe), torch.autograd.functional.jacobian(tm, xt), torch)
    assert jacobian(em, xe).shape == (4, 2, 4, 3)

    # with respect to the first layer's weight and bias, the rest fixed
    def head_e(w, b):
        return ember.nn.functional.linear(xe, w, b).tanh() @ em[2].weight.detach().T

    def head_t(w, b):
        return torch.nn.functional.linear(xt, w, b).tanh() @ tm[2].weight.detach().T

    (we, be), (wt, bt) = pair(torch, em[0].weight.array, em[0].bias.array)
    same(jacobian(head_e, (we, be)), torch.autograd.functional.jacobian(head_t, (wt, bt)), torch)


@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian_single_and_tuple(torch, create_graph):
    TF = torch.autograd.functional
    xe, xt = pair(torch, XA)

    def f(x):
        return (x.sin() * x.exp()).sum() * x.sum()

    same(hessian(f, xe, create_graph), TF.hessian(f, xt, create_graph), torch)
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    e = hessian(scalar_of_two, (xe, ye), create_graph)
    same(e, TF.hessian(scalar_of_two, (xt, yt), create_graph), torch)
    assert e[0][1].shape == (3, 2, 3) and e[1][1].shape == (2, 3, 2, 3)
    # torch's forward mode leaves its results on a graph; ember never keeps one unasked
    fwd = {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}
    e = hessian(f, xe, **fwd)
    assert not e.requires_grad
    same(e, TF.hessian(f, xt, **fwd), torch, check_requires_grad=False)
    e = hessian(scalar_of_two, (xe, ye), **fwd)
    same(e, TF.hessian(scalar_of_two, (xt, yt), **fwd), torch, check_requires_grad=False)


def test_hessian_of_a_small_loss_wrt_weights(torch):
    xa, ya = RNG.standard_normal((8, 3)), RNG.standard_normal((8, 2))
    (xe, te), (xt, tt) = pair(torch, xa, ya)

    def loss(x, target):
        def of_weights(w, b):
            d = (x @ w.T + b).tanh() - target
            return (d * d).mean()

        return of_weights

    (we, be), (wt, bt) = pair(torch, RNG.standard_normal((2, 3)), RNG.standard_normal(2))
    e = hessian(loss(xe, te), (we, be))
    same(e, torch.autograd.functional.hessian(loss(xt, tt), (wt, bt)), torch)
    # symmetric, as a Hessian is: the (w, b) block is the transpose of the (b, w) block
    np.testing.assert_allclose(e[0][1].array, e[1][0].array.transpose(1, 2, 0), atol=1e-12)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp(torch, name, create_graph):
    ours, theirs = {"hvp": hvp, "vhp": vhp}[name], getattr(torch.autograd.functional, name)
    xe, xt = pair(torch, XA)
    ve, vt = pair(torch, VX)

    def f(x):
        return (x.sin() * x.exp()).sum() * x.sum()

    same(ours(f, xe, ve, create_graph), theirs(f, xt, vt, create_graph), torch)
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    (ve, we), (vt, wt) = pair(torch, VX, VY)
    e = ours(scalar_of_two, (xe, ye), (ve, we), create_graph)
    same(e, theirs(scalar_of_two, (xt, yt), (vt, wt), create_graph), torch)


def test_results_keep_the_callers_graph_only_with_create_graph(torch):
    TF = torch.autograd.functional
    xe, xt = pair(torch, XA, requires_grad=True)
    ve, vt = pair(torch, VX)
    _, ge = vjp(one_to_one, xe, ve)
    assert not ge.requires_grad and ge._ctx is None
    _, ge = vjp(one_to_one, xe, ve, create_graph=True)
    _, gt = TF.vjp(one_to_one, xt, vt, create_graph=True)
    ge.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=0, atol=1e-10)
    # a Hessian-vector product differentiated once more: third derivatives
    xe.grad = xt.grad = None
    f = lambda x: (x.sin() * x.exp()).sum() * x.sum()  # noqa: E731
    (hvp(f, xe, ve, create_graph=True)[1] ** 2).sum().backward()
    (TF.hvp(f, xt, vt, create_graph=True)[1] ** 2).sum().backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=0, atol=1e-10)


def test_bad_v_and_bad_outputs(torch):
    TF = torch.autograd.functional
    xe, xt = pair(torch, XA)
    (xe2, ye), (xt2, yt) = pair(torch, XA, YA)
    bad = pair(torch, np.ones(4))
    for ours, theirs in [(vjp, TF.vjp), (jvp, TF.jvp)]:
        same_error(torch, lambda o=ours: o(one_to_one, xe, bad[0]),
                   lambda t=theirs: t(one_to_one, xt, bad[1]))  # fmt: skip
        same_error(torch, lambda o=ours: o(one_to_one, xe), lambda t=theirs: t(one_to_one, xt))
        same_error(torch, lambda o=ours: o(two_to_two, (xe2, ye), (bad[0],)),
                   lambda t=theirs: t(two_to_two, (xt2, yt), (bad[1],)))  # fmt: skip
    for ours, theirs in [(hvp, TF.hvp), (vhp, TF.vhp)]:
        same_error(torch, lambda o=ours: o(one_to_one, xe, xe),
                   lambda t=theirs: t(one_to_one, xt, xt))  # fmt: skip
        same_error(torch, lambda o=ours: o(two_to_two, (xe2, ye), (xe2, ye)),
                   lambda t=theirs: t(two_to_two, (xt2, yt), (xt2, yt)))  # fmt: skip
    same_error(torch, lambda: hessian(one_to_one, xe), lambda: TF.hessian(one_to_one, xt))
    for ours, theirs in [(vjp, TF.vjp), (jacobian, TF.jacobian)]:
        same_error(torch, lambda o=ours: o(lambda x: 1.0, xe),
                   lambda t=theirs: t(lambda x: 1.0, xt), TypeError)  # fmt: skip
        same_error(torch, lambda o=ours: o(one_to_one, [xe]),
                   lambda t=theirs: t(one_to_one, [xt]), TypeError)  # fmt: skip


def test_strict_mode(torch):
    TF = torch.autograd.functional
    (xe, ye), (xt, yt) = pair(torch, XA, YA)
    (ve, we), (vt, wt) = pair(torch, VX, VY)
    only_x = lambda x, y: x.exp()  # noqa: E731 - independent of y
    ge = lambda x, y: (x.exp() * 2).sum()  # noqa: E731
    for ours, theirs, args_e, args_t in [
        (vjp, TF.vjp, (only_x, (xe, ye), ve), (only_x, (xt, yt), vt)),
        (jvp, TF.jvp, (only_x, (xe, ye), (ve, we)), (only_x, (xt, yt), (vt, wt))),
        (jacobian, TF.jacobian, (only_x, (xe, ye)), (only_x, (xt, yt))),
        (hessian, TF.hessian, (ge, (xe, ye)), (ge, (xt, yt))),
        (vhp, TF.vhp, (ge, (xe, ye), (ve, we)), (ge, (xt, yt), (vt, wt))),
        (hvp, TF.hvp, (ge, (xe, ye), (ve, we)), (ge, (xt, yt), (vt, wt))),
    ]:
        same_error(torch, lambda o=ours, a=args_e: o(*a, strict=True),
                   lambda t=theirs, a=args_t: t(*a, strict=True))  # fmt: skip
        same(ours(*args_e), theirs(*args_t), torch)  # non-strict: zeros for y
    # a linear function's jacobian does not depend on the input
    lin = lambda x: 3 * x  # noqa: E731
    same_error(torch, lambda: jacobian(lin, xe, create_graph=True, strict=True),
               lambda: TF.jacobian(lin, xt, create_graph=True, strict=True))  # fmt: skip
    same_error(torch, lambda: vjp(lambda x: ember.ones(3), xe, ve, strict=True),
               lambda: TF.vjp(lambda x: torch.ones(3), xt, vt, strict=True))  # fmt: skip
    # and with strict off the same calls give what torch gives
    same(jacobian(lin, xe, create_graph=True), TF.jacobian(lin, xt, create_graph=True), torch)


def test_exposed_as_torch_paths():
    import ember.autograd.functional as F

    assert ember.autograd.functional is F and F.jacobian is jacobian
