"""nn.init and amp.GradScaler where ember used to differ from torch 2.13 (found by fuzzing
both side by side): the ``tensor=`` keyword, kaiming's mode in any case, the bounds torch's
uniform_ and normal_ check, empty integer tensors, the dtypes orthogonal_, trunc_normal_ and
sparse_ take, the values constant_ refuses; the scale GradScaler.update computes, and its
refusals when no gradient was checked or a new scale is not 0-d."""

import math

import numpy as np
import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


# ---------------------------------------------------------------------------------- nn.init
_RANDOM_INITS = [
    ("uniform_", ()),
    ("normal_", ()),
    ("trunc_normal_", ()),
    ("xavier_uniform_", ()),
    ("xavier_normal_", ()),
    ("kaiming_uniform_", ()),
    ("kaiming_normal_", ()),
    ("orthogonal_", ()),
    ("sparse_", (0.5,)),
    ("constant_", (2.0,)),
    ("ones_", ()),
    ("zeros_", ()),
    ("eye_", ()),
]


@pytest.mark.parametrize(("name", "args"), _RANDOM_INITS)
def test_the_tensor_is_passed_by_torchs_keyword(lib, name, args):
    w = lib.zeros(4, 3, requires_grad=True)
    out = getattr(lib.nn.init, name)(*args, tensor=w) if not args else None
    if args:  # positional extras after a keyword tensor: name them too
        key = {"sparse_": "sparsity", "constant_": "val"}[name]
        out = getattr(lib.nn.init, name)(tensor=w, **{key: args[0]})
    assert out is w and w.is_leaf and w.grad_fn is None and w.requires_grad


def test_dirac_takes_the_tensor_by_keyword(lib):
    w = lib.zeros(4, 2, 3)
    assert lib.nn.init.dirac_(tensor=w, groups=2) is w
    assert lib.nn.init._calculate_fan_in_and_fan_out(tensor=w) == (6, 12)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_mode_in_any_letter_case(torch, name):
    e, t = ember.zeros(500, 200), torch.zeros(500, 200)
    getattr(ember.nn.init, name)(e, mode="FAN_OUT", nonlinearity="relu")
    getattr(torch.nn.init, name)(t, mode="FAN_OUT", nonlinearity="relu")
    std = math.sqrt(2.0) / math.sqrt(500)  # fan_out's, not fan_in's √2/√200
    assert abs(e.numpy().std() / std - 1) < 0.02 and abs(t.numpy().std() / std - 1) < 0.02
    assert ember.nn.init._calculate_correct_fan(e, "Fan_In") == 200
    assert torch.nn.init._calculate_correct_fan(t, "Fan_In") == 200
    with pytest.raises(AttributeError):  # torch calls mode.lower()
        torch.nn.init.kaiming_uniform_(t, mode=3)
    with pytest.raises(AttributeError):
        ember.nn.init.kaiming_uniform_(e, mode=3)
    with pytest.raises(ValueError):
        ember.nn.init.kaiming_normal_(e, mode="fan_avg")


def _bad_uniform(lib):
    init, z = lib.nn.init, lib.zeros
    return [
        ("a > b", lambda: init.uniform_(z(3), 1.0, 0.0)),
        ("a > b, empty", lambda: init.uniform_(z(0), 1.0, 0.0)),
        ("inf bound", lambda: init.uniform_(z(3), 0.0, math.inf)),
        ("nan bound", lambda: init.uniform_(z(3), math.nan, 1.0)),
        ("outside float32", lambda: init.uniform_(z(3), -1e300, 1e300)),
        ("b - a overflows float16", lambda: init.uniform_(z(3, dtype=lib.float16), -4e4, 4e4)),
        ("b - a overflows float64", lambda: init.uniform_(z(3, dtype=lib.float64), -1e308, 1e308)),
        ("negative gain", lambda: init.xavier_uniform_(z(3, 4), gain=-1.0)),
        ("a > b, complex", lambda: init.uniform_(z(3, dtype=lib.complex64), 1.0, 0.0)),
    ]


@pytest.mark.parametrize("k", range(9))
def test_uniform_bounds_refused_as_torch(refused_alike, k):
    refused_alike(_bad_uniform, k)


def _bad_normal(lib):
    init, z = lib.nn.init, lib.zeros
    return [
        ("negative std", lambda: init.normal_(z(3), 0.0, -1.0)),
        ("nan std", lambda: init.normal_(z(3), 0.0, math.nan)),
        ("negative std, empty int", lambda: init.normal_(z(0, dtype=lib.int64), 0.0, -1.0)),
        ("negative gain", lambda: init.xavier_normal_(z(3, 4), gain=-1.0)),
        ("sparse_ negative std", lambda: init.sparse_(z(3, 4), 0.5, std=-0.1)),
    ]


