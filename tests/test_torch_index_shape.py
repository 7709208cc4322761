"""index_put, masked_scatter, put, take, select, movedim/moveaxis, diagflat, atleast_1d/2d/3d
and the stacks (column_stack, row_stack, hstack, vstack, dstack) against torch: outputs, the
gradients of a weighted sum, float64 gradcheck, the Tensor methods and torch's errors."""

import numpy as np
import pytest

import ember

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def pair(torch, a, grad=True):
    """The same values as an ember and a torch leaf."""
    return ember.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def check(torch, e_out, t_out, e_leaves, t_leaves, dtype):
    """Outputs equal (shape and dtype too); then the gradients of Σ w·out for every leaf."""
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype).split(".")[-1] == str(t_out.dtype).split(".")[-1]
    np.testing.assert_allclose(e_out.array, t_out.detach().numpy(), **tol(dtype))
    w = np.random.default_rng(1).standard_normal(e_out.shape).astype(dtype)
    (e_out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for e, t in zip(e_leaves, t_leaves):
        assert t.grad is not None and e.grad is not None
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), **tol(dtype))


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def long(*values):
    return np.array(values, dtype=np.int64)


def raises_like(torch, fn_e, fn_t=None):
    """ember raises torch's exception type with torch's message (fn(module) for each)."""
    with pytest.raises(Exception) as t_err:
        (fn_t or fn_e)(torch)
    with pytest.raises(type(t_err.value)) as e_err:
        fn_e(ember)
    assert str(e_err.value) == str(t_err.value).split("\n")[0]


# ---------------------------------------------------------------- index_put
INDEX_PUT_CASES = [  # (self shape, indices, values shape)
    ((4, 5), (long(3, 0, 2),), (3, 5)),
    ((4, 5), (long(3, -4, 2), long(1, 4, -1)), (3,)),
    ((4, 5), (long(3, 0, 2), long(1, 4, 0)), ()),  # a scalar broadcast
    ((4, 5, 3), (long(1, 2), long(-1, 0)), (1, 3)),  # broadcast over the rest
    ((4, 5), (long(0, 2)[:, None], long(1, 3, 4)[None, :]), (2, 3)),  # index broadcast
    ((4, 5), (np.array([True, False, True, True]),), (5,)),  # a mask
    ((3, 4), (rand(3, 4, seed=5) > 0,), None),  # a full mask: values as many as True
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("case", range(len(INDEX_PUT_CASES)))
def test_index_put_matches_torch(torch, dtype, accumulate, case):
    shape, indices, vshape = INDEX_PUT_CASES[case]
    if vshape is None:
        vshape = (int(indices[0].sum()),)
    (ex, tx), (ev, tv) = pair(torch, rand(*shape, dtype=dtype)), pair(torch, rand(*vshape, seed=2))
    ev, tv = ev.to(ex.dtype), tv.to(tx.dtype)
    ev.retain_grad(), tv.retain_grad()
    e = ember.index_put(ex, tuple(ember.tensor(i) for i in indices), ev, accumulate)
    t = torch.index_put(tx, tuple(torch.tensor(i) for i in indices), tv, accumulate)
    check(torch, e, t, [ex, ev], [tx, tv], dtype)
    m = ex.detach().index_put(
        [ember.tensor(i) for i in indices], ev.detach(), accumulate=accumulate
    )
    np.testing.assert_allclose(m.array, t.detach().numpy(), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_put_repeated_indices(torch, dtype):
    """accumulate adds every repeat; without it each repeat still gets its place's gradient
    and self none at the written places (torch's rule)."""
    idx = (long(1, 1, 3, 1, -1), long(2, 2, 0, 2, 0))
    for accumulate in (True, False):
        (ex, tx), (ev, tv) = pair(torch, rand(4, 3, dtype=dtype)), pair(torch, rand(5, seed=3))
        ev, tv = ev.to(ex.dtype), tv.to(tx.dtype)
        ev.retain_grad(), tv.retain_grad()
        e = ex.index_put(tuple(ember.tensor(i) for i in idx), ev, accumulate)
        t = tx.index_put(tuple(torch.tensor(i) for i in idx), tv, accumulate)
        if accumulate:
            check(torch, e, t, [ex, ev], [tx, tv], dtype)
        else:  # which repeat wins is unspecified in torch: compare the gradients only
            w = rand(4, 3, dtype=dtype, seed=4)
            (e * ember.tensor(w)).sum().backward()
            (t * torch.tensor(w)).sum().backward()
            np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), **tol(dtype))
            np.testing.assert_allclose(ev.grad.array, tv.grad.numpy(), **tol(dtype))
            assert ex.grad.array[1, 2] == 0 and ev.grad.array[0] == w[1, 2]


