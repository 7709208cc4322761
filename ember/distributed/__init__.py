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

``all_to_all``/``all_to_all_single`` (alltoall.py) check the ranks' split sizes through rank 0,
then exchange the pieces directly between each pair of ranks. ``monitored_barrier``
(monitored.py) names the ranks that did not arrive within its timeout.

Object collectives without pickle (object_collectives.py): ``all_gather_object``,
``gather_object``, ``broadcast_object_list`` and ``scatter_object_list`` carry None, bool,
int, float, complex, str, bytes, lists, tuples, dicts (str or int keys), NumPy arrays and
scalars and ember Tensors, nested, in an encoding of their own (objects.py) that a receiver
parses as data, with every length checked (bytes it cannot parse raise
``ObjectDecodeError``); anything else raises a TypeError on its rank that
names the type and where it sits in the object, and the other ranks an error naming that
rank.

Arrays travel as raw bytes after a header of dtype and shape (wire.py); nothing received is
ever unpickled. Every collective waits at most init_process_group's ``timeout`` for a peer,
a peer that exits makes the others raise at once, and ranks that pass different shapes or
dtypes (or call different collectives) all raise an error that names them.

Not here (yet): pickled objects (instances of arbitrary classes), NCCL, ``new_group``'s
``use_local_synchronization``, ``group_src``/``group_dst`` arguments.
"""

from .alltoall import all_to_all, all_to_all_single
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
from .monitored import monitored_barrier
from .object_collectives import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    scatter_object_list,
)
from .objects import ObjectDecodeError
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
    "ObjectDecodeError",
    "P2POp",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "all_to_all",
    "all_to_all_single",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "gather_object",
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
    "monitored_barrier",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "scatter_object_list",
    "send",
]
