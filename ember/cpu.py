"""``ember.cpu``: torch.cpu's device-agnostic names, so code written as
``getattr(torch, device_type).synchronize()`` runs for "cpu". NumPy's work is done when its
call returns, so synchronising waits for nothing, and streams and events exist only to be
called, as torch's CPU ones do. ``ember.cpu.amp`` holds torch.cpu.amp's deprecated
autocast and GradScaler."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager

from . import backend


def is_available() -> bool:
    """torch.cpu.is_available: always True."""
    return True


def is_initialized() -> bool:
    """torch.cpu.is_initialized: always True."""
    return True


def device_count() -> int:
    """torch.cpu.device_count: 1."""
    return 1


def current_device() -> str:
    """torch.cpu.current_device: "cpu"."""
    return "cpu"


def set_device(device) -> None:
    """torch.cpu.set_device: only the CPU is a CPU device (checked), nothing to switch."""
    if device is not None and str(device) not in ("cpu", "0"):
        backend.check_device(device)


def synchronize(device=None) -> None:
    """torch.cpu.synchronize: NumPy's work is finished when its calls return."""


class Stream:
    """torch.cpu.Stream: exists for device-agnostic code; its methods do nothing."""

    def __init__(self, priority: int = -1) -> None:
        self.priority = priority

    def wait_stream(self, stream) -> None:
        pass

    def record_event(self) -> None:
        pass

    def wait_event(self, event) -> None:
        pass

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        pass


class Event:
    """torch.cpu.Event: always complete."""

    def query(self) -> bool:
        return True

    def record(self, stream=None) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def wait(self, stream=None) -> None:
        pass


_current_stream = Stream()


class StreamContext(AbstractContextManager):
    """torch.cpu.StreamContext: makes ``stream`` the current stream inside the block."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream, self.prev = stream, None

    def __enter__(self):
        global _current_stream
        if self.stream is not None:
            self.prev, _current_stream = _current_stream, self.stream
        return self

    def __exit__(self, *exc) -> None:
        global _current_stream
        if self.prev is not None:
            _current_stream, self.prev = self.prev, None


def stream(stream: Stream | None) -> StreamContext:
    """torch.cpu.stream: a StreamContext for ``stream``."""
    return StreamContext(stream)


def current_stream(device=None) -> Stream:
    """torch.cpu.current_stream: the stream a ``stream(...)`` block made current."""
    return _current_stream


# torch.cpu.amp's deprecated spellings; registered so that ``from ember.cpu.amp import
# GradScaler`` finds them too
from .amp import cpu_amp as amp  # noqa: E402

sys.modules[__name__ + ".amp"] = amp