def test_index_put_in_place_and_integer_dtype(torch):
    a = np.arange(12).reshape(3, 4)
    e, t = ember.tensor(a), torch.tensor(a)
    idx = (long(0, 2, 0), long(1, 3, 1))
    r = ember.index_put_(e, tuple(ember.tensor(i) for i in idx), ember.tensor(long(5)), True)
    torch.index_put_(t, tuple(torch.tensor(i) for i in idx), torch.tensor(long(5)), True)
    assert r is e and e.dtype == ember.int64
    np.testing.assert_array_equal(e.array, t.numpy())
    e.index_put_((ember.tensor(long(1)),), ember.tensor(long(-1)))
    t.index_put_((torch.tensor(long(1)),), torch.tensor(long(-1)))
    np.testing.assert_array_equal(e.array, t.numpy())


def test_index_put_gradcheck():
    x = ember.tensor(rand(4, 5), requires_grad=True)
    v = ember.tensor(rand(3, 1, seed=1), requires_grad=True)
    for acc in (False, True):
        # repeats only with accumulate: torch's gradient gives an overwritten value its
        # place's gradient, which finite differences cannot see
        idx = (ember.tensor(long(3, 0, 3 if acc else 2)), ember.tensor(long(1, 4, 1)))
        assert ember.gradcheck(lambda x, v, i=idx, a=acc: x.index_put(i, v[:, 0], a), (x, v))
        mask = ember.tensor(np.array([True, False, True, False]))
        assert ember.gradcheck(lambda x, v, m=mask, a=acc: x.index_put((m,), v[:2], a), (x, v))


def test_index_put_errors(torch):
    def go(idx, val, acc=False):
        return lambda m: m.zeros(3, 4).index_put(
            tuple(m.tensor(i) for i in idx), m.tensor(val), acc
        )

    raises_like(torch, go([long(0)], np.ones(1)), go([long(0)], np.ones(1)))  # float64 values
    raises_like(torch, go([long(5)], np.float32(1)), go([long(5)], np.float32(1)))
    raises_like(torch, go([long(-4)], np.float32(1)), go([long(-4)], np.float32(1)))
    raises_like(torch, go([long(0)] * 3, np.float32(1)), go([long(0)] * 3, np.float32(1)))
    raises_like(torch, go([np.array([0.5])], np.float32(1)), go([np.array([0.5])], np.float32(1)))
    ones3 = np.ones(3, np.float32)
    raises_like(torch, go([long(0, 1)], ones3), go([long(0, 1)], ones3))
    mask = np.array([True, False])
    raises_like(torch, go([mask], ones3), go([mask], ones3))
    raises_like(
        torch,
        lambda m: m.zeros(3).index_put((m.tensor(long(0)),), 1.0),
        lambda m: m.zeros(3).index_put((m.tensor(long(0)),), 1.0),
    )
    raises_like(
        torch,
        lambda m: m.zeros(3, dtype=m.int64).index_put((m.tensor(long(0)),), m.tensor([1.0])),
        lambda m: m.zeros(3, dtype=m.int64).index_put((m.tensor(long(0)),), m.tensor([1.0])),
    )
    with pytest.raises(RuntimeError, match="requires grad"):
        ember.zeros(3, requires_grad=True).index_put_((ember.tensor(long(0)),), ember.ones(1))


