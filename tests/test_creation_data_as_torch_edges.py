"""Tensor data, index grids and strides where ember used to differ from torch 2.13 (found by
fuzzing both side by side): tensor() of a tensor (torch's warning), strings and NumPy arrays
of dtypes no tensor has, from_numpy's refusals, empty_strided's sizes and strides,
tril/triu_indices' arguments and dtypes, meshgrid's indexing and dtypes, cartesian_prod,
complex/polar (their arguments, dtypes and polar's gradient at a negative abs) and
randint_like's bounds. The random makers are in test_creation_random_as_torch_edges.py."""

import warnings

import numpy as np
import pytest

import ember


def test_tensor_of_a_tensor_warns_as_torch(torch):
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="recommended to use sourceTensor.detach"):
            lib.tensor(lib.zeros(2))


def test_polar_sends_a_negative_abs_torchs_gradient(torch):
    a = np.array([-1.5, 0.5, -0.25, 2.0])
    b = np.array([0.3, -1.0, 2.0, 0.7])
    grads = []
    for lib in (ember, torch):
        r, t = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        z = lib.polar(r, t)
        grads.append([g.numpy() for g in lib.autograd.grad(z.abs().sum(), (r, t))])
    for ge, gt in zip(*grads):
        np.testing.assert_allclose(ge, gt, rtol=1e-12, atol=1e-15)


def test_randint_like_warns_past_float16s_exact_integers_as_torch(torch):
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="out of bounds"):
            out = lib.randint_like(lib.zeros(3, dtype=lib.float16), 5000)
        assert str(out.dtype).endswith("float16")


def test_meshgrid_without_indexing_warns_with_torchs_words():
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        a, b = ember.meshgrid(ember.tensor([1, 2]), ember.tensor([3, 4, 5]))
    assert tuple(a.shape) == tuple(b.shape) == (2, 3)  # 'ij'


def _data_refusals(L):
    return [
        ("tensor of a string", lambda: L.tensor("abc")),
        ("tensor of a string array", lambda: L.tensor(np.array(["a"]))),
        ("as_tensor of an object array", lambda: L.as_tensor(np.array([1, 2], dtype=object))),
        ("asarray of a string array", lambda: L.asarray(np.array(["a"]))),
        ("from_numpy of a list", lambda: L.from_numpy([1, 2])),
        ("from_numpy of a tensor", lambda: L.from_numpy(L.zeros(2))),
        ("from_numpy of a scalar", lambda: L.from_numpy(np.float64(1.0))),
        ("from_numpy of objects", lambda: L.from_numpy(np.zeros(2, dtype=object))),
        ("from_numpy of long double", lambda: L.from_numpy(np.zeros(2, dtype=np.longdouble))),
        ("from_numpy reversed", lambda: L.from_numpy(np.zeros((2, 3))[:, ::-1])),
        ("from_numpy big-endian", lambda: L.from_numpy(np.zeros(2, dtype=">f4"))),
        ("empty_strided negative size", lambda: L.empty_strided((2, -1), (1, 1))),
        ("empty_strided negative stride", lambda: L.empty_strided((2, 3), (-1, 1))),
        ("empty_strided float size", lambda: L.empty_strided((2.0,), (1,))),
        ("tril_indices negative row", lambda: L.tril_indices(-1, 3)),
        ("triu_indices negative col", lambda: L.triu_indices(3, -1)),
        ("tril_indices float dtype", lambda: L.tril_indices(3, 3, dtype=L.float32)),
        ("triu_indices int8", lambda: L.triu_indices(3, 3, dtype=L.int8)),
        ("tril_indices bool", lambda: L.tril_indices(3, 3, dtype=L.bool)),
        ("triu_indices float row", lambda: L.triu_indices(3.0, 3)),
        ("tril_indices float offset", lambda: L.tril_indices(3, 3, 1.5)),
        ("polar float64 angle", lambda: L.polar(L.tensor([1.0]), L.tensor([2.0], dtype=L.float64))),
        ("polar ints", lambda: L.polar(L.tensor([1]), L.tensor([2]))),
        ("polar bools", lambda: L.polar(L.tensor([True]), L.tensor([False]))),
        ("polar float16", lambda: L.polar(L.ones(1, dtype=L.float16), L.ones(1, dtype=L.float16))),
        ("polar number angle", lambda: L.polar(L.tensor([1.0]), 2.0)),
        ("polar numbers", lambda: L.polar(1.0, 2.0)),
        ("complex numbers", lambda: L.complex(1.0, 2.0)),
        ("complex number imag", lambda: L.complex(L.tensor([1.0]), 2.0)),
        ("complex shapes", lambda: L.complex(L.zeros(2), L.zeros(3))),
        ("meshgrid bad indexing", lambda: L.meshgrid(L.tensor([1, 2]), indexing="foo")),
        ("meshgrid dtypes", lambda: L.meshgrid(L.tensor([1, 2]), L.tensor([3.0]), indexing="ij")),
        ("meshgrid nothing", lambda: L.meshgrid(indexing="ij")),
        ("meshgrid 2-D", lambda: L.meshgrid(L.zeros(2, 2), L.zeros(2), indexing="xy")),
        ("cartesian_prod dtypes", lambda: L.cartesian_prod(L.tensor([1, 2]), L.tensor([3.0]))),
        ("cartesian_prod 0-d", lambda: L.cartesian_prod(L.tensor(1), L.tensor([1]))),
        ("cartesian_prod 2-D", lambda: L.cartesian_prod(L.zeros(2, 2), L.zeros(2))),
        ("cartesian_prod nothing", lambda: L.cartesian_prod()),
        ("randint_like complex", lambda: L.randint_like(L.zeros(3, dtype=L.complex64), 2)),
        ("randint_like float high", lambda: L.randint_like(L.zeros(3), 2.5)),
        ("asarray of a list, no copy", lambda: L.asarray([1, 2], copy=False)),
        ("a list then a number", lambda: L.tensor([[1, 2], 3])),
        ("a number then a list", lambda: L.as_tensor([1, [2, 3]])),
        ("mixed deeper down", lambda: L.asarray([[1, [2]], [3, 4]])),
        ("asarray of a number, no copy", lambda: L.asarray(3.5, copy=False)),
    ]


