"""The common mistakes (shapes that do not match, sizes out of range) raise an error of the
class torch raises, RuntimeError, as well as the ValueError ember raised (``ember.InputError``
is both): ``except RuntimeError`` written for torch catches it, and so does ember's own
``except ValueError``."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

MISTAKES = {
    "linear_features": lambda L: L.nn.Linear(3, 2)(L.zeros(4, 5)),
    "conv_channels": lambda L: L.nn.Conv2d(3, 2, 3)(L.zeros(1, 4, 8, 8)),
    "conv1d_channels": lambda L: L.nn.Conv1d(3, 2, 3)(L.zeros(1, 4, 8)),
    "conv2d_weight": lambda L: L.nn.functional.conv2d(L.zeros(1, 2, 5, 5), L.zeros(3, 3, 3, 3)),
    "matmul": lambda L: L.zeros(2, 3) @ L.zeros(2, 3),
    "bmm": lambda L: L.bmm(L.zeros(2, 2, 3), L.zeros(2, 4, 2)),
    "cat": lambda L: L.cat([L.zeros(2, 3), L.zeros(2, 4)]),
    "stack": lambda L: L.stack([L.zeros(2), L.zeros(3)]),
    "view": lambda L: L.zeros(2, 3).view(4, 2),
    "reshape": lambda L: L.zeros(2, 3).reshape(5),
    "view_two_minus_ones": lambda L: L.zeros(4).view(-1, -1),
    "broadcast_add": lambda L: L.zeros(2, 3) + L.zeros(3, 2),
    "broadcast_in_place": lambda L: L.zeros(2, 3).add_(L.zeros(3, 3)),
    "expand": lambda L: L.zeros(2, 3).expand(4, 3),
    "mse_shapes": lambda L: L.nn.functional.mse_loss(L.zeros(2, 3), L.zeros(3, 2)),
    "masked_fill_mask": lambda L: L.zeros(2, 3).masked_fill(L.zeros(3, 2, dtype=L.bool), 1),
    "lstm_input_size": lambda L: L.nn.LSTM(3, 4)(L.zeros(5, 2, 6)),
    "gru_input_size": lambda L: L.nn.GRU(3, 4)(L.zeros(5, 2, 6)),
    "batchnorm_features": lambda L: L.nn.BatchNorm2d(3)(L.zeros(2, 4, 5, 5)),
    "layernorm_shape": lambda L: L.nn.LayerNorm(4)(L.zeros(2, 3)),
    "maxpool_too_small": lambda L: L.nn.MaxPool2d(5)(L.zeros(1, 1, 3, 3)),
    "permute_repeated": lambda L: L.zeros(2, 3).permute(0, 0),
    "chunk_zero": lambda L: L.zeros(2, 3).chunk(0),
    "one_hot_classes": lambda L: L.nn.functional.one_hot(L.tensor([3]), 2),
    "pad_too_long": lambda L: L.nn.functional.pad(L.zeros(2, 3), (1, 1, 1, 1, 1, 1)),
    "repeat_too_few": lambda L: L.zeros(2, 3).repeat(2),
    "bce_out_of_range": lambda L: L.nn.functional.binary_cross_entropy(
        L.full((2,), 2.0), L.zeros(2)
    ),
    "multinomial_zero_weights": lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1),
    "randint_empty_range": lambda L: L.randint(5, 3, (2,)),
    "conv_kernel_larger": lambda L: L.nn.Conv2d(1, 1, 5)(L.zeros(1, 1, 3, 3)),
    "mm_vectors": lambda L: L.mm(L.zeros(3), L.zeros(3)),
    "bmm_matrices": lambda L: L.bmm(L.zeros(2, 3), L.zeros(3, 2)),
    "lstm_h0_batch": lambda L: L.nn.LSTM(3, 4)(
        L.zeros(5, 2, 3), (L.zeros(1, 3, 4), L.zeros(1, 2, 4))
    ),
    "mha_mask_shape": lambda L: L.nn.MultiheadAttention(4, 2, batch_first=True)(
        L.zeros(1, 3, 4), L.zeros(1, 3, 4), L.zeros(1, 3, 4), attn_mask=L.zeros(2, 2)
    ),
    "unfold_window": lambda L: L.zeros(3).unfold(0, 5, 1),
    "split_sizes": lambda L: L.zeros(3).split([1, 1]),
    "zeros_negative": lambda L: L.zeros(-1),
    "randn_negative": lambda L: L.randn(2, -2),
    "normal_negative_std": lambda L: L.normal(L.zeros(2), L.tensor([-1.0, 1.0])),
    "bernoulli_p": lambda L: L.bernoulli(L.tensor([1.5])),
    "avgpool_padding": lambda L: L.nn.AvgPool2d(2, padding=2)(L.zeros(1, 1, 4, 4)),
    "diag_3d": lambda L: L.zeros(2, 2, 2).diag(),
    "cross_entropy_target_shape": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.zeros(2, 3, 4, dtype=L.int64)
    ),
    "expand_as": lambda L: L.zeros(2, 3).expand_as(L.zeros(4)),
    "einsum_sizes": lambda L: L.einsum("ij,jk->ik", L.zeros(2, 3), L.zeros(4, 2)),
    "bilinear_sizes": lambda L: L.nn.Bilinear(2, 3, 4)(L.zeros(2, 2), L.zeros(2, 4)),
    "layer_norm_weight": lambda L: L.nn.functional.layer_norm(L.zeros(2, 3), (3,), L.zeros(4)),
    "batch_norm_stats": lambda L: L.nn.functional.batch_norm(L.zeros(2, 3), L.zeros(4), L.ones(4)),
    "group_norm_groups": lambda L: L.nn.functional.group_norm(L.zeros(2, 6), 4),
    "conv_stride_zero": lambda L: L.nn.Conv2d(1, 1, 3, stride=0)(L.zeros(1, 1, 5, 5)),
    "conv_negative_padding": lambda L: L.nn.functional.conv2d(
        L.zeros(1, 1, 5, 5), L.zeros(1, 1, 3, 3), padding=-1
    ),
    "avg_pool_stride_zero": lambda L: L.nn.functional.avg_pool2d(L.zeros(1, 1, 4, 4), 2, stride=0),
    "reflect_pad_too_wide": lambda L: L.nn.functional.pad(L.zeros(1, 1, 4), (5, 5), mode="reflect"),
    "label_smoothing_range": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.tensor([0, 1]), label_smoothing=1.5
    ),
    "huber_delta": lambda L: L.nn.functional.huber_loss(L.zeros(2), L.zeros(2), delta=-1.0),
    "smooth_l1_beta": lambda L: L.nn.functional.smooth_l1_loss(L.zeros(2), L.zeros(2), beta=-1.0),
    "stack_empty": lambda L: L.stack([]),
    "setitem_shape": lambda L: L.zeros(3).__setitem__(slice(0, 2), L.zeros(3)),
    "roll_lengths": lambda L: L.zeros(2, 3).roll((1, 1), (0,)),
    "flip_repeated_dim": lambda L: L.zeros(2, 3).flip(0, 0),
    "tile_negative": lambda L: L.zeros(2).tile(-1),
    "conv_transpose_channels": lambda L: L.nn.ConvTranspose2d(3, 2, 3)(L.zeros(1, 4, 5, 5)),
    "groupnorm_channels": lambda L: L.nn.GroupNorm(2, 4)(L.zeros(1, 3, 5)),
    "pixel_shuffle_channels": lambda L: L.nn.PixelShuffle(2)(L.zeros(1, 3, 2, 2)),
    "rnncell_input_size": lambda L: L.nn.RNNCell(3, 4)(L.zeros(2, 5)),
    "ctc_target_lengths": lambda L: L.nn.functional.ctc_loss(
        L.zeros(5, 2, 4), L.tensor([[1, 2]]), L.tensor([5, 5]), L.tensor([2, 2])
    ),
    "kl_div_shapes": lambda L: L.nn.functional.kl_div(L.zeros(2, 3), L.zeros(3, 2)),
    "cosine_similarity_sizes": lambda L: L.nn.functional.cosine_similarity(
        L.zeros(2, 3), L.zeros(2, 4)
    ),
    "sdpa_head_dims": lambda L: L.nn.functional.scaled_dot_product_attention(
        L.zeros(1, 2, 3, 4), L.zeros(1, 2, 3, 5), L.zeros(1, 2, 3, 4)
    ),
}

INDEX_MISTAKES = {  # ember's IndexError, torch's RuntimeError: ember.errors.IndexInputError
    "gather": lambda L: L.zeros(2, 3).gather(1, L.tensor([[5]])),
    "scatter": lambda L: L.zeros(3).scatter(0, L.tensor([5]), 1.0),
    "kthvalue": lambda L: L.zeros(3).kthvalue(5),
    "argmax_empty": lambda L: L.zeros(0).argmax(),
    "max_dim_of_empty": lambda L: L.zeros(0, 3).max(0),
}

TYPE_MISTAKES = {  # ember's TypeError, torch's RuntimeError: ember.errors.InputTypeError
    "embedding_float_indices": lambda L: L.nn.functional.embedding(L.tensor([0.5]), L.zeros(3, 2)),
    "nll_float_targets": lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0.5, 1.0])),
    "int_parameter": lambda L: L.nn.Parameter(L.tensor([1, 2])),
}


CASES = (
    [(name, call, ValueError, ember.InputError) for name, call in MISTAKES.items()]
    + [
        (name, call, IndexError, ember.errors.IndexInputError)
        for name, call in INDEX_MISTAKES.items()
    ]
    + [(name, call, TypeError, ember.errors.InputTypeError) for name, call in TYPE_MISTAKES.items()]
)


@pytest.mark.parametrize("name, call, ours_too, cls", CASES, ids=[c[0] for c in CASES])
def test_mistake_raises_torchs_class_and_embers(name, call, ours_too, cls):
    """ember's error is an instance of torch's class and of the one ember raised before."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(ours_too) as ours:
        call(ember)
    assert isinstance(ours.value, theirs.type), (type(ours.value), theirs.type)
    assert isinstance(ours.value, cls)


