"""More Tensor methods as torch 2.13 (found by fuzzing side by side; the first file is
test_tensor_methods_as_torch_edges.py): shape-argument mistakes, which one torch names first
and its classes (narrow, unfold, tensor_split, flip, roll, diff, unflatten); roll over no dims
and diff of order 0; clamp's bounds read through torch's two overloads; in-place results that
do not fit."""

import numpy as np
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


def _both_raise(mistakes, torch, k: int) -> None:
    """Case k of ``mistakes`` (name, call, error class) raises that class in torch and ember."""
    name, call, cls = mistakes(ember)[k]
    t_name, t_call, _ = mistakes(torch)[k]
    assert name == t_name
    with pytest.raises(cls):
        t_call()
    with pytest.raises(cls):
        call()


@pytest.mark.parametrize("k", range(11))
def test_shape_argument_mistakes_are_torch_s_errors(torch, k):
    _both_raise(_shape_argument_mistakes, torch, k)


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


@pytest.mark.parametrize(
    "x_dtype, lo, hi",
    [
        ("int32", ("tensor", "float64", -1.5), ("number", 2)),
        ("int64", ("number", 0), ("tensor", "float16", 2.5)),
        ("bool", ("tensor", "float64", -1.5), ("number", 2.5)),
    ],
)
@pytest.mark.parametrize("how", ["method", "function"])
def test_clamp_with_a_number_takes_a_0d_tensor_bound_as_its_number(torch, x_dtype, lo, hi, how):
    got = []
    for lib in (ember, torch):

        def bound(spec, lib=lib):
            if spec is None:
                return None
            if spec[0] == "number":
                return spec[1]
            return lib.tensor(spec[2], dtype=getattr(lib, spec[1]))

        x = lib.tensor([-3, 0, 1, 4], dtype=getattr(lib, x_dtype))
        try:
            if how == "method":
                y = x.clamp(bound(lo), bound(hi))
            else:
                y = lib.clamp(x, min=bound(lo), max=bound(hi))
            got.append((str(y.dtype).split(".")[-1], y.tolist()))
        except RuntimeError:
            got.append("RuntimeError")
    assert got[0] == got[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.clamp(lib.ones(3), 2.0),
        lambda lib, x: x.clamp(min=0.5, max=lib.ones(1)),
        lambda lib, x: x.clamp_min(None),
        lambda lib, x: x.clamp_max(None),
    ],
)
def test_clamp_refuses_a_number_with_a_tensor_of_dims(torch, call):
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            call(lib, lib.zeros(3))


@pytest.mark.parametrize(
    "lo, hi", [(True, False), ("tensor", "tensor")], ids=["numbers", "tensors"]
)
def test_clamp_of_bools_between_bools_has_no_kernel(torch, lo, hi):
    for lib in (ember, torch):
        x = lib.tensor([True, False])
        if lo == "tensor":
            lo_b, hi_b = lib.tensor(True), lib.tensor(False)
        else:
            lo_b, hi_b = lo, hi
        with pytest.raises(NotImplementedError):
            x.clamp(lo_b, hi_b)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.ones(()).add_(lib.ones(3)),
        lambda lib: lib.ones(3).mul_(lib.ones(2, 3)),
        lambda lib: lib.ones(()).clamp_(lib.ones(3), None),
    ],
)
def test_an_in_place_result_of_another_shape_is_a_runtime_error(torch, call):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            call(lib)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.count_nonzero((0,)),
        lambda x: x.count_nonzero(-1),
        lambda x: x.nanmean((0,), keepdim=True),
        lambda x: x.nanmean(-1),
    ],
)
def test_count_nonzero_and_nanmean_of_a_0d_tensor_take_dim_0_or_minus_1(torch, call):
    got = []
    for lib in (ember, torch):
        y = call(lib.tensor(2.0))
        got.append((tuple(y.shape), y.item()))
    assert got[0] == got[1]


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("sum", (), {"axis": 0, "keepdims": True}),
        ("mean", (), {"axis": (0, 1)}),
        ("std", (), {"axis": 1, "keepdims": True}),
        ("amax", (), {"axis": -1, "keepdims": True}),
        ("max", (), {"axis": 0}),
        ("argmin", (), {"axis": 1, "keepdims": True}),
        ("cumsum", (), {"axis": 1}),
        ("quantile", (0.5,), {"axis": 0, "keepdims": True}),
        ("kthvalue", (1,), {"axis": 0}),
        ("count_nonzero", (), {"axis": 1}),
        ("cat", (), {"axis": 1}),
        ("stack", (), {"axis": 0}),
    ],
)
def test_functions_take_numpy_s_axis_and_keepdims_as_torch(torch, name, args, kwargs):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, 2.5]], dtype=lib.float64)
        first = [x, x] if name in ("cat", "stack") else x
        y = getattr(lib, name)(first, *args, **kwargs)
        y = y[0] if isinstance(y, tuple) else y
        got.append((tuple(y.shape), y.tolist()))
    assert got[0] == got[1]


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax"])
def test_index_reduce_of_a_complex_matrix_as_torch(torch, reduce):
    got = []
    for lib in (ember, torch):
        x = lib.ones(3, 2, dtype=lib.complex64)
        src = lib.tensor([[2 + 1j, 3.0]], dtype=lib.complex64)
        try:
            got.append(x.index_reduce(0, lib.tensor([1]), src, reduce).tolist())
        except NotImplementedError:
            got.append(NotImplementedError)
    assert got[0] == got[1]


