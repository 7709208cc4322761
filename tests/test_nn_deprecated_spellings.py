"""torch.nn.init's and nn.utils' deprecated spellings: the same results as the underscore
forms (same generator draws as torch's), with torch's FutureWarning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

CASES = [
    ("uniform", (), {"a": -0.5, "b": 0.5}),
    ("normal", (), {"mean": 0.1, "std": 0.2}),
    ("constant", (0.3,), {}),
    ("xavier_uniform", (), {}),
    ("xavier_normal", (), {}),
    ("kaiming_uniform", (), {}),
    ("kaiming_normal", (), {}),
    ("orthogonal", (), {}),
    ("sparse", (0.5,), {}),
    ("eye", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=[c[0] for c in CASES])
def test_deprecated_init_equals_the_underscore_form(name, args, kwargs):
    for lib in (ember, torch):
        lib.manual_seed(3)
        a = getattr(lib.nn.init, name + "_")(lib.empty(4, 5), *args, **kwargs)
        lib.manual_seed(3)
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated"):
            b = getattr(lib.nn.init, name)(lib.empty(4, 5), *args, **kwargs)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_dirac_and_clip_grad_norm():
    with pytest.warns(FutureWarning, match="`nn.init.dirac` is now deprecated"):
        w = ember.nn.init.dirac(ember.empty(2, 2, 3))
    np.testing.assert_array_equal(w.numpy(), torch.nn.init.dirac_(torch.empty(2, 2, 3)).numpy())
    norms = []
    for lib in (ember, torch):
        p = lib.tensor([3.0, 4.0], requires_grad=True)
        (p * p).sum().backward()
        with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
            norms.append(float(lib.nn.utils.clip_grad_norm([p], 1.0)))
        norms.append(p.grad.numpy().copy())
    assert norms[0] == pytest.approx(norms[2])
    np.testing.assert_allclose(norms[1], norms[3], rtol=1e-6)
