"""nn.utils and layer construction where ember used to differ from torch 2.13 (found by
fuzzing both side by side): clipping in place, the 0-norm of a NaN, parametrizations undone
onto the same tensor, weight_norm's dim, vector_to_parameters, fusion's requires_grad,
EmbeddingBag.from_pretrained and repr, a shared _weight, alpha dropout's inplace flag, and
torch's error classes for layer arguments."""

import math

import numpy as np
import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def test_clipping_changes_the_gradient_tensor_itself(lib):
    p = lib.zeros(2, requires_grad=True)
    p.grad = lib.tensor([3.0, 4.0])
    g = p.grad
    lib.nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad is g and np.allclose(g.numpy(), [0.6, 0.8])
    p.grad = lib.tensor([3.0, -4.0])
    g = p.grad
    lib.nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad is g and g.numpy().tolist() == [1.0, -1.0]


def test_the_zero_norm_counts_a_nan_as_nonzero(lib):
    grads = [lib.tensor([1.0, math.nan, 2.0]), lib.tensor([0.0, 5.0])]
    # the count of nonzero per-tensor counts (3 and 1), not NaN
    assert float(lib.nn.utils.get_total_norm(grads, 0)) == 2.0
    p = lib.zeros(3, requires_grad=True)
    p.grad = lib.tensor([1.0, math.nan, 2.0])
    lib.nn.utils.clip_grad_norm_([p], 0.5, norm_type=0, error_if_nonfinite=True)
    np.testing.assert_allclose(p.grad.numpy(), [0.5, math.nan, 1.0], rtol=1e-5)  # float32


def test_the_total_norm_takes_the_promoted_dtype(lib):
    t = lib.nn.utils.get_total_norm([lib.ones(2), lib.ones(2, dtype=lib.float64)])
    assert str(t.dtype).endswith("float64")


class _Scale:
    @staticmethod
    def make(lib):
        class Scale(lib.nn.Module):
            def forward(self, x):
                return 2 * x

            def right_inverse(self, x):
                return x / 2

        return Scale()


def test_removing_a_parametrization_gives_back_the_same_tensor(lib):
    P = lib.nn.utils.parametrize
    m = lib.nn.Linear(2, 2)
    w = m.weight
    P.register_parametrization(m, "weight", _Scale.make(lib))
    P.remove_parametrizations(m, "weight", leave_parametrized=True)
    assert m.weight is w  # an optimizer holding w still holds the module's weight
    m.register_buffer("buf", lib.ones(2))
    P.register_parametrization(m, "buf", _Scale.make(lib))
    P.remove_parametrizations(m, "buf")
    assert [n for n, _ in m.named_buffers()] == ["buf"]
    assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight"]


@pytest.mark.parametrize("which", ["hooks", "parametrizations"])
def test_weight_norm_refuses_a_dim_out_of_range(lib, which):
    f = lib.nn.utils.weight_norm if which == "hooks" else lib.nn.utils.parametrizations.weight_norm
    with pytest.raises(IndexError):
        f(lib.nn.Linear(4, 3), dim=2)


def test_vector_to_parameters_takes_a_longer_vector_and_refuses_a_shorter(lib):
    p = lib.nn.Parameter(lib.zeros(2, 3, dtype=lib.float64))
    lib.nn.utils.vector_to_parameters(lib.arange(7.0, dtype=lib.float64), [p])
    assert p.detach().numpy().ravel().tolist() == [0.0, 1, 2, 3, 4, 5]
    with pytest.raises(RuntimeError):
        lib.nn.utils.vector_to_parameters(lib.arange(5.0, dtype=lib.float64), [p])