def _dtype_argument_mistakes(lib):
    x = lib.tensor([[1.5, -2.0], [0.0, 4.0]])
    return [
        ("cumsum to bool", lambda: x.cumsum(0, dtype=lib.bool), NotImplementedError),
        ("cumprod to bool", lambda: x.cumprod(1, dtype=lib.bool), NotImplementedError),
        ("norm of a real tensor in complex", lambda: x.norm(dtype=lib.complex64), RuntimeError),
        ("norm narrowed to float16", lambda: x.norm(2, 0, dtype=lib.float16), RuntimeError),
        ("-1 norm of an empty tensor", lambda: lib.zeros(2, 0).norm(-1), RuntimeError),
        ("nanmean in an integer dtype", lambda: x.nanmean(dtype=lib.int64), RuntimeError),
        (
            "nanmean of a real tensor in complex",
            lambda: x.nanmean(dtype=lib.complex64),
            NotImplementedError,
        ),
        (
            "nansum of a real tensor in complex",
            lambda: x.nansum(dtype=lib.complex64),
            NotImplementedError,
        ),
    ]


@pytest.mark.parametrize("k", range(8))
def test_dtype_argument_mistakes_are_torch_s_errors(torch, k):
    _both_raise(_dtype_argument_mistakes, torch, k)


def _out_calls(lib):
    x = lib.tensor([[3.0, 1.0], [0.5, 4.0]])
    return [
        ("abs", lambda **k: lib.abs(x, **k), True),
        ("round", lambda **k: lib.round(x, **k), True),
        ("clamp", lambda **k: lib.clamp(x, 1.0, 2.0, **k), True),
        ("amax", lambda **k: lib.amax(x, 0, **k), True),
        ("softmax", lambda **k: lib.softmax(x, 0, **k), True),
        ("quantile", lambda **k: lib.quantile(x, 0.5, **k), True),
        ("linalg.inv", lambda **k: lib.linalg.inv(x, **k), True),
        ("linalg.vector_norm", lambda **k: lib.linalg.vector_norm(x, **k), True),
        ("add", lambda **k: lib.add(x, x, **k), False),
        ("sum", lambda **k: lib.sum(x, 0, **k), False),
        ("exp", lambda **k: lib.exp(x, **k), False),
        ("lerp", lambda **k: lib.lerp(x, x, 0.5, **k), False),
    ]


@pytest.mark.parametrize("k", range(12))
def test_out_of_a_wider_dtype_is_refused_where_torch_casts_nothing(torch, k):
    for lib in (ember, torch):
        name, call, exact = _out_calls(lib)[k]
        out = lib.zeros(tuple(call().shape), dtype=lib.float64)
        if exact:
            with pytest.raises(RuntimeError):
                call(out=out)
        else:
            assert call(out=out) is out and out.dtype == lib.float64


@pytest.mark.parametrize("size", [(2, 3), ((2, 3),)])
def test_sum_to_size_of_its_own_size_is_the_tensor_itself(torch, size):
    got = []
    for lib in (ember, torch):
        x = lib.arange(6.0).reshape(2, 3)
        y = x.sum_to_size(*size)
        got.append((y is x, tuple(y.shape), y.tolist()))
    assert got[0] == got[1]


