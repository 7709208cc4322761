"""A second backward through Functions that saved no array runs again, as torch's nodes that
saved no tensor do; one that saved arrays is spent, and the second backward through it is
torch's "backward through the graph a second time" error. ember marks the common ops that keep
no array (Function.rerunnable: sums and means, reshapes, permutes, expands, x ± y, x ± c,
x · c, x / c, -x, copies and casts, indexing by slices and ints); torch also spends x · 2, whose
2 it saves as a tensor, and ember's other ops stay spent where torch's would run again."""

import numpy as np
import pytest

import ember


def _twice(lib, f):
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    y = f(x)
    y.backward()
    try:
        y.backward()
    except RuntimeError as e:
        return "second time" in str(e)
    return x.grad.tolist()


CASES = {
    "sum of x + 1": lambda x: (x + 1).sum(),
    "mean of x - 3": lambda x: (x - 3.0).mean(),
    "reshape, permute, expand, negate": lambda x: (
        -x.reshape(3, 1).permute(1, 0).expand(2, 3)
    ).sum(),
    "x * x saves x": lambda x: (x * x).sum(),
    "exp saves its output": lambda x: x.exp().sum(),
    "a saved op behind stateless ones": lambda x: (x.tanh() + 1).sum(),
    "slices and ints": lambda x: x[1:][0] + x[..., None][2, 0],
    "an index array saves it": lambda x: x[[0, 2]].sum(),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_twice_as_torch(torch, case):
    assert _twice(ember, CASES[case]) == _twice(torch, CASES[case])


def test_autograd_grad_twice_through_a_shared_stateless_input(torch):
    """The StudentT case a distributions fuzzer found: parameters made by b = a - 1 outside,
    differentiated once for log_prob and again for the mean."""

    def run(lib):
        a = lib.tensor([0.7], dtype=lib.float64, requires_grad=True)
        loc, scale = a - 1, a
        d = lib.distributions.Normal(loc, scale)
        g1 = lib.autograd.grad(d.log_prob(lib.tensor([0.3])).sum(), [loc, scale])
        g2 = lib.autograd.grad((d.mean * 2).sum(), [loc, scale], allow_unused=True)
        return [g.tolist() for g in g1], [None if g is None else g.tolist() for g in g2]

    got, want = run(ember), run(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1] == want[1]


def test_in_place_after_a_rerun_still_sees_the_consumers(torch):
    """A rerun Function is counted off its inputs' consumers once, not at every backward: an
    in-place change of the input afterwards behaves as torch's."""

    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x + 0.5
        z = (h + 1).sum()
        z.backward()
        z.backward()
        h.mul_(3)
        (h * h).sum().backward()
        return x.grad.tolist(), h.tolist()

    assert run(ember) == run(torch)


def test_one_slice_feeds_several_backwards(torch):
    """s = x[:3] once, then a backward per element of s (a loop over a batch's rows): torch's
    slice node keeps no tensor and runs each time; ember's indexing was spent after the first."""

    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        s = x[:3]
        for i in range(3):
            (s[i] * (i + 2)).backward()
        return x.grad.tolist()

    assert run(ember) == run(torch)
