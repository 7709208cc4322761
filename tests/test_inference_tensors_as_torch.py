"""Inference tensors as torch 2.13's inference_mode makes them (autograd_inference.py): which
tensors are inference tensors, and the three things torch forbids with them outside the mode
(an in-place change, requires_grad_(), being saved for backward). Before, ember's
inference_mode was no_grad alone and is_inference() was always False."""

import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def test_what_is_made_inside_is_an_inference_tensor(lib):
    with lib.inference_mode():
        a = lib.ones(3)
        w = lib.ones(3, requires_grad=True)
        made = [a.is_inference(), (a * 2).is_inference(), a[0:2].is_inference(), w.is_inference()]
        assert w.requires_grad and not (w * 2).requires_grad
        assert a.add_(1).is_inference()  # inside the mode, in place is fine
    assert made == [True, True, True, True]
    assert lib.is_inference(a) and not lib.ones(3).is_inference()


def test_views_follow_their_base_ops_outside_make_normal_tensors(lib):
    with lib.inference_mode():
        a = lib.ones(3)
    n = lib.ones(3)
    with lib.inference_mode():
        inside = [n.view(3), n.detach(), n[[0, 1]], n * 1]
        pieces = a.split(1)
    outside = [a.view(3), a.detach(), a[1:], *a.split(1), a * 2, a.clone(), a.exp()]
    assert [t.is_inference() for t in inside] == [False, False, True, True]
    assert all(t.is_inference() for t in pieces)
    assert [t.is_inference() for t in outside] == [True] * 6 + [False] * 3


def test_inference_mode_false_makes_normal_tensors(lib):
    with lib.inference_mode(), lib.inference_mode(False):
        assert not lib.ones(2).is_inference()


_WRITES = {
    "add_": lambda lib, z: z.add_(1),
    "setitem": lambda lib, z: z.__setitem__(0, 5.0),
    "copy_": lambda lib, z: z.copy_(lib.ones(2)),
    "zero_": lambda lib, z: z.zero_(),
    "fill_": lambda lib, z: z.fill_(2),
    "unsqueeze_": lambda lib, z: z.unsqueeze_(0),
    "out=": lambda lib, z: lib.add(lib.ones(2), 1, out=z),
    "uniform_": lambda lib, z: z.uniform_(),
    "requires_grad_": lambda lib, z: z.requires_grad_(),
}


@pytest.mark.parametrize("write", sorted(_WRITES))
@pytest.mark.parametrize("no_grad", [False, True])
def test_outside_the_mode_an_inference_tensor_is_not_changed_in_place(lib, write, no_grad):
    with lib.inference_mode():
        z = lib.zeros(2)
    with lib.no_grad() if no_grad else lib.enable_grad():
        with pytest.raises(RuntimeError, match="nference tensor outside InferenceMode"):
            _WRITES[write](lib, z)
    with lib.inference_mode():
        _WRITES[write](lib, z)  # inside the mode, each is allowed
    if write != "requires_grad_":
        with lib.inference_mode():
            _WRITES[write](lib, lib.zeros(2))


_OPS = {
    "add": (lambda lib, a, p: a + p, True),
    "sub": (lambda lib, a, p: p - a, True),
    "add alpha": (lambda lib, a, p: lib.add(p, a, alpha=2), True),
    "cat": (lambda lib, a, p: lib.cat([a, p]), True),
    "stack": (lambda lib, a, p: lib.stack([a, p]), True),
    "sum times": (lambda lib, a, p: a.sum() * p, True),
    "masked_fill": (lambda lib, a, p: p.masked_fill(a > 1, 0.0), True),
    "mul": (lambda lib, a, p: a * p, False),
    "div": (lambda lib, a, p: p / a, False),
    "matmul": (lambda lib, a, p: a @ p, False),
    "linear": (lambda lib, a, p: lib.nn.functional.linear(a[None], p[None]), False),
    "maximum": (lambda lib, a, p: lib.maximum(a, p), False),
    "pow": (lambda lib, a, p: p**a, False),
    "atan2": (lambda lib, a, p: lib.atan2(a, p), False),
    "dot": (lambda lib, a, p: lib.dot(a, p), False),
}


@pytest.mark.parametrize("name", sorted(_OPS))
def test_a_recorded_op_refuses_to_save_an_inference_input(lib, name):
    op, allowed = _OPS[name]
    with lib.inference_mode():
        a = lib.tensor([1.0, 2.0, 0.5])
    p = lib.tensor([0.5, 1.5, 2.5], requires_grad=True)
    if allowed:
        op(lib, a, p).sum().backward()
        assert p.grad is not None
    else:
        with pytest.raises(RuntimeError, match="nference tensors cannot be saved for backward"):
            op(lib, a, p).sum().backward()
    with lib.no_grad():
        op(lib, a, p)  # nothing recorded, nothing saved


def test_a_module_fed_an_inference_batch_in_training(lib):
    layer = lib.nn.Linear(3, 2)
    with lib.inference_mode():
        x = lib.ones(1, 3)
        assert layer(x).is_inference()
    with pytest.raises(RuntimeError, match="nference tensors cannot be saved for backward"):
        layer(x).sum().backward()
    layer(x.clone()).sum().backward()  # torch's workaround: a clone is a normal tensor


def test_cat_and_stack_run_backward_twice_as_torch(lib):
    """Their nodes keep no values (torch's CatBackward0/StackBackward0 save none), so a second
    backward without retain_graph runs them again."""
    p = lib.ones(2, requires_grad=True)
    s = lib.stack([p + 1, p]).sum() + lib.cat([p + 1, p - 1]).sum()
    s.backward()
    s.backward()
    assert p.grad.tolist() == [8.0, 8.0]


def test_ops_run_on_plain_arrays_after_a_region():
    """apply also takes raw arrays (with an observer, nonzero's columns are GetItem on its index
    array): once inference_mode has been used, the view rule must not read them as Tensors."""
    import numpy as np

    from ember.ops import shape as S
    from ember.tensor import apply

    with ember.inference_mode():
        ember.ones(1)
    piece = apply(S.GetItem, np.arange(4), index=(slice(1, 3),))
    assert piece.tolist() == [1, 2] and not piece.is_inference()
    with ember.inference_mode():
        assert apply(S.GetItem, np.arange(4), index=(slice(1, 3),)).is_inference()


def test_an_index_view_of_a_normal_tensor_made_inside_stays_normal(lib):
    """x[0:2] and x[1] take the indexing fast path, whose Tensor() marks what is made inside
    a region: the view rule must set the flag back (found in review)."""
    n = lib.ones(3)
    w = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        v, s = n[0:2], n[1]
    assert not v.is_inference() and not s.is_inference()
    v.add_(1)
    (v * w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]