def test_fused_weights_require_grad_as_the_layers_did(lib):
    w = lib.ones(3, 2, 1, 1)
    fw, fb = lib.nn.utils.fuse_conv_bn_weights(
        w, None, lib.zeros(3), lib.ones(3), 1e-5, lib.ones(3), lib.zeros(3)
    )
    assert (fw.requires_grad, fb.requires_grad) == (False, False)
    bn = lib.nn.BatchNorm2d(2, track_running_stats=False).eval()
    with pytest.raises(AssertionError):
        lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(2, 2, 1).eval(), bn)


def test_embedding_bag_from_pretrained_and_repr(lib):
    w = lib.ones(4, 3)
    bag = lib.nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not bag.weight.requires_grad and tuple(bag.weight.shape) == (4, 3)
    r = repr(lib.nn.EmbeddingBag(10, 3, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True))
    assert r == (
        "EmbeddingBag(10, 3, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True, mode='mean')"
    )


def test_an_embedding_shares_the_memory_of_its_given_weight(lib):
    w = lib.zeros(4, 3)
    m = lib.nn.Embedding(4, 3, _weight=w)
    w.add_(1)
    assert m.weight.detach().numpy()[0].tolist() == [1.0, 1.0, 1.0]
    w = lib.ones(4, 3) * 3
    m = lib.nn.Embedding.from_pretrained(w, max_norm=1.0)
    m(lib.tensor([0]))
    np.testing.assert_allclose(w.numpy()[0], [3**-0.5] * 3, rtol=1e-6)  # renormalised in w


def test_alpha_dropout_modules_leave_their_input_alone(lib):
    x = lib.ones(4)
    y = lib.nn.AlphaDropout(0.5, inplace=True)(x)
    assert y is not x and x.numpy().tolist() == [1.0] * 4
    lib.nn.FeatureAlphaDropout(0.5, inplace=True)(lib.ones(2, 3, requires_grad=True))


def _refusals(m):
    """(name, exception class torch raises, call)."""
    nn, o = m.nn, m.ones
    return [
        ("negative Linear", RuntimeError, lambda: nn.Linear(-1, 4)),
        ("negative Bilinear", RuntimeError, lambda: nn.Bilinear(2, 2, -3)),
        ("negative Embedding", RuntimeError, lambda: nn.Embedding(5, -3)),
        ("negative EmbeddingBag", RuntimeError, lambda: nn.EmbeddingBag(-1, 3)),
        ("negative PReLU", RuntimeError, lambda: nn.PReLU(-1)),
        ("dropout1d rank", RuntimeError, lambda: nn.Dropout1d()(o(4))),
        ("dropout2d rank", RuntimeError, lambda: nn.Dropout2d()(o(4))),
        ("feature alpha rank", RuntimeError, lambda: nn.FeatureAlphaDropout()(o(4))),
        ("prelu channels", RuntimeError, lambda: nn.PReLU(3)(o(2, 4))),
        ("gelu mode", RuntimeError, lambda: nn.GELU("bad")(o(2))),
        ("gelu None", TypeError, lambda: nn.GELU(None)(o(2))),
        ("hardtanh bounds", AssertionError, lambda: nn.Hardtanh(1.0, -1.0)),
        ("embedding _weight", AssertionError, lambda: nn.Embedding(5, 3, _weight=o(4, 3))),
        ("from_pretrained 1-D", AssertionError, lambda: nn.Embedding.from_pretrained(o(5))),
        ("pixel_shuffle float", TypeError, lambda: nn.PixelShuffle(2.0)(o(1, 4, 2, 2))),
        ("channel_shuffle float", TypeError, lambda: nn.ChannelShuffle(2.0)(o(1, 4, 2))),
    ]


@pytest.mark.parametrize("k", range(16))
def test_layer_refusals_are_torchs_classes(refused_alike, k):
    cls = _refusals(ember)[k][1]
    refused_alike(lambda m: [(name, call) for name, _, call in _refusals(m)], k, cls)


