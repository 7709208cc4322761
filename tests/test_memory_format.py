"""torch's memory formats, each against torch: the ember.memory_format type and its four
instances, contiguous / is_contiguous / clone / to / the casts / the *_like makers / empty /
resize_ with memory_format= (strides, values, aliasing, errors) over some 1600 layouts.
Gradients, nn.Module.to(memory_format=) and the layers on channels-last inputs are in
test_memory_format_layers.py."""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest
import torch

import ember

FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


def fmt(lib, name):
    return getattr(lib, name)


def same_error(fe, ft, kind=RuntimeError):
    with pytest.raises(kind) as ours:
        fe()
    with pytest.raises(kind) as ref:
        ft()
    return str(ours.value), str(ref.value).replace("torch.", "ember.")


# ---------------------------------------------------------------- layouts to try
def dense(shape, order):
    """The packed strides of ``shape`` whose dims lie in memory as ``order``, slowest first."""
    strides, step = [0] * len(shape), 1
    for d in reversed(order):
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


SHAPES = [(2, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (1, 3, 1, 5), (1, 1, 1, 1), (2, 3, 4, 1),
          (1, 3, 4, 5), (3, 4), (4,), (2, 3, 2, 4, 3), (2, 1, 3, 1, 2), (2, 3, 4)]  # fmt: skip


def layouts(shape):
    """(strides) to view a storage with: every dense order, then with odd strides on size-1
    dims, stepped (a slice with step 2), broadcast (a zero stride) and overlapping ones."""
    rng = np.random.default_rng(len(shape) * 100 + sum(shape))
    out = []
    for order in itertools.permutations(range(len(shape))):
        s = dense(shape, order)
        out.append(s)
        if 1 in shape:
            out.append(tuple(int(rng.choice([0, 1, 7, 60])) if n == 1 else v
                             for n, v in zip(shape, s)))  # fmt: skip
        k = int(rng.integers(len(shape)))
        out.append(tuple(v * 2 if v >= s[k] and i != k else v for i, v in enumerate(s)))
        out.append(tuple(0 if i == k else v for i, v in enumerate(s)))
    for _ in range(10):
        out.append(tuple(int(v) for v in rng.integers(0, 6, len(shape))))
    return out


def pair(shape, strides, dtype="float32"):
    """The same view (shape, strides) of the same storage in torch and in ember."""
    n = 1 + sum((m - 1) * s for m, s in zip(shape, strides))
    flat = np.arange(n, dtype=dtype)
    t = torch.as_strided(torch.tensor(flat), shape, strides)
    e = ember.tensor(flat).as_strided(shape, strides)
    assert e.stride() == t.stride()
    return t, e


def each_layout():
    for shape in SHAPES:
        for strides in layouts(shape):
            yield shape, strides


# ---------------------------------------------------------------- the type
def test_memory_format_type_and_instances_as_torch():
    assert repr(ember.memory_format) == repr(torch.memory_format).replace("torch", "ember")
    for name in FORMATS:
        f = fmt(ember, name)
        assert isinstance(f, ember.memory_format)
        assert repr(f) == str(f) == repr(fmt(torch, name)).replace("torch", "ember")
        assert pickle.loads(pickle.dumps(f)) is f and copy.deepcopy(f) is f
        assert f == f and f != fmt(ember, "preserve_format" if f is not ember.preserve_format
                                   else "channels_last")  # fmt: skip
    a, b = same_error(ember.memory_format, torch.memory_format, TypeError)
    assert a == b


# ---------------------------------------------------------------- is_contiguous
def test_is_contiguous_as_torch_over_layouts():
    for shape, strides in each_layout():
        t, e = pair(shape, strides)
        for name in FORMATS:
            got = e.is_contiguous(memory_format=fmt(ember, name))
            assert got == t.is_contiguous(memory_format=fmt(torch, name)), (shape, strides, name)
        assert e.is_contiguous() == t.is_contiguous()


@pytest.mark.parametrize("shape", [(0, 3, 4, 5), (2, 0, 1, 3), (0,), (3, 0)])
def test_empty_tensors_are_contiguous_as_torch(shape):
    t, e = torch.zeros(*shape), ember.zeros(*shape)
    for name in FORMATS:
        assert e.is_contiguous(memory_format=fmt(ember, name)) == t.is_contiguous(
            memory_format=fmt(torch, name)
        )


def test_is_contiguous_refuses_what_torch_refuses():
    a, b = same_error(lambda: ember.zeros(2, 3).is_contiguous(memory_format="x"),
                      lambda: torch.zeros(2, 3).is_contiguous(memory_format="x"),
                      TypeError)  # fmt: skip
    assert a == b
    with pytest.raises(TypeError):
        ember.zeros(2, 3).is_contiguous(ember.contiguous_format)


# ---------------------------------------------------------------- contiguous
@pytest.mark.parametrize("shape, name", [((2, 3, 4, 5), "channels_last"),
                                         ((2, 1, 4, 5), "channels_last"),
                                         ((3, 2, 1, 1), "channels_last"),
                                         ((2, 3, 2, 4, 3), "channels_last_3d"),
                                         ((1, 2, 1, 3, 1), "channels_last_3d"),
                                         ((2, 3, 4, 5), "contiguous_format")])  # fmt: skip
def test_contiguous_lays_out_as_torch(shape, name):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    t = torch.tensor(x).contiguous(memory_format=fmt(torch, name))
    e = ember.tensor(x).contiguous(memory_format=fmt(ember, name))
    assert e.stride() == t.stride()
    np.testing.assert_array_equal(e.numpy(), x)
    assert e.is_contiguous(memory_format=fmt(ember, name))
    # contiguous in the format already: self, as torch's
    assert e.contiguous(memory_format=fmt(ember, name)) is e
    assert (t.contiguous(memory_format=fmt(torch, name)) is t) is True
    # and back to row-major
    back, tb = e.contiguous(), t.contiguous()
    assert back.stride() == tb.stride() and back.is_contiguous()
    np.testing.assert_array_equal(back.numpy(), x)


def test_channels_last_strides_are_nhwc():
    n, c, h, w = 2, 3, 4, 5
    e = ember.randn(n, c, h, w).contiguous(memory_format=ember.channels_last)
    assert e.stride() == (h * w * c, 1, w * c, c)
    assert np.shares_memory(e.numpy(), e.permute(0, 2, 3, 1).numpy())
    assert e.permute(0, 2, 3, 1).is_contiguous()


def test_contiguous_over_layouts_as_torch():
    for shape, strides in each_layout():
        t, e = pair(shape, strides)
        for name in FORMATS:
            ft, fe = fmt(torch, name), fmt(ember, name)
            try:
                rt = t.contiguous(memory_format=ft)
            except RuntimeError as err:
                with pytest.raises(RuntimeError) as ours:
                    e.contiguous(memory_format=fe)
                assert str(ours.value) == str(err)
                continue
            re = e.contiguous(memory_format=fe)
            assert re.stride() == rt.stride(), (shape, strides, name)
            assert (re is e) == (rt is t)
            np.testing.assert_array_equal(re.numpy(), rt.numpy())


@pytest.mark.parametrize("shape, name", [((2, 3, 4), "channels_last"),
                                         ((2, 3, 4, 5, 6), "channels_last"),
                                         ((2, 3, 4, 5), "channels_last_3d"),
                                         ((2, 3), "channels_last_3d"),
                                         ((2, 3, 4, 5), "preserve_format")])  # fmt: skip
def test_contiguous_refuses_as_torch(shape, name):
    xt = torch.zeros(*shape).transpose(0, 1)  # not row-major, so contiguous must copy
    xe = ember.zeros(*shape).transpose(0, 1)
    a, b = same_error(lambda: xe.contiguous(memory_format=fmt(ember, name)),
                      lambda: xt.contiguous(memory_format=fmt(torch, name)))  # fmt: skip
    assert a == b
    # preserve_format on a row-major tensor: self, no error (torch asks is_contiguous first)
    x = ember.zeros(2, 3)
    assert x.contiguous(memory_format=ember.preserve_format) is x


def test_contiguous_refuses_a_non_format_and_positional_use():
    a, b = same_error(lambda: ember.zeros(2, 3, 4, 5).contiguous(memory_format="x"),
                      lambda: torch.zeros(2, 3, 4, 5).contiguous(memory_format="x"),
                      TypeError)  # fmt: skip
    assert a == b
    for f in (ember.zeros(2, 3, 4, 5).contiguous, ember.zeros(2, 3, 4, 5).clone):
        with pytest.raises(TypeError):
            f(ember.channels_last)


# ---------------------------------------------------------------- clone and empty_like
def test_clone_preserves_the_layout_as_torch():
    for shape, strides in each_layout():
        t, e = pair(shape, strides)
        assert e.clone().stride() == t.clone().stride(), (shape, strides)
        np.testing.assert_array_equal(e.clone().numpy(), t.clone().numpy())
        assert ember.clone(e).stride() == torch.clone(t).stride()
        assert ember.empty_like(e).stride() == torch.empty_like(t).stride()
        assert ember.zeros_like(e).stride() == torch.zeros_like(t).stride()


def test_clone_in_each_format_as_torch():
    for shape, strides in each_layout():
        t, e = pair(shape, strides)
        for name in FORMATS:
            try:
                rt = t.clone(memory_format=fmt(torch, name))
            except RuntimeError as err:
                with pytest.raises(RuntimeError) as ours:
                    e.clone(memory_format=fmt(ember, name))
                assert str(ours.value) == str(err)
                continue
            re = e.clone(memory_format=fmt(ember, name))
            assert re.stride() == rt.stride(), (shape, strides, name)
            np.testing.assert_array_equal(re.numpy(), rt.numpy())


def test_clone_of_a_flipped_view_is_dense():
    # ember's flip is a view with a negative stride (torch copies); a clone counts its size
    e = ember.arange(12.0).reshape(3, 4).flip(0)
    assert e.clone().stride() == torch.arange(12.0).reshape(3, 4).flip(0).clone().stride()
    np.testing.assert_array_equal(e.clone().numpy(), e.numpy())


@pytest.mark.parametrize("maker", ["empty_like", "zeros_like", "ones_like", "rand_like",
                                   "randn_like", "full_like", "randint_like"])  # fmt: skip
@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 3, 2, 4, 3), (3, 4)])
def test_like_makers_lay_out_as_torch(maker, name, shape):
    t = torch.zeros(*shape).transpose(0, -1)  # a layout that preserve_format keeps
    e = ember.zeros(*shape).transpose(0, -1)
    args = {"full_like": (2.5,), "randint_like": (7,)}.get(maker, ())

    def run(lib, x):
        return getattr(lib, maker)(x, *args, memory_format=fmt(lib, name))

    try:
        rt = run(torch, t)
    except RuntimeError as err:
        with pytest.raises(RuntimeError) as ours:
            run(ember, e)
        assert str(ours.value) == str(err)
        return
    re = run(ember, e)
    assert re.stride() == rt.stride() and tuple(re.shape) == tuple(rt.shape)
    assert re.dtype == e.dtype
    if maker in ("zeros_like", "ones_like", "full_like"):
        np.testing.assert_array_equal(re.numpy(), rt.numpy())
    default = getattr(ember, maker)(e.contiguous(memory_format=ember.channels_last), *args) \
        if len(shape) == 4 else None  # fmt: skip
    if default is not None:  # preserve_format is the default
        assert default.stride() == rt.contiguous(memory_format=torch.channels_last).stride()


