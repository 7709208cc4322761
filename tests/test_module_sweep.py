"""Every nn module ember shares with torch, built with simple arguments and run on torch's weights.

For each class of torch.nn that ember.nn has under the same name, the constructor argument
lists of ``CTOR`` are tried in turn until torch builds one; ember builds the same, both go to
eval mode (dropout off), ember takes torch's state_dict, and the first input of ``SHAPES``
(then a pair of them, for the two-input modules and losses) that torch's module takes is run
through both: outputs (dtype, shape, values to 1e-5) and the gradient of their sum with
respect to the input must agree. A module ember cannot build, load or run where torch's runs
is a difference too. tests/test_parity_sweep.py does the same for the functions.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.test_parity_sweep import _describe, _same

CTOR = [(), (4,), (4, 3), (3, 2, 3), (4, 4, 2), (3, 2), (2,), (0.5,), (4, 2, 1)]
SHAPES = [(2, 4), (2, 3, 6, 6), (2, 4, 5), (5, 2, 4), (2, 4, 4, 4), (2, 3, 4, 4, 4), (2, 3, 5)]
#: containers and random modules (their masks differ by design)
SKIP = {
    "AlphaDropout", "Buffer", "Container", "DataParallel", "Dropout", "Dropout1d", "Dropout2d",
    "Dropout3d", "FeatureAlphaDropout", "FractionalMaxPool2d", "FractionalMaxPool3d", "Module",
    "ModuleDict", "ModuleList", "Parameter", "ParameterDict", "ParameterList", "RReLU",
    "Sequential", "UninitializedBuffer", "UninitializedParameter",
}  # fmt: skip


def _inputs(lib, shape, two):
    rng = np.random.default_rng(1)
    xs = [lib.tensor(rng.standard_normal(shape), dtype=lib.float32, requires_grad=True)]
    if two:
        xs.append(lib.tensor(rng.standard_normal(shape), dtype=lib.float32))
    return xs


def _run_torch(module, torch):
    """(shape, two inputs?) of the first input torch's module takes, or None."""
    for two in (False, True):
        for shape in SHAPES:
            try:
                module(*_inputs(torch, shape, two))
            except Exception:  # noqa: BLE001 - not an input this module takes
                continue
            return shape, two
    return None


def _compare(name, theirs, ours, torch, shape, two):
    xt, xe = _inputs(torch, shape, two), _inputs(ember, shape, two)
    yt = theirs(*xt)
    try:
        ours(*xe)  # a lazy module takes its shapes here, so that torch's state_dict fits
        ours.load_state_dict(
            {k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
        )
        ye = ours(*xe)
    except Exception as e:  # noqa: BLE001 - recorded as the difference
        return f"{name}: ember fails on {shape}: {type(e).__name__}: {str(e)[:80]}"
    if not _same(_describe(ye, ember), _describe(yt, torch)):
        return f"{name}: outputs differ on {shape}"
    ye0, yt0 = (ye[0], yt[0]) if isinstance(ye, (tuple, list)) else (ye, yt)
    if yt0.requires_grad:
        gt = torch.autograd.grad(yt0.sum(), xt[0], allow_unused=True)[0]
        ge = ember.autograd.grad(ye0.sum(), xe[0], allow_unused=True)[0]
        if (ge is None) != (gt is None) or (
            gt is not None and not np.allclose(ge.numpy(), gt.numpy(), rtol=1e-4, atol=1e-5)
        ):
            return f"{name}: input gradients differ on {shape}"
    return None


def test_every_shared_module_computes_what_torch_computes(torch):
    names = sorted(
        n for n in set(dir(torch.nn)) & set(dir(ember.nn))
        if n[0].isupper() and n not in SKIP and isinstance(getattr(torch.nn, n), type)
    )  # fmt: skip
    compared, differ = 0, []
    for name in names:
        for args in CTOR:
            try:
                torch.manual_seed(0)
                theirs = getattr(torch.nn, name)(*args).eval()
            except Exception:  # noqa: BLE001 - not arguments this class takes
                continue
            where = _run_torch(theirs, torch)
            if where is None:
                continue  # torch builds it but runs none of the inputs: try other arguments
            try:
                ours = getattr(ember.nn, name)(*args).eval()
            except Exception as e:  # noqa: BLE001 - recorded as the difference
                differ.append(f"{name}{args}: ember does not build it: {str(e)[:80]}")
                break
            compared += 1
            found = _compare(f"{name}{args}", theirs, ours, torch, *where)
            if found:
                differ.append(found)
            break
    assert compared >= 100, f"only {compared} modules compared"
    assert not differ, "\n".join(differ)


@pytest.mark.parametrize("name", ["Linear", "Conv2d", "LSTM", "TransformerEncoderLayer"])
def test_the_sweep_reaches_the_main_layers(torch, name):
    """The sweep's argument lists build and run these (so it does compare them)."""
    for args in CTOR:
        try:
            module = getattr(torch.nn, name)(*args).eval()
        except Exception:  # noqa: BLE001
            continue
        if _run_torch(module, torch) is not None:
            return
    pytest.fail(f"no argument list of CTOR builds and runs torch.nn.{name}")
