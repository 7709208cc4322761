"""Edges of the Transformer layers, packed sequences and nn.init where ember used to differ
from torch 2.13, found by fuzzing both side by side. Random fills cannot match torch's bits:
those tests compare the distributions (bounds, means, spreads) and the refusals."""

import warnings

import numpy as np
import pytest

import ember
from ember.nn import init


def _fill(m, shape, dtype, *args):
    t = m.empty(*shape, dtype=getattr(m, dtype))
    m.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mean is more than 2 std from [a, b]
        return m.nn.init.trunc_normal_(t, *args).double().numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "mean, std, a, b",
    [(10.0, 0.5, -1.0, 0.0), (-8.0, 1.0, 0.0, 2.0), (0.0, 1.0, 9.0, 12.0), (0.0, 0.1, 1.0, 2.0)],
)
def test_trunc_normal_far_in_the_tails_draws_torchs_distribution(torch, dtype, mean, std, a, b):
    """ember's inverse CDF saw Φ(α) = Φ(β) this far out and filled every value with a (or
    b): torch 2.13 samples U(a, b) and keeps each with the density's ratio to its peak."""
    got, want = (
        _fill(ember, (200, 100), dtype, mean, std, a, b),
        _fill(torch, (200, 100), dtype, mean, std, a, b),
    )
    assert a <= got.min() and got.max() <= b
    # the density here is ∝ exp(−(x − mean)²/2std²): an exponential from the near end
    spread = want.std()
    assert got.std() == pytest.approx(spread, rel=0.1)
    assert got.mean() == pytest.approx(want.mean(), abs=0.05 * spread)


def _trunc_refusals(m):
    """(name, call) pairs torch 2.13 refuses in its tails branch, where its uniform_ checks
    the dtype before a ≤ b (an empty integer tensor too)."""
    z, i64 = m.zeros, m.int64
    tn = m.nn.init.trunc_normal_
    return [
        ("empty int tensor, tails", lambda: tn(z(0, dtype=i64), 10.0, 1.0, -2.0, 2.0)),
        ("int tensor, a > b", lambda: tn(z(3, dtype=i64), 0.0, 1.0, 2.0, -2.0)),
        ("bool tensor, a > b", lambda: tn(z(2, 2, dtype=m.bool), 0.0, 1.0, 1.0, 0.0)),
    ]