@pytest.mark.parametrize("maker", ["empty_like", "zeros_like", "ones_like", "rand_like",
                                   "randn_like", "full_like"])  # fmt: skip
def test_like_makers_refuse_a_non_format_as_torch(maker):
    args = (1.0,) if maker == "full_like" else ()
    a, b = same_error(lambda: getattr(ember, maker)(ember.zeros(2), *args, memory_format=1),
                      lambda: getattr(torch, maker)(torch.zeros(2), *args, memory_format=1),
                      TypeError)  # fmt: skip
    if maker in ("empty_like", "zeros_like", "ones_like"):  # torch's others list overloads
        assert a == b


@pytest.mark.parametrize("shape, name", [((2, 3, 4, 5), "channels_last"),
                                         ((2, 3, 4, 5, 6), "channels_last_3d"),
                                         ((2, 3, 4), "channels_last"),
                                         ((2, 3, 4, 5), "preserve_format"),
                                         ((2, 3), "contiguous_format")])  # fmt: skip
def test_empty_takes_a_memory_format_as_torch(shape, name):
    try:
        rt = torch.empty(*shape, memory_format=fmt(torch, name))
    except RuntimeError as err:
        with pytest.raises(RuntimeError) as ours:
            ember.empty(*shape, memory_format=fmt(ember, name))
        assert str(ours.value) == str(err)
        return
    re = ember.empty(*shape, memory_format=fmt(ember, name))
    assert re.stride() == rt.stride() and tuple(re.shape) == shape
    re.fill_(3.0)
    np.testing.assert_array_equal(re.numpy(), np.full(shape, 3.0, "float32"))