@pytest.mark.parametrize("k", range(5))
def test_normal_std_refused_as_torch(refused_alike, k):
    refused_alike(_bad_normal, k)


def test_unbounded_means_and_equal_bounds_still_fill(lib):
    assert (lib.nn.init.uniform_(lib.zeros(3), 2.0, 2.0) == 2).all()
    assert lib.nn.init.normal_(lib.zeros(3), math.inf, 1.0).numpy().tolist() == [math.inf] * 3
    assert (lib.nn.init.normal_(lib.zeros(3), 1.5, 0.0) == 1.5).all()


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("normal_", ()),
        ("trunc_normal_", ()),
        ("orthogonal_", ()),
        ("sparse_", (0.5,)),
        ("xavier_normal_", ()),
    ],
)
def test_empty_integer_tensors_are_a_no_op(lib, dtype, name, args):
    w = lib.zeros(0, 3, dtype=getattr(lib, dtype))
    assert getattr(lib.nn.init, name)(w, *args) is w
    with pytest.raises(NotImplementedError):  # with elements: no normal draws for integers
        getattr(lib.nn.init, name)(lib.zeros(2, 3, dtype=getattr(lib, dtype)), *args)


def _unsupported_dtypes(lib):
    init, z = lib.nn.init, lib.zeros
    return [
        ("orthogonal_ float16", lambda: init.orthogonal_(z(2, 3, dtype=lib.float16))),
        ("orthogonal_ float16 4-D", lambda: init.orthogonal_(z(4, 3, 2, 2, dtype=lib.float16))),
        ("orthogonal_ complex", lambda: init.orthogonal_(z(3, 4, dtype=lib.complex64))),
        ("trunc_normal_ complex", lambda: init.trunc_normal_(z(3, 4, dtype=lib.complex64))),
    ]


@pytest.mark.parametrize("k", range(4))
def test_dtypes_without_a_kernel_refused_as_torch(refused_alike, k):
    refused_alike(_unsupported_dtypes, k, NotImplementedError)


def test_empty_float16_orthogonal_is_a_no_op(lib):
    w = lib.zeros(0, 3, dtype=lib.float16)
    assert lib.nn.init.orthogonal_(w) is w


def test_sparse_fills_complex_tensors_with_complex_values(lib):
    w = lib.nn.init.sparse_(lib.zeros(40, 30, dtype=lib.complex128), 0.25, std=1.0)
    a = w.numpy()
    assert ((a == 0).sum(axis=0) == 10).all()  # ⌈0.25·40⌉ zeros in every column
    nz = a[a != 0]
    assert (nz.imag != 0).all()
    assert abs(nz.real.std() - math.sqrt(0.5)) < 0.1 and abs(nz.imag.std() - math.sqrt(0.5)) < 0.1


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        ("int64", math.nan),
        ("int32", math.inf),
        ("int32", 2**40),
        ("uint8", 300),
        ("int8", 300),
        ("float16", 2**40),
        ("float32", 1 + 2j),
        ("int64", 1 + 2j),
    ],
)
def test_constant_refuses_values_the_dtype_cannot_hold(torch, dtype, value):
    with pytest.raises(RuntimeError):
        torch.nn.init.constant_(torch.zeros(3, dtype=getattr(torch, dtype)), value)
    with pytest.raises(RuntimeError):
        ember.nn.init.constant_(ember.zeros(3, dtype=getattr(ember, dtype)), value)


def test_constant_wraps_negative_integers_into_uint8_and_refuses_1d_values(lib):
    w = lib.nn.init.constant_(lib.zeros(3, dtype=lib.uint8), -1)
    assert w.numpy().tolist() == [255, 255, 255]
    assert lib.nn.init.constant_(lib.zeros(2, 2), lib.tensor(3.0)).numpy().tolist() == [[3, 3]] * 2
    for value in (lib.tensor([2.0]), lib.tensor([2.0, 3.0])):
        with pytest.raises(RuntimeError):
            lib.nn.init.constant_(lib.zeros(2, 2), value)


def test_dirac_groups_must_be_an_integer(lib):
    with pytest.raises(TypeError):
        lib.nn.init.dirac_(lib.zeros(0, 2, 3), 2.0)
    w = lib.nn.init.dirac_(lib.ones(4, 4, 0), -1)  # torch's loops over range(-1): only zeros
    assert tuple(w.shape) == (4, 4, 0)