# ---------------------------------------------------------------- masked_scatter
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "xshape, mshape, n",
    [((3, 4), (3, 4), 12), ((3, 4), (4,), 15), ((4,), (2, 3, 4), 30), ((2, 1, 4), (3, 1), 40)],
)
def test_masked_scatter_matches_torch(torch, dtype, xshape, mshape, n):
    mask = rand(*mshape, seed=7) > 0.2
    (ex, tx), (es, ts) = pair(torch, rand(*xshape, dtype=dtype)), pair(torch, rand(n, dtype=dtype))
    e = ember.masked_scatter(ex, ember.tensor(mask), es)
    t = torch.masked_scatter(tx, torch.tensor(mask), ts)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    m = ex.detach().masked_scatter(ember.tensor(mask), es.detach())
    np.testing.assert_allclose(m.array, t.detach().numpy(), **tol(dtype))


def test_masked_scatter_in_place_gradcheck_and_source_shape(torch):
    x, src = rand(3, 4), rand(2, 5, seed=1)
    mask = rand(3, 4, seed=2) > 0
    e, t = ember.tensor(x), torch.tensor(x)
    r = e.masked_scatter_(ember.tensor(mask), ember.tensor(src))
    t.masked_scatter_(torch.tensor(mask), torch.tensor(src))
    assert r is e
    np.testing.assert_allclose(e.array, t.numpy())
    ex = ember.tensor(x, requires_grad=True)
    es = ember.tensor(src, requires_grad=True)
    assert ember.gradcheck(lambda a, b: a.masked_scatter(ember.tensor(mask), b), (ex, es))
    row = ember.tensor(np.array([True, False, False, True]))
    assert ember.gradcheck(lambda a, b: a[0].masked_scatter(row[None], b), (ex, es))
    none = ember.zeros(3).masked_scatter(ember.tensor(np.zeros(3, bool)), ember.zeros(0))
    np.testing.assert_array_equal(none.array, np.zeros(3))


def test_masked_scatter_errors(torch):
    def go(xshape, mask, src):
        return lambda m: m.zeros(*xshape).masked_scatter(m.tensor(mask), m.tensor(src))

    f32 = np.float32
    for args in [
        ((3, 4), np.ones((3, 4), bool), np.ones(5, f32)),  # source too short
        ((3, 4), np.ones((3, 4), np.float32), np.ones(12, f32)),  # float mask
        ((3, 4), np.ones(5, bool), np.ones(24, f32)),  # no broadcast
        ((3, 4), np.ones((3, 4), bool), np.ones(12)),  # float64 source
    ]:
        raises_like(torch, go(*args), go(*args))
    with pytest.raises(RuntimeError):  # in place, self cannot take the broadcast shape
        ember.zeros(3, 4).masked_scatter_(ember.ones(2, 3, 4, dtype=ember.bool), ember.ones(24))


# ---------------------------------------------------------------- put / take
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_put_matches_torch(torch, dtype, accumulate):
    index = long(11, 0, -1, 5, 4) if accumulate else long(11, 0, -2, 5, 4)  # repeats: +=
    if not accumulate:
        index = index.reshape(5, 1)
    (ex, tx), (es, ts) = pair(torch, rand(3, 4, dtype=dtype)), pair(torch, rand(5, dtype=dtype))
    e = ember.put(ex, ember.tensor(index), es, accumulate)
    t = torch.put(tx, torch.tensor(index), ts, accumulate)
    check(torch, e, t, [ex, es], [tx, ts], dtype)
    a = np.arange(12.0).reshape(3, 4)
    e2, t2 = ember.tensor(a), torch.tensor(a)
    assert e2.put_(ember.tensor(index), ember.tensor(rand(5)), accumulate=accumulate) is e2
    t2.put_(torch.tensor(index), torch.tensor(rand(5)), accumulate=accumulate)
    np.testing.assert_allclose(e2.array, t2.numpy())