_DATA_CLASSES = {
    "tensor of a string": TypeError,
    "tensor of a string array": TypeError,
    "as_tensor of an object array": TypeError,
    "asarray of a string array": TypeError,
    "from_numpy of a list": TypeError,
    "from_numpy of a tensor": TypeError,
    "from_numpy of a scalar": TypeError,
    "from_numpy of objects": TypeError,
    "from_numpy of long double": TypeError,
    "from_numpy reversed": ValueError,
    "from_numpy big-endian": ValueError,
    "empty_strided float size": TypeError,
    "tril_indices float dtype": NotImplementedError,
    "triu_indices int8": NotImplementedError,
    "tril_indices bool": NotImplementedError,
    "triu_indices float row": TypeError,
    "tril_indices float offset": TypeError,
    "polar float16": NotImplementedError,
    "polar number angle": TypeError,
    "polar numbers": TypeError,
    "complex numbers": TypeError,
    "complex number imag": TypeError,
    "randint_like float high": TypeError,
    "asarray of a list, no copy": ValueError,
    "a list then a number": TypeError,
    "a number then a list": TypeError,
    "mixed deeper down": TypeError,
    "asarray of a number, no copy": ValueError,
}


@pytest.mark.parametrize("k", range(len(_data_refusals(ember))))
def test_data_grids_and_strides_refused_as_torch(refused_alike, k):
    name = _data_refusals(ember)[k][0]
    refused_alike(_data_refusals, k, _DATA_CLASSES.get(name, RuntimeError))


@pytest.mark.parametrize("dtype", ["float16", "complex64"])
def test_data_past_a_float_dtypes_range_becomes_inf_without_a_warning(torch, dtype):
    values = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values.append(lib.tensor([1e40, -(2.0**40)], dtype=getattr(lib, dtype)).numpy())
    np.testing.assert_array_equal(*values)


def test_asarray_of_a_tensor_needing_grad_as_torch(torch):
    for lib in (ember, torch):
        t = lib.zeros(2, requires_grad=True)
        with pytest.warns(UserWarning, match="unspecified requires_grad now defaults"):
            assert lib.asarray(t).requires_grad
        detached = lib.asarray(t, requires_grad=False)
        assert not detached.requires_grad
        detached[0] = 5.0  # the same memory
        assert t[0].item() == 5.0


def test_tensor_of_a_list_of_arrays_warns_with_torchs_words(torch):
    """torch warns once per process (so only ember's warning is checked here); the values
    agree."""
    data = [np.array([1, 2]), np.array([3, 4])]
    with pytest.warns(UserWarning, match="from a list of numpy.ndarrays is extremely slow"):
        e = ember.tensor(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.tensor(data)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


ONE_ELEMENT_LISTS = {
    "two (1,) tensors": lambda T: [T.ones(1), T.ones(1) * 2],
    "a (1, 1) and a 0-d one": lambda T: [T.ones(1, 1), T.tensor(2.0)],
    "nested": lambda T: [[T.ones(1)], [T.tensor(2.0)]],
    "an int32 one keeps its dtype": lambda T: [T.tensor([1], dtype=T.int32)],
    "beside a Python float": lambda T: [T.ones(1, dtype=T.int64), 2.5],
    "a 0-d int beside an int": lambda T: [T.tensor(3), 4],
    "in a tuple": lambda T: (T.ones(1), 2),
}


@pytest.mark.parametrize("case", sorted(ONE_ELEMENT_LISTS))
def test_a_one_element_tensor_in_a_list_is_its_number_as_torch(torch, case):
    """torch reads a one-element tensor inside tensor()'s data as the number it holds, in its
    dtype (tensor([ones(1), ones(1)]) is 1-D); ember nested it, (2, 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ember.tensor(ONE_ELEMENT_LISTS[case](ember))
        want = torch.tensor(ONE_ELEMENT_LISTS[case](torch))
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    assert got.tolist() == want.tolist()


def test_tensors_of_several_elements_in_a_list_are_still_stacked():
    """ember's extension (torch refuses them): a list of equal-shaped tensors stacks."""
    assert tuple(ember.tensor([ember.ones(2), ember.zeros(2)]).shape) == (2, 2)
