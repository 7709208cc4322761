"""The object collectives without pickle, and monitored_barrier.

On 3 processes: all_gather_object, gather_object, broadcast_object_list and
scatter_object_list carry nested objects of every supported type exactly (tuple stays
tuple, int stays int, floats bit for bit, arrays with dtype, shape and values, Tensors and
Parameters as such), on a subgroup too; an object that cannot be sent raises a TypeError
naming its type and place on its rank and an error naming that rank on the others, and
the group goes on; monitored_barrier names the ranks that did not arrive.

In one process: the encoding round-trips, refuses what it does not carry, and decoding
truncated, corrupt or hostile bytes raises ObjectDecodeError, never anything else, never
running code."""

import enum
import pickle
import struct
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import ember
from ember.distributed import ObjectDecodeError
from ember.distributed.objects import MAGIC, MAX_DEPTH, decode, encode
from tests.distributed.dist_harness import run_ranks
from tests.distributed.dist_workers_objects import Foo, describe, payload

MODULE = "tests.distributed.dist_workers_objects"
WORLD = 3
CARRIES = (
    "cannot be sent: ember.distributed's object collectives carry None, bool, int, float,"
    " complex, str, bytes, list, tuple, dict, NumPy arrays and Tensors (no pickle: receiving"
    " must never run code)"
)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks("objects", WORLD, tmp_path_factory.mktemp("objects"), module=MODULE)


# ------------------------------------------------------------ 3 processes
def test_objects_arrive_exactly_on_every_rank(ranks):
    _, infos = ranks
    everyone = describe([payload(k) for k in range(WORLD)])
    assert "Parameter(grad=True)" in everyone and "tuple[" in everyone  # described in full
    for r, info in enumerate(infos):
        assert info["all_gather"] == everyone
        assert info["gather"] == (everyone if r == 2 else "NoneType:None")
        assert info["broadcast"] == describe([payload(1), "second", (3,)])
        assert info["scatter"] == describe([payload(r)])
        assert info["scatter0"] == describe([[r] * r])
        assert info["after"] == describe([0, 10, 20])
        assert info["torch_loaded"] is False


def test_subgroup_and_its_non_member(ranks):
    _, infos = ranks
    for r in (1, 2):
        assert infos[r]["sub"] == describe([[{"from": 1}, {"from": 2}], [2, 2]])
        assert infos[r]["backend"] == ["gloo", True, [1, 2]]
    assert infos[0]["non_member"] == [None]
    assert infos[0]["non_member_warnings"] == [
        "Running all_gather_object on global rank 0 which does not belong to the given group."
    ]


def test_refusals_raise_on_every_rank_naming_type_path_and_rank(ranks):
    _, infos = ranks
    foo = f"obj['opt'][2]: a Foo {CARRIES}"
    key = (
        "obj: a dict key (1, 2) of type tuple cannot be sent: keys must be str or int (no"
        " pickle: receiving must never run code)"
    )
    text = (
        "scatter_object_input_list[1]: an array of dtype <U4 cannot be sent: arrays must hold"
        " bool, integers, floats or complex numbers (no pickle: receiving must never run code)"
    )
    for r, info in enumerate(infos):
        m = info["messages"]
        for name, op, culprit, why in (
            ("refused", "all_gather_object", 1, foo),
            ("key", "gather_object", 0, key),
            ("scatter_refused", "scatter_object_list", 2, text),
        ):
            other = f"DistBackendError: {op} failed on rank {culprit}: {why}"
            assert m[name] == (f"TypeError: {why}" if r == culprit else other)
        assert info["scatter_refused_left"] == describe([None])
        assert m["length"] == (
            "DistBackendError: broadcast_object_list: ranks passed object lists of different"
            " lengths: rank 0: 3; rank 1: 2; rank 2: 3"
        )


def test_monitored_barrier_names_the_late_ranks(ranks):
    _, infos = ranks
    for info in infos:
        m = info["messages"]
        assert m["monitored_all"] == (
            "DistBackendError: [Rank 0]: Ranks 1, 2 failed to pass monitoredBarrier in 400 ms"
            " (the group can no longer be used)"
        )
        assert m["monitored"] == (
            "DistBackendError: [Rank 0]: Rank 2 failed to pass monitoredBarrier in 400 ms (the"
            " group can no longer be used)"
        )
    assert 0.35 < infos[0]["monitored_all_s"] < 3.0
    assert 0.35 < infos[0]["monitored_s"] < 3.0


# ------------------------------------------------------------ the encoding, in one process
def test_round_trip_keeps_every_type_and_bit():
    obj = payload(2)
    back = decode(encode(obj))
    assert describe(back) == describe(obj)
    assert type(back["nested"][0][0][0]) is tuple and type(back["rank"]) is int
    assert type(back["od"]) is OrderedDict and list(back["od"]) == ["z", "a"]
    assert type(back["tensor"]) is ember.Tensor and type(back["param"]).__name__ == "Parameter"
    assert back["param"].requires_grad and not back["tensor"].requires_grad
    assert back["array"].dtype == np.dtype(">f8") and back["array"].flags.writeable
    assert back["array"].flags.owndata or back["array"].base.flags.owndata  # not the buffer
    assert type(back["scalar"]) is np.float32
    for x in (0, -1, 127, 128, -128, -129, 2**64, -(2**200), True, 1.5, -0.0, "", b""):
        y = decode(encode(x))
        assert type(y) is type(x) and describe(y) == describe(x)
    assert decode(np.frombuffer(encode([1, "a"]), np.uint8)) == [1, "a"]


