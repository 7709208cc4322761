"""In-place operations with autograd (tensor_inplace.py), each against torch: the values, the
gradients of every leaf, and what is refused."""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8, 2.0], [-0.4, 0.9, -2.2, 0.15], [1.1, -0.6, 0.5, -0.05]])
W = np.linspace(-1.0, 1.3, 12).reshape(3, 4)
OTHER = np.abs(X[::-1]) + 0.5  # a second operand, positive


def _run(lib, make, torch=None):
    """x, o leaves (float64); h = x·1.5 (a non-leaf); make(h, o) changes h in place; the loss
    is Σ h·W. Returns h's values and the gradients of x and o."""
    new = (lambda a: torch.tensor(a, requires_grad=True)) if lib is torch else (
        lambda a: ember.tensor(a, requires_grad=True))  # fmt: skip
    x, o = new(X), new(OTHER)
    h = x * 1.5
    out = make(h, o)
    assert out is h  # in-place methods return self
    w = torch.tensor(W) if lib is torch else ember.tensor(W)
    (h * w).sum().backward()
    og = o.grad
    return (
        h.detach().numpy(),
        x.grad.numpy(),
        None if og is None else og.numpy(),
    )


def _same(torch, make_e, make_t=None):
    got = _run(ember, make_e)
    want = _run(torch, make_t or make_e, torch)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


UNARY = ["abs_", "neg_", "relu_", "sigmoid_", "tanh_", "exp_", "expm1_", "sin_", "cos_",
         "atan_", "sinh_", "square_", "reciprocal_", "erf_", "trunc_", "frac_",
         "sign_", "deg2rad_", "tril_", "triu_"]  # fmt: skip
POSITIVE = ["sqrt_", "rsqrt_", "log_", "log1p_", "log2_", "lgamma_"]


@pytest.mark.parametrize("name", UNARY + POSITIVE)
def test_unary_in_place_on_a_non_leaf_matches_torch(torch, name):
    def make(h, o):
        if name in POSITIVE:
            h.abs_().add_(0.2)
        return getattr(h, name)()

    _same(torch, make)


