"""cat skips a legacy empty (0,) tensor among tensors of other ranks in its shape check, as
torch, but the empty one still counts in the result dtype and gets its (empty) gradient: ember
dropped it, so the dtype could differ (int64 where torch's is float32) and backward found no
graph."""

import ember


def test_an_empty_1d_tensor_counts_in_the_dtype_and_gets_a_gradient(torch):
    got = []
    for lib in (ember, torch):
        f = lib.zeros(0, requires_grad=True)
        y = lib.cat([f, lib.ones(2, 3, dtype=lib.int64)], dim=1)
        w = lib.cat([lib.zeros(0, dtype=lib.float64), lib.ones(2, 2)], -1)
        y.sum().backward()
        got.append((str(y.dtype)[-7:], tuple(y.shape), str(w.dtype)[-7:], tuple(f.grad.shape)))
    assert got[0] == got[1]
