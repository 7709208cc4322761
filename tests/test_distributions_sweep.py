"""Every distribution ember shares with torch, built from the first simple parameters torch
accepts (validated), sampled by torch; log_prob, cdf, mean, mode, variance, stddev and entropy
must agree wherever torch computes them."""

from __future__ import annotations

import numpy as np

import ember

PARAMS = [(0.3,), (0.5, 1.5), (2.0, 3.0), (1.0, 2.0, 3.0), (3,), ([0.2, 0.3, 0.5],), (5, 0.3)]
ATTRS = ("log_prob", "cdf", "mean", "mode", "variance", "stddev", "entropy")


def _param(lib, p):
    if isinstance(p, float):
        return lib.tensor(p, dtype=lib.float64)
    if isinstance(p, list):
        return lib.tensor(np.array(p))
    return p


def _value(lib, dist, attr, x):
    if attr in ("log_prob", "cdf"):
        return getattr(dist, attr)(x)
    return dist.entropy() if attr == "entropy" else getattr(dist, attr)


def test_every_shared_distribution_as_torch(torch):
    names = sorted(
        n for n in set(dir(torch.distributions)) & set(dir(ember.distributions))
        if n[0].isupper() and isinstance(getattr(torch.distributions, n), type)
    )  # fmt: skip
    built, differ = 0, []
    for name in names:
        for ps in PARAMS:
            try:
                theirs = getattr(torch.distributions, name)(*[_param(torch, p) for p in ps])
                x = theirs.sample((4,))
            except Exception:  # noqa: BLE001 - not parameters (or a sampler) this one takes
                continue
            ours = getattr(ember.distributions, name)(*[_param(ember, p) for p in ps])
            built += 1
            for attr in ATTRS:
                try:
                    want = _value(torch, theirs, attr, x).detach().numpy()
                except Exception:  # noqa: BLE001 - torch does not compute it
                    continue
                try:
                    got = _value(ember, ours, attr, ember.tensor(x.numpy())).numpy()
                except Exception as e:  # noqa: BLE001 - recorded
                    differ.append(f"{name}{ps}.{attr}: {type(e).__name__}: {e}")
                    continue
                if got.shape != want.shape or not np.allclose(
                    got, want, rtol=1e-6, atol=1e-9, equal_nan=True
                ):
                    differ.append(f"{name}{ps}.{attr}: {got.ravel()[:3]}, torch {want.ravel()[:3]}")
            break
    assert built >= 30, built
    assert not differ, "\n".join(differ)
