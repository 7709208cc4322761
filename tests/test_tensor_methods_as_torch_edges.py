"""Tensor methods where ember used to differ from torch 2.13 (found by fuzzing both side by
side): flatten of one dim gives the tensor itself; the refusal classes of t(), tril/triu,
trace, diagonal, diag_embed and diagonal_scatter (torch's RuntimeError); reductions over an
empty dim list reduce every dim (and ember's own 1-D weight norms still reduce none);
max/min/argmax/argmin refuse a tuple dim; std/var read (dim, unbiased, keepdim) by position;
out= of the index functions (and out's dtype unchanged); scatter's reduce=, gather's
sparse_grad, repeat_interleave's output_size and its one-argument form."""

import warnings

import numpy as np
import pytest

import ember


@pytest.mark.parametrize(
    "make, dims",
    [
        (lambda lib: lib.arange(3.0), ()),
        (lambda lib: lib.arange(3.0), (0, 0)),
        (lambda lib: lib.arange(3.0), (0, -1)),
        (lambda lib: lib.ones(2, 3), (0, 0)),
        (lambda lib: lib.ones(2, 3), (-1, -1)),
        (lambda lib: lib.ones(2, 3, 4), (1, -2)),
    ],
)
def test_flatten_of_one_dim_is_the_tensor_itself(torch, make, dims):
    got = []
    for lib in (ember, torch):
        x = make(lib)
        got.append((x.flatten(*dims) is x, lib.flatten(x, *dims) is x))
    assert got[0] == got[1] == (True, True)


def test_flatten_of_a_1d_tensor_keeps_its_graph(torch):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.flatten()
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        got.append((y is x, x.grad.tolist()))
    assert got[0] == got[1]


def _shape_refusals(lib):
    m, v, c = lib.ones(2, 2, 2), lib.ones(3), lib.ones(2, 3)
    return [
        ("t of 3-D", lambda: m.t()),
        ("torch.t of 3-D", lambda: lib.t(m)),
        ("tril of 1-D", lambda: v.tril()),
        ("triu of 1-D", lambda: v.triu(1)),
        ("tril of 0-d", lambda: lib.tril(lib.tensor(1.0))),
        ("triu of 1-D (function)", lambda: lib.triu(v)),
        ("trace of 3-D", lambda: m.trace()),
        ("trace of 1-D", lambda: v.trace()),
        ("trace of 0-d", lambda: lib.tensor(1.0).trace()),
        ("diagonal of one dim", lambda: c.diagonal(0, 0, 0)),
        ("diagonal of a dim and its negative", lambda: c.diagonal(0, 1, -1)),
        ("diag_embed of one dim", lambda: v.diag_embed(0, 0, 0)),
    ]


@pytest.mark.parametrize("k", range(12))
def test_shape_mistakes_are_runtime_errors(refused_alike, k):
    refused_alike(_shape_refusals, k)


def test_diagonal_scatter_of_one_dim_is_ember_s_value_error_too(torch):
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).diagonal_scatter(torch.ones(2), 0, 1, 1)
    with pytest.raises(ValueError):  # ember's pair class: RuntimeError and ValueError
        ember.ones(2, 3).diagonal_scatter(ember.ones(2), 0, 1, 1)


# ------------------------------------------------------------ reductions over dim=()
_EVERY_DIM = ["sum", "mean", "std", "var", "norm"]  # nansum, amax and amin did already


@pytest.mark.parametrize("name", _EVERY_DIM)
@pytest.mark.parametrize("dim", [(), []], ids=["tuple", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_a_reduction_over_an_empty_dim_list_reduces_every_dim(torch, name, dim, keepdim):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=lib.float64, requires_grad=True)
        y = getattr(x, name)(dim=dim, keepdim=keepdim)
        y.sum().backward()
        got.append((tuple(y.shape), y.tolist(), x.grad.tolist()))
    assert got[0][0] == got[1][0]
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)
    if name not in ("std", "var"):  # torch's var/std backward over dim=() divides by N − 1
        # with N = 1 (inf and nan): ember's gradient is that of the every-dim value it gives
        np.testing.assert_allclose(got[0][2], got[1][2], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["std", "var"])
def test_std_and_var_over_an_empty_dim_list_differentiate_as_over_every_dim(name):
    grads = []
    for dim in ((), None):
        x = ember.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=ember.float64)
        x.requires_grad_()
        getattr(x, name)(dim=dim).backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


@pytest.mark.parametrize("name", ["sum", "mean", "std", "var"])
def test_an_empty_dim_list_given_by_position_or_as_axis_reduces_every_dim(torch, name):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=lib.float64)
        f = getattr(x, name)
        got.append([(tuple(y.shape), y.tolist()) for y in (f(()), f((), True), f(axis=()))])
    for (shape, value), (t_shape, t_value) in zip(*got):
        assert shape == t_shape
        np.testing.assert_allclose(value, t_value, rtol=1e-12)


