"""Tensor methods where ember used to differ from torch 2.13 (found by fuzzing both side by
side): flatten of one dim gives the tensor itself, and the refusal classes of t(), tril/triu,
trace, diagonal, diag_embed and diagonal_scatter (torch's RuntimeError)."""

import pytest

import ember


@pytest.mark.parametrize(
    "make, dims",
    [
        (lambda lib: lib.arange(3.0), ()),
        (lambda lib: lib.arange(3.0), (0, 0)),
        (lambda lib: lib.arange(3.0), (0, -1)),
        (lambda lib: lib.ones(2, 3), (0, 0)),
        (lambda lib: lib.ones(2, 3), (-1, -1)),
        (lambda lib: lib.ones(2, 3, 4), (1, -2)),
    ],
)
def test_flatten_of_one_dim_is_the_tensor_itself(torch, make, dims):
    got = []
    for lib in (ember, torch):
        x = make(lib)
        got.append((x.flatten(*dims) is x, lib.flatten(x, *dims) is x))
    assert got[0] == got[1] == (True, True)


def test_flatten_of_a_1d_tensor_keeps_its_graph(torch):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.flatten()
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        got.append((y is x, x.grad.tolist()))
    assert got[0] == got[1]


def _shape_refusals(lib):
    m, v, c = lib.ones(2, 2, 2), lib.ones(3), lib.ones(2, 3)
    return [
        ("t of 3-D", lambda: m.t()),
        ("torch.t of 3-D", lambda: lib.t(m)),
        ("tril of 1-D", lambda: v.tril()),
        ("triu of 1-D", lambda: v.triu(1)),
        ("tril of 0-d", lambda: lib.tril(lib.tensor(1.0))),
        ("triu of 1-D (function)", lambda: lib.triu(v)),
        ("trace of 3-D", lambda: m.trace()),
        ("trace of 1-D", lambda: v.trace()),
        ("trace of 0-d", lambda: lib.tensor(1.0).trace()),
        ("diagonal of one dim", lambda: c.diagonal(0, 0, 0)),
        ("diagonal of a dim and its negative", lambda: c.diagonal(0, 1, -1)),
        ("diag_embed of one dim", lambda: v.diag_embed(0, 0, 0)),
    ]


@pytest.mark.parametrize("k", range(12))
def test_shape_mistakes_are_runtime_errors(refused_alike, k):
    refused_alike(_shape_refusals, k)


def test_diagonal_scatter_of_one_dim_is_ember_s_value_error_too(torch):
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).diagonal_scatter(torch.ones(2), 0, 1, 1)
    with pytest.raises(ValueError):  # ember's pair class: RuntimeError and ValueError
        ember.ones(2, 3).diagonal_scatter(ember.ones(2), 0, 1, 1)
