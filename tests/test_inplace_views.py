"""In-place changes through views with autograd (tensor_views.py), each against torch: a write
into a transpose, a reshape or a diagonal reaches the tensor it views; a view changed twice
keeps reaching it; a change of the base shows through views already written; and what ember
still refuses says so where the mistake is made."""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8, 2.0], [-0.4, 0.9, -2.2, 0.15], [1.1, -0.6, 0.5, -0.05]])
W = np.linspace(-1.0, 1.3, 12).reshape(3, 4)
O4 = np.linspace(0.5, 2.0, 4)


def _run(lib, change):
    """x, o leaves (float64); h = x·1.5; change(h, o, lib) works on h through views; the loss
    is Σ h·W (plus Σ of whatever change returns). Returns h and the gradients of x and o."""
    x = lib.tensor(X, requires_grad=True)
    o = lib.tensor(O4, requires_grad=True)
    h = x * 1.5
    extra = change(h, o, lib)
    loss = (h * lib.tensor(W)).sum()
    if extra is not None:
        loss = loss + (extra * extra).sum()
    loss.backward()
    grads = [None if t.grad is None else t.grad.numpy() for t in (x, o)]
    out = h.detach().numpy()
    return [out, *grads] if extra is None else [out, extra.detach().numpy(), *grads]


def _same(torch, change):
    got, want = _run(ember, change), _run(torch, change)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


ONE_VIEW = {
    "t": lambda h, o, lib: h.t().mul_(2.0),
    "transpose": lambda h, o, lib: h.transpose(0, 1).add_(1.0),
    "permute_relu": lambda h, o, lib: h.permute(1, 0).relu_(),
    "T_sigmoid": lambda h, o, lib: h.T.sigmoid_(),
    "mT": lambda h, o, lib: h.mT.mul_(-1.0),
    "movedim": lambda h, o, lib: h.movedim(0, 1).tanh_(),
    "reshape": lambda h, o, lib: h.reshape(-1).mul_(3.0),
    "view": lambda h, o, lib: h.view(2, 6).exp_(),
    "flatten": lambda h, o, lib: h.flatten().abs_(),
    "unsqueeze": lambda h, o, lib: h.unsqueeze(0).mul_(o.sum()),
    "squeeze": lambda h, o, lib: h.unsqueeze(1).squeeze(1).sub_(o.sum()),
    "unflatten": lambda h, o, lib: h.reshape(12).unflatten(0, (3, 4)).mul_(o),
    "t_by_a_grad_value": lambda h, o, lib: h.t().mul_(o.reshape(4, 1)),
    "t_row_set": lambda h, o, lib: h.t().__setitem__(1, o[:3]),
    "view_slice_set": lambda h, o, lib: h.view(-1).__setitem__(slice(2, 6), o),
    "t_copy": lambda h, o, lib: h.t().copy_(o.reshape(4, 1)),
    "t_fill": lambda h, o, lib: h.t()[2].fill_(0.5),
    "diagonal_zero": lambda h, o, lib: h.diagonal().zero_(),
    "diagonal_offset": lambda h, o, lib: h.diagonal(1).mul_(o[:3]),
    "diagonal_of_t": lambda h, o, lib: h.t().diagonal(-1).add_(o[1:]),
    "diagonal_set": lambda h, o, lib: h.diagonal().__setitem__(slice(1, None), o[:2]),
    "expand_same": lambda h, o, lib: h.expand(3, 4).mul_(o),
    "expand_leading": lambda h, o, lib: h.expand(1, 3, 4)[0, 1].add_(o),
    "element": lambda h, o, lib: h[1, 2].mul_(o[0]),
    "element_of_t": lambda h, o, lib: h.t()[3][0].add_(o[1]),
}


@pytest.mark.parametrize("change", list(ONE_VIEW.values()), ids=list(ONE_VIEW))
def test_a_write_into_a_view_reaches_the_tensor_it_views(torch, change):
    _same(torch, lambda h, o, lib: [change(h, o, lib)] and None)  # what it returns is h's view


def _twice(h, o, lib):
    v = h[0]
    v.mul_(2.0)
    v.add_(o)
    v.mul_(3.0)  # the second and third writes reach h too


def _view_of_view(h, o, lib):
    h.t()[1].mul_(5.0)
    h[1:].t().add_(o.reshape(4, 1))
    h.reshape(2, 6)[1].relu_()


