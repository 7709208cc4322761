"""torch.nn.modules.utils at torch's path: the argument helpers layers use (_single, _pair,
_triple, _quadruple, _ntuple, _reverse_repeat_tuple, _list_with_default) and
consume_prefix_in_state_dict_if_present, each behaving as torch's."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse"):
    """A function that turns one value into an n-tuple of it; an iterable (a string too) is
    made a tuple as it is, of whatever length, as torch's."""

    def parse(x) -> tuple:
        return tuple(x) if isinstance(x, Iterable) else (x,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """``t`` reversed with each element repeated n times: (1, 2) and 2 give (2, 2, 1, 1), the
    order F.pad takes padding in."""
    return tuple(v for v in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """An adaptive pool's output size: an int as it is; else a list with each None replaced
    by the matching one of the trailing len(out_size) entries of ``defaults`` (the input's
    sizes), which must be longer than out_size."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    tail = defaults[len(defaults) - len(out_size) :]
    return [d if v is None else v for v, d in zip(out_size, tail)]


def consume_prefix_in_state_dict_if_present(state_dict, prefix: str) -> None:
    """Strip ``prefix`` from the keys of ``state_dict`` that start with it, in place (a
    checkpoint saved from DataParallel or DDP: ``prefix='module.'``); the renamed entries move
    to the end, as torch's. Its ``_metadata``, when it has one, is renamed likewise, and the
    entry named the prefix without its dots becomes the root's ('')."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    bare = prefix.replace(".", "")
    for key in [k for k in metadata if k and (k == bare or k.startswith(prefix))]:
        metadata[key[len(prefix) :]] = metadata.pop(key)
