"""ember.func (functional_call, grad, grad_and_value) and ember.nn.utils.stateless against
torch.func (float64, 1e-10); gradgradcheck is tested in test_gradcheck_options.py."""

from __future__ import annotations

import contextlib
from functools import partial

import numpy as np
import pytest

import ember
from ember.func import functional_call, grad, grad_and_value

RNG = np.random.default_rng(3)


def close(e, t):
    np.testing.assert_allclose(e.array, t.detach().numpy(), rtol=0, atol=1e-10)


def twin_mlps(torch, sizes=(3, 5, 2)):
    """An ember MLP and a torch MLP with the same float64 weights."""
    e_layers, t_layers = [], []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        if i:
            e_layers.append(ember.nn.Tanh())
            t_layers.append(torch.nn.Tanh())
        e_layers.append(ember.nn.Linear(a, b))
        t_layers.append(torch.nn.Linear(a, b))
    em = ember.nn.Sequential(*e_layers).double()
    tm = torch.nn.Sequential(*t_layers).double()
    tm.load_state_dict({k: torch.tensor(v.array) for k, v in em.state_dict().items()})
    return em, tm


# ------------------------------------------------------------ functional_call
def test_functional_call_uses_the_given_tensors_and_gradients_reach_them(torch):
    em, tm = twin_mlps(torch)
    originals = dict(em.named_parameters())
    given = {k: RNG.standard_normal(v.shape) for k, v in originals.items()}
    ge = {k: ember.tensor(a.copy(), requires_grad=True) for k, a in given.items()}
    gt = {k: torch.tensor(a.copy(), requires_grad=True) for k, a in given.items()}
    x = RNG.standard_normal((4, 3))
    ye = functional_call(em, ge, (ember.tensor(x),))
    yt = torch.func.functional_call(tm, gt, (torch.tensor(x),))
    close(ye, yt)
    assert abs(float((ye - em(ember.tensor(x))).abs().sum())) > 1e-3  # not the module's own
    (ye**2).sum().backward()
    (yt**2).sum().backward()
    for k in given:
        close(ge[k].grad, gt[k].grad)
    # the module is as it was: the same Parameter objects, untouched, no gradients
    assert all(p is originals[k] for k, p in em.named_parameters())
    assert all(p.grad is None for p in em.parameters())


def test_functional_call_partial_dict_args_kwargs_and_several_dicts(torch):
    em, tm = twin_mlps(torch)
    x = RNG.standard_normal((2, 3))
    w = RNG.standard_normal((2, 5))
    ye = functional_call(em, {"2.weight": ember.tensor(w)}, ember.tensor(x))  # a lone arg
    yt = torch.func.functional_call(tm, {"2.weight": torch.tensor(w)}, torch.tensor(x))
    close(ye, yt)
    b = RNG.standard_normal(2)
    parts_e = ({"2.weight": ember.tensor(w)}, {"2.bias": ember.tensor(b)})
    parts_t = ({"2.weight": torch.tensor(w)}, {"2.bias": torch.tensor(b)})
    ye = functional_call(em, parts_e, kwargs={"input": ember.tensor(x)})  # torch's name
    close(ye, torch.func.functional_call(tm, parts_t, kwargs={"input": torch.tensor(x)}))
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(em, (parts_e[0], parts_e[0]), (ember.tensor(x),))


def test_functional_call_with_batch_norm_buffers(torch):
    em = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4)).double()
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
    tm.load_state_dict({k: torch.tensor(v.array) for k, v in em.state_dict().items()})
    x = RNG.standard_normal((6, 3))
    stats = {"1.running_mean": RNG.standard_normal(4), "1.running_var": RNG.random(4) + 0.5}
    be = {k: ember.tensor(a.copy()) for k, a in stats.items()}
    bt = {k: torch.tensor(a.copy()) for k, a in stats.items()}
    xe, xt = ember.tensor(x), torch.tensor(x)
    # training: batch statistics, and the given running stats are the ones updated
    close(functional_call(em, be, (xe,)), torch.func.functional_call(tm, bt, (xt,)))
    for k in stats:
        close(be[k], bt[k])
        assert not np.allclose(be[k].array, stats[k])
    assert not em[1].running_mean.array.any() and (em[1].running_var.array == 1).all()
    # evaluation: the given running stats normalise
    em.eval(), tm.eval()
    close(functional_call(em, be, (xe,)), torch.func.functional_call(tm, bt, (xt,)))
    assert not np.allclose(functional_call(em, be, (xe,)).array, em(xe).array)