@pytest.mark.parametrize("k", range(3))
def test_trunc_normal_refuses_integers_with_torchs_class(refused_alike, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refused_alike(_trunc_refusals, k, NotImplementedError)


def test_trunc_normal_warns_before_it_refuses(torch):
    for m in (torch, ember):
        with pytest.warns(UserWarning, match="more than 2 std"), pytest.raises(RuntimeError):
            m.nn.init.trunc_normal_(m.zeros(3), 10.0, 1.0, 2.0, -2.0)


def test_trunc_normal_is_deterministic_under_a_generator_and_keeps_the_leaf():
    w = ember.zeros(50, 40, requires_grad=True)
    out = init.trunc_normal_(w, 10.0, 0.5, -1.0, 0.0, generator=ember.Generator().manual_seed(4))
    again = init.trunc_normal_(
        ember.zeros(50, 40), 10.0, 0.5, -1.0, 0.0, generator=ember.Generator().manual_seed(4)
    )
    assert out is w and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(w.detach().numpy(), again.numpy())
    assert len(np.unique(again.numpy())) > 1000  # ember's inverse CDF gave a = -1 throughout


def test_calculate_gain_answers_as_torch(torch):
    names = ["linear", "conv2d", "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"]
    for name in names:  # torch's 1 is an int
        got, want = init.calculate_gain(name), torch.nn.init.calculate_gain(name)
        assert got == want and type(got) is type(want)
    for bad in (["relu"], {"relu": 1}, "gelu", None):  # unhashable names were a TypeError
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain(bad)
        with pytest.raises(ValueError):
            init.calculate_gain(bad)


def _mismatched_masks(m, like=None):
    """(name, call, torch's warning names) for a boolean key-padding mask beside a float
    attention mask (and float32 beside float64), where torch warns of the mismatch; the
    modules take ``like``'s weights (torch's) when it is given."""
    f64 = m.float64
    g = np.random.default_rng(5)
    x = m.tensor(g.standard_normal((3, 2, 4)))
    kpm = m.tensor(np.array([[False, False, True], [False, True, False]]))
    am = m.tensor(np.triu(np.full((3, 3), -np.inf), 1))
    enc = m.nn.TransformerEncoderLayer(4, 2, 8, 0.0, dtype=f64)
    mods = {
        "enc": enc,
        "stack": m.nn.TransformerEncoder(enc, 2, enable_nested_tensor=False),
        "dec": m.nn.TransformerDecoderLayer(4, 2, 8, 0.0, dtype=f64),
        "mha": m.nn.MultiheadAttention(4, 2, dtype=f64),
    }
    for key, mod in mods.items():
        if like is not None:
            mod.load_state_dict({k: v.detach().numpy() for k, v in like[key].state_dict().items()})
    enc, stack, dec, mha = mods.values()
    kam = "key_padding_mask and attn_mask"
    cases = [
        ("mha", lambda: mha(x, x, x, key_padding_mask=kpm, attn_mask=am)[0], kam),
        (
            "mha float32",
            lambda: mha(x, x, x, key_padding_mask=kpm.double(), attn_mask=am.float())[0],
            kam,
        ),
        (
            "encoder layer",
            lambda: enc(x, src_mask=am, src_key_padding_mask=kpm),
            "src_key_padding_mask and src_mask",
        ),
        (
            "encoder",
            lambda: stack(x, mask=am, src_key_padding_mask=kpm),
            "src_key_padding_mask and mask",
        ),
        ("decoder layer", lambda: dec(x, x, tgt_mask=am, tgt_key_padding_mask=kpm), kam),
    ]
    return cases, mods


@pytest.mark.parametrize("k", range(5))
def test_mismatched_mask_types_warn_as_torch(torch, k):
    """torch warns 'Support for mismatched ... is deprecated' (once per attention, under the
    layer's argument names where the layer converts the masks); ember warned nothing."""
    got, like = [], None
    for m in (torch, ember):
        cases, mods = _mismatched_masks(m, like)
        like = mods
        name, call, names = cases[k]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = call()
        said = [str(w.message) for w in caught if "mismatched" in str(w.message)]
        want = f"Support for mismatched {names} is deprecated. Use same type for both instead."
        assert said and set(said) == {want}, (m.__name__, said)  # torch: once or twice
        got.append(out.detach().numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-10, atol=1e-12)


def _runtime_refusals(m):
    """(name, call) pairs torch 2.13 refuses with RuntimeError: its full() for the causal
    mask (ember: NumPy's ValueError, or a silent cast of -inf), its packed projection's
    matmul for a key and value of one shape but the wrong width (ember asserted)."""
    gsm = m.nn.Transformer.generate_square_subsequent_mask
    x, y = m.zeros(3, 2, 4), m.zeros(3, 2, 5)
    mha = m.nn.MultiheadAttention(4, 2)
    dec = m.nn.TransformerDecoderLayer(4, 2, 8)
    w, b = m.zeros(12, 4), m.zeros(12)
    fmha = m.nn.functional.multi_head_attention_forward
    return [
        ("causal mask of size -1", lambda: gsm(-1)),
        ("causal mask in int64", lambda: gsm(3, dtype=m.int64)),
        ("causal mask in int32", lambda: gsm(2, dtype=m.int32)),
        ("mha key and value too wide", lambda: mha(x, y, y)),
        ("decoder memory too wide", lambda: dec(x, y)),
        (
            "functional key and value too wide",
            lambda: fmha(x, y, y, 4, 2, w, b, None, None, False, 0.0, m.zeros(4, 4), None),
        ),
    ]


@pytest.mark.parametrize("k", range(6))
def test_refused_with_torchs_runtime_error(refused_alike, k):
    refused_alike(_runtime_refusals, k)


def test_causal_mask_in_every_dtype_torch_makes(torch):
    for name in ("float32", "float64", "float16", "bool", "complex64"):
        got = ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=getattr(ember, name))
        want = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=getattr(torch, name))
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ember cast -inf to int64 with NumPy's RuntimeWarning
        with pytest.raises(RuntimeError, match="without overflow"):
            ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.int64)
