"""Views and aliases of a tensor's plain aliases follow its in-place changes, as in torch.

h = x·1.5 is in the graph; a = h.detach() (or h.data) shares h's memory in torch, and so do
a[0], a.t(), a.detach(), a.data and a view of h taken under no_grad. When a recorded in-place
op changes h (ember gives h new memory, tensor_inplace.py), every one of them must show h's
new values, and a write through them must land in h, as torch's shared storage makes it.
"""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8, 2.0], [-0.4, 0.9, -2.2, 0.15], [1.1, -0.6, 0.5, -0.05]])

#: name → how to make the plain tensor from h (lib: ember or torch)
MAKE = {
    "index of detach": lambda h, lib: h.detach()[0],
    "slice of data": lambda h, lib: h.data[1:, ::2],
    "transpose of detach": lambda h, lib: h.detach().t(),
    "view of an index of detach": lambda h, lib: h.detach()[1].view(2, 2),
    "reshape of data": lambda h, lib: h.data.reshape(4, 3),
    "narrow of detach": lambda h, lib: h.detach().narrow(1, 1, 2),
    "detach of detach": lambda h, lib: h.detach().detach(),
    "data of data": lambda h, lib: h.data.data,
    "detach of data": lambda h, lib: h.data.detach(),
    "index of detach of detach": lambda h, lib: h.detach().detach()[2],
    "view under no_grad": lambda h, lib: _no_grad_view(h, lib),
}


def _no_grad_view(h, lib):
    with lib.no_grad():
        return h[1:, 1:]


def _graph(lib):
    x = lib.tensor(X, requires_grad=True)
    return x, x * 1.5


@pytest.mark.parametrize("name", sorted(MAKE))
def test_follows_later_in_place_changes(torch, name):
    got = []
    for lib in (ember, torch):
        _, h = _graph(lib)
        v = MAKE[name](h, lib)
        h.relu_()
        first = v.detach().numpy().copy()
        h.mul_(lib.tensor(2.0))  # a second change: v keeps following
        got.append((first, v.detach().numpy().copy()))
    for g, w in zip(*got):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", ["index of detach", "transpose of detach", "data of data"])
def test_a_write_through_it_lands_in_the_tensor(torch, name):
    got = []
    for lib in (ember, torch):
        x, h = _graph(lib)
        v = MAKE[name](h, lib)
        h.add_(lib.tensor(0.25))  # recorded: ember gives h new memory
        v.mul_(3.0)  # outside autograd, into h's memory
        got.append(h.detach().numpy().copy())
    np.testing.assert_array_equal(*got)


def test_pieces_of_unbind_of_detach_follow(torch):
    got = []
    for lib in (ember, torch):
        _, h = _graph(lib)
        pieces = h.detach().unbind(1)
        h.clamp_(min=0.0)
        got.append([p.numpy().copy() for p in pieces])
    for g, w in zip(*got):
        np.testing.assert_array_equal(g, w)


def test_gradient_is_unchanged_by_what_follows(torch):
    """Noting the views costs the graph nothing: h's gradient is torch's."""
    grads = []
    for lib in (ember, torch):
        x, h = _graph(lib)
        keep = [f(h, lib) for f in MAKE.values()]
        h.relu_()
        (h * h).sum().backward()
        grads.append(x.grad.numpy())
        assert len(keep) == len(MAKE)
    np.testing.assert_allclose(*grads, rtol=1e-12)


def test_a_copy_made_by_an_advanced_index_does_not_follow():
    _, h = _graph(ember)
    copy = h.detach()[[0, 2]]
    before = copy.numpy().copy()
    h.relu_()
    np.testing.assert_array_equal(copy.numpy(), before)


#: in-place changes of h in order; a write through a diagonal makes h a view of new memory
CHANGES = {
    "diagonal, then all of h": [
        lambda h, lib: h.diagonal().mul_(2.0),
        lambda h, lib: h.mul_(lib.tensor(2.0)),
    ],
    "offset diagonal, then an index": [
        lambda h, lib: h.diagonal(1).add_(lib.tensor(0.5)),
        lambda h, lib: h[1].clamp_(min=0.0),
    ],
    "all of h, then a diagonal of its transpose": [
        lambda h, lib: h.relu_(),
        lambda h, lib: h.t().diagonal(-1).mul_(lib.tensor(3.0)),
    ],
}


@pytest.mark.parametrize("when", ["before", "between"])
@pytest.mark.parametrize("changes", sorted(CHANGES))
def test_follows_writes_through_a_diagonal(torch, changes, when):
    """The alias (and a view of it) taken before the changes, or between them, shows h."""
    got = []
    for lib in (ember, torch):
        _, h = _graph(lib)
        first, second = CHANGES[changes]
        if when == "before":
            a = h.detach()
        first(h, lib)
        if when == "between":
            a = h.detach()
        v = a[1:, ::2]
        second(h, lib)
        got.append((h.detach().numpy().copy(), a.numpy().copy(), v.numpy().copy()))
    for g, w in zip(*got):
        np.testing.assert_array_equal(g, w)