def test_functional_call_restores_on_error_and_checks_keys(torch):
    em, tm = twin_mlps(torch)
    before = {k: (p, p.array.copy()) for k, p in em.named_parameters()}
    given = {"0.weight": ember.zeros(5, 3, dtype=ember.float64)}
    with pytest.raises(ValueError):  # a wrong input shape fails inside the forward
        functional_call(em, given, (ember.zeros(2, 7, dtype=ember.float64),))
    with pytest.raises(AttributeError):  # no such submodule: the earlier swaps are undone
        functional_call(em, {**given, "9.weight": ember.zeros(1)}, (ember.zeros(2, 3),))
    for k, p in em.named_parameters():
        assert p is before[k][0] and np.array_equal(p.array, before[k][1])
    for strict_e, strict_t in [
        ({"0.weight": ember.zeros(5, 3)}, {"0.weight": torch.zeros(5, 3)}),
        ({**{k: p for k, p in em.named_parameters()}, "extra": ember.zeros(1)},
         {**{k: p for k, p in tm.named_parameters()}, "extra": torch.zeros(1)}),
    ]:  # fmt: skip
        with pytest.raises(RuntimeError) as te:
            torch.func.functional_call(tm, strict_t, (torch.zeros(2, 3),), strict=True)
        with pytest.raises(RuntimeError) as ee:
            functional_call(em, strict_e, (ember.zeros(2, 3),), strict=True)
        assert str(ee.value) == str(te.value)


def test_functional_call_tied_weights(torch):
    class Tied:
        def __init__(self, lib):
            self.enc, self.dec = lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)
            self.dec.weight = self.enc.weight

    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                Tied.__init__(self, lib)

            def forward(self, x):
                return self.dec(self.enc(x))

        return M().double()

    em, tm = build(ember), build(torch)
    tm.load_state_dict({k: torch.tensor(v.array) for k, v in em.state_dict().items()})
    x, w = RNG.standard_normal((3, 2)), RNG.standard_normal((2, 2))
    xe, xt = ember.tensor(x), torch.tensor(x)
    outs = []
    for tie in (True, False):
        ye = functional_call(em, {"enc.weight": ember.tensor(w)}, (xe,), tie_weights=tie)
        given = {"enc.weight": torch.tensor(w)}
        close(ye, torch.func.functional_call(tm, given, (xt,), tie_weights=tie))
        outs.append(ye.array)
    assert not np.allclose(*outs)  # tying made a difference
    both = {"enc.weight": ember.tensor(w), "dec.weight": ember.tensor(w)}
    with pytest.raises(ValueError, match="which are tied"):
        functional_call(em, both, (xe,))


def test_stateless_functional_call_warns_and_agrees(torch):
    em, tm = twin_mlps(torch)
    w, x = RNG.standard_normal((5, 3)), RNG.standard_normal((2, 3))
    stateless = ember.nn.utils.stateless
    with pytest.warns(FutureWarning):
        ye = stateless.functional_call(em, {"0.weight": ember.tensor(w)}, (ember.tensor(x),))
    yt = torch.func.functional_call(tm, {"0.weight": torch.tensor(w)}, (torch.tensor(x),))
    close(ye, yt)


def recording_module(lib):
    """A module whose forward logs how it lists its tensors: (name, is it a Parameter, which
    given tensor it is) for named_parameters and named_buffers, and the state_dict's keys."""

    class Rec(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 3)
            self.register_buffer("rb", lib.zeros(3))
            self.register_buffer("tmp", lib.zeros(3), persistent=False)
            self.pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(3))])
            self.log, self._given = [], {}

        def forward(self, x, inner=None, fail=False):
            self.log.append(self.listing())
            if inner is not None:  # a functional_call inside this one, then the listing again
                inner()
                self.log.append(self.listing())
            if fail:
                raise ValueError("inside forward")
            return self.lin(x) + self.rb + self.tmp + self.pl[0]

        def listing(self):
            which = {id(t): k for k, t in self._given.items()}

            def rows(named):
                return [(n, type(t).__name__ == "Parameter", which.get(id(t))) for n, t in named]

            return rows(self.named_parameters()), rows(self.named_buffers()), set(self.state_dict())

    return Rec().double()


