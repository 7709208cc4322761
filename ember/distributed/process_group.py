"""Starting and ending process groups, and asking about them (torch's names).

``init_process_group`` makes the default group of every rank (``group.WORLD``).
``new_group(ranks)`` makes a subgroup of any subset of them: every rank must call it, with
the same ``ranks``, in the same order relative to its other ``new_group`` calls and the
default group's collectives (torch's rule too: the ranks agree on the group in one exchange
on the default group, which also checks that they passed the same ``ranks``). A member gets
a ``ProcessGroup`` with connections of its own (rendezvous.py), its own ranks 0 … n − 1 in the
order of the sorted global ranks, and its own communication threads, so two subgroups, or a
subgroup and the default group, run their collectives independently. A rank outside the
group gets ``GroupMember.NON_GROUP_MEMBER`` (torch's value, -100): ``get_rank`` and
``get_world_size`` of it are -1, and collectives and point-to-point calls on it warn and do
nothing (they return None), as torch's do.
"""

from __future__ import annotations

import datetime
import warnings

import numpy

from .group import ProcessGroup
from .rendezvous import connect_group, connect_mesh, listen_any, resolve_init

#: the default group of this process (None until init_process_group)
_default: ProcessGroup | None = None
_subgroups: list[ProcessGroup] = []  # this rank's live subgroups
_made = 0  # new_group calls since init_process_group (the same count on every rank)
NON_GROUP_MEMBER = -100  # torch's GroupMember.NON_GROUP_MEMBER: new_group on a non-member

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
    global _default, _made
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
    _default, _made = ProcessGroup(me, size, links, seconds, "gloo"), 0


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
    """Close a subgroup's connections, or (None) every group's: init_process_group may then
    be called again."""
    global _default
    if _default is None:
        raise RuntimeError(_NOT_INITIALIZED)
    if group is None or group is _default:
        for g in [*_subgroups, _default]:
            g.close()
        _subgroups.clear()
        _default = None
        return
    if _not_member(group):
        return
    if group not in _subgroups:
        raise ValueError(f"destroy_process_group({group!r}): not a live group of this process")
    _subgroups.remove(group)
    group.close()


def default_group(group: ProcessGroup | None = None) -> ProcessGroup:
    """The group a call runs on: ``group``, or the default one when None; a clear error for
    anything else (a non-member's group, a destroyed one, or not a group at all)."""
    if _default is None:
        raise RuntimeError(_NOT_INITIALIZED)
    if group is None or group is _default:
        return _default
    if isinstance(group, ProcessGroup) and group in _subgroups:
        return group
    if isinstance(group, ProcessGroup) and group._broken:
        raise ValueError(f"{group!r} can no longer be used: {group._broken}")
    if _not_member(group):
        raise ValueError(
            f"rank {_default.rank()} is not a member of this group (new_group returned"
            " GroupMember.NON_GROUP_MEMBER here)"
        )
    raise ValueError(
        f"group={group!r}: expected None, group.WORLD or a live group from new_group()"
    )


def resolve(group, op_name: str) -> ProcessGroup | None:
    """``default_group(group)``, or None after torch's warning when this rank is not in it."""
    if _default is not None and _not_member(group):
        warnings.warn(
            f"Running {op_name} on global rank {_default.rank()} which does not belong to the"
            " given group.",
            stacklevel=3,
        )
        return None
    return default_group(group)


def _not_member(group) -> bool:
    return not isinstance(group, ProcessGroup) and isinstance(group, int) and group == -100


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
    """This process's rank in ``group`` (the default: 0 … world_size − 1); -1 if it is not a
    member."""
    return -1 if _not_member(group) else default_group(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """How many processes the group has; -1 if this process is not a member."""
    return -1 if _not_member(group) else default_group(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend's name: "gloo" (ember's TCP implementation)."""
    return default_group(group).backend


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order."""
    return default_group(group).ranks()


def get_group_rank(group: ProcessGroup | None, global_rank: int) -> int:
    """The rank within ``group`` of the process whose global rank is ``global_rank``."""
    ranks = _registered(group).ranks()
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group} (ranks {ranks})")
    return ranks.index(global_rank)


