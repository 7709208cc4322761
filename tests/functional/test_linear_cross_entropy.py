"""F.linear_cross_entropy and nn.LinearCrossEntropyLoss against torch 2.13 in float64: values
and gradients (input, weight, bias) on the reference and the chunked path for every reduction,
class weights, ignore_index, label smoothing, probability targets, 1-D and K-dimensional
inputs; the chunked path equal to the reference to round-off, its gradcheck, a torch state
dict loading, the options' chunk sizes and checks, and torch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn
from tests.torch_pairs import same_error

N, D, C = 13, 4, 7
RNG = np.random.default_rng(3)
X = RNG.standard_normal((N, D))
W = RNG.standard_normal((C, D))
B = RNG.standard_normal(C)
T = RNG.integers(0, C, N)
T[[1, 7]] = 6  # the class ignore_index=6 drops, present twice
CW = RNG.uniform(0.5, 2.0, C)
G = RNG.standard_normal(N)  # weights of the weighted sum for reduction='none'
TIGHT = dict(rtol=1e-12, atol=1e-13)

OPTIONS = {
    "reference": None,
    "chunk4": dict(batch_chunk_size=4),
    "chunk1": dict(batch_chunk_size=1),
    "auto": dict(),
    "aspect_ratio": dict(chunking_method="aspect_ratio"),
}
KWARGS = {
    "plain": {},
    "weight": dict(weight=CW),
    "ignore": dict(ignore_index=6),
    "smooth": dict(label_smoothing=0.2),
    "all": dict(weight=CW, ignore_index=6, label_smoothing=0.3),
}


def _opts(name):
    spec = OPTIONS[name]
    return None if spec is None else nn.LinearCrossEntropyOptions(**spec)


def _run(lib, x, w, t, b=None, g=None, **kw):
    """Loss and gradients (input, weight, bias) of lib's linear_cross_entropy in float64;
    the 'none' loss is backpropagated as a weighted sum."""
    f = lib.nn.functional.linear_cross_entropy
    xs = [lib.tensor(a, requires_grad=True) for a in (x, w)]
    bs = lib.tensor(b, requires_grad=True) if b is not None else None
    if kw.get("weight") is not None:
        kw["weight"] = lib.tensor(kw["weight"])
    target = lib.tensor(t)
    loss = f(xs[0], xs[1], target, linear_bias=bs, **kw)
    (loss * lib.tensor(g) if loss.ndim and g is not None else loss).sum().backward()
    grads = [a.grad.numpy() for a in xs] + ([bs.grad.numpy()] if bs is not None else [])
    return loss.detach().numpy(), grads


def _same(got, want, **tol):
    tol = tol or TIGHT
    np.testing.assert_allclose(got[0], want[0], **tol)
    assert len(got[1]) == len(want[1])
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kwargs", list(KWARGS))
@pytest.mark.parametrize("path", list(OPTIONS))
@pytest.mark.parametrize("bias", [False, True])
def test_against_torch(torch, path, kwargs, reduction, bias):
    b = B if bias else None
    kw = dict(KWARGS[kwargs], reduction=reduction)
    got = _run(ember, X, W, T, b, G, options=_opts(path), **kw)
    want = _run(torch, X, W, T, b, G, **kw)
    _same(got, want)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kwargs", list(KWARGS))
@pytest.mark.parametrize("chunk", [1, 3, 5, N, 100])
def test_chunked_equals_reference(chunk, kwargs, reduction):
    kw = dict(KWARGS[kwargs], reduction=reduction)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
    _same(_run(ember, X, W, T, B, G, options=opts, **kw), _run(ember, X, W, T, B, G, **kw))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kwargs", ["plain", "all"])
def test_chunked_gradcheck(reduction, kwargs):
    kw = dict(KWARGS[kwargs], reduction=reduction)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=3)
    t = T[:7]

    def f(x, w, b):
        return F.linear_cross_entropy(x, w, t, linear_bias=b, options=opts, **kw)

    ts = [ember.tensor(a, requires_grad=True) for a in (X[:7], W, B)]
    assert ember.gradcheck(f, ts)


def test_chunked_keeps_no_n_by_c_array():
    """What forward saves for backward: nothing of the (N, C) logits' size."""
    n, d, c = 64, 3, 50
    x = ember.tensor(RNG.standard_normal((n, d)), requires_grad=True)
    w = ember.tensor(RNG.standard_normal((c, d)), requires_grad=True)
    t = RNG.integers(0, c, n)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=8, allow_retain_graph=True)
    loss = F.linear_cross_entropy(x, w, t, options=opts, label_smoothing=0.1)
    saved = [v for v in vars(loss.grad_fn).values() if hasattr(v, "shape")]
    assert saved and max(v.size for v in saved) < n * c // 4
    loss.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    loss.backward()  # recomputed from the saved inputs: a second backward works
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_probability_targets(torch, reduction, smoothing):
    p = RNG.dirichlet(np.ones(C), N)
    kw = dict(reduction=reduction, label_smoothing=smoothing, weight=CW)
    want = _run(torch, X, W, p, B, G, **kw)
    _same(_run(ember, X, W, p, B, G, **kw), want)
    with pytest.warns(UserWarning, match="options.. ignored"):  # the chunked path falls back
        got = _run(ember, X, W, p, B, G, options=nn.LinearCrossEntropyOptions(), **kw)
    _same(got, want)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("path", ["reference", "chunk4"])
