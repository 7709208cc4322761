"""default_collate and default_convert against torch's, sample type by sample type: the first
sample chooses the rule and the others are held to it (ember once looked at the first only),
dtypes come out as torch's (an int first: [1, 2.5] is float32; a float first: float64;
stacked tensors promoted), Mappings and other Sequences keep their types, and every sample
torch refuses is refused with an exception of torch's class."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import default_collate, default_convert

Pair = collections.namedtuple("Pair", "a b")


class Frozen(collections.abc.Mapping):  # a Mapping that is not a dict, rebuilt from one
    def __init__(self, d):
        self.d = dict(d)

    def __getitem__(self, k):
        return self.d[k]

    def __iter__(self):
        return iter(self.d)

    def __len__(self):
        return len(self.d)


def to_torch(x, torch):
    """The batch torch would be handed: ember Tensors as torch tensors, containers walked."""
    if isinstance(x, ember.Tensor):
        return torch.from_numpy(np.array(x.array))
    if isinstance(x, list):
        return [to_torch(v, torch) for v in x]
    return x


def plain(x):
    """A batch with tensors as (dtype, values) and containers as (type name, contents)."""
    if isinstance(x, ember.Tensor) or type(x).__module__.startswith("torch"):
        a = np.asarray(x.numpy() if hasattr(x, "numpy") and not isinstance(x, ember.Tensor)
                       else x.array)  # fmt: skip
        return (str(a.dtype), a.tolist())
    if isinstance(x, collections.abc.Mapping):
        return (type(x).__name__, {k: plain(v) for k, v in x.items()})
    if isinstance(x, (list, tuple, collections.deque)):
        return (type(x).__name__, [plain(v) for v in x])
    return (type(x).__name__, x)


def E(*shape_dtype):
    return ember.Tensor(np.zeros(*shape_dtype))


COLLATED = {
    "int then float": [1, 2.5],  # torch.tensor: float32, the default float
    "float then int": [2.5, 1],  # a float first: float64 whatever follows
    "np.float32 then float": [np.float32(1), 2.0],
    "float then np.float32": [2.0, np.float32(1)],
    "np.int64 then float": [np.int64(1), 2.5],
    "np.float16 then int": [np.float16(1), 1],
    "np.float32 then np.float64": [np.float32(1), np.float64(2)],
    "np.int32 then np.int64": [np.int32(1), np.int64(2)],
    "np.uint8 then int": [np.uint8(1), 1],
    "np.complex64 then float": [np.complex64(1), 1.0],
    "bools": [True, False],
    "bool then float": [True, 2.5],
    "int then bool": [1, True],
    "int then complex": [2, 1 + 2j],
    "int then 0-d tensor": [1, ember.tensor(3)],
    "float then 0-d array": [1.5, np.array(2)],
    "largest int64": [2**63 - 1, 1],
    "int past int64, then float": [2**63, 1.5],
    "0-d tensors int and float": [ember.tensor(1), ember.tensor(2.5)],
    "tensors int32 and uint8": [E((2,), np.int32), E((2,), np.uint8)],
    "tensors float64 and float32": [E((2,), np.float64), E((2,), np.float32)],
    "arrays int64 and float32": [np.zeros(2, np.int64), np.zeros(2, np.float32)],
    "arrays float32 and float64": [np.zeros(2, np.float32), np.zeros(2)],
    "array then list": [np.array([1]), [1]],
    "float32 array then list of floats": [np.zeros(1, np.float32), [1.5]],
    "0-d array then int": [np.zeros((), np.int32), 1],
    "0-d float16 array then float": [np.zeros((), np.float16), 2.5],
    "array then tensor": [np.zeros(2), E((2,), np.float32)],
    "uint16 arrays": [np.ones(2, np.uint16)] * 2,
    "ranges": [range(2), range(2)],
    "deques": [collections.deque([1, 2]), collections.deque([3, 4])],
    "tuple then list": [(1, 2), [3, 4]],
    "OrderedDicts": [collections.OrderedDict(b=1, a=2.5)] * 2,
    "defaultdicts": [collections.defaultdict(list, a=1)] * 2,
    "namedtuples": [Pair(1, "x"), Pair(2, "y")],
    "strings in tuples": [("a", 1), ("b", 2)],
    "np.str_": [np.str_("a"), np.str_("b")],
}


@pytest.mark.parametrize("batch", COLLATED.values(), ids=COLLATED.keys())
def test_default_collate_gives_torchs_batch(batch, torch):
    want = plain(torch.utils.data.default_collate(to_torch(batch, torch)))
    assert plain(default_collate(batch)) == want


def test_a_mapping_that_is_not_a_dict_keeps_its_type_as_torch(torch):
    batch = [Frozen({"a": 1}), Frozen({"a": 2})]
    ours, theirs = default_collate(batch), torch.utils.data.default_collate(batch)
    assert type(ours) is type(theirs) is Frozen
    assert ours["a"].tolist() == theirs["a"].tolist() == [1, 2]
    made = collections.defaultdict(list, a=np.zeros(1))
    assert default_convert(made).default_factory is list  # a copy, its factory kept
    assert type(default_convert(Frozen({"a": np.zeros(1)}))) is Frozen


REFUSED = {
    "int then str": [1, "a"],
    "float then str": [1.5, "a"],
    "int then None": [1, None],  # torch's RuntimeError: Could not infer dtype of NoneType
    "np.float32 then None": [np.float32(1), None],
    "float then None": [1.5, None],
    "int then list": [1, [1]],
    "int then array": [1, np.zeros(2)],
    "float then complex": [2.5, 1j],
    "complex first": [1 + 2j, 2],
    "int past int64": [2**63, 1],
    "int below int64": [1, -(2**63) - 1],
    "tensor then int": [ember.tensor(1), 1],
    "tensor then array": [E((2,), np.float32), np.zeros(2)],
    "tensor then np.float32": [ember.tensor(1.0), np.float32(1)],
    "ragged tensors": [E((2,), np.float32), E((3,), np.float32)],
    "ragged arrays": [np.zeros(2), np.zeros(3)],
    "array then number": [np.zeros(2), 1],
    "array then str": [np.zeros(2), "a"],
    "array then dict": [np.zeros(1), {"a": 1}],
    "array then array of strings": [np.zeros(2), np.array(["a", "b"])],
    "array then array of objects": [np.zeros(1), np.array([1], object)],
    "datetime arrays": [np.array(["2020-01-01"], "datetime64[D]")] * 2,
    "timedelta arrays": [np.zeros(1, "timedelta64[s]")] * 2,
    "datetime scalars": [np.datetime64("2020-01-01")] * 2,
    "np.float32 then datetime": [np.float32(1), np.datetime64("2020")],
    "timedelta scalars": [np.timedelta64(1)] * 2,
    "arrays of objects": [np.array([1], object)] * 2,
    "dict then int": [{"a": 1}, 1],
    "list then int": [[1], 1],
    "ragged tuples": [(1, 2), (3,)],
    "ragged ranges": [range(2), range(3)],
    "dicts missing a key": [{"a": 1}, {"b": 2}],
    "None first": [None, 1],
    "a tensor as the batch": ember.zeros(2, 2),  # torch.stack takes a sequence, not a tensor
}


@pytest.mark.parametrize("batch", REFUSED.values(), ids=REFUSED.keys())
def test_default_collate_refuses_what_torch_refuses(batch, torch):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.default_collate(to_torch(batch, torch))
    with pytest.raises(Exception) as ours:
        default_collate(batch)
    # ember's exception is one of torch's class (InputError: also ember's old ValueError)
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


def test_refusals_name_what_came(torch):
    with pytest.raises(RuntimeError, match="Could not infer dtype of NoneType"):
        default_collate([1, None])
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
        default_collate([ember.tensor(1), 1])
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        default_collate([2**63, 1])  # torch's ValueError; also a RuntimeError here
    with pytest.raises(TypeError, match="of type numpy.datetime64"):
        default_collate([np.array(["2020-01-01"], "datetime64[D]")] * 2)
    with pytest.raises(RuntimeError, match=r"but got \[2\] at entry 0 and \[\] at entry 1"):
        default_collate([np.zeros(2), 1])


CONVERTED = {
    "OrderedDict": collections.OrderedDict(a=np.zeros(1), b=1),
    "range": range(3),
    "deque": collections.deque([np.zeros(1)]),
    "tuple": (np.zeros(1), 1),
    "namedtuple": Pair(np.zeros(1), 1),
    "np.float64": np.float64(1),
    "np.str_": np.str_("a"),
    "array of strings": np.array(["a"]),
    "string": "ab",
}


@pytest.mark.parametrize("data", CONVERTED.values(), ids=CONVERTED.keys())
def test_default_convert_gives_torchs_sample(data, torch):
    want = plain(torch.utils.data.default_convert(data))
    assert plain(default_convert(data)) == want


def test_default_convert_refuses_datetimes_as_torch(torch):
    for data in (np.array([1], "datetime64[D]"), np.datetime64("2020")):
        for convert in (default_convert, torch.utils.data.default_convert):
            with pytest.raises(TypeError, match="of type numpy.datetime64"):
                convert(data)