BINARY = {
    "add_": lambda h, o: h.add_(o, alpha=2.0),
    "sub_": lambda h, o: h.sub_(o),
    "mul_": lambda h, o: h.mul_(o),
    "div_": lambda h, o: h.div_(o),
    "pow_": lambda h, o: h.abs_().pow_(o),
    "atan2_": lambda h, o: h.atan2_(o),
    "hypot_": lambda h, o: h.hypot_(o),
    "lerp_": lambda h, o: h.lerp_(o, 0.3),
    "addcmul_": lambda h, o: h.addcmul_(o, o, value=0.5),
    "addcdiv_": lambda h, o: h.addcdiv_(o, o + 1.0, value=2.0),
    "clamp_min_": lambda h, o: h.clamp_min_(0.1),
    "clamp_": lambda h, o: h.clamp_(-0.5, 0.7),
    "xlogy_": lambda h, o: h.xlogy_(o),
    "iadd": lambda h, o: h.__iadd__(o * 2.0),
    "isub": lambda h, o: h.__isub__(o),
    "imul": lambda h, o: h.__imul__(o),
    "itruediv": lambda h, o: h.__itruediv__(o),
    "ipow": lambda h, o: h.abs_().__ipow__(2.0),
    "chain": lambda h, o: h.add_(1.0).mul_(o).tanh_(),
    "zero_then_add": lambda h, o: h.zero_().add_(o),
    "fill_": lambda h, o: h.fill_(2.5),
    "copy_": lambda h, o: h.copy_(o * 3.0),
    "copy_broadcast": lambda h, o: h.copy_(o[0] * 3.0),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_in_place_sends_gradients_to_both_sides_as_torch(torch, name):
    _same(torch, BINARY[name])


def test_masked_fill_scatter_and_index_ops_in_place(torch):
    mask = X > 0.5

    def make(lib):
        m = torch.tensor(mask) if lib is torch else ember.tensor(mask)
        rows = np.array([[0, 1, 2, 0]])
        idx = torch.tensor(rows) if lib is torch else ember.tensor(rows)
        return lambda h, o: h.masked_fill_(m, -1.0).scatter_add_(0, idx, o[:1] * 2.0)

    _same(torch, make(ember), make(torch))


SETITEM = {
    "row": (1, lambda o: o[0] * 2.0),
    "slice": ((slice(None), slice(1, 3)), lambda o: o[:, :2]),
    "broadcast": ((slice(None), 0), lambda o: o[0, 0] * 4.0),
    "mask": (X > 0, lambda o: o[X > 0]),
    "int_array": ((np.array([2, 0]),), lambda o: o[1:3] + 1.0),
    "number": ((0, 0), None),
    "ellipsis_none": ((Ellipsis, None, 3), lambda o: o[:, None, 1]),
}


@pytest.mark.parametrize("name", list(SETITEM))
def test_assignment_by_index_is_differentiable_as_torch(torch, name):
    index, value = SETITEM[name]

    def make(lib):
        def t_index(i):
            if isinstance(i, np.ndarray):
                return torch.tensor(i)
            return tuple(t_index(j) for j in i) if isinstance(i, tuple) else i

        def run(h, o):
            idx = t_index(index) if lib is torch else index
            h[idx] = 7.0 if value is None else value(o)
            return h

        return run

    _same(torch, make(ember), make(torch))


def test_a_zero_buffer_filled_step_by_step_carries_every_gradient(torch):
    """The from-scratch RNN: outputs[t] = h_t into a zero buffer; the gradients equal those of
    stacking the steps (before, the buffer silently dropped the graph)."""
    rng = np.random.default_rng(0)
    w0, xs = rng.standard_normal((3, 3)), rng.standard_normal((5, 2, 3))
    grads = []
    for stacked in (False, True):
        w = ember.tensor(w0, requires_grad=True)
        h, steps = ember.zeros(2, 3, dtype=ember.float64), []
        outputs = ember.zeros(5, 2, 3, dtype=ember.float64)
        for t in range(5):
            h = (ember.tensor(xs[t]) + h @ w).tanh()
            if stacked:
                steps.append(h)
            else:
                outputs[t] = h
        if stacked:
            outputs = ember.stack(steps)
        assert outputs.requires_grad
        (outputs**2).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_the_from_scratch_update_changes_the_parameter_itself(torch):
    """w -= lr·w.grad under no_grad updates w in place, as in torch: before, Python's fallback
    made a new tensor and the parameter never moved."""
    results = []
    for lib in (ember, torch):
        w = lib.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
        alias = w
        for _ in range(3):
            loss = ((w * w) * lib.tensor(np.array([1.0, 2.0, 3.0]))).sum()
            loss.backward()
            with lib.no_grad():
                w -= 0.1 * w.grad
                w.grad.zero_()
        assert alias is w
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_augmented_operators_on_integer_tensors_stay_in_place(torch):
    import operator

    steps = [(operator.ifloordiv, 2), (operator.imod, 5), (operator.ilshift, 1),
             (operator.ior, 1), (operator.ixor, 3), (operator.iand, 14)]  # fmt: skip
    a, t = ember.tensor(np.array([7, -9, 12])), torch.tensor(np.array([7, -9, 12]))
    for op, value in steps:
        assert op(a, value) is a
        t = op(t, value)
        assert a.tolist() == t.tolist()
    with pytest.raises(TypeError, match="cannot be written into this int64 tensor"):
        a += 0.5


def test_a_saved_value_stays_valid_when_its_tensor_changes_in_place():
    """sigmoid saves its output; changing that output in place leaves the saved array alone
    (torch refuses this at backward; ember gives the out-of-place gradient)."""
    x = ember.tensor(X, requires_grad=True)
    y = x.sigmoid()
    y.mul_(2.0)
    y.sum().backward()
    s = 1 / (1 + np.exp(-X))
    np.testing.assert_allclose(x.grad.numpy(), 2 * s * (1 - s), rtol=1e-12)


def test_retain_grad_follows_the_tensor_to_its_new_version(torch):
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        h = x * 2.0
        h.retain_grad()
        h.mul_(3.0)
        (h * lib.tensor(W)).sum().backward()
        grads.append(h.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_shape_only_in_place_ops_match_torch(torch):
    for make in (
        lambda h: h.t_(),
        lambda h: h.unsqueeze_(1).squeeze_(1),
        lambda h: h.transpose_(0, 1),
    ):
        got = []
        for lib in (ember, torch):
            x = lib.tensor(X, requires_grad=True)
            h = x * 2.0
            make(h)
            w = lib.tensor(np.arange(h.numel(), dtype=np.float64).reshape(tuple(h.shape)))
            (h * w).sum().backward()
            got.append((tuple(h.shape), x.grad.numpy()))
        assert got[0][0] == got[1][0]
        np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((7, 3), False), ((7, 3), True),
                                         ((2, 5), False), ((3, 3, 3), False)])  # fmt: skip
