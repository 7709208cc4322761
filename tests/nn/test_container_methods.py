"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict against torch's: random
programs of the containers' methods (indexing with negative indices and slices, item
assignment and deletion, append, extend, insert, pop, +, +=, *, dict methods), run on both,
must leave the same children, names, parameter names and state_dict keys, or fail in both.

torch's ModuleList.insert with a negative index raises KeyError (it shifts keys "-1", …), and
its Sequential.insert does the same once the names are not 0 … n-1 (after a slice, which keeps
names): ember inserts as list.insert does and renumbers, so the programs insert at
non-negative positions into ModuleLists and into Sequentials that were not sliced."""

import random

import pytest

import ember

LIST_OPS = ["append", "extend", "insert", "pop", "del", "setitem", "getslice", "delslice",
            "iadd", "add", "index", "mul"]  # fmt: skip
PARAM_LIST_OPS = ["append", "extend", "setitem", "index", "getslice", "iadd"]
DICT_OPS = ["set", "pop", "del", "update", "clear", "get", "items", "popitem", "setdefault"]


def _summary(lib, c):
    if isinstance(c, (lib.nn.ModuleDict, lib.nn.ParameterDict)):
        entries = list(c.keys())
    elif isinstance(c, lib.nn.ParameterList):
        entries = [tuple(p.shape) for p in c]
    else:
        entries = [m.out_features for m in c]
    names = [n for n, _ in c.named_children()]
    return len(c), entries, names, [n for n, _ in c.named_parameters()], list(c.state_dict())


def _program(lib, seed):
    r = random.Random(seed)
    kind = r.choice(["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"])
    nn, count = lib.nn, [0]

    def new():
        count[0] += 1
        if kind.startswith("Parameter"):
            return nn.Parameter(lib.ones(count[0] % 3 + 1))
        return nn.Linear(1, count[0] % 4 + 1)

    n = r.randint(0, 3)
    if kind in ("ModuleDict", "ParameterDict"):
        c = getattr(nn, kind)({f"k{i}": new() for i in range(n)})
    elif kind == "Sequential":
        c = nn.Sequential(*[new() for _ in range(n)])
    else:
        c = getattr(nn, kind)([new() for _ in range(n)])
    sliced = False
    for _ in range(r.randint(1, 6)):
        size = len(c)
        i, j, k = r.randint(-size - 1, size), r.randint(-size, size), f"k{r.randint(0, 4)}"
        if kind in ("ModuleDict", "ParameterDict"):
            op = r.choice(DICT_OPS if kind == "ParameterDict" else DICT_OPS[:-2])
            if op == "set":
                c[k] = new()
            elif op in ("pop", "get"):
                c.pop(k) if op == "pop" else c[k]
            elif op == "del":
                del c[k]
            elif op == "update":
                c.update({k: new(), "z": new()} if r.random() < 0.5 else [(k, new())])
            elif op == "clear":
                c.clear()
            elif op == "items":
                list(c.items())
            elif op == "popitem":
                c.popitem()
            else:
                c.setdefault(k, new())
            continue
        op = r.choice(PARAM_LIST_OPS if kind == "ParameterList" else LIST_OPS)
        if op == "append":
            c.append(new())
        elif op in ("extend", "iadd"):
            more = [new() for _ in range(r.randint(0, 2))]
            if op == "extend":
                c.extend(more)
            else:
                c += nn.Sequential(*more) if kind == "Sequential" else more
        elif op == "insert" and not sliced:
            c.insert(r.randint(0 if kind == "ModuleList" else -size, size), new())
        elif op == "pop":
            c.pop(i if r.random() < 0.7 else slice(j, None))
        elif op == "del":
            del c[i]
        elif op == "setitem":
            c[i] = new()
        elif op == "getslice":
            c, sliced = c[j : r.randint(-size, size) : r.choice([1, 2, -1])], True
        elif op == "delslice":
            del c[j:]
        elif op == "add":
            c = c + (nn.Sequential(new()) if kind == "Sequential" else [new()])
        elif op == "mul":
            c = c * r.randint(0, 2)
        else:
            c[i]
    return kind, _summary(lib, c)


def _outcome(lib, seed):
    try:
        return _program(lib, seed)
    except (KeyError, AttributeError):  # a missing key (torch's ParameterDict: AttributeError)
        return "missing"
    except Exception as e:  # the same kind of failure in both
        return type(e).__name__


@pytest.mark.parametrize("chunk", range(4))
def test_random_container_programs_agree_with_torch(torch, chunk):
    bad = [s for s in range(chunk, 600, 4) if _outcome(ember, s) != _outcome(torch, s)]
    assert not bad, (
        f"seeds {bad[:10]}: first {_outcome(ember, bad[0])} vs {_outcome(torch, bad[0])}"
    )


def test_sequential_delete_renumbers_and_slices_keep_names_as_torch(torch):
    for lib in (ember, torch):
        seq = lib.nn.Sequential(
            *[lib.nn.Linear(1, n) for n in (1, 2, 3, 4)],
        )
        del seq[1]
        assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
        assert [m.out_features for m in seq[1:]] == [3, 4]
        assert [n for n, _ in seq[1:].named_children()] == ["1", "2"]
        assert seq.pop(-1).out_features == 4 and len(seq) == 2
        seq.insert(0, lib.nn.ReLU())
        assert [type(m).__name__ for m in seq] == ["ReLU", "Linear", "Linear"]
        with pytest.raises(IndexError, match="index 3 is out of range"):
            seq[3]
        with pytest.raises(TypeError):
            lib.nn.Sequential([lib.nn.ReLU()])  # a list is no Module


def test_parameter_dict_refuses_keys_that_are_not_strings(torch):
    for lib in (ember, torch):
        d = lib.nn.ParameterDict()
        with pytest.raises(TypeError, match="not a string"):
            d[1] = lib.nn.Parameter(lib.ones(1))
        d = lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.ones(1))})  # (torch's keeps the 1)
        d2 = d | {"a": lib.nn.Parameter(lib.ones(2))}
        assert list(d2.keys()) == ["b", "a"] and len(d) == 1
