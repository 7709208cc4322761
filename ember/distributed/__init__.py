"""ember.distributed — data-parallel training across processes and machines, with
torch.distributed's API over plain TCP sockets (the standard library, nothing to install).

    python -m ember.distributed.run --nproc-per-node 2 train.py       # two processes here

    import ember.distributed as dist
    dist.init_process_group("gloo")          # reads RANK, WORLD_SIZE, MASTER_ADDR/PORT
    t = ember.ones(3) * dist.get_rank()
    dist.all_reduce(t)                       # every rank now holds 0 + 1 = [1, 1, 1]

Topology: rank 0 listens on MASTER_PORT and every rank connects to it and to every other
rank (a full mesh). Collectives run as one round trip through rank 0 (a star), which
combines the ranks' tensors in rank order, so every rank gets bitwise the same result; an
all_reduce of RING_MIN_BYTES or more goes round a ring of neighbours instead (reduce-scatter
then all-gather: 2(W − 1)/W·N bytes per rank rather than rank 0's (W − 1)·N), each chunk
combined in one fixed order and copied, so every rank still holds the same bits (ring.py).
send/recv use the direct connections. group.py and rendezvous.py say more.

``async_op=True`` queues the collective for the group's communication thread and returns
a ``Work`` at once (work.py): the collectives still run in the order called, on every rank.

Point to point (p2p.py, mailbox.py): ``isend``/``irecv`` return a ``Work`` at once and the
transfer runs on the group's sender and receiver threads, so two ranks may isend to each
other before either receives; ``batch_isend_irecv`` starts a list of ``P2POp``. Calls on one
group are issued in program order; messages between two ranks with one tag arrive in order.

Subgroups: ``new_group(ranks)`` (called by every rank alike) gives each member a group with
connections and threads of its own, ranked 0 … n − 1 in the order of the global ranks, so
several groups run their collectives independently; ``src``/``dst`` stay global ranks, and a
rank outside the group gets ``GroupMember.NON_GROUP_MEMBER``, on which ``get_rank`` is -1 and
calls warn and do nothing (torch's behaviour). ``get_group_rank``/``get_global_rank``
translate ranks (process_group.py).

Arrays travel as raw bytes after a header of dtype and shape (wire.py); nothing received is
ever unpickled. Every collective waits at most init_process_group's ``timeout`` for a peer,
a peer that exits makes the others raise at once, and ranks that pass different shapes or
dtypes (or call different collectives) all raise an error that names them.

Not here (yet): object collectives (they would need pickle), NCCL, ``new_group``'s
``use_local_synchronization``, ``group_src``/``group_dst`` arguments.
"""

from .collectives import (
    RING_MIN_BYTES,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .group import ProcessGroup
from .p2p import P2POp, batch_isend_irecv, irecv, isend, recv, send
from .process_group import (
    GroupMember,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    new_group,
)
from .wire import DistBackendError, DistError, DistNetworkError

__all__ = [
    "RING_MIN_BYTES",
    "DistBackendError",
    "DistError",
    "DistNetworkError",
    "GroupMember",
    "P2POp",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_reduce",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "isend",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]