def test_a_parametrization_must_keep_shape_and_dtype(lib):
    class FirstRowBack(lib.nn.Module):  # right_inverse changes the shape
        def forward(self, x):
            return x

        def right_inverse(self, x):
            return x[:1]

    class ToFloat32(lib.nn.Module):  # forward changes the dtype
        def forward(self, x):
            return x.float()

    P = lib.nn.utils.parametrize
    for p in (FirstRowBack(), ToFloat32()):
        m = lib.nn.Linear(3, 3).double()
        with pytest.raises(ValueError):
            P.register_parametrization(m, "weight", p)
        if lib is ember:  # left as it was (torch's keeps what right_inverse wrote)
            assert tuple(m.weight.shape) == (3, 3) and str(m.weight.dtype).endswith("float64")
    m = lib.nn.Linear(3, 3).double()
    P.register_parametrization(m, "weight", lib.nn.Identity())
    with pytest.raises(ValueError):  # appended to a chain, too
        P.register_parametrization(m, "weight", ToFloat32())


def test_assigning_a_parametrized_tensor_checks_as_torch(lib):
    P = lib.nn.utils.parametrize
    m = lib.nn.Linear(3, 3)
    P.register_parametrization(m, "weight", _Scale.make(lib))
    with pytest.raises(ValueError):  # another dtype (ember cast it)
        m.weight = lib.ones(3, 3, dtype=lib.float64)
    with pytest.raises(ValueError):  # no tensor (ember took the array)
        m.weight = np.ones((3, 3), np.float32)
    m.weight = lib.ones(2, 3)  # another shape is taken, as torch's set_ takes it
    assert tuple(m.weight.shape) == (2, 3)


@pytest.mark.parametrize(
    "name,padding", [("ZeroPad2d", (1, 2)), ("ReplicationPad2d", (1, 2)),
                     ("CircularPad2d", (1, 2)), ("ConstantPad3d", (1, 2, 3, 4))],
)  # fmt: skip
def test_padding_modules_hand_a_tuple_on_as_given(torch, name, padding):
    x = np.arange(12.0).reshape(1, 3, 4)
    args = (padding, 0.5) if name.startswith("Constant") else (padding,)
    got = getattr(ember.nn, name)(*args)
    want = getattr(torch.nn, name)(*args)
    assert repr(got) == repr(want)
    np.testing.assert_array_equal(got(ember.tensor(x)).numpy(), want(torch.tensor(x)).numpy())


def test_an_odd_padding_is_refused_at_the_forward(refused_alike):
    def make(m):
        return [("odd", lambda: m.nn.ZeroPad1d((1, 2, 3))(m.ones(1, 3, 4)))]

    refused_alike(make, 0)


@pytest.mark.parametrize("shape", [(3, 4), (1, 2, 3, 4, 5), (2, 3, 4)])
def test_dropout2d_takes_other_ranks_with_torchs_warning(lib, shape):
    with pytest.warns(UserWarning, match="dropout2d: Received a"):
        y = lib.nn.Dropout2d(0.5)(lib.ones(*shape))
    assert tuple(y.shape) == shape


@pytest.mark.parametrize("shape", [(3, 4, 5), (3,), (2, 3, 4, 5, 6, 7)])
def test_dropout3d_takes_other_ranks_as_unbatched(lib, shape):
    with pytest.warns(UserWarning, match="dropout3d: Received a"):
        y = lib.nn.Dropout3d(0.5)(lib.ones(*shape))
    kept = y.detach().numpy().reshape(shape[0], -1)  # one draw per slice of dim 0
    assert all(len(set(row.tolist())) == 1 for row in kept)


def test_unflatten_checks_its_sizes_and_keeps_them_as_given(lib):
    assert repr(lib.nn.Unflatten(1, [2, 3])) == "Unflatten(dim=1, unflattened_size=[2, 3])"
    for bad in ((2, 3.0), (("a", 2), ("b", 3)), 6):
        with pytest.raises(TypeError):
            lib.nn.Unflatten(1, bad)