def test_logsumexp_over_an_empty_dim_list_kept_reduces_every_dim(torch):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=lib.float64)
        got.append(x.logsumexp((), keepdim=True).tolist())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((False,), {}),
        ((True,), {}),
        ((0, False), {}),
        ((0, False, True), {}),
        (((0, 1), False), {}),
    ],
)
@pytest.mark.parametrize("name", ["std", "var"])
def test_std_and_var_read_positional_arguments_as_dim_unbiased_keepdim(torch, name, args, kwargs):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=lib.float64)
        y = getattr(x, name)(*args, **kwargs)
        got.append((tuple(y.shape), y.tolist()))
    assert got[0][0] == got[1][0]
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)


@pytest.mark.parametrize("name", ["std", "var"])
def test_std_and_var_refuse_unbiased_with_correction(torch, name):
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            getattr(lib.ones(2, 3), name)(0, True, correction=1)


@pytest.mark.parametrize("name", ["max", "min"])  # argmax and argmin did already
@pytest.mark.parametrize("dim", [(0,), (), [1], (0, 1)])
def test_max_and_min_refuse_a_tuple_dim(torch, name, dim):
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        with pytest.raises(TypeError):
            getattr(x, name)(dim)
        with pytest.raises(TypeError):
            getattr(x, name)(dim=dim, keepdim=True)


def test_a_weight_norm_of_a_1d_weight_keeps_each_element_s_own_norm(torch):
    got = []
    for lib in (ember, torch):
        v = lib.tensor([3.0, -4.0, 0.5], dtype=lib.float64)
        m, old = lib.nn.Module(), lib.nn.Module()
        m.weight, old.weight = lib.nn.Parameter(v.clone()), lib.nn.Parameter(v.clone())
        lib.nn.utils.parametrizations.weight_norm(m, "weight", dim=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's deprecation of the hook form
            lib.nn.utils.weight_norm(old, "weight", dim=0)
        g = m.parametrizations.weight.original0
        got.append((lib.norm_except_dim(v, 2, 0).tolist(), g.tolist(), old.weight_g.tolist()))
        got.append((m.weight.tolist(), old.weight.tolist()))
    assert got[0] == got[2]
    assert got[1] == got[3]
    assert got[0][0] == [3.0, 4.0, 0.5]


# ------------------------------------------------------------ index ops: out=, reduce=, …
def _index_calls(lib):
    x = lib.arange(6.0).reshape(2, 3)
    i, ii = lib.tensor([1, 0]), lib.tensor([[1, 0, 1]])
    return [
        ("take", lambda **k: lib.take(x, i, **k)),
        ("index_add", lambda **k: lib.index_add(x, 0, i, lib.ones(2, 3), **k)),
        ("index_copy", lambda **k: lib.index_copy(x, 0, i, lib.ones(2, 3), **k)),
        ("index_reduce", lambda **k: lib.index_reduce(x, 0, i, lib.ones(2, 3) * 2, "prod", **k)),
        ("scatter", lambda **k: lib.scatter(x, 0, ii, lib.ones(1, 3), **k)),
        ("scatter_add", lambda **k: lib.scatter_add(x, 0, ii, lib.ones(1, 3), **k)),
        ("scatter_reduce", lambda **k: lib.scatter_reduce(x, 0, ii, lib.ones(1, 3), "amax", **k)),
        ("gather", lambda **k: lib.gather(x, 1, ii.expand(2, 3), **k)),
        ("index_select", lambda **k: lib.index_select(x, 1, i, **k)),
        ("take_along_dim", lambda **k: lib.take_along_dim(x, ii, 0, **k)),
    ]


@pytest.mark.parametrize("k", range(7))  # gather, index_select, take_along_dim did already
def test_index_functions_write_into_out(torch, k):
    got = []
    for lib in (ember, torch):
        name, call = _index_calls(lib)[k]
        want = call()
        out = lib.zeros(tuple(want.shape))
        result = call(out=out)
        got.append((name, result is out, out.tolist(), want.tolist()))
    assert got[0] == got[1]
    assert got[0][1] and got[0][2] == got[0][3]


@pytest.mark.parametrize("k", range(10))
def test_index_functions_refuse_an_out_of_another_dtype(torch, k):
    for lib in (ember, torch):
        name, call = _index_calls(lib)[k]
        with pytest.raises(RuntimeError):
            call(out=lib.zeros(tuple(call().shape), dtype=lib.float64))


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("form", ["src", "value", "in place"])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_scatter_with_reduce_combines_into_self(torch, reduce, form, dtype):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[2, 3, 4], [5, 6, 7]], dtype=getattr(lib, dtype))
        index = lib.tensor([[1, 0, 1], [1, 1, 0]])
        src = lib.tensor([[3, 4, 5], [6, 7, 8]], dtype=getattr(lib, dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns once a process: compared below
            if form == "src":
                y = x.scatter(0, index, src, reduce=reduce)
            elif form == "value":  # the value cast to x's dtype first: 2 for int64
                y = lib.scatter(x, 0, index, 2.5, reduce=reduce)
            else:
                y = x.scatter_(0, index, src, reduce=reduce)
        got.append((y.tolist(), str(y.dtype).split(".")[-1]))
    assert got[0] == got[1]


def test_scatter_with_reduce_and_a_src_tensor_warns_of_its_deprecation():
    x, index = ember.zeros(3), ember.tensor([0, 0])
    with pytest.warns(UserWarning, match="scatter_reduce"):
        x.scatter(0, index, ember.ones(2), reduce="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns of the src tensor form only
        x.scatter(0, index, 1.0, reduce="add")


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "bogus"])
def test_scatter_refuses_other_reductions(torch, reduce):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            lib.zeros(3).scatter(0, lib.tensor([0]), 1.0, reduce=reduce)


def test_scatter_names_a_bad_dim_before_a_dtype_mismatch(torch):
    for lib in (ember, torch):
        x, index, src = lib.zeros(2, 3), lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)
        with pytest.raises(IndexError):
            x.scatter(2, index, src)
        with pytest.raises(IndexError):
            x.scatter_add(-3, index, src)


