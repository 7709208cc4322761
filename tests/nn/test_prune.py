"""nn.utils.prune against torch.nn.utils.prune: masks of the deterministic methods, state_dict
names, outputs and gradients, iterative pruning, remove; random methods by counts."""

import numpy as np
import pytest

import ember
import ember.nn.utils.prune as prune
from ember import nn
from tests.core_reference import randn


def _tp(torch):
    import torch.nn.utils.prune as tp  # not imported by ``import torch``

    return tp


def _pair(torch, make_e, make_t, seed=0):
    """An ember and a torch layer with the same float64 weights."""
    ours, theirs = make_e().double(), make_t().double()
    for k, v in theirs.state_dict().items():
        theirs.state_dict()[k].copy_(torch.tensor(randn(*v.shape, seed=seed + len(k))))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _linear(torch, seed=0):
    return _pair(torch, lambda: nn.Linear(7, 5), lambda: torch.nn.Linear(7, 5), seed)


def _conv(torch, seed=0):
    return _pair(torch, lambda: nn.Conv2d(3, 6, 3), lambda: torch.nn.Conv2d(3, 6, 3), seed)


def _same_mask(ours, theirs, name="weight"):
    e = getattr(ours, name + "_mask").array
    t = getattr(theirs, name + "_mask").detach().numpy()
    np.testing.assert_array_equal(e, t)