def test_fill_diagonal_matches_torch(torch, shape, wrap):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
    e.fill_diagonal_(-1.0, wrap=wrap)
    t.fill_diagonal_(-1.0, wrap=wrap)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_in_place_functional_activations_record_the_graph(torch):
    got = []
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        h = x * 1.5
        lib.nn.functional.relu_(h)
        (h * lib.tensor(W)).sum().backward()
        got.append(x.grad.numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


# ------------------------------------------------------------ what is refused, and why
def test_a_parameter_refuses_in_place_changes_under_grad_mode(torch):
    w, wt = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        wt.mul_(2)
    for change in (lambda t: t.mul_(2), lambda t: t.__iadd__(1.0), lambda t: t.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="in-place operation on a leaf tensor that requires"):
            change(w)
    with ember.no_grad():
        w.mul_(2)
    np.testing.assert_allclose(w.detach().numpy(), 2 * X)


def test_a_tensor_already_used_by_a_recorded_op_may_change_as_torch(torch):
    """The op that used h keeps h's old version (torch's graph records grad_fn, not the
    tensor): its gradient reaches x through the value it was computed from."""

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 1.5
        y = h * 2.0  # torch saves no tensor for a product with a number
        h.relu_()
        (y.sum() + (h * h).sum()).backward()
        return h.detach().numpy(), y.detach().numpy(), x.grad.numpy()

    for g, w in zip(run(ember), run(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_an_op_that_saved_the_old_value_gives_the_gradient_of_what_it_computed(torch):
    """h·h saved h: torch finds the overwritten value at backward and raises; ember's in-place
    change leaves the old array untouched, so the product's gradient is that of (1.5x)²."""
    xt = torch.tensor(X, requires_grad=True)
    ht = xt * 1.5
    zt = ht * ht
    ht.relu_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        zt.sum().backward()
    x = ember.tensor(X, requires_grad=True)
    h = x * 1.5
    z = h * h
    h.relu_()
    np.testing.assert_allclose(z.detach().numpy(), (1.5 * X) ** 2)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4.5 * X, rtol=1e-12)
    np.testing.assert_allclose(h.detach().numpy(), np.maximum(1.5 * X, 0))


def test_a_retained_graph_keeps_the_old_version(torch):
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 1.5
        loss = (h * 2.0).sum()
        loss.backward(retain_graph=True)
        h.relu_()  # the kept graph still differentiates the old h
        loss.backward(retain_graph=True)
        first = x.grad.numpy().copy()
        (h * 1.0).sum().backward()  # the new version: relu's gradient on top
        return first, x.grad.numpy()

    for g, w in zip(run(ember), run(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_dropped_results_do_not_block_an_in_place_change_as_torch(torch):
    """An op whose result nobody keeps (a logged statistic, a discarded view) waits on its
    input no longer, and one still kept moves onto the old version."""

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        h = x * 2.0
        h.exp()  # dropped at once
        float(h.mean())  # a statistic taken for logging
        v = h[0]
        del v
        kept = h + 1.0
        h.relu_()
        (h * h + kept).sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-6)


def test_an_op_holding_the_tensor_through_saved_tensor_hooks_still_refuses():
    """saved_tensors_hooks that pack the tensor object itself: ember cannot tell which version
    the op will unpack, so the change is refused up front, and the graph is unchanged."""
    x = ember.tensor(X, requires_grad=True)
    h = x * 1.5
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        z = h * h
    with pytest.raises(RuntimeError, match="already the input of a recorded operation") as e:
        h.relu_()
    assert "y = x.relu(...)" in str(e.value)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4.5 * X, rtol=1e-12)


def test_indexing_idioms_change_the_base_as_torch(torch):
    """x[i] op= v and changes of x[i] in place reach x and its gradients (torch's CopySlices),
    basic and advanced indices, nested, and a consumer inside the new value (x[m] = f(x[m]))."""

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        b = lib.tensor(OTHER[0], requires_grad=True)
        h = x * 2.0
        h[:, 0] += b[:3]
        h[1] *= 3.0
        m = h > 0
        h[m] = h[m] * 0.5
        h[0][2] -= 1.0
        h[m] += 1.0
        h.mul_(h.sum())
        h[2].relu_()  # last: torch refuses any later change of h (relu saved this view)
        (h * lib.tensor(W)).sum().backward()
        return h.detach().numpy(), x.grad.numpy(), b.grad.numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_after_autograd_grad_the_tensor_may_change_again():
    x = ember.tensor(X, requires_grad=True)
    h = x * 1.5
    ember.autograd.grad((h * 2.0).sum(), x)
    h.relu_()  # the product that took h was run and freed by autograd.grad
    np.testing.assert_allclose(h.detach().numpy(), np.maximum(1.5 * X, 0))


def test_a_view_made_by_split_is_refused_as_torch(torch):
    for lib in (ember, torch):
        h = lib.tensor(X, requires_grad=True) * 1.5
        with pytest.raises(RuntimeError, match="Output 0 of Split is a view and is being modified"):
            h.split(2, 1)[0].relu_()  # writes into other views: tests/test_inplace_views.py


def test_a_plain_view_written_with_a_value_that_needs_grad_changes_its_tensor_as_torch(torch):
    """buf[0].copy_(v), buf.t()[1] = v: the write goes into buf (torch's CopySlices), the view
    becomes differentiable, and tensors over buf's memory taken before see the values."""

    def run(lib):
        buf = lib.zeros(3, 4, dtype=lib.float64)
        alias, col = buf.detach(), buf[:, 2]
        v = lib.tensor(X[0], requires_grad=True)
        u = lib.tensor(X[1][:3], requires_grad=True)
        row = buf[0]
        row.copy_(v * 2.0)
        buf.t()[1] = u * 3.0
        assert buf.requires_grad and row.requires_grad and not alias.requires_grad
        (buf * lib.tensor(W)).sum().backward()
        vals = [t.detach().numpy().copy() for t in (buf, row, alias, col)]
        return [*vals, v.grad.numpy(), u.grad.numpy()]

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_plain_view_of_memory_no_tensor_holds_still_refuses_a_value_that_needs_grad():
    """ember.from_numpy over a NumPy view: the memory belongs to the user's array, so the
    change could not reach any tensor's graph."""
    owner = np.zeros((3, 4))
    view = ember.from_numpy(owner[1])
    with pytest.raises(RuntimeError, match="view of other memory"):
        view.copy_(ember.tensor(X[0], requires_grad=True))
    assert not owner.any()


def test_without_grad_writes_go_through_views_as_before():
    x = ember.tensor(X.copy())
    row = x[1]
    row.mul_(0.0)
    row += 2.0
    np.testing.assert_array_equal(x.numpy()[1], [2.0] * 4)
    w = ember.tensor(X.copy(), requires_grad=True)
    with ember.no_grad():
        view = w[0]
        view.fill_(5.0)
    np.testing.assert_array_equal(w.detach().numpy()[0], [5.0] * 4)


def test_set_item_gradcheck():
    x = ember.tensor(X, requires_grad=True)
    v = ember.tensor(OTHER[:2, 1:3], requires_grad=True)

    def f(x, v):
        h = x * 1.0
        h[1:, :2] = v
        h[0] = v[0, 0]
        return h * h

    assert ember.gradcheck(f, (x, v))


def test_writing_into_an_expanded_view_as_torch(torch):
    """An elementwise write into memory that several elements share is refused with torch's
    message; a constant or an index assignment goes into that memory, as in torch."""
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="unsupported operation.*clone"):
            lib.zeros(3).expand(2, 3).add_(1)
    mask = [[True, False, False], [False, False, True]]
    writes = (lambda t: t.fill_(2.0), lambda t: t.__setitem__(0, 1.0), lambda t: t.zero_(),
              lambda t: t.__setitem__((1, 2), 5.0), lambda t: t[0].mul_(3),
              lambda t: t.masked_fill_(t.new_tensor(mask).bool(), 7.0))  # fmt: skip
    for write in writes:
        out = []
        for lib in (ember, torch):
            base = lib.arange(3.0)
            write(base.expand(2, 3))
            out.append(base.numpy())
        np.testing.assert_array_equal(out[0], out[1])


def test_functional_dropout_in_place_returns_the_input_and_records_the_mask():
    import ember.functional as F

    x = ember.tensor(np.ones((40, 50)), requires_grad=True)
    h = x * 1.0
    ember.manual_seed(0)
    out = F.dropout(h, 0.25, training=True, inplace=True)
    assert out is h
    kept = h.detach().numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(h.detach().numpy()[kept], 1 / 0.75)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)