def test_unbatched_input(torch, path, reduction):
    kw = dict(reduction=reduction, weight=CW, label_smoothing=0.1)
    t = np.array(3)
    got = _run(ember, X[0], W, t, B, options=_opts(path), **kw)
    _same(got, _run(torch, X[0], W, t, B, **kw))
    assert got[0].shape == ()
    p = RNG.dirichlet(np.ones(C))  # a probability target (C,) on the reference path
    kw = dict(reduction=reduction)
    _same(_run(ember, X[0], W, p, B, **kw), _run(torch, X[0], W, p, B, **kw))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("probabilities", [False, True])
def test_k_dimensional_weights(torch, reduction, probabilities):
    """W (C, d1, d2, D): the logits (N, C, d1, d2); the chunked path falls back, as torch's."""
    w = RNG.standard_normal((C, 2, 3, D))
    b = RNG.standard_normal((C, 2, 3))
    if probabilities:
        t = RNG.dirichlet(np.ones(C), (N, 2, 3)).transpose(0, 3, 1, 2).copy()
        kw = dict(reduction=reduction)
    else:
        t = RNG.integers(0, C, (N, 2, 3))
        t[0, 1, 2] = 5
        kw = dict(reduction=reduction, ignore_index=5, weight=CW, label_smoothing=0.1)
    g = RNG.standard_normal((N, 2, 3))
    want = _run(torch, X, w, t, b, g, **kw)
    _same(_run(ember, X, w, t, b, g, **kw), want)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _run(ember, X, w, t, b, g, options=nn.LinearCrossEntropyOptions(), **kw)
    assert any("options`` ignored" in str(c.message) for c in caught)
    _same(got, want)


@pytest.mark.parametrize("path", ["reference", "chunk4"])
def test_every_target_ignored_and_empty_batch(torch, path):
    t = np.full(N, 6)
    for red in ("mean", "sum", "none"):
        kw = dict(reduction=red, ignore_index=6)
        got = _run(ember, X, W, t, B, G, options=_opts(path), **kw)
        _same(got, _run(torch, X, W, t, B, G, **kw))  # mean: 0/0 = NaN; gradients 0
    for red in ("mean", "sum", "none"):
        kw = dict(reduction=red)
        got = _run(ember, X[:0], W, T[:0], B, G[:0], options=_opts(path), **kw)
        _same(got, _run(torch, X[:0], W, T[:0], B, G[:0], **kw))


