"""gradcheck's and gradgradcheck's torch options (check_backward_ad, check_forward_ad,
check_batched_grad, nondet_tol, check_grad_dtypes; check_fwd_over_rev, check_rev_over_rev)
against torch.autograd.gradcheck/gradgradcheck: each passes on correct ops and catches the
wrong custom backwards torch catches; what ember cannot check raises a clear error."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember
from ember.gradcheck import GradcheckError, gradcheck, gradgradcheck

RNG = np.random.default_rng(5)
A = RNG.standard_normal(4) + 1.0
B = RNG.standard_normal(4)
M = RNG.standard_normal((3, 4))


def _x(lib, a):
    return lib.tensor(a.copy(), dtype=lib.float64, requires_grad=True)


def two_outputs(x, y):
    return (x * y).tanh() * x.exp(), (x * x * y).sum()


def cube(lib, kind="right"):
    """x³ as a custom Function, its backward right or wrong in one way (``kind``), with the
    matching jvp, which forward mode uses (2x² for "wrong" too)."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if kind == "wrong":  # 2x² for 3x²
                return g * 2 * x**2
            if kind == "stateful":  # the first call's result, whatever the next grad_output
                if not hasattr(ctx, "first"):
                    ctx.first = g * 3 * x**2
                return ctx.first
            if kind == "drifting":  # a little more on every call
                ctx.calls = getattr(ctx, "calls", 0) + 1
                return g * 3 * x**2 * (1 + 1e-9 * ctx.calls)
            if kind == "affine":  # not a multiple of g: nonzero for g = 0
                return g * 3 * x**2 + 1e-9
            if kind == "detached_g":  # the right value, but not differentiable in g
                return g.detach() * 3 * x**2
            if kind == "frozen_x":  # the right value, but no second derivative through x
                return g * 3 * x.detach() ** 2
            return g * 3 * x**2

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * (2 if kind == "wrong" else 3) * x**2

    return Cube.apply


def fails(check, fn, *inputs, **opts) -> bool:
    return check(fn, inputs, raise_exception=False, **opts) is False


def correct_cases(lib):
    """(fn, inputs): several inputs and outputs, a custom Function, a matrix product whose
    second input is a transposed view (not a leaf, not contiguous)."""
    m = _x(lib, M)
    return [
        (two_outputs, (_x(lib, A), _x(lib, B))),
        (cube(lib), (_x(lib, A),)),
        (lambda a, b: (a @ b).softmax(-1), (_x(lib, M), m.transpose(0, 1))),
    ]


OPTIONS = {
    "backward": {},
    "fast": {"fast_mode": True},
    "forward": {"check_forward_ad": True},
    "forward_only": {"check_forward_ad": True, "check_backward_ad": False},
    "batched": {"check_batched_grad": True},
    "dtypes_nondet": {"check_grad_dtypes": True, "nondet_tol": 1e-12},
}


@pytest.mark.parametrize("opts", OPTIONS.values(), ids=list(OPTIONS))
def test_each_option_passes_on_correct_ops(torch, opts):
    for lib, check in ((ember, gradcheck), (torch, torch.autograd.gradcheck)):
        for fn, inputs in correct_cases(lib):
            assert check(fn, inputs, **opts)


#: what ember names first: the whole Jacobian by default (torch's slow mode), the projection
#: wᵀJ element by element in fast mode, J·e_i with forward mode alone
MESSAGES = {"forward_only": "forward-mode derivative", "fast": "gradcheck failed for input 0"}


@pytest.mark.parametrize("opts", OPTIONS.values(), ids=list(OPTIONS))
def test_each_option_catches_a_wrong_backward_as_torch(torch, opts):
    assert fails(torch.autograd.gradcheck, cube(torch, "wrong"), _x(torch, A), **opts)
    assert fails(gradcheck, cube(ember, "wrong"), _x(ember, A), **opts)
    name = next(k for k, v in OPTIONS.items() if v == opts)
    with pytest.raises(GradcheckError, match=MESSAGES.get(name, "Jacobian mismatch for output 0")):
        gradcheck(cube(ember, "wrong"), (_x(ember, A),), **opts)
    # forward mode alone: J·e_i against the numerical Jacobian's column, analytic 2x², not 3x²
    if name == "forward_only":
        at = re.escape(f"of output 0 at index (0,) w.r.t. input 0 (shape (4,)) at index (0,):"
                       f" analytic {float(2 * A[0] ** 2)!r}")  # fmt: skip
        with pytest.raises(GradcheckError, match=at):
            gradcheck(cube(ember, "wrong"), (_x(ember, A),), **opts)


