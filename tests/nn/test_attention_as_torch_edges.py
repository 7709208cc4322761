"""Edges of attention (nn.MultiheadAttention, the Transformer layers and
F.scaled_dot_product_attention) where ember used to differ from torch 2.13, found by fuzzing
both side by side: the class of each refusal (torch's RuntimeError, or its AssertionError where
it checks with ``assert``, each also the ValueError/TypeError ember raised before), operands
SDPA took that torch refuses, and a warning a non-leaf mask set off.

One file for the module and the functional form: a second file of this name under
tests/functional would clash with it (the test folders are not packages)."""

import warnings

import numpy as np
import pytest

import ember
from ember.errors import InputAssertionError, InputError, InputTypeError


def _asserted(m):
    """(name, call) pairs that torch refuses with AssertionError; m is ember or torch."""
    nn_, z = m.nn, m.zeros
    mha = nn_.MultiheadAttention(4, 2)
    x, u = z(3, 2, 4), z(3, 4)
    kd = nn_.MultiheadAttention(4, 2, kdim=3, vdim=5)
    b = m.bool
    return [
        ("embed_dim % num_heads", lambda: nn_.MultiheadAttention(5, 2)),
        ("encoder layer heads", lambda: nn_.TransformerEncoderLayer(5, 2)),
        ("transformer heads", lambda: nn_.Transformer(6, 4, 1, 1, 8)),
        ("key_padding_mask (S, N)", lambda: mha(x, x, x, key_padding_mask=z(3, 2, dtype=b))),
        ("unbatched key_padding_mask", lambda: mha(u, u, u, key_padding_mask=z(4, dtype=b))),
        ("key/value lengths", lambda: mha(x, x, z(4, 2, 4))),
        ("key/value batches", lambda: mha(x, x, z(3, 1, 4))),
        ("1-D query", lambda: mha(z(4), z(4), z(4))),
        ("4-D query", lambda: mha(x[None], x[None], x[None])),
        ("3-D query, 2-D key", lambda: mha(x, u, u)),
        ("1-D attn_mask", lambda: mha(x, x, x, attn_mask=z(3, dtype=b))),
        ("4-D attn_mask", lambda: mha(x, x, x, attn_mask=z(2, 2, 3, 3, dtype=b))),
        ("unbatched 3-D attn_mask", lambda: mha(u, u, u, attn_mask=z(3, 3, 3, dtype=b))),
        ("query features", lambda: mha(z(3, 2, 5), x, x)),
        ("key features", lambda: mha(x, z(3, 2, 5), x)),
        ("key features, kdim", lambda: kd(x, z(3, 2, 4), z(3, 2, 5))),
        ("value features, vdim", lambda: kd(x, z(3, 2, 3), z(3, 2, 4))),
    ]


def _refused(m):
    """(name, call) pairs that torch refuses with RuntimeError over shapes or values."""
    nn_, z, f64, b = m.nn, m.zeros, m.float64, m.bool
    sdpa = m.nn.functional.scaled_dot_product_attention
    mha = nn_.MultiheadAttention(4, 2)
    x, u = z(3, 2, 4), z(3, 4)
    tf = nn_.Transformer(4, 2, 1, 1, 8)
    q, k, v = z(2, 3, 4, dtype=f64), z(2, 5, 4, dtype=f64), z(2, 5, 6, dtype=f64)
    return [
        ("mha batches", lambda: mha(x, z(3, 3, 4), z(3, 3, 4))),
        ("2-D attn_mask size", lambda: mha(x, x, x, attn_mask=z(3, 4, dtype=b))),
        ("3-D attn_mask size", lambda: mha(x, x, x, attn_mask=z(3, 3, 3, dtype=b))),
        ("unbatched 2-D attn_mask size", lambda: mha(u, u, u, attn_mask=z(3, 4, dtype=b))),
        ("encoder tanh", lambda: nn_.TransformerEncoderLayer(4, 2, activation="tanh")),
        ("decoder tanh", lambda: nn_.TransformerDecoderLayer(4, 2, activation="tanh")),
        ("transformer batches", lambda: tf(x, z(3, 3, 4))),
        ("transformer src features", lambda: tf(z(3, 2, 5), x)),
        ("transformer tgt features", lambda: tf(x, z(3, 2, 5))),
        ("sdpa mask and is_causal", lambda: sdpa(q, k, v, m.ones(3, 5, dtype=b), is_causal=True)),
        ("sdpa key/value lengths", lambda: sdpa(q, k, z(2, 4, 6, dtype=f64))),
        ("sdpa mask shape", lambda: sdpa(q, k, v, attn_mask=z(5, 3, dtype=b))),
        ("sdpa heads without gqa", lambda: sdpa(z(1, 4, 2, 2), z(1, 2, 2, 2), z(1, 2, 2, 2))),
        (
            "sdpa gqa head ratio",
            lambda: sdpa(z(1, 3, 2, 2), z(1, 2, 2, 2), z(1, 2, 2, 2), enable_gqa=True),
        ),
        ("sdpa 1-D query", lambda: sdpa(z(3), z(3), z(3))),
        ("sdpa dropout_p > 1", lambda: sdpa(q, k, v, dropout_p=1.5)),
        ("sdpa query float64, key float32", lambda: sdpa(q, z(2, 5, 4), v)),
        ("sdpa value float32", lambda: sdpa(q, k, z(2, 5, 6))),
        ("sdpa mask widens batch", lambda: sdpa(q, k, v, attn_mask=z(4, 1, 3, 5, dtype=f64))),
        ("sdpa mask adds an axis", lambda: sdpa(q, k, v, attn_mask=z(1, 1, 3, 5, dtype=f64))),
        (
            "sdpa mask past q and k batch",
            lambda: sdpa(q[:1], k[:1], v, attn_mask=z(2, 3, 5, dtype=f64)),
        ),
    ]


