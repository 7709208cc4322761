"""``SummaryWriter``: torch.utils.tensorboard's writer, with no TensorFlow, TensorBoard or
protobuf needed to write.

An event file ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>`` is a run of TFRecords
(record.py), each one serialized ``Event`` (proto.py); the first says ``brain.Event:2``.
Events wait in a queue of ``max_queue`` and are written when it fills, every ``flush_secs``
(a daemon thread), on ``flush()`` and on ``close()``.
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import threading
import time
import weakref
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from . import proto
from . import summary as S
from .hparams import hparams
from .record import encode_record

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...tensor import Tensor

_uid = itertools.count()
_open_writers: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:  # the flusher thread dies with the interpreter; events don't
    for w in list(_open_writers):
        w.close()


class FileWriter:
    """Writes Events to one new event file in ``log_dir``."""

    def __init__(
        self,
        log_dir: str,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ) -> None:
        self.log_dir = str(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        host, pid = socket.gethostname(), os.getpid()
        name = f"events.out.tfevents.{int(time.time()):010d}.{host}.{pid}.{next(_uid)}"
        self.path = os.path.join(self.log_dir, name + filename_suffix)
        self.max_queue, self.flush_secs = max(int(max_queue), 1), flush_secs
        self._lock = threading.Lock()
        self._queue: list[bytes] = []
        self._file = open(self.path, "wb")  # closed by close(), or at exit
        self._write([encode_record(proto.event(time.time(), file_version="brain.Event:2"))])
        self._stop = threading.Event()
        if flush_secs and flush_secs > 0:
            ref = weakref.ref(self)
            threading.Thread(
                target=_flush_every, args=(ref, self._stop, flush_secs), daemon=True
            ).start()
        _open_writers.add(self)

    def get_logdir(self) -> str:
        return self.log_dir

    def add_event(self, event: bytes) -> None:
        """Queue one serialized Event."""
        with self._lock:
            if self._file is None:
                raise RuntimeError(f"the event file {self.path} is closed")
            self._queue.append(encode_record(event))
            full = len(self._queue) >= self.max_queue
        if full:
            self.flush()

    def add_summary(
        self, summary: bytes, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Queue a serialized Summary as an Event at ``global_step`` and ``walltime``."""
        walltime = time.time() if walltime is None else float(walltime)
        self.add_event(proto.event(walltime, global_step, summary=summary))

    def _write(self, records: list[bytes]) -> None:
        self._file.write(b"".join(records))
        self._file.flush()

    def flush(self) -> None:
        """Write the queued events to disk."""
        with self._lock:
            if self._file is None:
                return
            queued, self._queue = self._queue, []
            self._write(queued)

    def close(self) -> None:
        """Flush and close the file; the writer takes no more events."""
        self.flush()
        self._stop.set()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        _open_writers.discard(self)

    def __del__(self) -> None:  # a writer dropped without close() still keeps its events
        if getattr(self, "_file", None) is not None:
            try:
                self.close()
            except Exception:
                pass


def _flush_every(ref: weakref.ref, stop: threading.Event, seconds: float) -> None:
    while not stop.wait(seconds):
        writer = ref()  # a weak reference: this thread never keeps a dropped writer alive
        if writer is None:
            return
        writer.flush()
        del writer