def test_functional_call_lists_swapped_tensors_where_they_were(torch):
    """torch keeps a swapped name where it was: a plain tensor given for a parameter is listed
    by named_parameters (a Parameter given for a buffer by named_buffers), a new name is listed
    only when it is a Parameter; everything is as before afterwards, also after an error."""
    mods = {lib: recording_module(lib) for lib in (ember, torch)}

    def given(lib, inner=False):
        x = lib.zeros(3, dtype=lib.float64)
        if inner:
            return {"lin.weight": lib.ones(3, 2, dtype=lib.float64), "pl.0": lib.nn.Parameter(x)}
        return {"lin.weight": lib.zeros(3, 2, dtype=lib.float64, requires_grad=True),
                "lin.bias": lib.nn.Parameter(x), "rb": lib.nn.Parameter(x), "tmp": x + 1,
                "pl.0": x + 2, "new_p": lib.nn.Parameter(x), "new_t": x + 3}  # fmt: skip

    def run(lib, call, fail=False):
        """The listings logged during the call (and a nested one), and the one after it."""
        m, outer, inner = mods[lib], given(lib), given(lib, inner=True)
        m.log.clear()
        m._given = {**outer, **{"inner " + k: v for k, v in inner.items()}}
        attrs = {n: {k: id(v) for k, v in vars(s).items()} for n, s in m.named_modules()}
        x = lib.zeros(1, 2, dtype=lib.float64)
        with pytest.raises(ValueError, match="inside") if fail else contextlib.nullcontext():
            call(m, outer, (x, lambda: call(m, inner, (x,)), fail))
        # the very same attributes, no more, no fewer
        assert attrs == {n: {k: id(v) for k, v in vars(s).items()} for n, s in m.named_modules()}
        m._given = {}
        return m.log[:], m.listing()

    stateless = ember.nn.utils.stateless.functional_call
    for fail in (False, True):
        got_t = run(torch, torch.func.functional_call, fail)
        assert run(ember, functional_call, fail) == got_t
        with pytest.warns(FutureWarning):
            assert run(ember, stateless, fail) == got_t
    (during, inner_during, _), after = run(ember, functional_call)
    assert ("lin.weight", False, "lin.weight") in during[0] and ("rb", True, "rb") in during[1]
    assert ("new_p", True, "new_p") in during[0] and "new_t" not in during[2]
    assert ("lin.weight", False, "inner lin.weight") in inner_during[0]
    assert ("lin.weight", True, None) in after[0]
    for lib, call in ((ember, functional_call), (torch, torch.func.functional_call)):
        m = mods[lib]  # get_parameter refuses a plain tensor (torch: "is not an nn.Parameter")
        with pytest.raises(AttributeError, match="weight"):
            call(m, {"lin.weight": lib.zeros(3, 2)}, (None, partial(m.get_parameter, "lin.weight")))