def test_put_gradcheck():
    x = ember.tensor(rand(3, 4), requires_grad=True)
    s = ember.tensor(rand(2, 2, seed=1), requires_grad=True)
    for acc in (False, True):
        index = ember.tensor(long(1, -1, 1, 6).reshape(2, 2) if acc else long(1, -1, 2, 6))
        assert ember.gradcheck(lambda x, s, i=index, a=acc: x.put(i, s, a), (x, s))


def test_put_errors(torch):
    def go(index, src, shape=(3, 4)):
        return lambda m: m.zeros(*shape).put(m.tensor(index), m.tensor(src))

    f32 = np.float32
    for args in [
        (long(0, 1), np.ones(3, f32)),
        (long(0, 12), np.ones(2, f32)),
        (long(0, -13), np.ones(2, f32)),
        (np.array([0.0, 1.0]), np.ones(2, f32)),
        (np.array([0, 1], np.int32), np.ones(2, f32)),
        (long(0, 1), np.ones(2)),
        (long(0), np.ones(1, f32), (0,)),
    ]:
        raises_like(torch, go(*args), go(*args))


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_matches_torch(torch, dtype):
    index = long(0, 11, -12, -1, 5, 5).reshape(2, 3)  # repeats: their gradients add
    ex, tx = pair(torch, rand(3, 4, dtype=dtype))
    check(
        torch, ember.take(ex, ember.tensor(index)), torch.take(tx, torch.tensor(index)),
        [ex], [tx], dtype,
    )  # fmt: skip
    np.testing.assert_allclose(
        ex.take(ember.tensor(7)).array, tx.take(torch.tensor(7)).detach().numpy()
    )
    assert ex.take(ember.tensor(7)).shape == ()
    empty = ember.zeros(0).take(ember.tensor(np.zeros(0, np.int64)))
    assert empty.shape == (0,)
    assert ember.gradcheck(
        lambda a: a.take(ember.tensor(index)), (ember.tensor(rand(3, 4), requires_grad=True),)
    )


def test_take_errors(torch):
    def go(index, shape=(3, 4)):
        return lambda m: m.zeros(*shape).take(m.tensor(index))

    for args in [
        (long(12),),
        (long(-13),),
        (np.array([1.0]),),
        (np.array([1], np.int32),),
        (long(0), (0,)),
    ]:
        raises_like(torch, go(*args), go(*args))


# ---------------------------------------------------------------- select / movedim
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, index", [(0, 2), (1, -1), (-1, 0), (-3, -4), (2, 1)])
def test_select_matches_torch(torch, dtype, dim, index):
    ex, tx = pair(torch, rand(4, 5, 3, dtype=dtype))
    check(torch, ember.select(ex, dim, index), torch.select(tx, dim, index), [ex], [tx], dtype)
    np.testing.assert_allclose(ex.select(dim, index).array, tx.select(dim, index).detach())
    assert ember.gradcheck(
        lambda a: a.select(dim, index), (ember.tensor(rand(4, 5, 3), requires_grad=True),)
    )