def test_changes_torch_finds_at_backward_give_the_gradient_of_what_was_computed(torch):
    """tanh_ saved its output, which mul_ then changed: torch raises at backward; ember's
    graph keeps every version it used, and gradcheck holds its gradient to the finite
    differences of the same computation."""

    def steps(x):
        h, kept = x * 1.0, []
        for _ in range(3):
            kept.append(h + 0.0)
            h.tanh_()
            h.mul_(2.0)
        return sum(k.sum() for k in kept) + h.sum()

    xt = torch.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        steps(xt).backward()
    assert ember.gradcheck(steps, (ember.tensor(X, requires_grad=True),))


def test_conj_physical_in_place_as_torch(torch):
    def run(lib):
        z = lib.tensor(np.array([1 + 2j, 3 - 1j], dtype=np.complex128))
        assert z.conj_physical_() is z
        x = lib.tensor(X, requires_grad=True)
        h = x * 2.0
        h.conj_physical_()  # a real tensor: unchanged, still differentiable
        (h * lib.tensor(W)).sum().backward()
        return z.numpy(), h.detach().numpy(), x.grad.numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(got, want)


def test_index_assignment_into_a_0d_tensor_in_the_graph_as_torch(torch):
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        s = (x * 1.0).sum()
        s[...] = 0.5  # every element replaced: x gets no gradient through s
        (s * 2.0 + (x * x).sum()).backward()
        return s.detach().numpy(), x.grad.numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