def _refused_dtypes(m):
    """(name, call) pairs that torch refuses with RuntimeError over dtypes."""
    z, f64, i64 = m.zeros, m.float64, m.int64
    sdpa = m.nn.functional.scaled_dot_product_attention
    mha = m.nn.MultiheadAttention(4, 2, dtype=f64)
    x, x32 = z(3, 2, 4, dtype=f64), z(3, 2, 4)
    q, k, v = z(2, 3, 4, dtype=f64), z(2, 5, 4, dtype=f64), z(2, 5, 6, dtype=f64)
    return [
        ("mha float32 input", lambda: mha(x32, x32, x32)),
        ("mha float32 key", lambda: mha(x, x32, x32)),
        ("sdpa int64 mask", lambda: sdpa(q, k, v, attn_mask=z(3, 5, dtype=i64))),
        ("sdpa int64 q, k, v", lambda: sdpa(*(z(1, 2, 2, dtype=i64) for _ in range(3)))),
    ]


# torch's class, the class ember raised before (its callers' except), ember's class now
GROUPS = [
    (_asserted, AssertionError, ValueError, InputAssertionError),
    (_refused, RuntimeError, ValueError, InputError),
    (_refused_dtypes, RuntimeError, TypeError, InputTypeError),
]
CASES = [(g, i) for g in GROUPS for i in range(len(g[0](ember)))]


