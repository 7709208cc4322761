"""Creation and random makers where ember used to differ from torch 2.13 (found by fuzzing both
side by side): randint's (high, size) form and its dtype bounds, rand/randn in float16 and
their refusal of integer dtypes, randperm's dtype and n checks, torch's size= keyword, a
tensor as a size, full's fill_value parsing (None, strings, ints past 64 bits, NumPy
scalars), eye's negative sizes, the *_like makers' input (a tensor, by name too) and
generator, and factories resizing out= without a warning. Random values cannot match torch's
bits: the tests compare shapes, dtypes, supports and refusals."""

import warnings

import numpy as np
import pytest

import ember


def _meta(t):
    return tuple(t.shape), str(t.dtype).split(".")[-1].replace("bool_", "bool"), t.requires_grad


def _same_meta(make, torch):
    """make(lib) gives tensors of one shape, dtype and requires_grad in ember and torch."""
    e, t = make(ember), make(torch)
    assert _meta(e) == _meta(t)
    return e, t


_MADE_ALIKE = [
    lambda L: L.randint(10, (2, 3)),
    lambda L: L.randint(high=10, size=(2,)),
    lambda L: L.randint(L.tensor(10), (2,)),
    lambda L: L.randint(10, (2,), dtype=L.float16, requires_grad=True),
    lambda L: L.rand(2, 3, dtype=L.float16),
    lambda L: L.randn(2, 3, dtype=L.float16),
    lambda L: L.randn(0, 2, dtype=L.int64),
    lambda L: L.randperm(L.tensor(4)),
    lambda L: L.zeros(size=(2, 3)),
    lambda L: L.rand(size=[2], layout=L.strided, pin_memory=False),
    lambda L: L.empty(size=L.Size([2, 1])),
    lambda L: L.full((2,), True, layout=L.strided, pin_memory=False),
    lambda L: L.full((2,), np.bool_(True)),
    lambda L: L.zeros_like(input=L.zeros(2, dtype=L.int32)),
    lambda L: L.rand_like(L.zeros(3), generator=L.Generator().manual_seed(2)),
    lambda L: L.randn_like(L.zeros(3, dtype=L.float64), generator=L.Generator()),
    lambda L: L.randn_like(L.zeros(0, 2), dtype=L.int64),
    lambda L: L.empty(2, 3, 4, 5, memory_format=None),
]


@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_makers_read_memory_format_none_as_preserve_format(torch, fn):
    strides = [
        getattr(lib, fn)(lib.zeros(2, 3, 4, 5).permute(0, 2, 3, 1), memory_format=None).stride()
        for lib in (ember, torch)
    ]
    assert strides[0] == strides[1] == (60, 5, 1, 20)  # the source's own


@pytest.mark.parametrize("k", range(len(_MADE_ALIKE)))
def test_makers_accept_torchs_calls_and_give_its_shapes_and_dtypes(torch, k):
    _same_meta(_MADE_ALIKE[k], torch)


def test_float16_draws_stay_in_their_support(torch):
    u = ember.rand(10000, dtype=ember.float16).numpy()
    assert u.min() >= 0 and u.max() < 1 and len(np.unique(u)) > 1000
    z = ember.randn(10000, dtype=ember.float16).numpy()
    assert abs(float(z.astype(np.float64).mean())) < 0.05
    assert abs(float(z.astype(np.float64).std()) - 1) < 0.05


def test_randint_draws_its_range_and_repeats_under_a_seed():
    a = ember.randint(10, (1000,), generator=ember.Generator().manual_seed(5)).numpy()
    b = ember.randint(10, (1000,), generator=ember.Generator().manual_seed(5)).numpy()
    assert (a == b).all() and a.min() == 0 and a.max() == 9
    c = ember.randint(-3, 3, (1000,), dtype=ember.int8).numpy()
    assert c.min() == -3 and c.max() == 2


def test_randint_past_a_float_dtypes_exact_integers_warns_as_torch(torch):
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="to - 1 is out of bounds"):
            lib.randint(2**11 + 2, (2,), dtype=lib.float16)


def test_factories_resize_out_without_a_warning(torch):
    for lib in (ember, torch):
        out = lib.zeros(6)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.ones(2, 3, out=out)
            lib.rand(3, out=out)
        assert tuple(out.shape) == (3,)