def _same_forward_backward(torch, ours, theirs, x):
    ye, yt = ours(ember.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = randn(*ye.shape, seed=9)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for (ne, pe), (nt, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert ne == nt
        np.testing.assert_allclose(pe.grad.array, pt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("amount", [0.3, 11, 0.0, 1.0])
def test_l1_unstructured_matches_torch(torch, amount):
    ours, theirs = _linear(torch)
    assert prune.l1_unstructured(ours, "weight", amount) is ours
    _tp(torch).l1_unstructured(theirs, "weight", amount)
    _same_mask(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    np.testing.assert_array_equal(ours.weight.array, theirs.weight.detach().numpy())
    _same_forward_backward(torch, ours, theirs, randn(4, 7, seed=3))
    assert (ours.weight_orig.grad.array[ours.weight_mask.array == 0] == 0).all()
    assert prune.is_pruned(ours) and not prune.is_pruned(nn.Linear(2, 2))


@pytest.mark.parametrize("n", [1, 2, 3, float("inf"), -float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_torch(torch, n, dim):
    ours, theirs = _conv(torch)
    prune.ln_structured(ours, "weight", 0.5, n=n, dim=dim)
    _tp(torch).ln_structured(theirs, "weight", 0.5, n=n, dim=dim)
    _same_mask(ours, theirs)
    _same_forward_backward(torch, ours, theirs, randn(2, 3, 6, 6, seed=4))


def test_iterative_pruning_composes_like_torch(torch):
    """l1 → ln_structured → l1 (with importance scores) → custom mask: each prunes among
    the survivors, as torch's PruningContainer."""
    ours, theirs = _conv(torch, seed=5)
    scores = randn(6, 3, 3, 3, seed=6)
    mask = (randn(6, 3, 3, 3, seed=7) > -1.0).astype(np.float64)
    steps = [
        ("l1_unstructured", ("weight", 0.2), {}),
        ("ln_structured", ("weight", 2), {"n": 1, "dim": 0}),
        ("l1_unstructured", ("weight", 13), {"importance_scores": scores}),
        ("custom_from_mask", ("weight",), {"mask": mask}),
    ]
    for fn, args, kw in steps:
        kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        getattr(prune, fn)(ours, *args, **kw)
        getattr(_tp(torch), fn)(theirs, *args, **kw_t)
        _same_mask(ours, theirs)
    hooks = [h for h in ours._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert [type(m).__name__ for m in hooks[0]] == [
        "L1Unstructured",
        "LnStructured",
        "L1Unstructured",
        "CustomFromMask",
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _same_forward_backward(torch, ours, theirs, randn(2, 3, 5, 5, seed=8))


def test_iterative_random_pruning_reaches_total_sparsity():
    ember.manual_seed(0)
    lin = nn.Linear(10, 10)
    prune.random_unstructured(lin, "weight", 0.3)  # 30 of 100
    assert lin.weight_mask.array.sum() == 70
    prune.random_unstructured(lin, "weight", 0.3)  # 21 of the 70 left
    assert lin.weight_mask.array.sum() == 49
    prune.random_unstructured(lin, "weight", 9)
    assert lin.weight_mask.array.sum() == 40
    before = lin.weight_mask.array.copy()
    prune.l1_unstructured(lin, "weight", 0.5)
    assert lin.weight_mask.array.sum() == 20
    # the l1 step pruned the 20 smallest of the 40 survivors, nothing already pruned
    a, after = np.abs(lin.weight_orig.array), lin.weight_mask.array
    assert (after <= before).all()
    assert a[(before == 1) & (after == 0)].max() < a[after == 1].min()


def test_random_structured_prunes_whole_channels():
    ember.manual_seed(1)
    conv = nn.Conv2d(4, 8, 3)
    prune.random_structured(conv, "weight", 3, dim=0)
    m = conv.weight_mask.array
    per_channel = m.reshape(8, -1).sum(axis=1)
    assert sorted(per_channel.tolist()) == [0.0] * 3 + [36.0] * 5
    prune.random_structured(conv, "weight", 0.4, dim=0)  # round(0.4 · 5) = 2 of the survivors
    assert (m.reshape(8, -1).sum(axis=1) > 0).sum() == 5  # the old mask is untouched
    assert (conv.weight_mask.array.reshape(8, -1).sum(axis=1) > 0).sum() == 3
    assert (conv.weight.array.reshape(8, -1)[per_channel == 0] == 0).all()


def test_random_draws_come_from_embers_generator():
    masks = []
    for _ in range(2):
        ember.manual_seed(3)
        lin = nn.Linear(6, 6)
        prune.random_unstructured(lin, "weight", 0.5)
        masks.append(lin.weight_mask.array.copy())
        assert masks[-1].sum() == 18
    np.testing.assert_array_equal(*masks)


def test_ties_pruned_earliest_first(torch):
    """torch's topk picks among ties in a size-dependent order; ember prunes the earliest.
    Entries whose magnitude is not tied with the threshold agree with torch."""
    w = np.array([[3.0, -1, 2, 1, 1, 2], [0, 2, -1, 4, 5, 1]])
    ours, theirs = nn.Linear(6, 2).double(), torch.nn.Linear(6, 2).double()
    ours.weight.array[...] = w
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    prune.l1_unstructured(ours, "weight", 3)
    _tp(torch).l1_unstructured(theirs, "weight", 3)
    e, t = ours.weight_mask.array, theirs.weight_mask.numpy()
    assert e.sum() == t.sum() == 9
    untied = np.abs(w) != 1
    np.testing.assert_array_equal(e[untied], t[untied])
    np.testing.assert_array_equal(e.reshape(-1)[[1, 3, 4, 8, 11]], [0, 0, 1, 1, 1])
    # structured: channels 0 and 2 tie; the earliest is kept
    conv = nn.Linear(2, 3).double()
    conv.weight.array[...] = [[1.0, 1], [3, 3], [1, -1]]
    prune.ln_structured(conv, "weight", 1, n=2, dim=0)
    np.testing.assert_array_equal(conv.weight_mask.array, [[1, 1], [1, 1], [0, 0]])


def test_custom_from_mask_and_loading_a_torch_pruned_state(torch):
    ours, theirs = _linear(torch, seed=2)
    mask = (randn(5, 7, seed=11) > 0).astype(np.float64)
    prune.custom_from_mask(ours, "weight", ember.tensor(mask))
    _tp(torch).custom_from_mask(theirs, "weight", torch.tensor(mask))
    _same_mask(ours, theirs)
    # a fresh pruned module takes torch's pruned state_dict, mask included
    fresh = prune.identity(nn.Linear(7, 5).double(), "weight")
    np.testing.assert_array_equal(fresh.weight_mask.array, np.ones((5, 7)))
    fresh.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    _same_forward_backward(torch, fresh, theirs, randn(3, 7, seed=12))
    np.testing.assert_array_equal(fresh.weight_orig.grad.array[mask == 0], 0)


@pytest.mark.parametrize("scored", [False, True])
def test_global_unstructured_matches_torch(torch, scored):
    a_e, a_t = _linear(torch, seed=1)
    b_e, b_t = _conv(torch, seed=2)
    prune.l1_unstructured(b_e, "weight", 0.25)  # an already pruned member keeps its mask
    _tp(torch).l1_unstructured(b_t, "weight", 0.25)
    s_a, s_b = randn(5, 7, seed=13), randn(6, 3, 3, 3, seed=14)
    kw_e = {"importance_scores": {(a_e, "weight"): s_a, (b_e, "bias"): s_b[:, 0, 0, 0]}}
    kw_t = {"importance_scores": {(a_t, "weight"): torch.tensor(s_a), (b_t, "bias"): None}}
    kw_t["importance_scores"][(b_t, "bias")] = torch.tensor(s_b[:, 0, 0, 0])
    params_e = [(a_e, "weight"), (a_e, "bias"), (b_e, "weight"), (b_e, "bias")]
    params_t = [(a_t, "weight"), (a_t, "bias"), (b_t, "weight"), (b_t, "bias")]
    args_e = kw_e if scored else {}
    args_t = kw_t if scored else {}
    prune.global_unstructured(params_e, prune.L1Unstructured, amount=0.4, **args_e)
    _tp(torch).global_unstructured(params_t, _tp(torch).L1Unstructured, amount=0.4, **args_t)
    for (m_e, n), (m_t, _) in zip(params_e, params_t):
        _same_mask(m_e, m_t, n)
    total = sum(getattr(m, n + "_mask").array.size for m, n in params_e)
    pruned = sum((getattr(m, n + "_mask").array == 0).sum() for m, n in params_e)
    first = round(0.25 * 162)  # 40: round half to even, as torch
    assert pruned == round(0.4 * (total - first)) + first
    with pytest.raises(TypeError):
        prune.global_unstructured(params_e, prune.LnStructured, amount=1, n=2, dim=0)


def test_remove_makes_pruning_permanent(torch):
    ours, theirs = _linear(torch, seed=3)
    prune.l1_unstructured(ours, "weight", 0.5)
    prune.random_unstructured(ours, "bias", 2)
    _tp(torch).l1_unstructured(theirs, "weight", 0.5)
    w = ours.weight.array.copy()
    assert prune.remove(ours, "weight") is ours
    _tp(torch).remove(theirs, "weight")
    assert isinstance(ours.weight, nn.Parameter)
    np.testing.assert_array_equal(ours.weight.array, w)
    np.testing.assert_array_equal(ours.weight.array, theirs.weight.detach().numpy())
    assert not hasattr(ours, "weight_orig") and not hasattr(ours, "weight_mask")
    assert "weight" in dict(ours.named_parameters())
    assert prune.is_pruned(ours)  # the bias still is
    prune.remove(ours, "bias")
    assert not prune.is_pruned(ours)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["bias", "weight"]
    assert (ours.bias.array == 0).sum() == 2
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(ours, "weight")


def test_hook_recomputes_weight_through_training():
    """An optimizer moves weight_orig; the pre-hook re-masks it, so pruned entries stay zero."""
    ember.manual_seed(4)
    lin = nn.Linear(4, 3)
    prune.l1_unstructured(lin, "weight", 6)
    opt = ember.optim.SGD(lin.parameters(), lr=0.5)
    before = lin.weight_orig.array.copy()
    x = ember.tensor(randn(5, 4, seed=1).astype(np.float32))
    for _ in range(2):
        opt.zero_grad()
        (lin(x) ** 2).sum().backward()
        opt.step()
    dead = lin.weight_mask.array == 0
    np.testing.assert_array_equal(lin.weight_orig.array[dead], before[dead])  # no gradient
    assert (lin.weight_orig.array[~dead] != before[~dead]).all()
    lin(x)
    np.testing.assert_array_equal(lin.weight.array, lin.weight_orig.array * lin.weight_mask.array)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]


def test_prune_method_and_errors():
    t = ember.tensor(np.array([[1.0, -4, 2], [0.5, 3, -2]]))
    out = prune.L1Unstructured(amount=2).prune(t)
    np.testing.assert_array_equal(out.array, [[0.0, -4, 2], [0, 3, -2]])
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError):
        prune.l1_unstructured(lin, "weight", 7)
    assert isinstance(lin.weight, nn.Parameter) and not hasattr(lin, "weight_orig")
    with pytest.raises(ValueError):
        prune.L1Unstructured(amount=1.5)
    with pytest.raises(ValueError):
        prune.L1Unstructured(amount=-1)
    with pytest.raises(TypeError):
        prune.L1Unstructured(amount="half")
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(lin, "bias", 1, n=2, dim=0)
    with pytest.raises(AssertionError):
        prune.l1_unstructured(lin, "weight", 1, importance_scores=np.ones(3))