def test_batched_grad_catches_a_backward_that_changes_between_calls(torch):
    """A backward that returns its first result again, whatever the grad_output: the whole
    Jacobian (a row per one-hot grad_output, the default, as torch's) sees it; ember's fast
    mode (one random projection, run twice with the same grad_output) cannot, and
    check_batched_grad (several grad_outputs through one graph) can."""
    for opts in ({}, {"check_batched_grad": True}):
        assert fails(torch.autograd.gradcheck, cube(torch, "stateful"), _x(torch, A), **opts)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0"):
        gradcheck(cube(ember, "stateful"), (_x(ember, A),))
    assert gradcheck(cube(ember, "stateful"), (_x(ember, A),), fast_mode=True)
    with pytest.raises(GradcheckError, match="batched gradients .* grad_output 1"):
        gradcheck(cube(ember, "stateful"), (_x(ember, A),), fast_mode=True, check_batched_grad=True)


def test_nondet_tol_is_torch_reentrancy_check(torch):
    for lib, check in ((ember, gradcheck), (torch, torch.autograd.gradcheck)):
        fn = cube(lib, "drifting")
        assert not check(fn, (_x(lib, A),), raise_exception=False)
        assert check(fn, (_x(lib, A),), nondet_tol=1e-6)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(cube(ember, "drifting"), (_x(ember, A),))


def test_a_backward_must_be_a_multiple_of_grad_output_as_torch(torch):
    """g·3x² + 1e-9 is within tolerance of the numerical gradient, but not zero for g = 0."""
    for lib, check in ((ember, gradcheck), (torch, torch.autograd.gradcheck)):
        assert not check(cube(lib, "affine"), (_x(lib, A),), raise_exception=False)
    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        gradcheck(cube(ember, "affine"), (_x(ember, A),))


def test_forward_ad_calls_the_jvp_not_the_backward(torch):
    """A backward that detaches g: functional.jvp (the double-vjp of the backward, in ember as
    in torch) gives a wrong J·v (zero), while forward mode calls the Function's jvp and
    check_forward_ad passes, as torch's."""
    fn = cube(ember, "detached_g")
    assert gradcheck(fn, (_x(ember, A),))
    _, jv = ember.autograd.functional.jvp(fn, _x(ember, A), ember.ones(4, dtype=ember.float64))
    assert not jv.array.any()
    for lib, check in ((ember, gradcheck), (torch, torch.autograd.gradcheck)):
        assert check(cube(lib, "detached_g"), (_x(lib, A),), check_forward_ad=True)