def _refusals(L):
    t = L.zeros(2)
    return [
        ("randint high only", lambda: L.randint(10)),
        ("randint size an int", lambda: L.randint(3, 10)),
        ("randint float bound", lambda: L.randint(2.5, 10, (2,))),
        ("randint int64 overflow", lambda: L.randint(0, 2**63, (2,))),
        ("randint negative size", lambda: L.randint(10, (-1,))),
        ("randint to past int8", lambda: L.randint(300, (3,), dtype=L.int8)),
        ("randint from below uint8", lambda: L.randint(-3, 3, (3,), dtype=L.uint8)),
        ("randint to past bool", lambda: L.randint(10, (3,), dtype=L.bool)),
        ("randint complex", lambda: L.randint(10, (3,), dtype=L.complex64)),
        ("randint int requires grad", lambda: L.randint(10, (2,), requires_grad=True)),
        ("randperm negative", lambda: L.randperm(-1)),
        ("randperm float", lambda: L.randperm(5.0)),
        ("randperm bool n", lambda: L.randperm(True)),
        ("randperm bool", lambda: L.randperm(5, dtype=L.bool)),
        ("randperm complex", lambda: L.randperm(0, dtype=L.complex64)),
        ("randperm past int8", lambda: L.randperm(129, dtype=L.int8)),
        ("randperm past uint8", lambda: L.randperm(257, dtype=L.uint8)),
        ("randperm int requires grad", lambda: L.randperm(5, requires_grad=True)),
        ("rand int64", lambda: L.rand(2, dtype=L.int64)),
        ("rand empty bool", lambda: L.rand(0, dtype=L.bool)),
        ("randn int32", lambda: L.randn(2, dtype=L.int32)),
        ("rand_like int", lambda: L.rand_like(L.zeros(2, dtype=L.int64))),
        ("randn_like bool", lambda: L.randn_like(t, dtype=L.bool)),
        ("a tensor as the size", lambda: L.ones(L.tensor([2, 3]))),
        ("a tensor in the sizes", lambda: L.randn(L.tensor([2, 3]), 2)),
        ("full of None", lambda: L.full((2,), None)),
        ("full of a string into bool", lambda: L.full((2,), "a", dtype=L.bool)),
        ("full of a string", lambda: L.full((2,), "a")),
        ("full past 64 bits", lambda: L.full((2,), 2**70, dtype=L.float32)),
        ("full below int64", lambda: L.full((2,), -(2**63) - 1, dtype=L.float32)),
        ("full_like past 64 bits", lambda: L.full_like(t, 2**70)),
        ("full negative size", lambda: L.full((2, -3), 1.0)),
        ("full tensor size", lambda: L.full(L.tensor([2, 3]), 1.0)),
        ("eye negative n", lambda: L.eye(-1)),
        ("eye negative m", lambda: L.eye(3, -2)),
        ("zeros_like of a list", lambda: L.zeros_like([1, 2])),
        ("ones_like of an array", lambda: L.ones_like(np.zeros(2))),
        ("rand_like of an int", lambda: L.rand_like(3)),
        ("empty_like of a list", lambda: L.empty_like([1, 2])),
        ("full_like of an array", lambda: L.full_like(np.zeros(2), 1.0)),
    ]


_CLASSES = {
    "randint high only": TypeError,
    "randint size an int": TypeError,
    "randint float bound": TypeError,
    "randint int64 overflow": ValueError,
    "randperm float": TypeError,
    "randperm bool n": TypeError,
    "randperm bool": NotImplementedError,
    "randperm complex": NotImplementedError,
    "rand int64": NotImplementedError,
    "rand empty bool": NotImplementedError,
    "randn int32": NotImplementedError,
    "rand_like int": NotImplementedError,
    "randn_like bool": NotImplementedError,
    "a tensor as the size": TypeError,
    "a tensor in the sizes": TypeError,
    "full of None": TypeError,
    "full of a string into bool": TypeError,
    "full of a string": TypeError,
    "full past 64 bits": OverflowError,
    "full below int64": OverflowError,
    "full_like past 64 bits": OverflowError,
    "full tensor size": TypeError,
    "zeros_like of a list": TypeError,
    "ones_like of an array": TypeError,
    "rand_like of an int": TypeError,
    "empty_like of a list": TypeError,
    "full_like of an array": TypeError,
}


