"""Which results share their input's memory, as in torch: a view's in-place change reaches the
input, a new tensor's does not. NumPy makes views where torch copies (a flip is a negative
stride; reshapes and permutes that move nothing are views), so these are held against torch
one by one: ``y = f(x); y.add_(100)`` must leave x as torch leaves it."""

import numpy as np
import pytest

import ember
import ember.functional as EF


def _f(lib):
    if lib is ember:
        return EF
    import torch.nn.functional

    return torch.nn.functional


def _channel_shuffle(x, lib, groups):
    if lib is ember:
        return EF.channel_shuffle(x, groups)
    return lib.nn.ChannelShuffle(groups)(x)


#: torch returns new memory for every one of these, whatever the arguments
NEW = {
    "flip": lambda x, lib: x.flip(0),
    "flip of a dim of one": lambda x, lib: x[:1].flip(0),
    "fliplr": lambda x, lib: x.fliplr(),
    "flipud": lambda x, lib: lib.flipud(x),
    "rot90 once": lambda x, lib: x.rot90(1),
    "rot90 twice": lambda x, lib: x.rot90(2, (1, 0)),
    "rot90 thrice": lambda x, lib: lib.rot90(x, 3),
    "rot90 none": lambda x, lib: x.rot90(0),
    "roll by a whole turn": lambda x, lib: x.roll(3, 0),
    "roll by nothing": lambda x, lib: x.roll((0, 0), (0, 1)),
    "roll flattened by nothing": lambda x, lib: lib.roll(x, 0),
    "repeat by ones": lambda x, lib: x.repeat(1, 1),
    "repeat by ones, a new dim": lambda x, lib: x.repeat(1, 1, 1),
    "tile by ones": lambda x, lib: x.tile((1,)),
    "pixel_shuffle by 1": lambda x, lib: _f(lib).pixel_shuffle(x[None, None], 1),
    "pixel_unshuffle by 1": lambda x, lib: _f(lib).pixel_unshuffle(x[None, None], 1),
    "channel_shuffle of one group": lambda x, lib: _channel_shuffle(x[None, :, :, None], lib, 1),
    "channel_shuffle of groups of one": lambda x, lib: _channel_shuffle(
        x[None, :, :, None], lib, 3
    ),
    "unfold by 1×1": lambda x, lib: _f(lib).unfold(x[None, None], 1),
}

#: and views for these
VIEWS = {
    "t": lambda x, lib: x.t(),
    "narrow": lambda x, lib: x.narrow(1, 1, 2),
    "reshape": lambda x, lib: x.reshape(9),
    "expand": lambda x, lib: x.expand(3, 3),
    "unflatten": lambda x, lib: x.unflatten(1, (3, 1)),
}


def _after_add(lib, f):
    x = lib.tensor(np.arange(9.0).reshape(3, 3))
    y = f(x, lib)
    y.add_(100)
    return x.numpy()


@pytest.mark.parametrize("name", sorted(NEW))
def test_new_memory_as_in_torch(torch, name):
    got, want = _after_add(ember, NEW[name]), _after_add(torch, NEW[name])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, np.arange(9.0).reshape(3, 3))


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_stay_views(torch, name):
    got, want = _after_add(ember, VIEWS[name]), _after_add(torch, VIEWS[name])
    np.testing.assert_array_equal(got, want)
    assert got.sum() > 36  # the change reached x


def test_flip_still_differentiates_as_torch(torch):
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = x.flip(1).rot90(1) * lib.tensor(np.arange(6.0).reshape(3, 2))
        y.roll(0, 0).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


# ------------------------------------------------------------------ the whole surface, swept
#: argument lists tried in turn (the first that both frameworks take is compared)
SWEEP_ARGS = [(), (0,), (1,), (0, 1), ((0,),), ((1, 1),), (2,), (-1,)]
#: not functions of their input's values (seeding, global settings, IO)
SWEEP_SKIP = {
    "compile", "load", "manual_seed", "save", "seed", "set_default_device", "set_default_dtype",
    "set_flush_denormal", "set_grad_enabled", "set_num_threads", "set_printoptions",
    "set_rng_state", "use_deterministic_algorithms",
}  # fmt: skip


def _reaches_input(lib, f, args, make):
    """Whether ``y.add_(100)`` for y = f(x, *args) changes x (None: not comparable here)."""
    x = make(lib)
    try:
        y = f(x, *args)
    except Exception:  # noqa: BLE001 - these arguments do not fit this function
        return None
    if isinstance(y, (tuple, list)) and y and hasattr(y[0], "add_"):
        y = y[0]
    if not isinstance(y, lib.Tensor) or not y.is_floating_point():
        return None
    before = x.clone()
    try:
        with lib.no_grad():
            y.add_(100)
    except Exception:  # noqa: BLE001 - a result that takes no in-place add
        return None
    return bool((x != before).any().item())


def _sweep(torch, names, get, make):
    """(names compared, those where ember's answer differs from torch's)."""
    compared, differ = 0, []
    for name in names:
        for args in SWEEP_ARGS:
            answers = [_reaches_input(lib, get(lib, name), args, make) for lib in (ember, torch)]
            if None not in answers:
                compared += 1
                if answers[0] != answers[1]:
                    differ.append((name, args, answers))
                break
    return compared, differ


def _public(a, b):
    return sorted(n for n in set(dir(a)) & set(dir(b)) if not n.startswith("_"))


def test_no_tensor_method_shares_memory_where_torch_does_not(torch):
    def make(lib):
        return lib.tensor(np.arange(1.0, 10.0).reshape(3, 3))

    names = [n for n in _public(ember.Tensor, torch.Tensor) if not n.endswith("_")]
    compared, differ = _sweep(torch, names, lambda lib, n: getattr(lib.Tensor, n), make)
    assert compared >= 150 and not differ, differ


@pytest.mark.parametrize(
    "module, shape", [("", (3, 3)), ("nn.functional", (1, 4, 3, 3)), ("linalg", (3, 3)),
                      ("special", (3, 3)), ("fft", (3, 3))],
)  # fmt: skip
def test_no_function_shares_memory_where_torch_does_not(torch, module, shape):
    import importlib

    mods = {}
    for lib in (ember, torch):
        name = lib.__name__ + ("." + module if module else "")
        if lib is ember and module == "nn.functional":
            name = "ember.functional"
        mods[lib] = importlib.import_module(name)

    def make(lib):
        values = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) / 10
        return lib.tensor(values + (5 * np.eye(3) if module == "linalg" else 0))

    names = [
        n for n in _public(mods[ember], mods[torch])
        if all(callable(getattr(m, n)) for m in mods.values())
        and not n.endswith("_") and n not in SWEEP_SKIP
    ]  # fmt: skip
    compared, differ = _sweep(torch, names, lambda lib, n: getattr(mods[lib], n), make)
    assert compared >= min(8, len(names)) and not differ, differ
