"""ember.gradcheck_report: how close the analytical Jacobian comes to central differences,
per input; and gradcheck's errors naming the largest difference, not only the first."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember
from ember.gradcheck import GradcheckError, JacobianDifference, gradcheck_report

RNG = np.random.default_rng(3)
A = RNG.standard_normal((2, 3))
B = RNG.standard_normal(3)


def _x(a):
    return ember.tensor(a.copy(), dtype=ember.float64, requires_grad=True)


def cube(wrong_at=None, by=5.0, bump=None):
    """x³ as a custom Function; with ``wrong_at`` (a flat index) its backward and its jvp add
    ``by`` to the derivative of that one element (a wrong entry on J's diagonal there), or
    ``bump`` (an array of x's shape) to every element's."""

    def wrong_3x2(g, x):
        gx = g * 3 * x**2
        added = bump
        if added is None and wrong_at is not None:
            added = np.zeros(x.shape)
            added.reshape(-1)[wrong_at] = by
        return gx if added is None else gx + g * ember.tensor(added)

    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            return wrong_3x2(g, *ctx.saved_tensors)

        @staticmethod
        def jvp(ctx, t):
            return wrong_3x2(t, *ctx.saved_tensors)

    return Cube.apply


def test_correct_functions_are_within_float64_rounding():
    report = gradcheck_report(lambda a, b: ((a * b).tanh() @ b.exp(), (a * a).sum()),
                              (_x(A), _x(B)))  # fmt: skip
    assert sorted(report) == [0, 1]
    for k, d in report.items():
        assert isinstance(d, JacobianDifference) and d.input == k
        assert d.max_abs_diff < 1e-7 and d.max_rel_diff < 1e-7
        assert d.output in (0, 1) and len(d.input_index) == (2 if k == 0 else 1)
    assert ember.gradcheck_report is gradcheck_report  # public beside ember.gradcheck


def test_only_inputs_that_require_grad_are_reported():
    frozen = ember.tensor(B, dtype=ember.float64)
    report = gradcheck_report(lambda a, b: a * b, (_x(A), frozen))
    assert list(report) == [0] and report[0].max_abs_diff < 1e-7


def test_a_wrong_backward_shows_where_and_how_far():
    """The backward is 5 too large at element (1, 2) of a (2, 3) input: the report's worst
    entry is on J's diagonal there, its values 3x² + 5 and 3x²."""
    report = gradcheck_report(cube(wrong_at=5), (_x(A),))
    d = report[0]
    assert d.input_index == (1, 2) and d.output_index == (1, 2) and d.output == 0
    assert d.max_abs_diff == pytest.approx(5.0, rel=1e-6)
    assert d.analytic == pytest.approx(3 * A[1, 2] ** 2 + 5.0)
    assert d.numerical == pytest.approx(3 * A[1, 2] ** 2, rel=1e-6)
    assert d.max_rel_diff == pytest.approx(5.0 / (3 * A[1, 2] ** 2), rel=1e-6)
    text = str(d)
    assert "input 0: max |analytic − numerical| 5 at output 0 index (1, 2)" in text
    assert "input index (1, 2)" in text


def test_the_report_agrees_with_gradcheck():
    """gradcheck passes where |a − n| ≤ atol + rtol·|n|: a small wrong bump passes loose
    tolerances and fails tight ones, and the report gives the size that decides it."""
    fn = cube(wrong_at=0, by=1e-3)
    d = gradcheck_report(fn, (_x(A),))[0]
    assert d.max_abs_diff == pytest.approx(1e-3, rel=1e-4) and d.input_index == (0, 0)
    assert ember.gradcheck(fn, (_x(A),), atol=1e-2, rtol=0)
    assert not ember.gradcheck(fn, (_x(A),), atol=1e-4, rtol=0, raise_exception=False)


def test_gradcheck_errors_name_the_largest_difference_over_the_jacobian():
    """The first failing entry is (0, 0) (off by 0.5); the largest is (1, 2) (off by 5)."""
    bump = np.zeros(6)
    bump[0], bump[5] = 0.5, 5.0

    two_wrong = cube(bump=bump.reshape(2, 3))

    with pytest.raises(GradcheckError) as err:
        ember.gradcheck(two_wrong, (_x(A),))
    msg = str(err.value)
    assert "at output index (0, 0), input index (0, 0)" in msg
    m = re.search(r"largest \|analytic − numerical\| over the whole Jacobian is ([^,]+), at"
                  r" output 0 index \(1, 2\), input 0 index \(1, 2\)", msg)  # fmt: skip
    assert m and float(m.group(1)) == pytest.approx(5.0, rel=1e-6)
    for opts, what in (
        ({"fast_mode": True}, "over wᵀJ is"),
        ({"check_forward_ad": True, "check_backward_ad": False}, "over all of J (output 0, in"),
    ):
        with pytest.raises(GradcheckError, match=re.escape(what)):
            ember.gradcheck(two_wrong, (_x(A),), **opts)


def test_batched_errors_name_the_largest_difference_too():
    """A backward that returns its first result whatever the grad_output passes fast mode
    (one projection, twice) and fails check_batched_grad, whose message ends with the size."""

    class Stateful(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if not hasattr(ctx, "first"):
                ctx.first = g * 3 * x**2
            return ctx.first

    with pytest.raises(GradcheckError, match=r"over this v_bᵀJ is [0-9.e+-]+, at index \("):
        ember.gradcheck(Stateful.apply, (_x(A),), fast_mode=True, check_batched_grad=True)


def test_float32_inputs_are_refused_as_by_gradcheck():
    with pytest.raises(TypeError, match="gradcheck_report: input 0 has dtype"):
        gradcheck_report(lambda t: t * 2, (ember.tensor([1.0], requires_grad=True),))
    with pytest.raises(GradcheckError, match="no output requires grad"):
        gradcheck_report(lambda t: t.detach(), (_x(B),))


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_fails_on_a_nan_gradient(fast_mode):
    """NaN is never close (torch.allclose): a backward that returns NaN fails the check in
    either mode, even where the finite differences are finite."""

    class NaNGrad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):  # 0 for a zero grad_output (that check passes), else NaN
            return g * float("nan") if bool((g != 0).any()) else g * 2

    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert not ember.gradcheck(NaNGrad.apply, (x,), raise_exception=False, fast_mode=fast_mode)
    with pytest.raises(ember.GradcheckError, match="nan"):
        ember.gradcheck(NaNGrad.apply, (x,), fast_mode=fast_mode)