def _base_changes_after(h, o, lib):
    v = h.t()
    v.mul_(2.0)
    h.mul_(o)  # v shows it, as a torch view does
    v.add_(1.0)  # and v's next write starts from it
    return v * 1.0


def _read_the_view_into_the_base(h, o, lib):
    v = h[0]
    v.mul_(3.0)
    h.mul_(2.0)
    h.add_(v.sum())  # v as it was when the sum was taken


def _shape_change_of_a_view(h, o, lib):
    v = h[0:2]
    v.t_()
    v.mul_(o.reshape(4, 1))
    v.unsqueeze_(0)
    v.add_(1.0)


def _shape_change_of_the_base(h, o, lib):
    v = h[1]
    v.mul_(2.0)
    h.t_()  # v still views h's memory, now through h's transpose
    v.add_(o)
    h.mul_(1.5)
    h.t_()  # back to the shape the loss expects
    return v * 1.0


def _a_loop_of_rows(h, o, lib):
    for i in range(3):
        h[i].mul_(float(i + 1))
        h[:, i].add_(o[i])


@pytest.mark.parametrize(
    "change",
    [_twice, _view_of_view, _base_changes_after, _read_the_view_into_the_base,
     _shape_change_of_a_view, _shape_change_of_the_base, _a_loop_of_rows],
)  # fmt: skip
def test_views_stay_views_through_later_changes(torch, change):
    _same(torch, change)


def test_a_view_written_shares_memory_with_its_base_again():
    x = ember.tensor(X, requires_grad=True)
    h = x * 1.0
    v = h.t()
    v.mul_(2.0)
    with ember.no_grad():
        v[0].fill_(7.0)  # plain memory writes still go both ways
        h[2, 3] = -1.0
    assert np.all(h.detach().numpy()[:, 0] == 7.0)
    assert v.detach().numpy()[3, 2] == -1.0