# ---------------------------------------------------------------- to and the casts
def test_to_aliases_and_lays_out_as_torch():
    calls = [((), {}), (("float64",), {}), ((), {"copy": True}), (("float32",), {})]
    for shape, strides in each_layout():
        t, e = pair(shape, strides)
        for (args, kw), name in itertools.product(calls, [None, *FORMATS]):
            kt, ke = dict(kw), dict(kw)
            if name is not None:
                kt["memory_format"], ke["memory_format"] = fmt(torch, name), fmt(ember, name)
            at = tuple(getattr(torch, a) for a in args)
            ae = tuple(getattr(ember, a) for a in args)
            try:
                rt = t.to(*at, **kt)
            except RuntimeError as err:
                with pytest.raises(RuntimeError) as ours:
                    e.to(*ae, **ke)
                assert str(ours.value) == str(err)
                continue
            re = e.to(*ae, **ke)
            assert (re is e) == (rt is t), (shape, strides, args, kw, name)
            assert re.stride() == rt.stride(), (shape, strides, args, kw, name)
            np.testing.assert_array_equal(re.numpy(), rt.numpy())


@pytest.mark.parametrize("cast", ["float", "double", "half", "int", "long", "bool", "byte",
                                  "char", "short", "cfloat", "cdouble"])  # fmt: skip
