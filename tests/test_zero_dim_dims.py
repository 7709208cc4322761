"""A 0-d tensor takes dim 0 and dim -1 (torch treats it as one element along one dim).

Each function that takes a dim runs on a 0-d float64 tensor with dim 0 and -1, in ember and
in torch: the same shapes, dtypes and values, and the same gradient; a dim out of [-1, 0]
is an IndexError in both (roll and unbind refuse every dim of a 0-d tensor, in both).
(flip, transpose, movedim, gather, norm(p=0) and an empty pad failed here.)
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

REDUCTIONS = [
    "sum", "mean", "prod", "amax", "amin", "logsumexp", "nansum", "nanmean", "cumsum",
    "cumprod", "logcumsumexp", "softmax", "log_softmax", "squeeze", "unsqueeze", "argmax",
    "argmin", "all", "any", "count_nonzero", "max", "min", "median", "nanmedian", "mode",
    "cummax", "cummin", "sort", "argsort", "aminmax",
]  # fmt: skip
CALLS = {
    "flip": lambda lib, x, d: lib.flip(x, (d,)),
    "transpose": lambda lib, x, d: lib.transpose(x, 0, d),
    "movedim": lambda lib, x, d: lib.movedim(x, d, 0),
    "gather": lambda lib, x, d: lib.gather(x, d, lib.tensor(np.int64(0))),
    "select": lambda lib, x, d: lib.select(lib.unsqueeze(x, 0), d, 0),
    "norm0": lambda lib, x, d: lib.norm(x, p=0, dim=d),
    "norm3": lambda lib, x, d: lib.norm(x, p=3, dim=d, keepdim=True),
    "topk": lambda lib, x, d: lib.topk(x, 1, dim=d),
    "kthvalue": lambda lib, x, d: lib.kthvalue(x, 1, dim=d),
    "cat": lambda lib, x, d: lib.cat([lib.unsqueeze(x, 0)] * 2, d),
    "stack": lambda lib, x, d: lib.stack([x, x], d),
    "index_select": lambda lib, x, d: lib.index_select(x, d, lib.tensor([0])),
    "pad": lambda lib, x, d: lib.nn.functional.pad(x, (), value=2.0),  # nothing to pad
}


def _reduction(name):
    return lambda lib, x, d: getattr(lib, name)(x, dim=d)


CALLS.update({n: _reduction(n) for n in REDUCTIONS})


def _run(lib, name, d):
    x = lib.tensor(np.float64(1.5), requires_grad=True)
    y = CALLS[name](lib, x, d)
    outs = list(y) if isinstance(y, (tuple, list)) else [y]
    got = [(tuple(o.shape), str(o.dtype).split(".")[-1], o.detach().numpy().tolist()) for o in outs]
    float_outs = [o for o in outs if o.requires_grad]
    if float_outs:
        sum(o.sum() for o in float_outs).backward()
    return got, None if x.grad is None else x.grad.item()


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("d", [0, -1])
def test_dims_0_and_minus_1_of_a_0d_tensor_as_torch(torch, name, d):
    assert _run(ember, name, d) == _run(torch, name, d)


@pytest.mark.parametrize("name", ["flip", "transpose", "movedim", "gather", "norm0", "sum"])
def test_other_dims_of_a_0d_tensor_are_index_errors(torch, name):
    with pytest.raises(IndexError):
        _run(torch, name, 1)
    with pytest.raises(IndexError):
        _run(ember, name, 1)


def test_diff_of_a_0d_tensor_is_refused_as_torch(torch):
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        torch.diff(torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        ember.diff(ember.tensor(1.0))  # ember gave the 0-d tensor back


def test_index_select_of_a_0d_tensor_takes_one_index_as_torch(torch):
    for lib in (torch, ember):
        x = lib.tensor(2.0)
        with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value, got 2"):
            lib.index_select(x, 0, lib.tensor([0, 0]))
