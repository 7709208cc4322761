"""Shape-argument mistakes of Tensor methods as torch 2.13 refuses them (found by fuzzing
side by side): which mistake torch names first, and its classes (narrow, unfold, tensor_split,
flip, roll, diff, unflatten); roll over no dims and diff of order 0 as torch's."""

import pytest

import ember


def _shape_argument_mistakes(lib):
    s, x = lib.tensor(1.0), lib.arange(24.0).reshape(2, 3, 4)
    return [
        ("narrow of a 0-d tensor", lambda: s.narrow(0, 0, 1), RuntimeError),
        ("narrow: a negative length before a bad dim", lambda: x.narrow(-4, 0, -1), RuntimeError),
        ("unfold: step 0", lambda: x.unfold(2, 1, 0), RuntimeError),
        ("unfold of a 0-d tensor along dim 3", lambda: s.unfold(3, 2, 0), IndexError),
        ("tensor_split of a 0-d tensor", lambda: s.tensor_split(1, 2), RuntimeError),
        ("tensor_split into 0 sections", lambda: x.tensor_split(0), RuntimeError),
        ("flip: a dim out of range before one named twice", lambda: s.flip(-1, 1), IndexError),
        ("roll without shifts", lambda: x.roll((), ()), RuntimeError),
        ("diff: a negative order before a bad dim", lambda: x.diff(-1, 5), RuntimeError),
        ("unflatten: no sizes before a bad dim", lambda: x.unflatten(3, ()), RuntimeError),
        ("unflatten of a 0-d tensor along dim 3", lambda: s.unflatten(3, (1,)), IndexError),
    ]


@pytest.mark.parametrize("k", range(11))
def test_shape_argument_mistakes_are_torch_s_errors(torch, k):
    name, call, cls = _shape_argument_mistakes(ember)[k]
    t_name, t_call, _ = _shape_argument_mistakes(torch)[k]
    assert name == t_name
    with pytest.raises(cls):
        t_call()
    with pytest.raises(cls):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.roll(5, ()),
        lambda x: x.roll((5,), []),
        lambda x: x.diff(0),
        lambda x: x.diff(0, 1, prepend=x),
        lambda x: x.diff(0, 7),
    ],
)
def test_roll_over_no_dims_and_diff_of_order_0_as_torch(torch, call):
    got = []
    for lib in (ember, torch):
        x = lib.arange(6.0).reshape(2, 3)
        y = call(x)
        got.append((tuple(y.shape), y.tolist(), y is x))
    assert got[0] == got[1]