@pytest.mark.parametrize("k", range(len(_refusals(ember))))
def test_makers_refuse_as_torch(refused_alike, k):
    name = _refusals(ember)[k][0]
    refused_alike(_refusals, k, _CLASSES.get(name, RuntimeError))


def test_full_reads_a_numpy_complex_scalar_through_float_as_torch(torch):
    e, t = _same_meta(lambda L: L.full((2,), np.complex64(1 + 2j)), torch)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


# ------------------------------------------------------------ normal, bernoulli, multinomial
_DRAWN_ALIKE = [
    lambda L: L.normal(L.zeros(3), L.ones(3, dtype=L.float64)),
    lambda L: L.normal(L.zeros(3, dtype=L.float16), 1.0),
    lambda L: L.normal(L.zeros(3, dtype=L.complex64), 1.0),
    lambda L: L.normal(0.0, 1.0, (2,), dtype=L.float64),
    lambda L: L.normal(0.0, 1.0, (2,), dtype=L.float16),
    lambda L: L.normal(0.0, 1.0, (2,), requires_grad=True),
    lambda L: L.normal(0.0, L.ones(())),
    lambda L: L.normal(L.zeros(3, requires_grad=True), 1.0),
    lambda L: L.bernoulli(L.zeros(3, dtype=L.int64), 0.5),
    lambda L: L.bernoulli(L.zeros(3, dtype=L.bool), 0.5),
    lambda L: L.bernoulli(L.zeros(3, requires_grad=True)),
    lambda L: L.multinomial(L.tensor([1.0, 0.0, 0.0]), 3),
    lambda L: L.multinomial(L.ones(0, 3), 2),
    lambda L: L.poisson(L.ones(3, requires_grad=True)),
    lambda L: L.poisson(L.tensor(2.0)),
]


@pytest.mark.parametrize("k", range(len(_DRAWN_ALIKE)))
def test_draws_take_torchs_calls_and_give_its_shapes_and_dtypes(torch, k):
    _same_meta(_DRAWN_ALIKE[k], torch)


def test_draws_send_parameters_a_gradient_of_zeros(torch):
    for lib in (ember, torch):
        m, s = lib.zeros(3, requires_grad=True), lib.ones(3, requires_grad=True)
        p, r = lib.full((3,), 0.5, requires_grad=True), lib.ones(3, requires_grad=True)
        total = lib.normal(m, s).sum() + lib.bernoulli(p).sum() + lib.poisson(r).sum()
        total.backward()
        for t in (m, s, p, r):
            assert t.grad.tolist() == [0.0, 0.0, 0.0]


def test_normal_keeps_its_moments_in_each_form():
    x = ember.normal(1.0, ember.full((100000,), 2.0, dtype=ember.float64)).numpy()
    assert abs(x.mean() - 1) < 0.03 and abs(x.std() - 2) < 0.03
    h = ember.normal(0.5, 2.0, (100000,), dtype=ember.float16).numpy().astype(np.float64)
    assert abs(h.mean() - 0.5) < 0.03 and abs(h.std() - 2) < 0.03
    z = ember.normal(ember.zeros(100000, dtype=ember.complex64), 2.0).numpy()
    assert abs(np.mean(np.abs(z) ** 2) - 4) < 0.1  # each part N(0, std²/2)


def test_multinomial_without_replacement_draws_zero_weights_last():
    a = ember.multinomial(ember.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 5.0]]), 3).tolist()
    assert a == [[1, 0, 2], [2, 0, 1]]