def test_permute_out_of_range_stays_an_index_error():
    with pytest.raises(IndexError):
        ember.zeros(2, 3).permute(0, 5)


@pytest.mark.parametrize(
    "compare",
    [lambda L, t: t == None, lambda L, t: t != None, lambda L, t: t == "a",  # noqa: E711
     lambda L, t: t == [1, 2], lambda L, t: t != (1, 2), lambda L, t: None == t],  # noqa: E711
)  # fmt: skip
def test_equality_with_other_objects_is_pythons_identity_as_torch(compare):
    """torch's == and != take tensors and numbers; anything else falls back to Python's
    identity comparison, so ``if mask != None:`` is True (ember used to compare elementwise,
    and bool() of the result refused a tensor of two elements)."""
    want = compare(torch, torch.tensor([1, 2]))
    got = compare(ember, ember.tensor([1, 2]))
    assert type(got) is bool and got == want


@pytest.mark.parametrize("name", ["eq", "ne"])
def test_named_equality_refuses_other_objects_as_torch(name):
    for lib in (torch, ember):
        t = lib.tensor([1, 2])
        with pytest.raises(TypeError):
            getattr(t, name)(None)
        with pytest.raises(TypeError):
            getattr(lib, name)(t, "a")


def test_only_integer_tensors_convert_to_an_index():
    import operator

    for lib in (torch, ember):
        assert operator.index(lib.tensor([3])) == 3 == list(range(10))[lib.tensor(3)]
        with pytest.raises(TypeError, match="only integer tensors of a single element"):
            operator.index(lib.tensor(3.0))


