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


def _packing_refusals(m):
    """(name, call, torch's class) for packing calls torch 2.13 refuses where ember took
    them or refused with another class."""
    R, ones, i64 = m.nn.utils.rnn, m.ones, m.int64
    ints = [ones(3, dtype=i64), ones(1, dtype=i64)]
    packed = R.pack_sequence(ints)
    return [
        ("pack nothing", lambda: R.pack_padded_sequence(m.zeros(3, 0), []), RuntimeError),
        (
            "pack no features",
            lambda: R.pack_padded_sequence(m.zeros(3, 2, 0), [3, 1]),
            RuntimeError,
        ),
        (
            "pad int with nan",
            lambda: R.pad_sequence(ints, padding_value=float("nan")),
            RuntimeError,
        ),
        (
            "pad int8 with 300",
            lambda: R.pad_sequence([ones(2, dtype=m.int8)], padding_value=300),
            RuntimeError,
        ),
        (
            "pad half with 1e6",
            lambda: R.pad_sequence([ones(2, dtype=m.float16)], padding_value=1e6),
            RuntimeError,
        ),
        (
            "unpack int with nan",
            lambda: R.pad_packed_sequence(packed, padding_value=float("nan")),
            RuntimeError,
        ),
        ("total_length 4.0", lambda: R.pad_packed_sequence(packed, total_length=4.0), TypeError),
        ("padding_side None", lambda: R.pad_sequence(ints, padding_side=None), TypeError),
    ]


@pytest.mark.parametrize("k", range(8))
def test_packing_refuses_as_torch(refused_alike, k):
    cls = _packing_refusals(ember)[k][2]
    refused_alike(lambda m: [c[:2] for c in _packing_refusals(m)], k, cls)


def test_pad_sequence_answers_in_the_first_sequences_dtype(torch):
    """torch copies every sequence into a tensor of the first one's dtype (ember promoted, so
    an int64 then a float32 sequence came back float32), gradients flowing through the copy."""
    g = np.random.default_rng(6)
    a, b = g.standard_normal(3), g.standard_normal(2)
    for first, second in (("int64", "float32"), ("float32", "float64"), ("bool", "float32")):
        got, want = [], []
        for m, out in ((ember, got), (torch, want)):
            x = m.tensor(a).to(getattr(m, first))
            y = m.tensor(b, dtype=getattr(m, second), requires_grad=True)
            p = m.nn.utils.rnn.pad_sequence([x, y], padding_value=7)
            out.append(p)
            if p.requires_grad:
                (p * m.arange(6.0).reshape(3, 2).to(p.dtype)).sum().backward()
                out.append(y.grad)
        assert str(got[0].dtype) == str(want[0].dtype).removeprefix("torch.")
        for e, t in zip(got, want):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)


def test_unpad_sequence_keeps_the_steps_below_a_fractional_length(torch):
    x = np.arange(8.0).reshape(4, 2)
    lengths = [2.5, float("nan")]  # t < 2.5 keeps three steps, t < nan none
    got = ember.nn.utils.rnn.unpad_sequence(ember.tensor(x), ember.tensor(lengths))
    want = torch.nn.utils.rnn.unpad_sequence(torch.tensor(x), torch.tensor(lengths))
    assert [g.shape[0] for g in got] == [w.shape[0] for w in want] == [3, 0]