def _draw_refusals(L):
    return [
        ("normal shapes", lambda: L.normal(L.zeros(3), L.ones(2))),
        ("normal NaN std", lambda: L.normal(0.0, float("nan"), (2,))),
        ("normal NaN in std", lambda: L.normal(L.zeros(2), L.tensor([1.0, float("nan")]))),
        ("normal int mean", lambda: L.normal(L.zeros(3, dtype=L.int64), 1.0)),
        ("normal int std", lambda: L.normal(0, L.ones(3, dtype=L.int64))),
        ("normal int dtype", lambda: L.normal(0.0, 1.0, (2,), dtype=L.int64)),
        ("normal complex std", lambda: L.normal(L.zeros(3), L.ones(3, dtype=L.complex64))),
        ("normal tensor and size", lambda: L.normal(L.zeros(3), 1.0, (3,))),
        (
            "normal nothing of ints needing grad",
            lambda: L.normal(0.0, 1.0, (0,), dtype=L.int8, requires_grad=True),
        ),  # fmt: skip
        ("bernoulli int", lambda: L.bernoulli(L.zeros(3, dtype=L.int64))),
        ("bernoulli bool", lambda: L.bernoulli(L.ones(3, dtype=L.bool))),
        ("bernoulli complex", lambda: L.bernoulli(L.zeros(3, dtype=L.complex64))),
        ("bernoulli complex with p", lambda: L.bernoulli(L.zeros(3, dtype=L.complex64), 0.5)),
        ("bernoulli number", lambda: L.bernoulli(0.5)),
        ("bernoulli list", lambda: L.bernoulli([0.5])),
        ("bernoulli tensor p", lambda: L.bernoulli(L.zeros(3), p=L.tensor([0.5, 0.5, 1.5]))),
        ("multinomial too many", lambda: L.multinomial(L.tensor([1.0, 2.0, 3.0]), 4)),
        ("multinomial zero", lambda: L.multinomial(L.tensor([1.0, 2.0, 3.0]), 0)),
        ("multinomial empty rows", lambda: L.multinomial(L.ones(2, 0), 1)),
        ("multinomial int", lambda: L.multinomial(L.ones(3, dtype=L.int64), 1)),
        ("multinomial bool", lambda: L.multinomial(L.ones(3, dtype=L.bool), 1)),
        ("multinomial float count", lambda: L.multinomial(L.ones(3), 1.0)),
        ("multinomial bool count", lambda: L.multinomial(L.ones(3), True)),
        ("multinomial 2^24", lambda: L.multinomial(L.ones(2**24 + 1), 1)),
        ("poisson nan", lambda: L.poisson(L.tensor([float("nan")]))),
        ("poisson int", lambda: L.poisson(L.ones(3, dtype=L.int64))),
        ("poisson bool", lambda: L.poisson(L.ones(3, dtype=L.bool))),
        ("poisson complex", lambda: L.poisson(L.ones(3, dtype=L.complex64))),
    ]


_DRAW_CLASSES = {
    "normal int mean": NotImplementedError,
    "normal int std": NotImplementedError,
    "normal int dtype": NotImplementedError,
    "normal tensor and size": TypeError,
    "bernoulli int": NotImplementedError,
    "bernoulli bool": NotImplementedError,
    "bernoulli complex": NotImplementedError,
    "bernoulli complex with p": NotImplementedError,
    "bernoulli number": TypeError,
    "bernoulli list": TypeError,
    "bernoulli tensor p": TypeError,
    "multinomial float count": TypeError,
    "multinomial bool count": TypeError,
    "poisson int": NotImplementedError,
    "poisson bool": NotImplementedError,
    "poisson complex": NotImplementedError,
}


@pytest.mark.parametrize("k", range(len(_draw_refusals(ember))))
def test_draws_refuse_as_torch(refused_alike, k):
    name = _draw_refusals(ember)[k][0]
    refused_alike(_draw_refusals, k, _DRAW_CLASSES.get(name, RuntimeError))


# ------------------------------------------------------------ seeds and generators
@pytest.mark.parametrize("seed", [1.5, True, "7", -5, -(2**63)])
def test_manual_seed_reads_its_seed_as_torch(torch, seed):
    """torch.manual_seed takes anything int() takes; a negative seed is kept as its unsigned
    64-bit value."""
    made = [lib.manual_seed(seed) for lib in (ember, torch)]
    assert made[0].initial_seed() == made[1].initial_seed() == ember.initial_seed()
    ember.manual_seed(0)


def test_manual_seed_of_a_one_element_tensor_as_torch(torch):
    assert ember.manual_seed(ember.tensor([3])).initial_seed() == 3
    assert torch.manual_seed(torch.tensor([3])).initial_seed() == 3
    ember.manual_seed(0)


