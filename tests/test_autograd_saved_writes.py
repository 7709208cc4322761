"""Writes outside autograd into memory a recorded op saved raise at backward, as torch's version
counters make it raise, and only then (ember/autograd_saved_writes.py).

Each case is one program run with ``lib`` = ember and ``lib`` = torch: both must raise torch's
"modified by an inplace operation" at backward, or both must finish with the same gradients.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import ember
from ember import autograd_saved_writes as SW

torch = pytest.importorskip("torch")

MODIFIED = "modified by an inplace operation"


def _data(lib, shape, seed, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return lib.tensor(a, dtype=lib.float64, requires_grad=requires_grad)


def _fixed(lib, net):
    """net in float64 with the same parameters in both frameworks."""
    net = net.double()
    with lib.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(_data(lib, tuple(p.shape), 10 + i))
    return net


def plain_factor_written(lib):  # Mul saved the plain factor for w's gradient
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w * x).sum()
    x.add_(1)
    y.backward()
    return [w.grad]


def plain_addend_written(lib):  # Add saves nothing: the write misleads nothing
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w + x).pow(2).sum()
    x.add_(1)
    y.backward()
    return [w.grad]


def output_written_under_no_grad(lib):  # exp saved its output
    w = _data(lib, 3, 0, True)
    y = w.exp()
    with lib.no_grad():
        y.mul_(2)
    y.sum().backward()
    return [w.grad]


def parameter_stepped_before_second_backward(lib):  # the second layer saved its weight
    net = _fixed(lib, lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)))
    loss = net(_data(lib, (5, 3), 1)).pow(2).sum()
    loss.backward(retain_graph=True)
    lib.optim.SGD(net.parameters(), lr=0.1).step()
    loss.backward()
    return [p.grad for p in net.parameters()]


def one_linear_on_data_stepped(lib):  # W·x with x data: torch saves x only, so does ember
    lin = _fixed(lib, lib.nn.Linear(3, 2))
    loss = lin(_data(lib, (5, 3), 1)).pow(2).sum()
    loss.backward(retain_graph=True)
    lib.optim.SGD(lin.parameters(), lr=0.1).step()
    loss.backward()
    return [lin.weight.grad, lin.bias.grad]


def written_through_detach(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1, True)
    y = (w * x).sum()
    x.detach().add_(1)
    y.backward()
    return [w.grad, x.grad]


def written_through_data(lib):  # .data counts no version in torch: the new value is used
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1, True)
    y = (w * x).sum()
    x.data.add_(1)
    y.backward()
    return [w.grad, x.grad]


def view_written_under_no_grad(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1, True)
    y = (w * x).sum()
    with lib.no_grad():
        x[0].fill_(5)
    y.backward()
    return [w.grad]


def other_part_of_storage_written(lib):  # one counter per storage, as torch's
    w, base = _data(lib, 2, 0, True), lib.zeros(4, dtype=lib.float64)
    y = (w * base[:2]).sum()
    base[2:].fill_(1)
    y.backward()
    return [w.grad]


def written_before_the_op(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    x.add_(1)
    y = (w * x).sum()
    y.backward()
    return [w.grad]


def _linear_input_grad_after(lib, write):
    lin = _fixed(lib, lib.nn.Linear(3, 2))
    x = _data(lib, (5, 3), 1, True)
    y = lin(x).sum()  # saved the weight for x's gradient
    write(lib, lin)
    y.backward()
    return [x.grad]


def weight_initialised_while_saved(lib):
    return _linear_input_grad_after(lib, lambda lib, lin: lib.nn.init.zeros_(lin.weight))


def state_dict_loaded_while_saved(lib):
    def load(lib, lin):
        lin.load_state_dict({k: v * 2 for k, v in lin.state_dict().items()})

    return _linear_input_grad_after(lib, load)


def plain_index_assignment(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w * x).sum()
    x[0] = 3.0
    y.backward()
    return [w.grad]


def random_fill_of_saved(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w * x).sum()
    x.normal_()
    y.backward()
    return [w.grad]


def matmul_plain_right_written(lib):  # w @ x saved x for w's gradient
    w, x = _data(lib, (2, 3), 0, True), _data(lib, (3, 4), 1)
    y = (w @ x).sum()
    x.mul_(2)
    y.backward()
    return [w.grad]


def matmul_unsaved_operand_written(lib):  # x @ w with x data: w is not saved
    w, x = _data(lib, (3, 4), 0, True), _data(lib, (2, 3), 1)
    y = (x @ w).sum()
    with lib.no_grad():
        w.mul_(2)
    y.backward()
    return [w.grad]


def mul_unsaved_factor_written(lib):  # w * x with x data: w is not saved
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w * x).sum()
    with lib.no_grad():
        w.mul_(2)
    y.backward()
    return [w.grad]


def through_autograd_grad(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w * x).sum()
    x.sub_(1)
    return list(lib.autograd.grad(y, [w]))


def through_create_graph(lib):
    w, x = _data(lib, 3, 0, True), _data(lib, 3, 1)
    y = (w * x).pow(2).sum()
    x.sub_(1)
    return list(lib.autograd.grad(y, [w], create_graph=True))


def new_graph_after_the_step(lib):  # the usual loop: every write comes after its backward
    net = _fixed(lib, lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)))
    opt = lib.optim.Adam(net.parameters(), lr=0.1)
    x = _data(lib, (5, 3), 1)
    for _ in range(3):
        opt.zero_grad()
        net(x).pow(2).sum().backward()
        opt.step()
    return [p.grad for p in net.parameters()]


CASES = [
    plain_factor_written, plain_addend_written, output_written_under_no_grad,
    parameter_stepped_before_second_backward, one_linear_on_data_stepped,
    written_through_detach, written_through_data, view_written_under_no_grad,
    other_part_of_storage_written, written_before_the_op, weight_initialised_while_saved,
    state_dict_loaded_while_saved, plain_index_assignment, random_fill_of_saved,
    matmul_plain_right_written, matmul_unsaved_operand_written, mul_unsaved_factor_written,
    through_autograd_grad, through_create_graph, new_graph_after_the_step,
]  # fmt: skip


def _outcome(lib, case):
    try:
        return [None if g is None else np.asarray(g.detach().numpy()) for g in case(lib)]
    except RuntimeError as e:
        return str(e)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_as_torch(case):
    want, got = _outcome(torch, case), _outcome(ember, case)
    if isinstance(want, str):
        assert MODIFIED in want, want  # the case is about torch's version check
        assert isinstance(got, str) and MODIFIED in got, got
        return
    assert not isinstance(got, str), got
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g is None and w is None or np.allclose(g, w, rtol=1e-12, atol=1e-12)


def test_the_cases_cover_both_outcomes():
    outcomes = [isinstance(_outcome(torch, c), str) for c in CASES]
    assert 5 <= sum(outcomes) <= len(CASES) - 5


def test_message_names_the_array_and_the_op():
    w, x = ember.ones(3, requires_grad=True), ember.ones(3)
    y = (w * x).sum()
    x.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED) as e:
        y.backward()
    assert "shape [3]" in str(e.value) and "MulBackward" in str(e.value)


def test_entries_go_with_their_memory():
    """A written array's entry is dropped when the array dies (a later array at the same
    address is other memory), so the record does not grow with temporary buffers."""
    before = len(SW._written)
    for _ in range(50):
        t = ember.zeros(4)
        t.fill_(1.0)
        del t
    gc.collect()
    assert len(SW._written) <= before + 1


def test_only_ops_older_than_a_write_are_checked(monkeypatch):
    """The sweep looks at an op's saved arrays only when it was recorded before the newest
    write: a training step that writes after its backward costs the next graph nothing."""
    calls = []
    monkeypatch.setattr("ember.autograd.check_saved", lambda fn: calls.append(fn))
    w = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        w.mul_(2)
    (w * w).sum().backward()
    assert calls == []
    y = (w * w).sum()
    with ember.no_grad():
        w.grad.zero_()
    y.backward()
    assert len(calls) == 2  # Sum and Mul, both recorded before the write


def _shape_changed_then_used(lib, change):
    x = _data(lib, (2, 3), 0, True)
    h = x * 2
    y = h.exp()  # recorded before the change: its gradient keeps the old shape
    with lib.no_grad():
        change(h)
    (y.sum() + (h * _data(lib, tuple(h.shape), 1)).sum()).backward()
    return [x.grad]


@pytest.mark.parametrize(
    "change",
    [lambda h: h.unsqueeze_(1), lambda h: h.t_(), lambda h: h.unsqueeze_(0).squeeze_(0)],
    ids=["unsqueeze_", "t_", "unsqueeze_squeeze_"],
)
def test_shape_changed_under_no_grad(change):
    """A recorded op's output whose shape changes under no_grad cannot take a gradient of the
    new shape: both frameworks raise at backward (and pass where the shape came back)."""
    want = _outcome(torch, lambda lib: _shape_changed_then_used(lib, change))
    got = _outcome(ember, lambda lib: _shape_changed_then_used(lib, change))
    if isinstance(want, str):
        assert "expected shape compatible with" in want, want
        assert isinstance(got, str) and "expected shape compatible with" in got, got
    else:
        assert np.allclose(got[0], want[0], rtol=1e-12, atol=1e-12)