def test_index_reduce_names_a_bad_dim_first_and_refuses_complex(torch):
    for lib in (ember, torch):
        x, index = lib.ones(2), lib.tensor([0])
        with pytest.raises(IndexError):
            x.index_reduce(3, index, lib.ones(1, dtype=lib.float64), "prod")
        z = lib.ones(2, dtype=lib.complex64)
        with pytest.raises(NotImplementedError):
            z.index_reduce(0, index, lib.ones(1, dtype=lib.complex64), "prod")


def test_gather_takes_sparse_grad_false_and_refuses_a_non_bool(torch):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = lib.gather(x, 0, lib.tensor([2, 2, 0]), sparse_grad=False)
        x.gather(0, lib.tensor([1]), sparse_grad=False).sum().backward()
        y.sum().backward()
        got.append((y.tolist(), x.grad.tolist()))
        with pytest.raises(TypeError):
            x.gather(0, lib.tensor([1]), sparse_grad=1)
    assert got[0] == got[1]
    with pytest.raises(NotImplementedError):  # ember makes no sparse gradient
        ember.arange(3.0).gather(0, ember.tensor([1]), sparse_grad=True)


@pytest.mark.parametrize(
    "repeats, output_size",
    [("tensor", 3), ("int", 6), ("tensor", 5), ("int", 5), ("tensor", -1), ("int", 0)],
)
def test_repeat_interleave_checks_output_size(torch, repeats, output_size):
    got = []
    for lib in (ember, torch):
        x = lib.arange(3.0)
        r = lib.tensor([1, 2, 0]) if repeats == "tensor" else 2
        try:
            got.append(x.repeat_interleave(r, output_size=output_size).tolist())
            got.append(lib.repeat_interleave(x, r, 0, output_size=output_size).tolist())
        except RuntimeError:
            got.append("RuntimeError")
    assert got[: len(got) // 2] == got[len(got) // 2 :]


@pytest.mark.parametrize(
    "counts", [[1, 2], [0, 3, 1], [], [[1]], [1.0, 2.0], [1, -1]], ids=lambda c: str(c)
)
def test_repeat_interleave_of_the_counts_alone(torch, counts):
    got = []
    for lib in (ember, torch):
        c = lib.tensor(counts, dtype=lib.int64 if counts and isinstance(counts[0], int) else None)
        try:
            got.append(lib.repeat_interleave(c).tolist())
        except (RuntimeError, NotImplementedError) as e:
            got.append(NotImplementedError if isinstance(e, NotImplementedError) else RuntimeError)
    assert got[0] == got[1]


@pytest.mark.parametrize(
    "dtype, other_dtype, other_shape",
    [
        ("int32", "float64", ()),
        ("int64", "float16", ()),
        ("bool", "float64", ()),
        ("int32", "float16", (1,)),
        ("float32", "float64", ()),
        ("float16", "float32", ()),
    ],
)
def test_rtruediv_of_a_tensor_is_reciprocal_times_it(torch, dtype, other_dtype, other_shape):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([1, 2, 3], dtype=getattr(lib, dtype))
        c = lib.full(other_shape, 7.0, dtype=getattr(lib, other_dtype))
        y = x.__rtruediv__(c)
        got.append((str(y.dtype).split(".")[-1], y.tolist()))
    assert got[0] == got[1]


@pytest.mark.parametrize("dim", [(0, 0), (0, -2), [1, -1]])
def test_nanmean_refuses_a_dim_named_twice(torch, dim):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            lib.ones(2, 3).nanmean(dim)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("amax", {"axis": 0, "keepdims": True}),
        ("amin", {"axis": -1}),
        ("nansum", {"axis": (0, 1), "keepdims": True}),
        ("nanmean", {"axis": 1}),
        ("prod", {"axis": 1, "keepdims": True}),
        ("count_nonzero", {"axis": 0}),
        ("any", {"axis": 1, "keepdims": True}),
        ("all", {"axis": 0}),
        ("median", {"axis": 0, "keepdims": True}),
        ("cumsum", {"axis": 1}),
        ("cumprod", {"axis": 0}),
        ("logcumsumexp", {"axis": 1}),
        ("softmax", {"axis": 0}),
        ("log_softmax", {"axis": 1}),
        ("argsort", {"axis": 0}),
        ("diff", {"axis": 1}),
        ("unsqueeze", {"axis": 1}),
        ("sort", {"axis": 0}),
    ],
)
def test_methods_take_numpy_s_axis_and_keepdims_as_torch(torch, name, kwargs):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, 2.5]], dtype=lib.float64)
        y = getattr(x, name)(**kwargs)
        y = y[0] if isinstance(y, tuple) else y
        got.append((tuple(y.shape), y.tolist()))
    assert got[0][0] == got[1][0]
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)