def _seed_refusals(L):
    return [
        ("past 64 bits", lambda: L.manual_seed(2**64)),
        ("below int64", lambda: L.manual_seed(-(2**63) - 1)),
        ("generator past 64 bits", lambda: L.Generator().manual_seed(2**64)),
        ("generator float", lambda: L.Generator().manual_seed(3.0)),
        ("generator bool", lambda: L.Generator().manual_seed(True)),
        ("generator string", lambda: L.Generator().manual_seed("3")),
        ("generator tensor", lambda: L.Generator().manual_seed(L.tensor(3))),
    ]


@pytest.mark.parametrize("k", range(len(_seed_refusals(ember))))
def test_seeds_refused_as_torch(refused_alike, k):
    cls = ValueError if k < 3 else RuntimeError
    refused_alike(_seed_refusals, k, cls)


def test_a_generators_device_is_a_device(torch):
    g, t = ember.Generator(device="cpu"), torch.Generator(device="cpu")
    assert type(g.device).__name__ == type(t.device).__name__ == "device"
    assert g.device.type == t.device.type == "cpu" and g.device == "cpu"


# ------------------------------------------------------------ the in-place samplers
def _fill_refusals(L):
    t = L.zeros(3)
    return [
        ("bernoulli_ p above 1", lambda: t.clone().bernoulli_(1.5)),
        ("bernoulli_ negative p", lambda: L.zeros(2, dtype=L.int64).bernoulli_(-0.5)),
        ("bernoulli_ NaN p", lambda: t.clone().bernoulli_(float("nan"))),
        ("bernoulli_ NaN p of nothing", lambda: L.zeros(0).bernoulli_(float("nan"))),
        ("bernoulli_ p tensor past 1", lambda: t.clone().bernoulli_(L.tensor([0.1, 1.5, 0.9]))),
        ("bernoulli_ int p tensor", lambda: t.clone().bernoulli_(L.tensor([1, 0, 1]))),
        ("bernoulli_ p too short", lambda: t.clone().bernoulli_(L.tensor([0.5, 0.5]))),
        ("bernoulli_ p too many dims", lambda: t.clone().bernoulli_(L.full((2, 1), 0.5))),
        ("bernoulli_ complex", lambda: L.zeros(3, dtype=L.complex64).bernoulli_(0.3)),
        ("bernoulli_ complex p tensor", lambda: L.zeros(2, dtype=L.complex64).bernoulli_(t[:2])),
        ("bernoulli_ expanded", lambda: L.zeros(1).expand(3).bernoulli_(0.5)),
        ("uniform_ expanded", lambda: L.zeros(1).expand(3).uniform_()),
        ("normal_ expanded", lambda: L.zeros(1).expand(3).normal_()),
        ("random_ float16 past its range", lambda: L.zeros(3, dtype=L.float16).random_(2**40)),
    ]


_FILL_CLASSES = {
    "bernoulli_ int p tensor": NotImplementedError,
    "bernoulli_ complex": NotImplementedError,
    "bernoulli_ complex p tensor": NotImplementedError,
}


@pytest.mark.parametrize("k", range(len(_fill_refusals(ember))))
def test_in_place_samplers_refuse_as_torch(refused_alike, k):
    name = _fill_refusals(ember)[k][0]
    refused_alike(_fill_refusals, k, _FILL_CLASSES.get(name, RuntimeError))


_FILLED_ALIKE = [
    lambda L: L.zeros(0).bernoulli_(L.tensor([0.1, 1.5, 0.9])),
    lambda L: L.zeros(0, dtype=L.int64).bernoulli_(L.tensor([1, 0, 1])),
    lambda L: L.zeros(3).exponential_(L.tensor(2.0)),
    lambda L: L.zeros(0, dtype=L.int64).exponential_(),
    lambda L: L.zeros(0, dtype=L.bool).log_normal_(),
    lambda L: L.zeros(0, dtype=L.bool).geometric_(0.5),
]


@pytest.mark.parametrize("k", range(len(_FILLED_ALIKE)))
def test_in_place_samplers_fill_as_torch(torch, k):
    _same_meta(_FILLED_ALIKE[k], torch)