def get_global_rank(group: ProcessGroup | None, group_rank: int) -> int:
    """The global rank of the process whose rank within ``group`` is ``group_rank``."""
    ranks = _registered(group).ranks()
    if (
        isinstance(group_rank, bool)
        or not isinstance(group_rank, int)
        or not (0 <= group_rank < len(ranks))
    ):
        raise ValueError(f"Group rank {group_rank} is not part of group {group} (ranks {ranks})")
    return ranks[group_rank]


def _registered(group) -> ProcessGroup:
    if _not_member(group):
        raise ValueError(
            f"Group {group} is not registered: this rank is not a member of it (new_group"
            " returned GroupMember.NON_GROUP_MEMBER here)"
        )
    return default_group(group)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None,
              device_id=None) -> ProcessGroup | int:  # fmt: skip
    """torch.distributed.new_group: a group of the global ``ranks`` (None: all of them).

    Every rank calls it, with the same ``ranks`` (see the module's notes); a member gets the
    group, the others ``GroupMember.NON_GROUP_MEMBER``. ``timeout`` defaults to the default
    group's. Within the group, ranks count 0 … len(ranks) − 1 in the sorted order of the
    global ranks; ``src=``/``dst=`` of calls on it are global ranks, as in torch.
    """
    global _made
    g = default_group()
    world, me = g.size(), g.rank()
    members = _members(ranks, world)
    if use_local_synchronization:
        raise ValueError("use_local_synchronization=True is not supported: every rank calls")
    if backend is not None and str(backend).lower() not in ("gloo", "tcp", "cpu:gloo"):
        raise ValueError(f"backend {backend!r}: ember.distributed's groups are 'gloo'")
    if pg_options is not None:
        raise ValueError("ember.distributed takes no pg_options=")
    seconds = g.timeout if timeout is None else _seconds(timeout)
    inside = me in members and len(members) > 1
    listener = listen_any(len(members)) if inside else None
    mine = numpy.zeros(world + 1, numpy.int64)
    mine[members], mine[world] = 1, listener.getsockname()[1] if listener else 0

    def combine(got: dict) -> dict:
        chosen = {k: [int(r) for r in numpy.flatnonzero(a[0][:world])] for k, a in got.items()}
        if len({tuple(v) for v in chosen.values()}) > 1:
            raise ValueError("ranks passed different ranks=: " + "; ".join(
                f"rank {k}: {v}" for k, v in sorted(chosen.items())))  # fmt: skip
        ports = numpy.array([got[k][0][world] for k in range(world)], numpy.int64)
        return dict.fromkeys(got, [ports])

    table = []
    try:
        g.run(lambda: table.extend(g.collective("new_group", mine, [mine], combine=combine)))
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    _made += 1
    if me not in members:
        return NON_GROUP_MEMBER
    links = {}
    if listener is not None:
        ports = table[0]
        addresses = [(g.link(m).sock.getpeername()[0] if m != me else "", int(ports[m]))
                     for m in members]  # fmt: skip
        links = connect_group(listener, me, members, addresses, seconds, _made)
    sub = ProcessGroup(members.index(me), len(members), links, seconds, "gloo", members)
    _subgroups.append(sub)
    return sub


def _members(ranks, world: int) -> list[int]:
    """``ranks`` as a sorted list of distinct global ranks, or a ValueError saying why not."""
    if ranks is None:
        return list(range(world))
    members = list(ranks)
    for r in members:
        if isinstance(r, bool) or not isinstance(r, (int, numpy.integer)) or not 0 <= r < world:
            raise ValueError(f"new_group(ranks={members}): {r!r} is not a rank in 0 … {world - 1}")
    if len(set(members)) != len(members):
        raise ValueError(f"new_group(ranks={members}): a rank appears twice")
    return sorted(int(r) for r in members)


class _GroupMember:
    """``group.WORLD`` (torch's ``dist.group.WORLD``): the default group, once initialized;
    ``NON_GROUP_MEMBER``: what new_group returns on a rank outside the group."""

    NON_GROUP_MEMBER = NON_GROUP_MEMBER

    @property
    def WORLD(self) -> ProcessGroup | None:  # noqa: N802 - torch's name
        return _default


group = GroupMember = _GroupMember()