def test_forward_ad_checks_a_custom_jvp_and_needs_one():
    class WithJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t * 2.5  # wrong: forward mode sees it, reverse mode does not

    with pytest.raises(GradcheckError, match="forward-mode derivative"):
        gradcheck(lambda x: WithJvp.apply(x).sin(), (_x(ember, A),), check_forward_ad=True)
    assert gradcheck(WithJvp.apply, (_x(ember, A),))  # the reverse check is unaffected

    class Once(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @ember.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    with pytest.raises(NotImplementedError, match="You must implement the jvp function") as e:
        gradcheck(Once.apply, (_x(ember, A),), check_forward_ad=True)
    assert any("forward-mode AD" in n for n in e.value.__notes__)


def test_argument_checks_and_unsupported_options_as_torch(torch):
    xs = {lib: (_x(lib, A), _x(lib, B)) for lib in (ember, torch)}
    for opts in (
        {"check_backward_ad": False},
        {"check_batched_grad": True, "check_backward_ad": False, "check_forward_ad": True},
        {"check_batched_forward_grad": True},
    ):
        with pytest.raises(AssertionError) as te:
            torch.autograd.gradcheck(two_outputs, xs[torch], **opts)
        with pytest.raises(AssertionError) as ee:
            gradcheck(two_outputs, xs[ember], **opts)
        assert str(ee.value) == str(te.value)
    for opts in (
        {"check_rev_over_rev": False},
        {"check_rev_over_rev": False, "check_fwd_over_rev": True},
        {"check_rev_over_rev": False, "check_fwd_over_rev": True, "check_undefined_grad": False,
         "check_batched_grad": True},
    ):  # fmt: skip
        with pytest.raises(AssertionError) as te:
            torch.autograd.gradgradcheck(two_outputs, xs[torch], **opts)
        with pytest.raises(AssertionError) as ee:
            gradgradcheck(two_outputs, xs[ember], **opts)
        assert str(ee.value) == str(te.value)
    opts = {"check_batched_forward_grad": True, "check_forward_ad": True}
    assert torch.autograd.gradcheck(two_outputs, xs[torch], **opts)
    assert gradcheck(two_outputs, xs[ember], **opts)
    assert fails(gradcheck, cube(ember, "wrong"), _x(ember, A), **opts)


def test_views_and_transposed_inputs_are_checked_not_skipped():
    """An input that is a transposed view of a leaf gets its gradient and its perturbations
    (they used to be lost in a copy, so a wrong backward passed)."""
    m = _x(ember, M)
    assert not gradcheck(cube(ember, "wrong"), (m.transpose(0, 1),), raise_exception=False)
    assert gradcheck(cube(ember), (m.transpose(0, 1),))
    assert np.array_equal(m.array, M)  # restored after the perturbations


# ------------------------------------------------------------ gradgradcheck
def wrong_second_derivative(x):
    """x³ with the first derivative 3x² recorded right but as a constant: the second
    derivative recorded is 0 instead of 6x."""
    xd = x.detach()
    return xd**3 + 3 * xd**2 * (x - xd)


GG_OPTIONS = {
    "rev_over_rev": {},
    "fwd_over_rev": {"check_fwd_over_rev": True},
    "fwd_over_rev_only": {
        "check_fwd_over_rev": True,
        "check_rev_over_rev": False,
        "check_undefined_grad": False,
    },
    "batched": {"check_batched_grad": True},
}


@pytest.mark.parametrize("opts", GG_OPTIONS.values(), ids=list(GG_OPTIONS))
def test_gradgradcheck_options_pass_and_catch_as_torch(torch, opts):
    for lib, check in ((ember, gradgradcheck), (torch, torch.autograd.gradgradcheck)):
        assert check(two_outputs, (_x(lib, A), _x(lib, B)), **opts)
        assert check(cube(lib), (_x(lib, A),), **opts)
        assert not check(wrong_second_derivative, (_x(lib, A),), raise_exception=False, **opts)
        if "check_rev_over_rev" not in opts:  # torch's forward mode would need frozen_x's jvp
            assert fails(check, cube(lib, "frozen_x"), _x(lib, A), **opts)
    assert fails(gradgradcheck, cube(ember, "frozen_x"), _x(ember, A), **opts)
    assert gradcheck(cube(ember, "frozen_x"), (_x(ember, A),))  # its first derivatives are right


def test_gradgradcheck_passes_on_correct_second_derivatives(torch):
    a, b = RNG.standard_normal(4), RNG.standard_normal(4)
    assert gradgradcheck(two_outputs, (_x(ember, a), _x(ember, b)))
    assert ember.autograd.gradgradcheck is gradgradcheck is ember.gradgradcheck
    assert ember.autograd.gradcheck is gradcheck
    assert torch.autograd.gradgradcheck(two_outputs, (_x(torch, a), _x(torch, b)))
    go = ember.tensor(RNG.standard_normal(4), requires_grad=True)  # given grad_outputs
    assert gradgradcheck(lambda x: x.sin() * x, (_x(ember, a),), (go,))


def test_gradgradcheck_fails_on_a_wrong_second_derivative(torch):
    a = RNG.standard_normal(4) + 1.0
    assert gradcheck(wrong_second_derivative, (_x(ember, a),))  # first derivatives are right
    assert torch.autograd.gradcheck(wrong_second_derivative, (_x(torch, a),))
    assert gradgradcheck(wrong_second_derivative, (_x(ember, a),), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="analytic 0.0"):
        gradgradcheck(wrong_second_derivative, (_x(ember, a),))
    xt = _x(torch, a)
    assert (
        torch.autograd.gradgradcheck(wrong_second_derivative, (xt,), raise_exception=False) is False
    )
