"""Starting and ending the default process group, and asking about it (torch's names)."""

from __future__ import annotations

import datetime

from .group import ProcessGroup
from .rendezvous import connect_mesh, resolve_init

#: the default group of this process (None until init_process_group)
_default: ProcessGroup | None = None

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default for gloo

_NOT_INITIALIZED = (
    "Default process group has not been initialized: call"
    " ember.distributed.init_process_group() first (its ranks learn of each other there)"
)


def init_process_group(
    backend: str | None = "gloo",
    init_method: str | None = None,
    timeout: datetime.timedelta | float | None = None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    """torch.distributed.init_process_group: join this process to the job's other ranks.

    Returns once all ``world_size`` processes have connected (rendezvous.py says how), or
    raises when they have not within ``timeout`` (a ``timedelta``; 30 minutes by default,
    as torch's, and the limit every later collective waits for a peer). ``backend`` is
    "gloo" (ember's own TCP implementation on the CPU; "tcp" is the same); tensors of a
    process on the GPU travel through the host. ``init_method`` is "env://" (the default:
    MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, as the launcher sets them) or
    "tcp://host:port" with ``rank`` and ``world_size``.
    """
    global _default
    if _default is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = "gloo" if backend is None else str(backend).lower()
    if name not in ("gloo", "tcp", "cpu:gloo"):
        raise ValueError(
            f"backend {backend!r} is not available in ember: ember.distributed supports 'gloo'"
            " (its own TCP implementation, also called 'tcp'); NCCL and MPI need torch's"
            " native libraries, and tensors of a process on the GPU travel through the host"
        )
    if store is not None or pg_options is not None:
        raise ValueError("ember.distributed takes no store= or pg_options=: use init_method=")
    seconds = _seconds(DEFAULT_TIMEOUT if timeout is None else timeout)
    host, port, size, me = resolve_init(init_method, int(world_size), int(rank))
    links = connect_mesh(host, port, me, size, seconds)
    _default = ProcessGroup(me, size, links, seconds, "gloo")


def _seconds(timeout) -> float:
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"timeout: expected a datetime.timedelta, got {timeout!r}")
    if seconds <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return seconds


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Close this process's connections; init_process_group may be called again after."""
    global _default
    if _default is None:
        raise RuntimeError(_NOT_INITIALIZED)
    if group is not None and group is not _default:
        raise ValueError("ember.distributed has only the default group to destroy")
    _default.close()
    _default = None


def default_group(group: ProcessGroup | None = None) -> ProcessGroup:
    """The group a call runs on: the default one (the only one ember has), or a clear error."""
    if _default is None:
        raise RuntimeError(_NOT_INITIALIZED)
    if group is not None and group is not _default:
        raise ValueError(
            f"group={group!r}: ember.distributed runs every call on the default group"
            " (group.WORLD); subgroups are not implemented"
        )
    return _default


def is_available() -> bool:
    """Whether ember.distributed can be used here: always (it needs only sockets)."""
    return True


def is_initialized() -> bool:
    """Whether init_process_group has run (and destroy_process_group has not)."""
    return _default is not None


def is_gloo_available() -> bool:
    return True


def is_nccl_available() -> bool:
    return False


def is_mpi_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    """False: ember's launcher is not torchelastic (torch's test is TORCHELASTIC_RUN_ID)."""
    return False


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank, 0 … world_size − 1."""
    return default_group(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """How many processes the group has."""
    return default_group(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend's name: "gloo" (ember's TCP implementation)."""
    return default_group(group).backend


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, **kwargs) -> ProcessGroup:
    """The default group when ``ranks`` is every rank (or None); subgroups are not
    implemented, and saying so is clearer than running on the wrong ranks."""
    g = default_group()
    if ranks is not None and sorted(ranks) != list(range(g.size())):
        raise NotImplementedError(
            f"new_group(ranks={list(ranks)}): ember.distributed has only the default group of"
            f" all {g.size()} ranks"
        )
    return g


class _GroupMember:
    """``group.WORLD`` (torch's ``dist.group.WORLD``): the default group, once initialized."""

    @property
    def WORLD(self) -> ProcessGroup | None:  # noqa: N802 - torch's name
        return _default


group = GroupMember = _GroupMember()