def test_packed_sequence_converts_as_torchs(torch):
    """torch's PackedSequence has half/long/int/short/char/byte, takes Tensor.to's keywords
    and returns itself when nothing changes; ember had double/float and one positional."""
    seqs = [np.arange(3.0), np.arange(1.0)]
    pe = ember.nn.utils.rnn.pack_sequence([ember.tensor(s) for s in seqs])
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs])
    for name in ("half", "long", "int", "short", "char", "byte", "double", "float"):
        e, t = getattr(pe, name)(), getattr(pt, name)()
        assert str(e.data.dtype) == str(t.data.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(e.data.numpy(), t.data.numpy())
        assert e.batch_sizes is pe.batch_sizes
    e, t = pe.to(dtype=ember.float32), pt.to(dtype=torch.float32)
    assert str(e.data.dtype) == "float32" and t.data.dtype == torch.float32
    assert pe.double() is pe and pt.double() is pt  # nothing to convert: itself
    assert pe.to("cpu") is pe and pe.is_pinned() is pt.is_pinned() is False


def test_hand_built_packing_with_rows_to_spare_pads_with_the_padding_value(torch):
    """A hand-built PackedSequence whose data holds more rows than Σ batch_sizes: ember's
    padding index was Σ batch_sizes, so the first spare row of data filled the padding."""
    d = np.arange(8.0).reshape(4, 2)
    tr, er = torch.nn.utils.rnn, ember.nn.utils.rnn
    t = tr.pad_packed_sequence(tr.PackedSequence(torch.tensor(d), torch.tensor([2, 1])), False, -1)
    e = er.pad_packed_sequence(er.PackedSequence(ember.tensor(d), ember.tensor([2, 1])), False, -1)
    np.testing.assert_array_equal(e[0].numpy(), t[0].numpy())
    np.testing.assert_array_equal(e[1].numpy(), t[1].numpy())


def _malformed_packs(m):
    R, d = m.nn.utils.rnn, m.arange(8.0).reshape(4, 2)
    m.manual_seed(0)
    gru = m.nn.GRU(2, 2)
    return [
        (
            "more sizes than rows",
            lambda: R.pad_packed_sequence(R.PackedSequence(d, m.tensor([2, 2, 2]))),
        ),
        (
            "increasing sizes",
            lambda: R.pad_packed_sequence(R.PackedSequence(d, m.tensor([1, 1, 2]))),
        ),
        ("gru, increasing sizes", lambda: gru(R.PackedSequence(d, m.tensor([1, 1, 2])))),
        ("gru, more sizes than rows", lambda: gru(R.PackedSequence(d, m.tensor([2, 2, 2])))),
    ]


@pytest.mark.parametrize("k", range(4))
def test_malformed_hand_built_packing_is_torchs_runtime_error(refused_alike, k):
    """torch trips over these in its kernels (RuntimeError); ember indexed past data (NumPy's
    IndexError) or padded garbage."""
    refused_alike(_malformed_packs, k)


def _tensor_arguments(m):
    """nn.init calls with 0-d tensors for their numbers, which torch's parser reads as floats
    (ember's fills turned them into Tensors and failed in astype)."""
    I, t = m.nn.init, m.tensor
    return [
        ("uniform_ bounds", lambda w: I.uniform_(w, t(-1.0), t(1.0))),
        ("normal_ std", lambda w: I.normal_(w, t(0.5), t(2.0))),
        ("xavier_uniform_ gain", lambda w: I.xavier_uniform_(w, gain=t(2.0))),
        ("xavier_normal_ gain", lambda w: I.xavier_normal_(w, gain=t(3))),
        ("orthogonal_ gain", lambda w: I.orthogonal_(w, t(2.0))),
        ("trunc_normal_ mean", lambda w: I.trunc_normal_(w, t(0.5), t(1.0), t(-1.0), t(2.0))),
    ]


@pytest.mark.parametrize("k", range(6))
def test_init_reads_a_0d_tensor_as_its_number(torch, k):
    got, want = [], []
    for m, out in ((ember, got), (torch, want)):
        name, call = _tensor_arguments(m)[k]
        w = m.zeros(200, 100, dtype=m.float64)
        assert call(w) is w
        out.append(w.numpy())
    assert abs(got[0].std() - want[0].std()) < 0.05 * want[0].std()
    assert abs(got[0].mean() - want[0].mean()) < 0.05 * want[0].std()


def test_init_refuses_a_tensor_number_that_requires_grad_or_has_dims(torch):
    for m in (torch, ember):
        w = m.zeros(3, 4)
        with pytest.raises(TypeError):
            m.nn.init.normal_(w, 0.0, m.tensor([2.0, 1.0, 1.0]))
        with pytest.raises(TypeError):
            m.nn.init.uniform_(w, m.tensor(-1.0, requires_grad=True), 1.0)