def test_select_with_a_tensor_index_and_errors(torch):
    a = rand(3, 4)
    np.testing.assert_allclose(
        ember.tensor(a).select(1, ember.tensor(2)).array, torch.tensor(a).select(1, 2).numpy()
    )
    for dim, index, shape in [(2, 0, (3, 4)), (-3, 0, (3, 4)), (1, 4, (3, 4)), (1, -5, (3, 4))]:
        raises_like(torch, lambda m, s=shape, d=dim, i=index: m.zeros(*s).select(d, i))
    raises_like(torch, lambda m: m.tensor(1.0).select(0, 0), lambda m: m.tensor(1.0).select(0, 0))
    with pytest.raises(TypeError):
        ember.zeros(3).select(0, 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "source, destination",
    [(0, 2), (-1, 0), ((0, 1), (2, 0)), ([0, -1], [-1, 1]), ((), ()), ((0, 1, 2, 3), (3, 2, 1, 0))],
)
def test_movedim_and_moveaxis_match_torch(torch, dtype, source, destination):
    ex, tx = pair(torch, rand(2, 3, 4, 5, dtype=dtype))
    e, t = ex.movedim(source, destination), tx.movedim(source, destination)
    check(torch, e, t, [ex], [tx], dtype)
    for e2 in (ex.moveaxis(source, destination), ember.moveaxis(ex, source, destination)):
        np.testing.assert_array_equal(e2.array, t.detach().numpy())
    assert ember.gradcheck(
        lambda a: a.moveaxis(source, destination),
        (ember.tensor(rand(2, 3, 4, 5), requires_grad=True),),
    )


def test_movedim_errors(torch):
    for src, dst in [((0, 1), (1, 1)), ((0, 1), (1,)), ((0, 0), (1, 2)), (3, 1), (0, -4)]:
        raises_like(torch, lambda m, s=src, d=dst: m.moveaxis(m.ones(2, 3, 4), s, d))
    assert ember.tensor(2.0).movedim(0, -1).shape == ()


# ---------------------------------------------------------------- diagflat
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, offset", [((4,), 0), ((2, 3), 1), ((2, 2), -2), ((), 0), ((0,), 1)]
)
def test_diagflat_matches_torch(torch, dtype, shape, offset):
    ex, tx = pair(torch, rand(*shape, dtype=dtype))
    check(torch, ember.diagflat(ex, offset), torch.diagflat(tx, offset), [ex], [tx], dtype)
    np.testing.assert_array_equal(ex.diagflat(offset).array, tx.diagflat(offset).detach())
    if ex.numel():
        assert ember.gradcheck(
            lambda a: a.diagflat(offset), (ember.tensor(rand(*shape), requires_grad=True),)
        )


def test_diagflat_keeps_integers(torch):
    a = np.arange(1, 5).reshape(2, 2)
    e = ember.diagflat(ember.tensor(a), -1)
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.array, torch.diagflat(torch.tensor(a), -1).numpy())


# ---------------------------------------------------------------- atleast / stacks
@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast_matches_torch(torch, name):
    shapes = [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]
    arrays = [rand(*s, seed=k) for k, s in enumerate(shapes)]
    for a in arrays:
        ex, tx = pair(torch, a)
        check(torch, getattr(ember, name)(ex), getattr(torch, name)(tx), [ex], [tx], np.float64)
    es = getattr(ember, name)(*[ember.tensor(a) for a in arrays])
    ts = getattr(torch, name)(*[torch.tensor(a) for a in arrays])
    el = getattr(ember, name)([ember.tensor(a) for a in arrays])
    assert isinstance(es, tuple) and isinstance(el, tuple) and len(es) == len(ts)
    for e, e2, t in zip(es, el, ts):
        assert e.shape == tuple(t.shape) and e2.shape == tuple(t.shape)
        np.testing.assert_array_equal(e.array, t.numpy())
    assert getattr(ember, name)() == getattr(torch, name)() == ()
    one = getattr(ember, name)((ember.tensor(1.0),))
    assert isinstance(one, tuple) and len(one) == 1
    assert ember.gradcheck(
        lambda a: getattr(ember, name)(a) * 2, (ember.tensor(rand(3), requires_grad=True),)
    )


