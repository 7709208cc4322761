"""The wire format of ember.distributed: self-describing frames over one TCP connection.

A frame is a fixed little-endian header (kind, collective, reduce op, status, root, tag,
sequence number, array count, message length), then the array's dtype as NumPy's type code
(``"<f4"``), its shape, an optional UTF-8 message, and ``count`` arrays of that dtype and
shape as raw bytes. Receiving never unpickles or evaluates anything: the dtype must match a
plain numeric type code (bool, signed and unsigned integers, floats, complex) before NumPy
is asked to parse it, so a peer can send numbers and words, never code.

Each connection is a ``Link``: it reads whole frames with the group's timeout, and turns a
closed connection or a silent peer into a ``DistNetworkError`` that names both ranks. Several
threads of one group may use a link (the caller or the communication thread for collectives,
the point-to-point sender and receiver threads, the ring's sender): a frame is sent whole
under the link's send lock, and whoever reads holds its read lock (group.py), so frames never
interleave.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from dataclasses import dataclass, field

import numpy  # host buffers for the socket: this package is host-side IO, like serialization

MAGIC = b"EMB1"
# magic, kind, op, reduce op, status, root, tag, seq, count, message bytes, dtype bytes, ndim
_HEADER = struct.Struct("<4sBBBBiiQIIBB")
_DIM = struct.Struct("<q")

# frame kinds
HELLO, WELCOME, REQUEST, REPLY, SEND, RING = 1, 2, 3, 4, 5, 6  # RING: a ring step's chunk
FATAL = 1  # the tag of a REPLY that says the group is broken (a mismatch is not)

_TYPE_CODE = re.compile(r"^[<>|=]?[biufc][0-9]{1,2}$")  # "<f4", "|b1", "<i8", "<c16"
_MAX_NDIM = 64
_MAX_MESSAGE = 1 << 20


class DistError(RuntimeError):
    """Base of ember.distributed's errors (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """A collective that cannot run as called: ranks disagree on it, or a rank failed in it."""


class DistNetworkError(DistError):
    """A peer closed its connection, or did not answer within the group's timeout."""


@dataclass
class Frame:
    """One message: what the header says, and the arrays that came with it."""

    kind: int
    op: int = 0
    rop: int = 0
    status: int = 0  # 0: fine; 1: the sender reports an error in ``message``
    root: int = -1
    tag: int = 0
    seq: int = 0
    message: str = ""
    dtype: str = ""  # NumPy's type code of the arrays, "" when the frame carries none
    shape: tuple = ()
    arrays: list = field(default_factory=list)


def checked_dtype(code: str) -> numpy.dtype:
    """The dtype of a type code received from a peer: plain numbers only, refused otherwise."""
    if not _TYPE_CODE.match(code):
        raise DistBackendError(f"refusing array dtype {code!r}: expected a numeric type code")
    try:
        return numpy.dtype(code)
    except TypeError:  # "<f1", "<i3": the pattern's shape, but no such type
        raise DistBackendError(f"refusing array dtype {code!r}: no such numeric type") from None


def type_code(array: numpy.ndarray) -> str:
    """The type code a local array travels under, or a TypeError for an object/structured one."""
    code = array.dtype.str
    if not _TYPE_CODE.match(code):
        raise TypeError(
            f"ember.distributed sends arrays of numbers (bool, int, float, complex), got dtype"
            f" {array.dtype}"
        )
    return code


def _fits(array: numpy.ndarray, dtype: numpy.dtype, shape: tuple) -> bool:
    return array.dtype == dtype and array.shape == shape and array.flags.c_contiguous


def _bytes_of(array: numpy.ndarray) -> memoryview:
    return memoryview(numpy.ascontiguousarray(array).reshape(-1).view(numpy.uint8))


