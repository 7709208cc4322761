"""Complex parameters step as torch's optimizers step them: on view_as_real (Re and Im as two
real parameters), the state kept as complex arrays of the parameter's shape."""

import numpy as np
import pytest

import ember
from ember import optim

CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adamax", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05)),
    ("Adadelta", dict(lr=1.0)),
]


@pytest.mark.parametrize("name, options", CASES)
def test_complex_parameter_steps_as_torch(torch, name, options):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4)) for _ in range(4)]
    ours = ember.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    opt_ours = getattr(optim, name)([ours], **options)
    opt_theirs = getattr(torch.optim, name)([theirs], **options)
    for g in grads:
        ours.grad, theirs.grad = ember.tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13
    )
    for key, value in opt_theirs.state[theirs].items():
        if torch.is_tensor(value) and value.shape == theirs.shape:
            mine = opt_ours.state[ours][key]
            assert mine.dtype == start.dtype and mine.shape == start.shape, key
            np.testing.assert_allclose(mine, value.numpy(), rtol=1e-12, atol=1e-13)


def test_a_complex_parameter_trains_with_adam():
    """min |w − target|² over complex w."""
    target = ember.tensor([1 + 2j, -0.5j, 3.0 + 0j])
    w = ember.zeros(3, dtype=ember.complex64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        ((w - target).abs() ** 2).sum().backward()
        opt.step()
    assert np.abs(w.detach().numpy() - target.numpy()).max() < 1e-2