def test_maml_two_inner_steps_meta_gradients(torch):
    """MAML: θ' = θ − α∇L_support(θ) twice, then L_query(θ'); the meta-gradient w.r.t. θ
    differentiates through both inner gradient steps (second derivatives)."""
    em, tm = twin_mlps(torch, (2, 6, 1))
    xs, ys, xq, yq = (RNG.standard_normal(s) for s in [(5, 2), (5, 1), (7, 2), (7, 1)])

    def meta_loss(lib, model, call, autograd_grad):
        params = dict(model.named_parameters())
        for _ in range(2):
            d = call(model, params, (lib.tensor(xs),)) - lib.tensor(ys)
            grads = autograd_grad((d * d).mean(), list(params.values()), create_graph=True)
            params = {k: p - 0.1 * g for (k, p), g in zip(params.items(), grads)}
        d = call(model, params, (lib.tensor(xq),)) - lib.tensor(yq)
        return (d * d).mean()

    le = meta_loss(ember, em, functional_call, ember.autograd.grad)
    lt = meta_loss(torch, tm, torch.func.functional_call, torch.autograd.grad)
    close(le, lt)
    le.backward()
    lt.backward()
    for (_, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        close(pe.grad, pt.grad)
    # and the second-order terms matter: first-order MAML would give other meta-gradients
    first = dict(tm.named_parameters())
    for p in first.values():
        p.grad = None
    params = dict(first)
    for _ in range(2):
        d = torch.func.functional_call(tm, params, (torch.tensor(xs),)) - torch.tensor(ys)
        grads = torch.autograd.grad((d * d).mean(), list(params.values()))
        params = {k: p - 0.1 * g for (k, p), g in zip(params.items(), grads)}
    d = torch.func.functional_call(tm, params, (torch.tensor(xq),)) - torch.tensor(yq)
    (d * d).mean().backward()
    assert not np.allclose(em[0].weight.grad.array, first["0.weight"].grad.numpy(), atol=1e-6)


# ------------------------------------------------------------ grad, grad_and_value
def f_sin(x):
    return (x.sin() * x.exp()).sum()


def test_grad_and_nested_grads(torch):
    a = RNG.standard_normal(4)
    close(grad(f_sin)(ember.tensor(a)), torch.func.grad(f_sin)(torch.tensor(a)))
    s = 0.7

    def g(x):
        return x.sin() * x.exp() * x

    for depth in (1, 2, 3):
        fe, ft = g, g
        for _ in range(depth):
            fe, ft = grad(fe), torch.func.grad(ft)
        re_, rt = fe(ember.tensor(s, dtype=ember.float64)), ft(torch.tensor(s, dtype=torch.float64))
        close(re_, rt)
        assert not re_.requires_grad


def test_grad_requires_grad_follows_the_inputs_and_captured_tensors(torch):
    a, w = RNG.standard_normal(3), RNG.standard_normal(3)
    we, wt = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    # captured weights that require grad: the gradient is differentiable w.r.t. them
    ge = grad(lambda x: (x * x * we).sum())(ember.tensor(a))
    gt = torch.func.grad(lambda x: (x * x * wt).sum())(torch.tensor(a))
    assert ge.requires_grad and gt.requires_grad
    (ge**2).sum().backward()
    (gt**2).sum().backward()
    close(we.grad, wt.grad)
    # an input that requires grad: grad(f)(x) is differentiable in x, as f'(x)
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ge, gt = grad(f_sin)(xe), torch.func.grad(f_sin)(xt)
    assert ge.requires_grad and gt.requires_grad
    ge.sum().backward()
    gt.sum().backward()
    close(xe.grad, xt.grad)


def test_grad_and_value_has_aux_argnums_and_dicts(torch):
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)

    def f(x, y):
        return (x.sin() * y).sum(), {"double": x * 2}

    ae, be, at, bt = ember.tensor(a), ember.tensor(b), torch.tensor(a), torch.tensor(b)
    for argnums in (0, 1, (0, 1), (1, -2)):
        ge, (ve, aux_e) = grad_and_value(f, argnums, has_aux=True)(ae, be)
        gt, (vt, aux_t) = torch.func.grad_and_value(f, argnums, has_aux=True)(at, bt)
        close(ve, vt)
        close(aux_e["double"], aux_t["double"])
        assert not aux_e["double"].requires_grad and not ve.requires_grad
        if isinstance(argnums, int):
            close(ge, gt)
        else:
            assert isinstance(ge, tuple) and len(ge) == 2
            for x, y in zip(ge, gt):
                close(x, y)
    ge, aux = grad(f, has_aux=True)(ae, be)
    close(ge, torch.func.grad(f, has_aux=True)(at, bt)[0])
    close(aux["double"], at * 2)
    # a dict of parameters, with the model called through functional_call; y unused → zeros
    em, tm = twin_mlps(torch)
    x = RNG.standard_normal((4, 3))

    def loss(call, model):
        return lambda p, x, unused: (call(model, p, (x,)) ** 2).mean()

    pe = {k: v.detach() for k, v in em.named_parameters()}
    pt = {k: v.detach() for k, v in tm.named_parameters()}
    ge = grad(loss(functional_call, em), (0, 2))(pe, ember.tensor(x), ember.zeros(2))
    gt = torch.func.grad(loss(torch.func.functional_call, tm), (0, 2))(
        pt, torch.tensor(x), torch.zeros(2)
    )
    assert set(ge[0]) == set(pe)
    for k in pe:
        close(ge[0][k], gt[0][k])
    assert not ge[1].array.any()


def test_grad_errors(torch):
    for f, args, kwargs, match in [
        (lambda x: x * 2, (ember.ones(3),), {}, "scalar Tensor, got tensor with 1 dims"),
        (lambda x: 1.0, (ember.ones(3),), {}, "to return a Tensor"),
        (lambda x: x.sum(), (ember.ones(3),), {"has_aux": True}, "tuple: \\(output, aux\\)"),
        (lambda x: x.sum(), (ember.ones(3),), {"argnums": 2}, "only 1 positional inputs"),
        (lambda x: x.sum(), (ember.ones(3),), {"argnums": 1.0}, "must be int or Tuple"),
        (lambda x: x.sum(), (ember.ones(3),), {"argnums": ()}, "must be non-empty"),
    ]:
        with pytest.raises(RuntimeError, match=match):
            grad(f, **kwargs)(*args)
    with pytest.raises(ValueError, match="must be Tensor"):
        grad(lambda x, y: x)(3.0, ember.ones(3))