class Link:
    """A connection to one peer rank: whole frames in and out, with the group's timeout."""

    def __init__(self, sock: socket.socket, me: int, peer: int, timeout: float) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames go at once
        sock.settimeout(timeout)
        self.sock, self.me, self.peer, self.timeout = sock, me, peer, timeout
        self.send_lock = threading.Lock()  # one frame at a time on the wire
        self.read_lock = threading.Lock()  # held by whichever thread reads a frame (group.py)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # ------------------------------------------------------------ sending
    def send(self, frame: Frame, arrays=(), lock_timeout: float = -1) -> None:
        """Send ``frame`` and ``arrays`` (each of the frame's dtype and shape), whole: other
        threads' frames wait for it (``lock_timeout`` s at most: then nothing is sent)."""
        if not self.send_lock.acquire(timeout=lock_timeout):
            return
        try:
            self._send(frame, arrays)
        finally:
            self.send_lock.release()

    def _send(self, frame: Frame, arrays) -> None:
        message = frame.message.encode("utf-8")[:_MAX_MESSAGE]
        dtype = frame.dtype.encode("ascii")
        head = _HEADER.pack(
            MAGIC, frame.kind, frame.op, frame.rop, frame.status, frame.root, frame.tag,
            frame.seq, len(arrays), len(message), len(dtype), len(frame.shape),
        )  # fmt: skip
        dims = b"".join(_DIM.pack(int(n)) for n in frame.shape)
        try:
            self.sock.sendall(head + dtype + dims + message)
            for a in arrays:
                if a.size:
                    self.sock.sendall(_bytes_of(a))
        except TimeoutError as e:
            raise self._silent("sending to") from e
        except OSError as e:
            raise self._gone(e) from e

    # ------------------------------------------------------------ receiving
    def recv(self, into: numpy.ndarray | None = None) -> Frame:
        """The next whole frame from the peer; its arrays are fresh NumPy arrays, or its one
        array is read straight into ``into`` when it is a ring step's chunk and ``into`` is
        contiguous and of its dtype and shape (no allocation, no copy)."""
        head = _HEADER.unpack(self._exact(_HEADER.size))
        magic, kind, op, rop, status, root, tag, seq, count, n_msg, n_dtype, ndim = head
        if magic != MAGIC:
            raise DistBackendError(
                f"rank {self.me}: rank {self.peer} sent a frame that is not ember.distributed's"
                f" (magic {magic!r}); is another program connected to this port?"
            )
        if ndim > _MAX_NDIM or n_msg > _MAX_MESSAGE or n_dtype > 8:
            raise DistBackendError(f"rank {self.me}: malformed frame from rank {self.peer}")
        code = self._exact(n_dtype).decode("ascii", "replace")
        dims = self._exact(8 * ndim)
        shape = tuple(_DIM.unpack_from(dims, 8 * i)[0] for i in range(ndim))
        message = self._exact(n_msg).decode("utf-8", "replace")
        frame = Frame(kind, op, rop, status, root, tag, seq, message, code, shape)
        if count:
            if any(n < 0 for n in shape):
                raise DistBackendError(f"rank {self.me}: negative shape {shape} from {self.peer}")
            dtype = checked_dtype(code)
            if count == 1 and kind == RING and into is not None and _fits(into, dtype, shape):
                if into.size:
                    self._exact_into(memoryview(into.reshape(-1).view(numpy.uint8)))
                frame.arrays.append(into)
                return frame
            for _ in range(count):
                try:
                    a = numpy.empty(shape, dtype)
                except (ValueError, MemoryError) as e:
                    raise DistBackendError(
                        f"rank {self.me}: cannot hold an array of shape {shape} and dtype"
                        f" {dtype} from rank {self.peer}: {e}"
                    ) from e
                if a.size:
                    self._exact_into(memoryview(a.reshape(-1).view(numpy.uint8)))
                frame.arrays.append(a)
        return frame

    def _exact(self, n: int) -> bytes:
        buf = bytearray(n)
        if n:
            self._exact_into(memoryview(buf))
        return bytes(buf)

    def _exact_into(self, view: memoryview) -> None:
        got, n = 0, len(view)
        try:
            while got < n:
                k = self.sock.recv_into(view[got:], n - got)
                if k == 0:
                    raise self._gone(None)
                got += k
        except TimeoutError as e:
            raise self._silent("waiting for") from e
        except DistNetworkError:
            raise
        except OSError as e:
            raise self._gone(e) from e

    def _gone(self, e: OSError | None) -> DistNetworkError:
        why = f" ({e})" if e is not None else ""
        return DistNetworkError(
            f"rank {self.me}: the connection to rank {self.peer} was closed{why}; rank"
            f" {self.peer} has exited or crashed (look at its output for the first error)"
        )

    def _silent(self, what: str) -> DistNetworkError:
        return DistNetworkError(
            f"rank {self.me}: timed out after {self.timeout:g} s {what} rank {self.peer}; it"
            " is stuck, or is not calling the same collectives (the limit is"
            " init_process_group's timeout=)"
        )