def test_float32(torch):
    x32, w32 = X.astype(np.float32), W.astype(np.float32)
    want = _run(torch, x32, w32, T, label_smoothing=0.1)
    for opts in (None, nn.LinearCrossEntropyOptions(batch_chunk_size=5)):
        got = _run(ember, x32, w32, T, options=opts, label_smoothing=0.1)
        assert got[0].dtype == np.float32 and got[1][1].dtype == np.float32
        _same(got, want, rtol=1e-5, atol=1e-6)


def test_torch_options_object_is_accepted(torch):
    opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=3)
    _same(_run(ember, X, W, T, B, options=opts), _run(torch, X, W, T, B))


@pytest.mark.parametrize(
    "n, d, c, spec",
    [
        (100, 8, 50, {}),
        (100, 8, 50, dict(chunking_method="aspect_ratio")),
        (100, 8, 50, dict(chunking_method="aspect_ratio:4")),
        (37, 16, 3, {}),
        (37, 3, 1000, dict(chunking_method="aspect_ratio:3")),
        (1, 4, 9, {}),
        (0, 4, 9, {}),
        (100, 8, 50, dict(batch_chunk_size=7)),
        (5, 8, 50, dict(batch_chunk_size=7)),
        (100, 8, 50, dict(batch_chunk_size=7, chunking_method=None)),
        (100, 8, 50, dict(chunking_method=None)),
        (100, 8, 50, dict(batch_chunk_size=8, chunking_method="aspect_ratio:2")),
    ],
)
def test_chunk_size_is_torchs(torch, n, d, c, spec):
    want = torch.nn.LinearCrossEntropyOptions(**spec)._adjust(
        n, d, c, torch.float64, torch.device("cpu")
    )
    assert nn.LinearCrossEntropyOptions(**spec).chunk_size(n, d, c) == want.batch_chunk_size


def test_options_fields_and_checks(torch):
    import dataclasses

    ours = [(f.name, f.default) for f in dataclasses.fields(nn.LinearCrossEntropyOptions)]
    theirs = [(f.name, f.default) for f in dataclasses.fields(torch.nn.LinearCrossEntropyOptions)]
    assert ours == theirs
    assert repr(nn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())
    for spec in (
        dict(acc_policy="fast"),
        dict(chunking_method="aspect_ratio:0"),
        dict(chunking_method="rows"),
        dict(batch_chunk_size=0),
        dict(batch_chunk_size=2.0),
    ):
        same_error(
            torch,
            lambda s=spec: nn.LinearCrossEntropyOptions(**s),
            lambda s=spec: torch.nn.LinearCrossEntropyOptions(**s),
        )
    with pytest.raises(ValueError, match="acc_dtype must be one of"):
        nn.LinearCrossEntropyOptions(acc_dtype=np.int32)
    for dt in (torch.float32, torch.bfloat16, np.float64, ember.float16, "float32"):
        assert nn.LinearCrossEntropyOptions(acc_dtype=dt).acc_dtype == dt
    with pytest.raises(dataclasses.FrozenInstanceError):
        nn.LinearCrossEntropyOptions().batch_chunk_size = 3


