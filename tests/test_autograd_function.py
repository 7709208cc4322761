"""Custom autograd Functions written as for torch (ember.autograd.Function), each defined once
for both libraries and run side by side: values, gradients, second derivatives, and the
errors torch gives for a backward that returns the wrong thing."""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8], [2.0, -0.4, 0.9]])
V = np.linspace(-1.0, 1.0, X.size).reshape(X.shape)


def functions(lib):
    """The same custom Functions, subclassing lib.autograd.Function."""
    Base = lib.autograd.Function

    class Exp(Base):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):
            (y,) = ctx.saved_tensors
            return gy * y

    class ScaledProduct(Base):
        """(a·b·s, a + b): two tensor inputs, a float constant, two outputs."""

        @staticmethod
        def forward(ctx, a, s, b):
            ctx.save_for_backward(a, b)
            ctx.s = s
            ctx.seen = ctx.needs_input_grad
            return a * b * s, a + b

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            a, b = ctx.saved_tensors
            return g_prod * b * ctx.s + g_sum, None, g_prod * a * ctx.s + g_sum

    class RoundSTE(Base):
        """The straight-through estimator: round forward, identity backward."""

        @staticmethod
        def forward(ctx, x):
            return x.round()

        @staticmethod
        def backward(ctx, g):
            return g

    class GradReverse(Base):
        """DANN's gradient reversal layer, torch 2's form (setup_context)."""

        @staticmethod
        def forward(x, lam):
            return x.clone()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.lam = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return -ctx.lam * g, None

    class SortValues(Base):
        """(values, indices) with the indices marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort(dim=1)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            ctx.shape = x.shape
            return values, indices

        @staticmethod
        def backward(ctx, g_values, g_indices):
            (indices,) = ctx.saved_tensors
            return lib.zeros(ctx.shape, dtype=g_values.dtype).scatter(1, indices, g_values)

    return Exp, ScaledProduct, RoundSTE, GradReverse, SortValues


def _both(torch, run):
    for got, want in zip(run(ember), run(torch), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_a_saved_output_and_its_second_derivative_match_torch(torch):
    def run(lib):
        Exp = functions(lib)[0]
        x = lib.tensor(X, requires_grad=True)
        y = Exp.apply(x)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g, x, grad_outputs=lib.tensor(V))
        return y.detach().numpy(), g.detach().numpy(), h.numpy()

    _both(torch, run)
    assert repr(functions(ember)[0].apply(ember.tensor(X, requires_grad=True)).grad_fn) == (
        "<ExpBackward>"
    )


def test_constants_several_outputs_and_needs_input_grad_match_torch(torch):
    def run(lib):
        ScaledProduct = functions(lib)[1]
        a = lib.tensor(X, requires_grad=True)
        b = lib.tensor(V)  # needs no grad
        prod, total = ScaledProduct.apply(a, 1.5, b)
        ((prod * prod).sum() + (total * 3.0).sum()).backward()
        assert prod.grad_fn is total.grad_fn and prod.requires_grad
        return prod.detach().numpy(), a.grad.numpy()

    _both(torch, run)
    for lib in (ember, torch):
        ScaledProduct = functions(lib)[1]
        out, _ = ScaledProduct.apply(lib.tensor(X, requires_grad=True), 2.0, lib.tensor(V))
        assert out.grad_fn is not None


def test_an_unused_output_arrives_as_zeros_or_as_none(torch):
    seen = {}

    def run(lib, materialize):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2.0, x * 3.0

            @staticmethod
            def backward(ctx, g1, g2):
                seen[lib, materialize] = g2 if g2 is None else g2.detach().numpy().copy()
                return g1 * 2.0 + (0.0 if g2 is None else g2 * 3.0)

        x = lib.tensor(X, requires_grad=True)
        first, _ = Two.apply(x)
        first.sum().backward()
        return x.grad.numpy()

    for materialize in (True, False):
        np.testing.assert_array_equal(run(ember, materialize), run(torch, materialize))
    assert seen[ember, False] is None and seen[torch, False] is None
    np.testing.assert_array_equal(seen[ember, True], np.zeros_like(X))
    np.testing.assert_array_equal(seen[torch, True], np.zeros_like(X))


def test_straight_through_and_gradient_reversal_match_torch(torch):
    def run(lib):
        _, _, RoundSTE, GradReverse, _ = functions(lib)
        x = lib.tensor(X * 3.0, requires_grad=True)
        y = GradReverse.apply(RoundSTE.apply(x) * x, 0.5)
        (y * y).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    _both(torch, run)


def test_non_differentiable_outputs_match_torch(torch):
    def run(lib):
        SortValues = functions(lib)[4]
        x = lib.tensor(X, requires_grad=True)
        values, indices = SortValues.apply(x)
        assert values.requires_grad and not indices.requires_grad
        (values * lib.tensor(V)).sum().backward()
        return values.detach().numpy(), indices.numpy(), x.grad.numpy()

    _both(torch, run)


def test_a_custom_function_passes_gradcheck_and_trains():
    Exp = functions(ember)[0]
    x = ember.tensor(X, requires_grad=True)
    assert ember.gradcheck(lambda t: Exp.apply(t) * t, (x,))
    w = ember.nn.Parameter(ember.zeros(3, dtype=ember.float64))
    opt = ember.optim.SGD([w], lr=0.1)
    for _ in range(50):
        opt.zero_grad()
        loss = ((Exp.apply(w) - 2.0) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.array, np.log(2.0), rtol=1e-4)


def test_without_grad_nothing_is_recorded(torch):
    for lib in (ember, torch):
        Exp = functions(lib)[0]
        with lib.no_grad():
            y = Exp.apply(lib.tensor(X, requires_grad=True))
        assert y.grad_fn is None and not y.requires_grad
        assert Exp.apply(lib.tensor(X)).grad_fn is None


def test_once_differentiable_refuses_a_second_derivative(torch):
    for lib in (ember, torch):

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2.0 * x

        x = lib.tensor(X, requires_grad=True)
        Square.apply(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 2.0 * X)
        (g,) = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad  # the backward's values only: a constant
        np.testing.assert_allclose(g.numpy(), 2.0 * X)
        v = lib.tensor(V, requires_grad=True)  # a differentiable incoming gradient
        (g,) = lib.autograd.grad(Square.apply(x), x, grad_outputs=v, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="once_differentiable"):
            g.sum().backward()
        # torch's error node has no edge to v, so it reports v as unused; ember's is tied to
        # v and names the once_differentiable backward instead. Both refuse.
        with pytest.raises(RuntimeError, match="once_differentiable|not have been used"):
            lib.autograd.grad(g.sum(), v)


@pytest.mark.parametrize("wrong", ["count", "shape"])
def test_a_backward_returning_the_wrong_gradients_is_named(torch, wrong):
    messages = []
    for lib in (ember, torch):

        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return (g,) if wrong == "count" else (g.sum(0), g)

        x, y = lib.tensor(X, requires_grad=True), lib.tensor(V, requires_grad=True)
        with pytest.raises(RuntimeError) as err:
            Bad.apply(x, y).sum().backward()
        messages.append(str(err.value))
    key = "incorrect number of gradients" if wrong == "count" else "invalid gradient at index 0"
    assert all(key in m for m in messages), messages


def test_misuse_is_refused_clearly():
    class Saves(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        Saves.apply(ember.tensor(X, requires_grad=True))
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        legacy = Saves()  # torch 2.13 instantiates it, with a DeprecationWarning
    with pytest.raises(RuntimeError, match=r"Saves.apply"):
        legacy(ember.tensor(X, requires_grad=True))  # and refuses the legacy call


def test_torch_module_paths():
    from ember.autograd.function import FunctionCtx, once_differentiable

    assert callable(once_differentiable) and FunctionCtx is ember.autograd.function.FunctionCtx
    assert ember.autograd.Function is ember.autograd.function.Function


def in_place_functions(lib):
    """A forward that changes its input in place and says so (ctx.mark_dirty), and one that
    says so but returns something else."""
    Base = lib.autograd.Function

    class MulAddInPlace(Base):
        """x ← x·s + 1 in place; ∂/∂x = s."""

        @staticmethod
        def forward(ctx, x, s):
            x.mul_(s).add_(1.0)
            ctx.mark_dirty(x)
            ctx.s = s
            return x

        @staticmethod
        def backward(ctx, g):
            return g * ctx.s, None

    class Forgets(Base):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g

    return MulAddInPlace, Forgets


def test_mark_dirty_makes_the_input_its_own_new_version_as_torch(torch):
    def run(lib):
        MulAddInPlace, _ = in_place_functions(lib)
        x = lib.tensor(X, requires_grad=True)
        h = x * 2.0
        y = MulAddInPlace.apply(h, 3.0)
        assert y is h and h.grad_fn is not None
        loss = (h * h * lib.tensor(V)).sum()  # the new h: 2·(6x + 1)·V·6 reaches x
        loss.backward()
        return h.detach().numpy(), x.grad.numpy()

    _both(torch, run)


def test_mark_dirty_refusals_and_no_grad_match_torch(torch):
    for lib in (ember, torch):
        MulAddInPlace, Forgets = in_place_functions(lib)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            MulAddInPlace.apply(lib.tensor(X, requires_grad=True), 2.0)
        with pytest.raises(RuntimeError, match="marked as dirty .* not returned as output"):
            Forgets.apply(lib.tensor(X, requires_grad=True) * 1.0)
        with lib.no_grad():  # nothing recorded: the memory changes, the input comes back
            t = lib.tensor(X.copy())
            view = t[0]
            assert MulAddInPlace.apply(t, 2.0) is t
            np.testing.assert_allclose(view.numpy(), X[0] * 2.0 + 1.0)


def test_mark_dirty_on_an_input_another_op_still_needs_is_refused_up_front(torch):
    """h·h saved h: torch finds the overwritten value at backward, ember before it is used."""
    x = torch.tensor(X, requires_grad=True)
    h = x * 2.0
    z = h * h
    in_place_functions(torch)[0].apply(h, 3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    x = ember.tensor(X, requires_grad=True)
    h = x * 2.0
    _ = h * h
    with pytest.raises(RuntimeError, match="already the input of a recorded operation"):
        in_place_functions(ember)[0].apply(h, 3.0)


def test_mark_dirty_on_a_view_in_the_graph_is_refused_clearly():
    """x[0] shares x's memory: the change would reach x's values but not its graph."""
    MulAddInPlace, _ = in_place_functions(ember)
    x = ember.tensor(X, requires_grad=True)
    h = x * 1.0
    with pytest.raises(RuntimeError, match="view of another tensor in the graph"):
        MulAddInPlace.apply(h[0], 2.0)
    y = MulAddInPlace.apply(h[0].clone(), 2.0)  # what the message suggests works
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]])


def _square_saving(how: str):
    """h² as a custom Function that keeps h by save_for_backward or as a ctx attribute."""

    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, h):
            if how == "saved":
                ctx.save_for_backward(h)
            else:
                ctx.h = h
            return h * h

        @staticmethod
        def backward(ctx, g):
            (h,) = ctx.saved_tensors if how == "saved" else (ctx.h,)
            return 2 * h * g

    return Square


def test_a_custom_functions_saved_input_changed_in_place_keeps_its_old_version():
    """torch raises at backward (the saved h was modified); ember's in-place change leaves the
    old array untouched and the saved tensor follows it: the gradient of what was computed."""
    x = ember.tensor(X, requires_grad=True)
    h = x * 2.0
    z = _square_saving("saved").apply(h)
    h.mul_(3.0)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8.0 * X, rtol=1e-12)


def test_a_custom_function_holding_its_input_as_an_attribute_refuses_the_change():
    x = ember.tensor(X, requires_grad=True)
    h = x * 2.0
    z = _square_saving("attribute").apply(h)
    with pytest.raises(RuntimeError, match="already the input of a recorded operation"):
        h.mul_(3.0)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8.0 * X, rtol=1e-12)