def test_retain_grad_on_a_view_follows_it(torch):
    def grads(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 1.0
        v = h.t()
        v.retain_grad()
        v.mul_(2.0)
        ((v * lib.tensor(W.T)).sum() + (h * h).sum()).backward()
        return x.grad.numpy(), v.grad.numpy()

    for g, w in zip(grads(ember), grads(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_gradcheck_through_writes_into_views():
    def f(x, o):
        h = x * 1.0
        h.t()[1].mul_(o)
        h.view(-1)[::5].sigmoid_()
        return h * h

    x = ember.tensor(X, requires_grad=True)
    o = ember.tensor(O4[:3], requires_grad=True)
    assert ember.gradcheck(f, (x, o))


def test_second_derivatives_through_a_write_into_a_transpose(torch):
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * x
        h.t().add_(x.t() ** 3)
        (g,) = lib.autograd.grad(h.sum(), x, create_graph=True)
        (g * g).sum().backward()
        return g.detach().numpy(), x.grad.numpy()

    for g, w in zip(run(ember), run(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_changing_a_base_whose_written_view_feeds_an_op_keeps_the_ops_old_view():
    """y = v·v saved v: torch raises at backward (v's memory changed); ember's change leaves
    v's old array untouched, so y's gradient is that of what it computed, (2·x₀)²."""
    x = ember.tensor(X, requires_grad=True)
    h = x * 1.0
    v = h[0]
    v.mul_(2.0)
    y = v * v
    h.mul_(2.0)
    np.testing.assert_allclose(v.detach().numpy(), 4.0 * X[0])  # v still shows h's values
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], 8.0 * X[0])


@pytest.mark.parametrize(
    "make",
    [lambda h: h.split(1, 0)[2], lambda h: h.chunk(2, 1)[1], lambda h: h.unbind(0)[1],
     lambda h: h[:1].expand(3, 4)],
    ids=["split", "chunk", "unbind", "expand"],
)  # fmt: skip
def test_views_torch_refuses_to_write_are_refused(torch, make):
    for lib in (torch, ember):
        h = lib.tensor(X, requires_grad=True) * 1.0
        with pytest.raises(RuntimeError):
            make(h).mul_(2.0)


def test_an_element_is_a_view_without_grad_too(torch):
    for lib in (torch, ember):
        x = lib.tensor(X.copy())
        x[0, 1].mul_(10.0)
        for v in x[2]:
            v.add_(0.5)
        want = X.copy()
        want[0, 1] *= 10.0
        want[2] += 0.5
        np.testing.assert_allclose(x.numpy(), want)


def test_writes_through_windows_apart_reach_the_base_as_torch(torch):
    """h.unfold(...) with windows apart (step ≥ size) is written through like any view: the
    values and the gradients of x and of the written value equal torch's; windows that share
    elements are refused with torch's overlap message (torch writes them in an order it does
    not define), except where the part written shares none."""

    def run(m, unfold):
        x = m.tensor(X, requires_grad=True)
        v = m.tensor(X[:, :2] + 1.0, requires_grad=True)
        h = x * 1.5
        w = unfold(h)
        w.mul_(2.0)
        w[0] = v[: w.shape[1], : w.shape[2]] * 3.0
        (h * m.tensor(X + 3.0)).sum().backward()
        return h.detach().numpy(), x.grad.numpy(), v.grad.numpy()

    for unfold in (lambda h: h.unfold(1, 2, 2), lambda h: h.t().unfold(1, 1, 2)):
        for got, want in zip(run(ember, unfold), run(torch, unfold)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    h = ember.tensor(X, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        h.unfold(1, 2, 1).mul_(2.0)


# ------------------------------------------------------------ a base changed with fresh views
def _fresh_view_cases():
    def view_then_base(m):
        w = m.ones(3, requires_grad=True)
        y = w * 2
        v = y[:2]
        y.mul_(3)
        (v.sum() + y.sum()).backward()
        return w.grad.tolist(), v.tolist()

    def relu_after_view(m):
        w = m.tensor([-1.0, 2.0], requires_grad=True)
        y = w * 1
        first = y[0]
        y.relu_()
        (y.sum() + first).backward()
        return w.grad.tolist(), first.tolist()

    def view_of_view(m):
        w = m.ones(4, requires_grad=True)
        y = w * 2
        u = y[:3][1:]
        y.add_(1)
        (u * m.arange(2.0)).sum().backward()
        return w.grad.tolist(), u.tolist()

    def transpose_and_reshape_views(m):
        w = m.arange(4.0, requires_grad=True)
        y = w * 1
        a, b = y[:2], y.view(2, 2).t()
        y.mul_(w)
        (a.sum() + (b * b).sum()).backward()
        return w.grad.tolist(), a.tolist(), b.tolist()

    return [view_then_base, relu_after_view, view_of_view, transpose_and_reshape_views]


@pytest.mark.parametrize("case", _fresh_view_cases(), ids=lambda f: f.__name__)
def test_changing_a_base_takes_its_fresh_views_along_as_torch(case):
    torch = pytest.importorskip("torch")
    assert case(ember) == case(torch)


def test_a_view_already_used_keeps_its_old_version_as_torch(torch):
    def run(lib):
        w = lib.ones(3, requires_grad=True)
        y = w * 2
        v = y[:2]
        z = v * 3
        y.mul_(2)
        (z.sum() + (v * v).sum()).backward()  # z: the old view; v·v: v of y's new values
        return v.detach().numpy(), z.detach().numpy(), w.grad.numpy()

    for g, w in zip(run(ember), run(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_views_hung_from_a_base_do_not_accumulate():
    """A parameter's views (w.t() at every step) are not kept; a non-leaf's dead views are
    dropped from its list as new ones come."""
    w = ember.nn.Parameter(ember.ones(3, 3))
    for _ in range(200):
        (ember.ones(2, 3) @ w.t()).sum()
    assert not getattr(w, "_views", None)
    h = ember.ones(3, requires_grad=True) * 2
    for _ in range(200):
        h[:2]
    assert len(h._views) <= 16


# ------------------------------------------------------------ plain tensors over the same memory


def test_detached_aliases_and_data_see_in_place_changes_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 2.0
        d, data = h.detach(), h.data
        h.mul_(3.0)
        h[0] += 1.0
        plain = lib.zeros(3, 4, dtype=lib.float64)
        alias, row = plain.detach(), plain[1]
        plain[1] = x[1] * 3.0  # a plain tensor takes a value that needs grad
        plain.mul_(2.0)
        out = [t.detach().numpy().copy() for t in (h, d, data, plain, alias, row)]
        (h.sum() + plain.sum()).backward()
        return [*out, x.grad.numpy()]

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_as_strided_views_are_carried_both_ways_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 1.0
        v = h.as_strided((2, 2), (4, 1), 1)  # rows 0-1, columns 1-2
        v.mul_(10.0)  # reaches h
        h.add_(1.0)  # reaches v
        out = [t.detach().numpy().copy() for t in (h, v)]
        (h * h).sum().backward()
        return [*out, x.grad.numpy()]

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    "take",
    [lambda h: h.diagonal(), lambda h: h[:1].expand(2, 4), lambda h: h.as_strided((2,), (0,)),
     lambda h: h.diagonal(1)],
    ids=["diagonal", "expand", "as_strided_overlapping", "diagonal_offset"],
)  # fmt: skip
def test_diagonal_expand_and_overlapping_views_show_their_bases_changes_as_torch(take):
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 1.0
        v = take(h)
        h.mul_(2.0)
        h[0] += 1.0
        refused = False
        if v.stride() and 0 in v.stride():  # repeated elements: torch refuses the write
            try:
                v.add_(1.0)
            except RuntimeError:
                refused = True
        (v * v).sum().backward()
        return v.detach().numpy(), x.grad.numpy(), refused

    (v1, g1, r1), (v2, g2, r2) = run(ember), run(torch)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)
    assert r1 == r2


def test_t_in_place_of_a_1d_tensor_with_a_live_view_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        y = lib.tensor(X[0], requires_grad=True)
        h = y * 1.0
        v = h[1:]
        h.t_()  # a 1-D tensor: unchanged
        h.mul_(2.0)
        (v * v).sum().backward()
        return v.detach().numpy(), y.grad.numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_t_of_a_1d_tensor_is_a_view_not_the_tensor_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        y = lib.tensor(X[0], requires_grad=True)
        t = y.t()
        assert t is not y and t.requires_grad
        with lib.no_grad():
            y.unsqueeze_(0)
        assert tuple(t.shape) == (4,) and tuple(y.shape) == (1, 4)
        z = lib.zeros(3)
        z.t()[1] = 5.0  # the same memory
        assert z.tolist() == [0.0, 5.0, 0.0]


@pytest.mark.parametrize(
    "change",
    [lambda x: x[0:1].t_(), lambda x: x[0:1].squeeze_(0), lambda x: x[0].unsqueeze_(0),
     lambda x: x.view(3, 4).t_()],
    ids=["t_", "squeeze_", "unsqueeze_", "view_t_"],
)  # fmt: skip
def test_shape_changes_of_a_leafs_view_are_refused_under_grad_as_torch(change):
    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            change(x)
        with lib.no_grad():
            change(x)  # allowed there, as torch


# ------------------------------------------------------------ split, chunk and unbind
def _split_cases():
    def values_after_base_change(m):
        x = m.tensor(X, requires_grad=True)
        h = x * 2
        a, b = h.split([1, 2], 0)
        c = h.chunk(2, 1)
        d = h.unbind(1)
        h.mul_(3)
        return [a.tolist(), b.tolist(), [t.tolist() for t in c], [t.tolist() for t in d]]

    def old_consumer_keeps_old_values(m):
        x = m.tensor(X, requires_grad=True)
        h = x * 2
        a, _ = h.split(2, 1)
        y = a * 5  # recorded before h changes: differentiates the old piece
        h.add_(1)
        y.sum().backward()
        return [x.grad.tolist(), a.tolist()]

    def plain_base(m):
        x = m.tensor(X)
        a, b = x.chunk(2, 0)
        x.mul_(2)
        return [a.tolist(), b.tolist()]

    return [values_after_base_change, old_consumer_keeps_old_values, plain_base]


@pytest.mark.parametrize("case", _split_cases(), ids=lambda c: c.__name__)
def test_split_pieces_show_their_base_changes_as_torch(torch, case):
    """The pieces of split/chunk/unbind are views: an in-place change of their base shows in
    them, and ops recorded on a piece before keep the old values, as in torch."""
    assert case(ember) == case(torch)


def test_a_piece_used_after_its_base_changed(torch):
    """torch refuses to differentiate through a piece whose base changed in place; ember records
    it as that piece of the new base: the gradient of what was computed."""
    x = ember.tensor(X, requires_grad=True)
    h = x * 2
    a, _ = h.split(2, 1)
    h.mul_(3)
    (a * 1).sum().backward()
    want = np.zeros_like(X)
    want[:, :2] = 6
    np.testing.assert_array_equal(x.grad.numpy(), want)
    t = torch.tensor(X, requires_grad=True)
    ta, _ = (t * 2).split(2, 1)
    ta._base.mul_(3)
    with pytest.raises(RuntimeError, match="modified inplace"):
        (ta * 1).sum().backward()


# ------------------------------------------------------------ as_strided of a view
def _as_strided_of_view_cases():
    def chain_written(m):
        x = m.tensor(np.arange(6.0), dtype=m.float64, requires_grad=True)
        h = (x * 1).reshape(2, 3)
        h.as_strided((2, 2), (3, 1)).as_strided((2,), (2,))[1] = 0
        h.sum().backward()
        return [h.tolist(), x.grad.tolist()]

    def of_an_index_written(m):
        x = m.tensor(np.arange(6.0), dtype=m.float64, requires_grad=True)
        h = (x * 1).reshape(2, 3)
        h[:, 1].as_strided((2,), (1,))[-1] = 0
        h.sum().backward()
        return [h.tolist(), x.grad.tolist()]

    def of_an_index_refreshed(m):
        x = m.tensor(np.arange(6.0), dtype=m.float64, requires_grad=True)
        h = (x * 1).reshape(2, 3)
        v = h[:, 1:]
        a = v.as_strided((2,), (2,), 1)
        v.clamp_(min=3.5)
        a.sum().backward()
        return [a.tolist(), x.grad.tolist()]

    def reaching_outside_its_input(m):  # no in-place change: the gradient stays in h[3]
        x = m.tensor(np.arange(12.0).reshape(4, 3), dtype=m.float64, requires_grad=True)
        (x * 2)[3].as_strided((3,), (1,), 3).sum().backward()
        return [x.grad.tolist()]

    return [chain_written, of_an_index_written, of_an_index_refreshed, reaching_outside_its_input]


@pytest.mark.parametrize("case", _as_strided_of_view_cases(), ids=lambda c: c.__name__)
def test_as_strided_of_a_view_as_torch(torch, case):
    """as_strided counts in the storage: a view of a view hangs from the tensor at the top,
    so writes through it land at the storage's places and a change of what it views shows in
    it, as in torch."""
    assert case(ember) == case(torch)


# ------------------------------------------------------------ plain aliases of views
def test_aliases_of_views_follow_their_base_as_torch(torch):
    """h[0].detach(), h[0].data and h.t()[1].detach() share h's memory in torch, so they show
    h's later in-place changes, even once the view they were taken from is gone; ember notes
    them on h itself, whose changes re-point them."""

    def run(m):
        x = m.tensor(X, requires_grad=True)
        h = x * 2
        a, d, e = h[0].detach(), h[0].data, h.t()[1].detach()
        v = h[:, 1]
        kept = v.detach()
        h.mul_(3)
        h[1] = 0.5
        return [a.tolist(), d.tolist(), e.tolist(), kept.tolist()]

    assert run(ember) == run(torch)


def test_a_write_through_a_diagonal_of_swapped_dims_keeps_the_layout_as_torch(torch):
    """diagonal(1, 1, 0) walks the planes the other way round: the write leaves h row-major,
    as torch's, so views taken afterwards read the same elements."""

    def run(m):
        x = m.tensor(np.arange(12.0).reshape(4, 3), dtype=m.float64, requires_grad=True)
        h = x * 1
        h.diagonal(1, 1, 0).mul_(2)
        flat = h.view(6, 2)
        out = m.diagonal_scatter(x.detach(), m.ones(3, dtype=m.float64), 1, 1, 0)
        return [h.stride(), flat.tolist(), out.stride(), out.tolist()]

    assert run(ember) == run(torch)


def test_unfold_windows_show_their_base_changes_as_torch(torch):
    """x.unfold(...) is a view: an in-place change of its base shows in the windows, as in
    torch."""

    def run(m):
        x = m.tensor(np.arange(8.0), dtype=m.float64, requires_grad=True)
        h = x * 1
        u = h.unfold(0, 3, 2)
        h.mul_(2)
        h[0] = -1.0
        return u.tolist()

    assert run(ember) == run(torch)
    x = ember.tensor(np.arange(8.0), requires_grad=True)
    h = x * 1
    u = h.unfold(0, 3, 2)
    h.mul_(2)
    (u * 1).sum().backward()  # the gradient of the refreshed windows of the new h
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 4, 2, 4, 2, 2, 0])