def _more_out_calls(lib):
    x = lib.tensor([[3.0, 1.0], [0.5, 4.0]])
    return [
        ("sort", lambda **k: lib.sort(x, **k)[0] if not k else lib.sort(x, **k)),
        ("mm", lambda **k: lib.mm(x, x, **k)),
        ("tril", lambda **k: lib.tril(x, **k)),
        ("topk", lambda **k: lib.topk(x, 1, **k)[0] if not k else lib.topk(x, 1, **k)),
    ]


@pytest.mark.parametrize("k", range(4))
def test_sorting_and_products_refuse_an_out_of_another_dtype(torch, k):
    for lib in (ember, torch):
        name, call = _more_out_calls(lib)[k]
        shape = tuple(call().shape)
        if name in ("sort", "topk"):
            out = (lib.zeros(shape, dtype=lib.float64), lib.zeros(shape, dtype=lib.int64))
        else:
            out = lib.zeros(shape, dtype=lib.float64)
        with pytest.raises(RuntimeError):
            call(out=out)


@pytest.mark.parametrize("name", ["arccos", "arcsinh", "arctan2", "true_divide", "isin"])
def test_more_functions_take_out(torch, name):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([0.25, 0.5, 1.0])
        args = (x, x.flip(0)) if name in ("arctan2", "true_divide", "isin") else (x,)
        want = getattr(lib, name)(*args)
        out = lib.empty(0, dtype=want.dtype)
        got.append((getattr(lib, name)(*args, out=out) is out, out.tolist(), want.tolist()))
    assert got[0] == got[1]


def _dims_named_twice(lib):
    s, x = lib.tensor(2.0), lib.ones(2, 3)
    return [
        ("sum of a 0-d tensor over 0 and -1", lambda: s.sum((0, -1))),
        ("mean of a 0-d tensor over 0 twice", lambda: s.mean((0, 0))),
        ("amax of a 0-d tensor over 0 and -1", lambda: s.amax((0, -1))),
        ("std of a 0-d tensor over -1 twice", lambda: s.std((-1, -1))),
        ("any over 0 twice", lambda: x.any((0, 0))),
        ("all over 1 and -1", lambda: x.all([1, -1])),
        ("any of a 0-d tensor over 0 and -1", lambda: s.any((0, -1))),
    ]


@pytest.mark.parametrize("k", range(7))
def test_a_dim_named_twice_is_refused(refused_alike, k):
    refused_alike(_dims_named_twice, k)


@pytest.mark.parametrize("dim", [0, -1, (0,), (-1,)])
@pytest.mark.parametrize("name", ["any", "all"])
def test_any_and_all_of_a_0d_tensor_take_dim_0_or_minus_1(torch, name, dim):
    got = []
    for lib in (ember, torch):
        y = getattr(lib.tensor(3.0), name)(dim, keepdim=True)
        got.append((tuple(y.shape), y.tolist()))
    assert got[0] == got[1]