def test_init_values_and_structure_match_torch(torch):
    """Exact where deterministic, the same bounds and statistics where random."""
    for shape, groups in [((6, 3, 3, 3), 2), ((4, 2, 3), 1), ((6, 2, 2, 4, 1), 3)]:
        e = ember.nn.init.dirac_(ember.ones(shape), groups).numpy()
        t = torch.nn.init.dirac_(torch.ones(shape), groups).numpy()
        np.testing.assert_array_equal(e, t)
    for shape in [(3, 5), (5, 3), (4, 4)]:
        np.testing.assert_array_equal(
            ember.nn.init.eye_(ember.ones(shape)).numpy(),
            torch.nn.init.eye_(torch.ones(shape)).numpy(),
        )
        q = ember.nn.init.orthogonal_(ember.zeros(shape, dtype=ember.float64), gain=2.0).numpy()
        g = q @ q.T if shape[0] <= shape[1] else q.T @ q
        np.testing.assert_allclose(g, 4.0 * np.eye(min(shape)), atol=1e-12)
    e = ember.nn.init.sparse_(ember.zeros(50, 40), 0.3).numpy()
    t = torch.nn.init.sparse_(torch.zeros(50, 40), 0.3).numpy()
    np.testing.assert_array_equal((e == 0).sum(axis=0), (t == 0).sum(axis=0))
    e = ember.nn.init.kaiming_uniform_(ember.zeros(400, 300), a=0.2, mode="fan_out").numpy()
    t = torch.nn.init.kaiming_uniform_(torch.zeros(400, 300), a=0.2, mode="fan_out").numpy()
    bound = math.sqrt(3.0) * torch.nn.init.calculate_gain("leaky_relu", 0.2) / math.sqrt(400)
    assert abs(e).max() <= bound and abs(e).max() > 0.99 * bound
    assert abs(e.std() / t.std() - 1) < 0.02


def test_random_inits_follow_the_generator(lib):
    for name, args in _RANDOM_INITS[:8]:  # torch's sparse_ draws its zeros from the global RNG
        fill = getattr(lib.nn.init, name)
        a = fill(lib.zeros(5, 4), *args, generator=lib.Generator().manual_seed(3))
        b = fill(lib.zeros(5, 4), *args, generator=lib.Generator().manual_seed(3))
        assert (a == b).all(), name


# ------------------------------------------------------------------------------- GradScaler
def _scaler_run(lib, factors, grads):
    """Scales and found-inf trackers after each update, for one parameter whose scaled
    gradients are ``grads``."""
    p = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=3.0, **factors)
    seen = []
    for g in grads:
        opt.zero_grad()
        scaler.scale((p * lib.tensor(g, dtype=lib.float32)).sum()).backward()
        scaler.step(opt)
        scaler.update()
        seen.append((scaler.get_scale(), scaler._get_growth_tracker()))
    return seen, p.detach().numpy()


def test_update_scales_in_double_as_torch(torch):
    """3·0.9 is 2.7 in torch's double product (rounded once to float32), 2.6999998 in a
    float32 one; growth likewise."""
    factors = dict(growth_factor=1.5, backoff_factor=0.9, growth_interval=1)
    grads = [[math.inf, 1.0], [1.0, 2.0], [math.nan, 0.0], [1.0, 1.0], [2.0, 1.0]]
    e, pe = _scaler_run(ember, factors, grads)
    t, pt = _scaler_run(torch, factors, grads)
    assert e == t
    np.testing.assert_allclose(pe, pt, rtol=1e-6)


def test_step_without_any_gradient_is_refused(lib):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=1.0)
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(p.sum())  # no backward: no gradient to check
    with pytest.raises(AssertionError, match="No inf checks were recorded for this optimizer"):
        scaler.step(opt)
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        scaler.update()


def test_update_takes_a_new_scale_only_as_a_float_or_0d_tensor(lib):
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(lib.ones(1))
    scaler.update(lib.tensor(4.0))
    assert scaler.get_scale() == 4.0
    scaler.update(8.0)
    assert scaler.get_scale() == 8.0
    with pytest.raises(RuntimeError):  # torch copies into its 0-d scale: [1] does not fit
        scaler.update(lib.tensor([2.0]))
    with pytest.raises(AssertionError):
        scaler.update(lib.tensor([2.0, 3.0]))


def test_growth_past_float32_keeps_the_scale_without_a_warning(lib, recwarn):
    p = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0**127, growth_interval=1)
    scaler.scale(p.sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0**127
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