def _index_put_mistakes(lib):
    x, f, i5 = lib.ones(2, 3), lib.ones(2, dtype=lib.int64), lib.tensor([5, 1])
    return [
        ("a shape mismatch before an index out of range", lambda: x.index_put_((i5,), f.float())),
        ("a shape mismatch before a dtype mismatch", lambda: x.index_put((lib.tensor([0]),), f)),
        (
            "a dtype mismatch before an index out of range",
            lambda: x.index_put((i5,), lib.ones(3, dtype=lib.int64)),
        ),
    ]


@pytest.mark.parametrize("k", range(3))
def test_index_put_names_torch_s_first_mistake(torch, k):
    (name, call), (t_name, t_call) = _index_put_mistakes(ember)[k], _index_put_mistakes(torch)[k]
    assert name == t_name
    named = []
    for c in (t_call, call):
        with pytest.raises((RuntimeError, IndexError)) as info:
            c()
        message = str(info.value)
        named.append(
            [w for w in ("shape mismatch", "dtypes match", "out of bounds") if w in message]
        )
    assert named[0] == named[1] and len(named[0]) == 1


@pytest.mark.parametrize(
    "p, dim, cls",
    [
        (0, (0, 0), RuntimeError),
        (0, [0, 1], IndexError),
        (2, (0, -1), RuntimeError),
    ],
)
def test_norm_checks_its_dims_for_every_p(torch, p, dim, cls):
    for lib in (ember, torch):
        x = lib.tensor(1.0) if dim == (0, -1) else lib.ones(3)
        with pytest.raises(cls):
            x.norm(p, dim)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_T_on_other_than_two_dims_warns_as_torch(torch, shape):
    """torch deprecates x.T on tensors of other than 2 dims (0-d with its own words) and warns
    (once per process, so its words are read from whichever shape warned first); ember was
    silent. The values are the reversed dims either way."""
    import warnings

    seen = {}
    for lib in (torch, ember):
        for s in [(3,), ()]:  # torch's two messages, each at its first use in this process
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                _ = lib.ones(s).T
            if w:
                seen[(lib.__name__, len(s))] = str(w[0].message).split(" (Triggered")[0]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = ember.ones(shape).T
    assert tuple(y.shape) == tuple(reversed(shape))
    assert len(w) == 1
    expected = seen.get(("torch", min(len(shape), 1)))
    if expected is not None:  # torch warned in this test (not earlier in the process)
        assert str(w[0].message) == expected


def test_T_of_a_matrix_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tuple(ember.ones(2, 3).T.shape) == (3, 2)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_methods_need_a_dim_as_torch(torch, name):
    """torch's Tensor.softmax/log_softmax have no default dim (TypeError); ember took -1."""
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="dim"):
            getattr(lib.ones(2, 3), name)()


@pytest.mark.parametrize("shape", [(), []])
def test_rms_norm_of_no_dims_is_refused_as_torch(torch, shape):
    """An empty normalized_shape is torch's RuntimeError; ember normalised over every dim (the
    mean over dim=() now reduces them all)."""
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="at least 1-dimensional"):
            lib.nn.functional.rms_norm(lib.ones(2, 3), shape)


def test_a_string_index_is_torchs_type_error(torch):
    """x['a'] is torch's TypeError; NumPy's IndexError came through ember."""
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            lib.ones(3)["a"]


def test_leaky_relu_with_slope_zero_is_silent_at_infinities(torch):
    """NumPy's 'invalid value' RuntimeWarning for ±∞·0 (torch is silent; the values match)."""
    import warnings

    values = [float("-inf"), -1.0, 0.0, 2.0, float("inf")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ember.nn.functional.leaky_relu(ember.tensor(values), 0.0)
    want = torch.nn.functional.leaky_relu(torch.tensor(values), 0.0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "call",
    ["var(x, True)", "var(x, False)", "std(x, False)", "var(x, 0, False)", "std(x, (), True)"],
)
def test_top_level_var_std_read_a_bool_as_unbiased_as_torch(torch, call):
    """ember.var(x, True) is torch's var(input, unbiased) overload; ember's wrapper turned the
    missing correction into 1 and then refused 'unbiased or correction, not both'."""
    values = [[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]
    got, want = (
        eval(f"L.{call}", {"L": lib, "x": lib.tensor(values, dtype=lib.float64)})
        for lib in (ember, torch)
    )
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