class Color(enum.IntEnum):
    RED = 1


Pair = namedtuple("Pair", "a b")


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"opt": [1, 2, Foo()]}, f"obj['opt'][2]: a Foo {CARRIES}"),
        ([Color.RED], f"obj[0]: a Color {CARRIES}"),
        ((1, Pair(1, 2)), f"obj[1]: a Pair {CARRIES}"),
        ({"s": {1, 2}}, f"obj['s']: a set {CARRIES}"),
        (bytearray(b"x"), f"obj: a bytearray {CARRIES}"),
        ([len], f"obj[0]: a builtin_function_or_method {CARRIES}"),
        ({3: np.array([object()])}, "obj[3]: an array of dtype object cannot be sent"),
        ({1.5: 1}, "obj: a dict key 1.5 of type float cannot be sent"),
    ],
)
def test_unsupported_objects_are_refused_with_their_place(obj, message):
    with pytest.raises(TypeError) as caught:
        encode(obj)
    assert str(caught.value).startswith(message)


def test_a_cycle_or_deep_nesting_is_refused_both_ways():
    loop = []
    loop.append(loop)
    with pytest.raises(TypeError, match=f"nested deeper than {MAX_DEPTH} containers"):
        encode(loop)
    deep = MAGIC + (b"l" + struct.pack("<Q", 1)) * (MAX_DEPTH + 1) + b"N"
    with pytest.raises(ObjectDecodeError, match=f"nested deeper than {MAX_DEPTH}"):
        decode(deep)
    ok = MAGIC + (b"l" + struct.pack("<Q", 1)) * MAX_DEPTH + b"N"
    assert decode(ok) is not None


def test_every_truncation_raises_a_clear_error():
    data = encode(payload(1))
    for n in range(len(data)):
        with pytest.raises(ObjectDecodeError, match="truncated|corrupt|not an ember"):
            decode(data[:n])
    with pytest.raises(ObjectDecodeError, match="2 unexpected bytes after the object"):
        decode(data + b"NN")


def test_corrupt_bytes_raise_only_object_decode_errors():
    data = bytearray(encode(payload(0)))
    rng = np.random.default_rng(7)
    failures = 0
    for _ in range(400):
        bad = bytearray(data)
        for i in rng.integers(len(MAGIC), len(bad), rng.integers(1, 4)):
            bad[i] = int(rng.integers(256))
        try:
            decode(bytes(bad))  # a flip inside a float or an array's data decodes fine
        except ObjectDecodeError:
            failures += 1
    assert failures > 100


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"EMB1N", "not an ember.distributed object encoding"),
        (MAGIC + b"X", r"unknown type tag b'X' at byte 4"),
        (MAGIC + b"s" + struct.pack("<Q", 2**63) + b"ab", "says 9223372036854775808, but only 2"),
        (MAGIC + b"l" + struct.pack("<Q", 10**12), "says 1000000000000, but only 0 bytes"),
        (MAGIC + b"a\x03|O8\x00", "refusing array dtype '|O8'"),
        (MAGIC + b"a\x03<f1\x00", "refusing array dtype '<f1'"),
        (MAGIC + b"a\x03<f8\x01" + struct.pack("<Q", 2**61), "needs 18446744073709551616 bytes"),
        (MAGIC + b"a\x03<f8\x02" + struct.pack("<QQ", 0, 2**62), "corrupt: an array of shape"),
        (MAGIC + b"a\x03<f8\x41", "an array of 65 dimensions"),
        (MAGIC + b"d" + struct.pack("<Q", 1) + b"N" + b"N", "dict key at byte 13: not str or"),
        (MAGIC + b"s" + struct.pack("<Q", 1) + b"\xff", "is not UTF-8"),
        (MAGIC + b"E\x01\x03<i8\x00" + bytes(8), "a tensor of dtype int64 cannot require grad"),
        (MAGIC + b"E\x07", "requires_grad at byte 5"),
    ],
)
def test_hostile_bytes_are_refused_naming_the_problem(data, message):
    with pytest.raises(ObjectDecodeError, match=message):
        decode(data)


_RAN = []


class _Exploit:
    def __reduce__(self):
        return (_RAN.append, ("ran",))


def test_pickles_are_never_run():
    hostile = pickle.dumps(_Exploit())
    for data in (
        hostile,
        MAGIC + hostile,
        MAGIC + b"b" + struct.pack("<Q", len(hostile)) + hostile,
    ):
        try:
            got = decode(data)
        except ObjectDecodeError:
            continue
        assert got == hostile  # carried as bytes, never unpickled
    assert _RAN == []