@pytest.mark.parametrize(
    "group, k", CASES, ids=[f"{g[0].__name__[1:]}-{g[0](ember)[i][0]}" for g, i in CASES]
)
def test_refusals_raise_torchs_class_and_embers_old_one(torch, group, k):
    cases, theirs, old, ours = group
    name, call = cases(ember)[k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on nested tensors for nn.Transformer
        tname, tcall = cases(torch)[k]
    assert name == tname
    for f in (tcall, call):  # one check for both: ember's error is an instance of torch's class
        with pytest.raises(theirs) as caught:
            f()
    assert isinstance(caught.value, old) and isinstance(caught.value, ours)  # ember's, last


def test_dtype_messages_name_what_was_expected_and_what_came():
    sdpa = ember.nn.functional.scaled_dot_product_attention
    q = ember.zeros(2, 3, 4, dtype=ember.float64)
    with pytest.raises(InputError, match="query float64, key float32 and value float64"):
        sdpa(q, ember.zeros(2, 5, 4), ember.zeros(2, 5, 6, dtype=ember.float64))
    with pytest.raises(InputTypeError, match="floating-point query, key and value, got int64"):
        sdpa(*(ember.zeros(1, 2, 2, dtype=ember.int64) for _ in range(3)))
    mha = ember.nn.MultiheadAttention(4, 2, dtype=ember.float64)
    x = ember.zeros(3, 2, 4)
    with pytest.raises(InputTypeError, match=r"query dtype float32 .* weights' dtype float64"):
        mha(x, x, x)


def test_masks_torch_takes_still_give_torchs_output(torch):
    """The stricter mask check refuses only what widens the scores: what torch accepts (a
    mask of fewer axes, size-1 axes, key and query batches that broadcast) still runs."""
    g = np.random.default_rng(0)
    q, k, v = (
        g.standard_normal((2, 3, 4)),
        g.standard_normal((2, 5, 4)),
        g.standard_normal((2, 5, 6)),
    )
    keep = g.random((3, 5)) > 0.3
    keep[:, 0] = True  # no query row masked out entirely
    cases = [
        (q, k, v, keep[None]),  # (1, L, S)
        (q, k, v, keep[0]),  # (S,)
        (q, k, v, keep[:1]),  # (1, S)
        (q[:1], k, v, keep),  # query batch 1, key batch 2: the scores' batch is 2
        (q, k[:1], v[:1], np.where(keep, 0.0, -np.inf)[None].repeat(2, 0)),  # (2, L, S) float
    ]
    te, tt = ember.nn.functional.scaled_dot_product_attention, torch.nn.functional
    for qq, kk, vv, mm in cases:
        want = tt.scaled_dot_product_attention(
            torch.tensor(qq), torch.tensor(kk), torch.tensor(vv), attn_mask=torch.tensor(mm)
        )
        got = te(ember.tensor(qq), ember.tensor(kk), ember.tensor(vv), attn_mask=ember.tensor(mm))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_non_leaf_mask_warns_nothing_and_gets_torchs_gradient(torch):
    """The mask check took a non-leaf mask's .grad to tell a Tensor (and so warned that a
    non-leaf's .grad was read); torch warns nothing."""
    g = np.random.default_rng(1)
    q, b = g.standard_normal((2, 3, 4)), g.standard_normal((3, 3))
    qe, be = ember.tensor(q), ember.tensor(b, requires_grad=True)
    qt, bt = torch.tensor(q), torch.tensor(b, requires_grad=True)
    mha = ember.nn.MultiheadAttention(4, 2, dtype=ember.float64)
    x = ember.tensor(g.standard_normal((3, 2, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oe = ember.nn.functional.scaled_dot_product_attention(qe, qe, qe, attn_mask=be * 2)
        oe.sum().backward()
        mha(x, x, x, attn_mask=be * 2, key_padding_mask=ember.zeros(2, 3, dtype=ember.float64))
    ot = torch.nn.functional.scaled_dot_product_attention(qt, qt, qt, attn_mask=bt * 2)
    ot.sum().backward()
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(be.grad.numpy(), bt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_mask_check_still_tells_a_tensor_from_other_arrays():
    """What the .grad test was for: an ember Tensor is read through .array, anything else
    through the array library, and a row masked out entirely is still reported."""
    from ember.mistakes import EmberWarning, check_attention_mask, reset_warnings

    class HasArray:  # an object with an ``array`` attribute that is not a Tensor
        array = None

        def __array__(self, dtype=None, copy=None):
            return np.ones((2, 3), bool)

    assert check_attention_mask(HasArray(), true_means="keep")
    inverted = ember.tensor(np.zeros((2, 3)), requires_grad=True) - 1e9  # a non-leaf
    reset_warnings()
    with pytest.warns(EmberWarning, match="mask every key"):
        assert not check_attention_mask(inverted)
    reset_warnings()


def test_kept_differences_from_torch(torch):
    """Where ember deliberately stays as it was: an integer MHA mask stays a TypeError (torch
    asserts), a negative dropout_p is refused (torch takes it), and a float32 mask with
    float64 MHA inputs is taken (torch refuses it)."""
    mha = ember.nn.MultiheadAttention(4, 2, dtype=ember.float64)
    x = ember.zeros(3, 2, 4, dtype=ember.float64)
    with pytest.raises(TypeError, match="boolean or floating point"):
        mha(x, x, x, attn_mask=ember.zeros(3, 3, dtype=ember.int64))
    q = ember.zeros(1, 2, 3)
    with pytest.raises(ValueError, match="dropout_p"):
        ember.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=-0.5)
    out, _ = mha(x, x, x, attn_mask=ember.zeros(3, 3))
    assert out.shape == (3, 2, 4)


def test_mixed_dtypes_still_run_under_autocast(torch):
    """Inside autocast the projections and SDPA cast their operands to one dtype (torch's
    lower-precision list), so the dtype refusals above stand aside there, as torch's do."""
    x = np.random.default_rng(2).random((3, 2, 4)).astype(np.float32)
    got = []
    for m, half, region in (
        (torch, torch.bfloat16, lambda: torch.autocast("cpu", dtype=torch.bfloat16)),
        (ember, ember.float16, lambda: ember.autocast("cpu", dtype=ember.float16)),
    ):
        mha = m.nn.MultiheadAttention(4, 2)
        q = m.tensor(x)
        with region():
            o = m.nn.functional.scaled_dot_product_attention(q, q.to(half), q)
            y = mha(q, q.to(half), q)[0]
        got.append((o.dtype == half, y.dtype == half))
    assert got == [(True, True), (True, True)]
