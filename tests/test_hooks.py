"""Tensor.register_hook as torch's: called with each gradient computed for the tensor, a
returned tensor replaces it, hooks run in order before .grad accumulates or retain_grad keeps
it, and handle.remove() takes one off."""

import numpy as np
import pytest

import ember


def _graph(m, x0, w0, hook_on, hook, retain=False):
    """y = sum(tanh(x·w)·x) with ``hook`` registered on "x", "h" (= x·w) or "u" (= tanh h)."""
    x = m.tensor(x0, requires_grad=True)
    w = m.tensor(w0, requires_grad=True)
    h = x * w
    u = h.tanh()
    seen = {"x": x, "h": h, "u": u}
    handle = seen[hook_on].register_hook(hook)
    if retain:
        h.retain_grad()
    (u * x).sum().backward()
    return x, w, h, handle


@pytest.mark.parametrize("hook_on", ["x", "h", "u"])
@pytest.mark.parametrize("kind", ["observe", "double", "clip"])
def test_hooks_match_torch(torch, hook_on, kind):
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    results = {}
    for name, m in (("ember", ember), ("torch", torch)):
        log = []

        def hook(g, m=m, log=log):
            log.append(np.array(g.detach().numpy()))
            if kind == "double":
                return g * 2
            if kind == "clip":
                return m.clamp(g, -0.1, 0.1)
            return None

        x, w, h, _ = _graph(m, x0, w0, hook_on, hook, retain=True)
        results[name] = (log, x.grad.numpy(), w.grad.numpy(), h.grad.numpy())
    (log_e, *grads_e), (log_t, *grads_t) = results["ember"], results["torch"]
    assert len(log_e) == len(log_t) == 1
    np.testing.assert_allclose(log_e[0], log_t[0], rtol=1e-12)
    for a, b in zip(grads_e, grads_t, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hooks_run_in_order_and_remove():
    calls = []
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    first = x.register_hook(lambda g: calls.append("first") or g * 10)
    x.register_hook(lambda g: calls.append(("second", g.numpy().tolist())))
    (x * x).sum().backward()
    assert calls == ["first", ("second", [20.0, 40.0])]  # the second sees the first's result
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 40.0])
    first.remove()
    first.remove()  # twice is harmless
    calls.clear()
    x.grad = None
    (x * x).sum().backward()
    assert calls == [("second", [2.0, 4.0])]


def test_hook_errors_are_clear():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor([1.0]).register_hook(print)
    x = ember.tensor([1.0, 2.0], requires_grad=True)

    def bad(g):
        return ember.ones(3)

    x.register_hook(bad)
    with pytest.raises(RuntimeError, match=r"'bad' returned a gradient of shape \(3,\)"):
        (x * 2).sum().backward()
    with pytest.raises(RuntimeError, match=r"'bad' returned a gradient of shape \(3,\)"):
        ember.autograd.grad((x * x).sum(), [x], create_graph=True)  # the recorded sweep too