def test_errors_are_torchs(torch):
    tf = torch.nn.functional.linear_cross_entropy

    def both(x, w, t, opts=None, **kw):
        we = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        wt = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        if opts is not None:
            we["options"] = nn.LinearCrossEntropyOptions(**opts)
            wt["options"] = torch.nn.LinearCrossEntropyOptions(**opts)
        same_error(
            torch,
            lambda: F.linear_cross_entropy(ember.tensor(x), ember.tensor(w), t, **we),
            lambda: tf(torch.tensor(x), torch.tensor(w), torch.tensor(t), **wt),
        )

    both(RNG.standard_normal((2, N, D)), W, T)  # 3-D input
    both(np.array(1.0), W, T)
    both(X, W[0], T)
    both(X, RNG.standard_normal((C, D + 1)), T)
    both(X, W, T, linear_bias=B[:4])
    both(X[0], RNG.standard_normal((C, 2, D)), np.array(1))
    both(X, W, RNG.dirichlet(np.ones(C), N), ignore_index=1)
    both(X, W, T, label_smoothing=1.5)
    both(X, W, T, label_smoothing=1.5, opts={})
    with pytest.raises(RuntimeError, match="between 0.0 and 1.0"):  # torch takes -0.5 as 0
        F.linear_cross_entropy(ember.tensor(X), ember.tensor(W), T, label_smoothing=-0.5)
    both(X, W, T, weight=CW[:3])
    both(X, W, T, opts=dict(batch_chunk_size=3, chunking_method="aspect_ratio"))
    for opts in (None, nn.LinearCrossEntropyOptions()):
        with pytest.raises(ValueError):
            F.linear_cross_entropy(
                ember.tensor(X), ember.tensor(W), T, reduction="avg", options=opts
            )
        with pytest.raises(IndexError):  # a class out of range
            F.linear_cross_entropy(ember.tensor(X), ember.tensor(W), np.full(N, C), options=opts)
        with pytest.raises(ValueError):  # target count differs from the batch
            F.linear_cross_entropy(ember.tensor(X), ember.tensor(W), T[:3], options=opts)


def _modules(torch, **kw):
    tm = torch.nn.LinearCrossEntropyLoss(D, C, dtype=torch.float64, **kw)
    ekw = dict(kw)
    if "weight" in kw:
        ekw["weight"] = ember.tensor(kw["weight"].numpy())
    if kw.get("options") is not None:
        ekw["options"] = nn.LinearCrossEntropyOptions(batch_chunk_size=4)
    em = nn.LinearCrossEntropyLoss(D, C, dtype=np.float64, **ekw)
    return em, tm


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(
    "spec",
    [
        dict(),
        dict(bias=True, reduction="sum", ignore_index=6, label_smoothing=0.1),
        dict(bias=True, reduction="none", out_features=(2, 3)),
    ],
)
def test_module_loads_torchs_state_dict(torch, spec, chunked):
    kw = dict(spec, weight=torch.tensor(CW))
    if chunked:
        kw["options"] = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
    em, tm = _modules(torch, **kw)
    state = tm.state_dict()
    assert list(em.state_dict()) == list(state)
    assert {k: tuple(v.shape) for k, v in em.state_dict().items()} == {
        k: tuple(v.shape) for k, v in state.items()
    }
    em.load_state_dict(state)
    t = RNG.integers(0, C, (N, *spec.get("out_features", ())))
    xe = ember.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # K-dim with options: the fallback's warning
        le, lt = em(xe, t), tm(xt, torch.tensor(t))
    np.testing.assert_allclose(le.detach().numpy(), lt.detach().numpy(), **TIGHT)
    le.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(
        em.linear.weight.grad.numpy(), tm.linear.weight.grad.numpy(), **TIGHT
    )
    if spec.get("bias"):
        np.testing.assert_allclose(
            em.linear.bias.grad.numpy(), tm.linear.bias.grad.numpy(), **TIGHT
        )


def test_module_repr_parameters_and_errors(torch):
    em, tm = _modules(torch, bias=True, out_features=(2,))
    assert em.extra_repr() == tm.extra_repr()  # (ember's Module repr lays children out its way)
    em, tm = _modules(torch, options=torch.nn.LinearCrossEntropyOptions())
    em.options = nn.LinearCrossEntropyOptions()
    assert em.extra_repr() == tm.extra_repr()
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    same_error(
        torch,
        lambda: nn.LinearCrossEntropyLoss(D, C, weight=ember.ones(4)),
        lambda: torch.nn.LinearCrossEntropyLoss(D, C, weight=torch.ones(4)),
    )
    same_error(
        torch,
        lambda: nn.LinearCrossEntropyLoss(D, C, label_smoothing=1.1),
        lambda: torch.nn.LinearCrossEntropyLoss(D, C, label_smoothing=1.1),
    )
    assert F.linear_cross_entropy in [getattr(F, n) for n in F.__all__]
    assert "LinearCrossEntropyLoss" in nn.__all__ and "LinearCrossEntropyOptions" in nn.__all__
