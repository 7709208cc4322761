"""Every layer torch also has names its forward arguments as torch's forward does, so
``layer(input=t)``, functional_call with keyword inputs and with_kwargs hooks work as in torch
(ember's forwards once took ``x``: 111 layers). ember may add arguments after torch's
(``lengths``, ``record_gates``)."""

import inspect

import pytest

import ember


def _pairs():
    import torch

    for name in dir(torch.nn):
        tc, ec = getattr(torch.nn, name), getattr(ember.nn, name, None)
        if isinstance(tc, type) and issubclass(tc, torch.nn.Module) and isinstance(ec, type):
            try:
                theirs = list(inspect.signature(tc.forward).parameters)[1:]
                mine = list(inspect.signature(ec.forward).parameters)[1:]
            except (TypeError, ValueError):
                continue
            if "args" not in mine:  # containers and Module itself take anything
                yield name, theirs, mine


def test_forward_arguments_are_named_as_torch(torch):
    bad = [(n, t, m) for n, t, m in _pairs() if m[: len(t)] != t]
    assert not bad, bad[:10]


@pytest.mark.parametrize(
    "make, arg",
    [(lambda L: L.nn.Linear(2, 3), (1, 2)), (lambda L: L.nn.ReLU(), (1, 2)),
     (lambda L: L.nn.Conv1d(1, 2, 1), (1, 1, 3)), (lambda L: L.nn.LSTMCell(2, 3), (1, 2)),
     (lambda L: L.nn.Embedding(4, 2), None)],
)  # fmt: skip
def test_a_layer_takes_its_input_by_keyword(torch, make, arg):
    for lib in (torch, ember):
        layer = make(lib)
        t = lib.tensor([[1, 3]]) if arg is None else lib.ones(*arg)
        out = layer(input=t)
        out = out[0] if isinstance(out, tuple) else out
        assert tuple(out.shape)