def test_clip_grad_norm_converts_norm_type_first_as_torch():
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.zeros(2))  # no gradient: the norm_type still fails
        with pytest.raises(ValueError, match="could not convert string to float"):
            lib.nn.utils.clip_grad_norm_([p], 1.0, norm_type="x")


@pytest.mark.parametrize(
    "call",
    [lambda L: L.tensor([1.5]) & L.tensor([1.0]), lambda L: L.tensor([1]) | L.tensor([1.5]),
     lambda L: L.tensor([1.5]) ^ 1,
     lambda L: L.nn.functional.layer_norm(L.tensor([[1, 2]]), (2,)),
     lambda L: L.nn.functional.cross_entropy(L.tensor([[1, 2]]), L.tensor([0]))],
)  # fmt: skip
def test_integer_or_float_kernels_refused_with_torchs_message(call):
    """Float bitwise ops and integer layer_norm/cross_entropy: torch's NotImplementedError and
    its message (NumPy's TypeError or UFuncTypeError named no op before)."""
    with pytest.raises(NotImplementedError) as theirs:
        call(torch)
    with pytest.raises(NotImplementedError) as ours:
        call(ember)
    assert str(ours.value) == str(theirs.value)


def test_integer_dropout_and_requires_grad_are_torchs_runtime_error_and_a_type_error():
    for call in (lambda L: L.nn.functional.dropout(L.tensor([1, 2]), 0.5),
                 lambda L: L.tensor([1]).requires_grad_()):  # fmt: skip
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError) as ours:
            call(ember)
        assert isinstance(ours.value, TypeError)