class SummaryWriter:
    """Writes scalars, histograms, images, figures, text and hparams for TensorBoard.

    ``SummaryWriter(log_dir=None, comment='', purge_step=None, max_queue=10, flush_secs=120,
    filename_suffix='')`` as torch's: ``log_dir`` defaults to ``runs/<Mon DD_HH-MM-SS>_<host>
    <comment>``; ``purge_step`` tells TensorBoard to drop events from that step on in earlier
    files of the run (a resumed run that crashed after its checkpoint). Values may be ember
    Tensors, NumPy arrays or Python numbers. A context manager: ``with SummaryWriter() as w:``.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        """The main event file (a new one after ``close()``, as torch)."""
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = FileWriter(
                self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix
            )
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, now = int(self.purge_step), time.time()
                self.file_writer.add_event(proto.event(now, step, file_version="brain.Event:2"))
                log = proto.session_log(proto.SESSION_START)
                self.file_writer.add_event(proto.event(now, step, session_log=log))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    def _add(self, summary: bytes, global_step, walltime) -> None:
        self._get_file_writer().add_summary(summary, _step(global_step), walltime)

    # ------------------------------------------------------------ scalars
    def add_scalar(
        self,
        tag: str,
        scalar_value: Tensor | np.ndarray | float,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """One number under ``tag`` at ``global_step``."""
        summary = S.scalar(_tag(tag), scalar_value, new_style, double_precision)
        self._add(summary, global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Tensor | np.ndarray | float],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Several numbers on one chart: each goes, under ``main_tag``, to its own run in the
        subfolder ``<log_dir>/<main_tag with / as _>_<key>``, as torch."""
        _tag(main_tag)
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"tag_scalar_dict must be a dict, got {type(tag_scalar_dict).__name__}")
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            folder = base + "/" + main_tag.replace("/", "_") + "_" + str(tag)
            fw = self.all_writers.get(folder)
            if fw is None:
                fw = FileWriter(folder, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[folder] = fw
            fw.add_summary(S.scalar(main_tag, value), _step(global_step), walltime)

    # ------------------------------------------------------------ histograms
    def add_histogram(
        self,
        tag: str,
        values: Tensor | np.ndarray,
        global_step: int | None = None,
        bins: str | int | np.ndarray = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """A histogram of ``values``; ``bins``: "tensorflow" (exponential buckets), an int, the
        edges, or a NumPy rule ("auto", "fd", ...)."""
        self._add(S.histogram(_tag(tag), values, bins, max_bins), global_step, walltime)

    # ------------------------------------------------------------ images
    def add_image(
        self,
        tag: str,
        img_tensor: Tensor | np.ndarray,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """An image: float in [0, 1] or uint8; ``dataformats`` CHW, HWC or HW (1 channel shows
        as gray, 3 as RGB, 4 as RGBA)."""
        self._add(S.image(_tag(tag), img_tensor, dataformats), global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Tensor | np.ndarray,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """A batch of images (NCHW or NHWC) shown as one grid, 8 to a row."""
        if len(dataformats) != 4:
            raise ValueError(f"add_images needs 4-letter dataformats (NCHW), got {dataformats!r}")
        self._add(S.image(_tag(tag), img_tensor, dataformats), global_step, walltime)

    def add_figure(
        self,
        tag: str,
        figure: Figure | list[Figure],
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib Figure (or a list of them, as a grid), rendered by the Agg canvas; the
        figure's backend is left as it was. ``close`` closes it in pyplot, if pyplot has it."""
        fmt = "NCHW" if isinstance(figure, (list, tuple)) else "CHW"
        self.add_image(tag, S.figure_to_image(figure, close), global_step, walltime, fmt)

    # ------------------------------------------------------------ text and hparams
    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Text (markdown) for the Text tab, stored under ``<tag>/text_summary``."""
        self._add(S.text(_tag(tag), text_string), global_step, walltime)

    def add_hparams(
        self,
        hparam_dict: dict,
        metric_dict: dict,
        hparam_domain_discrete: dict | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Hyperparameters and their final metrics for the HParams tab, written as torch does
        to a run in the subfolder ``run_name`` (default: the current time)."""
        experiment, start, end = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run_name = run_name or str(time.time())
        log_dir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=log_dir) as w:
            for s in (experiment, start, end):
                w._get_file_writer().add_summary(s, _step(global_step))
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    # ------------------------------------------------------------ lifecycle
    def flush(self) -> None:
        """Write every queued event to disk."""
        for fw in (self.all_writers or {}).values():
            fw.flush()

    def close(self) -> None:
        """Flush and close every event file (adding more afterwards starts new files)."""
        for fw in (self.all_writers or {}).values():
            fw.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _tag(tag) -> str:
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a str, got {type(tag).__name__}")
    return tag


def _step(global_step) -> int | None:
    if global_step is None:
        return None
    a = S.make_np(global_step, "global_step")
    if a.size != 1 or a.dtype.kind not in "iuf" or float(a.reshape(())) % 1:
        raise ValueError(f"global_step must be a whole number, got {global_step!r}")
    return int(a.reshape(()))
