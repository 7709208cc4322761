"""Module and container behaviour where ember used to differ from torch 2.13 (found by
fuzzing both side by side): members lost (modules set on a ModuleList or ModuleDict, names
starting with _, a buffer made persistent again), assignments torch refuses, key checks,
state_dict order, named_modules' memo, zero_grad in place, ParameterDict order and reprs."""

from collections import OrderedDict

import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def _names(m):
    return [n for n, _ in m.named_parameters()]


def test_modules_set_on_a_module_list_or_dict_are_members(lib):
    nn = lib.nn
    m = nn.ModuleList([nn.Linear(1, 1)])
    m.proj = nn.Linear(1, 1)
    assert _names(m) == ["0.weight", "0.bias", "proj.weight", "proj.bias"]
    d = nn.ModuleDict({"a": nn.ReLU()})
    d.proj = nn.Linear(1, 1)
    assert list(d.keys()) == ["a", "proj"] and _names(d) == ["proj.weight", "proj.bias"]
    assert list(d.state_dict()) == ["proj.weight", "proj.bias"]


def test_names_starting_with_an_underscore_are_members(lib):
    nn = lib.nn
    m = nn.Module()
    m.add_module("_c", nn.Linear(1, 1))
    m._w = nn.Parameter(lib.ones(1))
    assert sorted(_names(m)) == ["_c.bias", "_c.weight", "_w"]
    s = nn.Sequential(OrderedDict(_a=nn.Linear(1, 1), b=nn.ReLU()))
    assert len(s) == 2 and list(s.state_dict()) == ["_a.weight", "_a.bias"]


def test_a_buffer_registered_again_as_persistent_is_saved(lib):
    m = lib.nn.Module()
    m.register_buffer("b", lib.ones(1), persistent=False)
    m.register_buffer("b", lib.ones(1))
    assert list(m.state_dict()) == ["b"]
    m.register_buffer("c", lib.ones(1), persistent=False)
    del m.c
    m.register_buffer("c", lib.ones(1))
    assert list(m.state_dict()) == ["b", "c"]


def _refused_assignments(lib):
    nn, T = lib.nn, lib.ones
    lin = nn.Linear(2, 2)
    holder = nn.Module()
    holder.lin = nn.Linear(1, 1)
    holder.register_buffer("b", T(1))
    return [
        lambda: setattr(nn.Linear(2, 2), "weight", T(2, 2)),  # a plain tensor for a parameter
        lambda: setattr(lin, "weight", 3),
        lambda: setattr(lin, "weight", nn.Linear(1, 1)),
        lambda: setattr(holder, "lin", 3),
        lambda: setattr(holder, "b", 3),
        lambda: nn.Sequential(nn.Linear(2, 2)).__setitem__(0, 3),
        lambda: nn.ModuleList().append(3),
        lambda: nn.ModuleList([3]),
        lambda: nn.ModuleDict().__setitem__("x", 3),
        lambda: nn.ModuleDict().update({"x": 3}),
        lambda: nn.ModuleDict().__setitem__(1, nn.ReLU()),
        lambda: nn.Module().add_module(1, nn.ReLU()),
    ]


@pytest.mark.parametrize("k", range(12))
def test_assignments_torch_refuses_raise_type_error(lib, k):
    with pytest.raises(TypeError):
        _refused_assignments(lib)[k]()


def test_what_replaces_a_member_legitimately_is_taken(lib):
    nn = lib.nn
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(lib.zeros(2, 2))  # a Parameter for a parameter
    lin.weight = None  # None for anything
    lin.bias = nn.Parameter(lib.zeros(2))
    m = nn.Module()
    m.register_buffer("b", lib.ones(1))
    m.b = lib.zeros(1)  # a tensor for a buffer
    m.b = nn.Linear(1, 1)  # a module for a buffer
    assert _names(lin) == ["bias"] and _names(m) == ["b.weight", "b.bias"]


@pytest.mark.parametrize("key", ["a.b", "", "training", "forward"])
def test_module_dict_keys_torch_refuses(lib, key):
    with pytest.raises(KeyError):
        lib.nn.ModuleDict()[key] = lib.nn.ReLU()


@pytest.mark.parametrize("name", ["x", "forward", "weight"])
def test_add_module_over_another_attribute_is_refused(lib, name):
    m = lib.nn.Linear(1, 1)
    m.x = 1
    with pytest.raises(KeyError):
        m.add_module(name, lib.nn.ReLU())


@pytest.mark.parametrize("key", ["a.b", ""])
def test_parameter_dict_keys_torch_refuses(lib, key):
    with pytest.raises(KeyError):
        lib.nn.ParameterDict({key: lib.ones(1)})


def test_state_dict_lists_parameters_before_buffers(lib):
    nn = lib.nn

    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("z", lib.ones(1))
            self.p = nn.Parameter(lib.ones(1))

    assert list(A().state_dict()) == ["p", "z"]


def test_named_modules_memo_holds_modules(lib):
    a = lib.nn.ReLU()
    m = lib.nn.Sequential(a, lib.nn.Tanh())
    assert [n for n, _ in m.named_modules(memo={a})] == ["", "1"]


def test_zero_grad_without_set_to_none_keeps_the_tensor(lib):
    m = lib.nn.Linear(1, 1)
    m(lib.ones(1, 1)).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and float(g.sum()) == 0.0


def test_parameter_dict_from_a_plain_dict_sorts_its_keys(lib):
    d = lib.nn.ParameterDict({"b": lib.ones(1), "a": lib.ones(1)})
    assert list(d.keys()) == ["a", "b"]
    o = lib.nn.ParameterDict(OrderedDict(b=lib.ones(1), a=lib.ones(1)))
    assert list(o.keys()) == ["b", "a"]


def test_reprs_of_parameter_containers_and_a_sparse_embedding(torch):
    def reprs(lib):
        nn = lib.nn
        return [
            repr(nn.ParameterList([nn.Parameter(lib.ones(2)), nn.Parameter(lib.ones(2, 3))])),
            repr(nn.ParameterList([nn.Parameter(lib.ones(2))])),
            repr(nn.ParameterDict({"a": nn.Parameter(lib.ones(2))})),
            repr(nn.ParameterList()),
            repr(nn.Embedding(10, 3, padding_idx=1, sparse=True)),
        ]

    assert [r.replace("ember", "torch") for r in reprs(ember)] == reprs(torch)