@pytest.mark.parametrize("name", FORMATS)
def test_casts_take_a_memory_format_as_torch(cast, name):
    x = np.arange(120, dtype="float32").reshape(2, 3, 4, 5) % 7
    for view in (lambda a: a, lambda a: a.permute(0, 2, 3, 1), lambda a: a[:, :, ::2]):
        t = view(torch.tensor(x).contiguous(memory_format=torch.channels_last))
        e = view(ember.tensor(x).contiguous(memory_format=ember.channels_last))
        try:
            rt = getattr(t, cast)(memory_format=fmt(torch, name))
        except RuntimeError as err:
            with pytest.raises(RuntimeError) as ours:
                getattr(e, cast)(memory_format=fmt(ember, name))
            assert str(ours.value) == str(err)
            continue
        re = getattr(e, cast)(memory_format=fmt(ember, name))
        assert re.stride() == rt.stride() and str(re.dtype) == str(rt.dtype).replace("torch.", "")
        np.testing.assert_array_equal(re.numpy(), rt.numpy())
        assert (re is e) == (rt is t)
    with pytest.raises(TypeError):
        getattr(e, cast)(ember.channels_last)


def test_cast_refuses_a_non_format_as_torch():
    a, b = same_error(lambda: ember.zeros(2).float(memory_format="a"),
                      lambda: torch.zeros(2).float(memory_format="a"), TypeError)  # fmt: skip
    assert a == b


def test_to_takes_a_tensor_and_memory_format():
    t = torch.zeros(2, 3, 4, 5, dtype=torch.float64)
    e = ember.zeros(2, 3, 4, 5, dtype=ember.float64)
    rt = torch.zeros(2, 3, 4, 5).to(t, memory_format=torch.channels_last)
    re = ember.zeros(2, 3, 4, 5).to(e, memory_format=ember.channels_last)
    assert re.stride() == rt.stride() and re.dtype == ember.float64


# ---------------------------------------------------------------- resize_
@pytest.mark.parametrize("sizes, name", [((1, 2, 3, 4), "channels_last"), ((2, 3, 2, 2),
                         "channels_last"), ((1, 2, 3, 4), "contiguous_format"), ((2, 3, 2),
                         "channels_last"), ((2, 3, 2, 2), "preserve_format"), ((1, 2, 1, 3, 4),
                         "channels_last_3d"), ((1, 2, 3, 4), None), ((5, 6), None)])  # fmt: skip
def test_resize_with_a_memory_format_as_torch(sizes, name):
    for start in ("contiguous_format", "channels_last"):
        t = torch.arange(24.0).reshape(1, 2, 3, 4).contiguous(memory_format=fmt(torch, start))
        e = ember.arange(24.0).reshape(1, 2, 3, 4).contiguous(memory_format=fmt(ember, start))
        kt = {} if name is None else {"memory_format": fmt(torch, name)}
        ke = {} if name is None else {"memory_format": fmt(ember, name)}
        try:
            t.resize_(*sizes, **kt)
        except RuntimeError as err:
            with pytest.raises(RuntimeError) as ours:
                e.resize_(*sizes, **ke)
            assert str(ours.value) == str(err)
            continue
        assert e.resize_(*sizes, **ke) is e
        assert e.stride() == t.stride(), start
        kept = np.arange(t.numel()).reshape(t.shape) < 24  # torch leaves grown ones unset
        np.testing.assert_array_equal(e.numpy()[kept], t.numpy()[kept])


@pytest.mark.parametrize("name", [None, "preserve_format", "contiguous_format", "channels_last"])
def test_resize_as_with_a_memory_format_as_torch(name):
    tt = torch.empty(2, 3, 2, 2, memory_format=torch.channels_last)
    te = ember.empty(2, 3, 2, 2, memory_format=ember.channels_last)
    t, e = torch.arange(24.0).reshape(1, 2, 3, 4), ember.arange(24.0).reshape(1, 2, 3, 4)
    kt = {} if name is None else {"memory_format": fmt(torch, name)}
    ke = {} if name is None else {"memory_format": fmt(ember, name)}
    t.resize_as_(tt, **kt)
    e.resize_as_(te, **ke)
    assert e.stride() == t.stride()
    np.testing.assert_array_equal(e.numpy(), t.numpy())