STACK_CASES = {  # shapes that each stack accepts
    "hstack": [[(3,), (2,), ()], [(2, 3), (2, 1), (2, 0)], [(2, 3, 4), (2, 1, 4)]],
    "vstack": [[(3,), (3,)], [(2, 3), (3,), (1, 3)], [(2, 3, 4), (1, 3, 4)], [(), ()]],
    "row_stack": [[(3,), (3,)], [(2, 3), (3,)]],
    "dstack": [[(3,), (3,)], [(2, 3), (2, 3, 2)], [(), ()], [(1, 3, 4), (1, 3, 1)]],
    "column_stack": [[(3,), (3, 2), (3,)], [(), ()], [(2, 3, 4), (2, 1, 4)]],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, case", [(n, k) for n, cases in STACK_CASES.items() for k in range(len(cases))]
)
def test_stacks_match_torch(torch, dtype, name, case):
    shapes = STACK_CASES[name][case]
    pairs = [pair(torch, rand(*s, dtype=dtype, seed=k)) for k, s in enumerate(shapes)]
    e = getattr(ember, name)([p[0] for p in pairs])
    t = getattr(torch, name)(tuple(p[1] for p in pairs))
    check(torch, e, t, [p[0] for p in pairs], [p[1] for p in pairs], dtype)


@pytest.mark.parametrize("name", list(STACK_CASES))
def test_stacks_promote_gradcheck_and_errors(torch, name):
    a, b = np.arange(6).reshape(2, 3), rand(2, 3, dtype=np.float32)
    e = getattr(ember, name)((ember.tensor(a), ember.tensor(b)))
    t = getattr(torch, name)((torch.tensor(a), torch.tensor(b)))
    assert e.dtype == ember.float32 and t.dtype == torch.float32
    np.testing.assert_allclose(e.array, t.numpy())
    xs = (ember.tensor(rand(2, 3), requires_grad=True), ember.tensor(rand(3, seed=1)))
    ys = (xs[0], ember.tensor(rand(2, 3, seed=1), requires_grad=True))
    assert ember.gradcheck(lambda p, q: getattr(ember, name)([p, q]), ys)
    raises_like(torch, lambda m: getattr(m, name)([]), lambda m: getattr(m, name)([]))
    raises_like(torch, lambda m: getattr(m, name)(m.ones(2)), lambda m: getattr(m, name)(m.ones(2)))
    bad = [(2, 3), (3, 4)] if name != "hstack" else [(2, 3), (3, 3)]
    raises_like(
        torch,
        lambda m: getattr(m, name)([m.ones(*s) for s in bad]),
        lambda m: getattr(m, name)([m.ones(*s) for s in bad]),
    )


def test_names_as_torch(torch):
    """Functions where torch has them; Tensor methods exactly where torch.Tensor has them."""
    import ember.torch_index_shape as mod

    for name in mod.__all__:
        top = getattr(ember, name)  # torch's out= may wrap it (out_argument.py)
        assert hasattr(torch, name) and getattr(top, "without_out", top) is getattr(mod, name)
    for name in "index_put index_put_ masked_scatter masked_scatter_ put put_ take select".split():
        assert hasattr(torch.Tensor, name) and hasattr(ember.Tensor, name)
    for name in "movedim moveaxis diagflat".split():
        assert hasattr(ember.Tensor, name)
    for name in "atleast_1d hstack vstack dstack column_stack row_stack".split():
        assert not hasattr(torch.Tensor, name) and not hasattr(ember.Tensor, name)


def test_a_uint8_index_is_a_mask_as_torch(torch):
    """torch still reads a uint8 tensor index as a mask (with a deprecation warning); ember
    took it as integer positions, another result for the same code."""
    results = []
    for lib in (ember, torch):
        x = lib.arange(12.0).reshape(3, 4).requires_grad_()
        with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
            y = x[lib.tensor([1, 0, 1], dtype=lib.uint8)]
        y.sum().backward()
        results.append((y.tolist(), x.grad.tolist()))
    assert results[0] == results[1]
    assert results[0][0] == [[0, 1, 2, 3], [8, 9, 10, 11]]
