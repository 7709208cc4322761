"""DistributedDataParallel: one replica of the model per process, gradients averaged over them.

Each of W processes holds the same model and runs its own slice of every batch. Backward
gives rank r the gradient g_r of its local loss; DDP replaces every parameter's gradient by

    ḡ = Σ_r (g_r / W)                     (all_reduce, in rank order: the same bits on all)

so with the mean loss on equal slices each replica steps as one process would on the whole
batch, and the replicas stay identical without ever sending parameters again.

When: parameters are grouped into buckets (``bucket_cap_mb``, 25 by default as torch's,
bounds each flat buffer; parameters in reverse order, one dtype per bucket, as torch groups
them). ember's engine accumulates a leaf that has post-accumulate-grad hooks as soon as the
last edge into it has run (autograd.py, torch's AccumulateGrad timing), and each parameter's
hook counts it off its bucket. When a bucket's last gradient is in ``.grad`` it is
flattened, divided by W and its all_reduce launched with ``async_op=True``: the group's
communication thread sends it while backward goes on through the earlier layers. Buckets
are launched in bucket order only (bucket k after buckets 0 … k − 1), so every rank queues
the same collectives in the same order. The post-accumulate-grad hook of the last expected
gradient (the end of backward) reduces the last bucket on this thread (nothing is left to
overlap it with), waits for the others and writes the averages into ``.grad``: backward
returns with the gradients reduced, as torch's does. ``overlap=False`` (ember's own switch)
reduces every bucket in that last hook instead; the results are the same bits.

``no_sync()`` skips all this for the backward of a forward run inside it, so gradients
accumulate locally and the next synced backward averages the accumulated sum.

Parameters that get no gradient: with ``find_unused_parameters=True`` forward walks the
output's graph, and parameters outside it count as zero on this rank (a parameter no rank
used keeps its ``.grad`` as it was, None included). Without it, the reduction never
completes and the next forward raises torch's error naming those parameters.

Buffers (BatchNorm's running statistics) are broadcast from rank 0 at construction and, with
``broadcast_buffers``, at the start of each forward that follows a synced one, as torch does.

``process_group`` (a group of ``new_group``) runs all of this among its ranks only: W is its
size, "rank 0" its first rank, and the other ranks are free to train something else.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

from ... import distributed as dist
from ...backend import xp
from ...function import is_grad_enabled
from ...tensor import Tensor
from ..module import Module

_MB = 1 << 20

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one."
    " This error indicates that your module has parameters that were not used in producing"
    " loss. You can enable unused parameter detection by passing the keyword argument"
    " `find_unused_parameters=True` to `ember.nn.parallel.DistributedDataParallel`, and by"
    " making sure all `forward` function outputs participate in calculating loss."
    "\nParameters which did not receive grad for rank {rank}: {names}"
)


class DistributedDataParallel(Module):
    """torch.nn.parallel.DistributedDataParallel over ``process_group`` (default: every rank).

    ``device_ids`` (None or one device) and ``output_device`` are accepted for torch's code:
    an ember process runs on one device (EMBER_DEVICE, CUDA_VISIBLE_DEVICES), and a GPU's
    gradients are averaged through the host. ``check_reduction``, ``gradient_as_bucket_view``
    and ``static_graph`` are accepted and change nothing here. ``overlap`` (ember's own,
    default True) launches each bucket's all_reduce during backward (see above).
    ``state_dict()`` keys start with "module.", as torch's; save ``ddp.module.state_dict()``
    for a plain model.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, forward_sync_buffers: bool | None = None,
                 overlap: bool = True, **options) -> None:  # fmt: skip
        super().__init__()
        unsupported = sorted(k for k, v in options.items() if v not in (None, False))
        if unsupported:
            raise NotImplementedError(
                f"DistributedDataParallel: {', '.join(unsupported)} not implemented in ember"
            )
        if device_ids is not None and len(list(device_ids)) != 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self._group = dist.process_group.default_group(process_group)
        if not isinstance(module, Module):
            raise TypeError(f"module: expected an ember.nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device, self.dim = output_device, dim
        self.find_unused_parameters = bool(find_unused_parameters)
        self.broadcast_buffers = bool(
            broadcast_buffers if forward_sync_buffers is None else forward_sync_buffers
        )
        self.require_backward_grad_sync = True  # False inside no_sync()
        self.require_forward_param_sync = True  # whether this forward broadcasts buffers
        self.static_graph = bool(static_graph)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any"
                " parameter that requires a gradient."
            )
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        cap = (25 if bucket_cap_mb is None else bucket_cap_mb) * _MB
        self._buckets = _make_buckets(self._params, cap)
        self._bucket_of = {i: b for b, (_, members) in enumerate(self._buckets) for i in members}
        self.overlap = bool(overlap)  # launch each bucket's all_reduce once it is ready
        self._left: list[int] = []  # per bucket: gradients still to arrive this backward
        self._launched: list = []  # (members, flat buffer, Work or None), in bucket order
        if init_sync:
            self._verify_same_model()
            states = list(module.parameters())
            if broadcast_buffers:
                states += list(module.buffers())
            _broadcast_coalesced(states, self._group)
        self._armed = False  # a synced forward ran; its backward's gradients are awaited
        self._ready: set[int] = set()
        self._waiting = 0  # expected gradients still to come
        self._unused: set[int] = set()  # marked unused at forward (find_unused_parameters)
        me = weakref.ref(self)
        self._hooks = [p.register_post_accumulate_grad_hook(_ready_hook(me, i))
                       for i, p in enumerate(self._params)]  # fmt: skip

    # ------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync and self._armed and self._ready:  # the last backward left gradients waiting
            missing = [self._names[i] for i in range(len(self._params))
                       if i not in self._ready and i not in self._unused]  # fmt: skip
            self._armed = False
            raise RuntimeError(
                _UNFINISHED.format(rank=self._group.rank(), names=", ".join(missing))
            )
        if self.require_forward_param_sync and self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, self._group)
        out = self.module(*inputs, **kwargs)
        self.require_forward_param_sync = sync
        self._armed, self._ready, self._unused = sync, set(), set()
        self._left = [len(members) for _, members in self._buckets]
        self._launched = []
        if sync:
            self._waiting = len(self._params)
            if self.find_unused_parameters:
                used = _reachable(out, {id(p): i for i, p in enumerate(self._params)})
                self._unused = set(range(len(self._params))) - used
                self._waiting = len(used)
                if not used:  # nothing will call back: reduce now, as torch does
                    self._finish()
        return out

    @contextmanager
    def no_sync(self):
        """Forwards inside run without gradient communication: their gradients accumulate in
        ``.grad`` locally, and the first synced backward after averages the accumulated sum."""
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before

    # ------------------------------------------------------------ backward
    def _grad_ready(self, i: int) -> None:
        """Parameter i's gradient is accumulated: reduce all once the last expected one is."""
        if i in self._unused:
            raise RuntimeError(
                f"Expected to mark a variable ready only once: parameter {self._names[i]!r} was"
                " not reached from forward's outputs (find_unused_parameters=True counted it as"
                " unused) but received a gradient; compute what the loss uses inside forward"
            )
        if not self._armed:
            return
        if i in self._ready:
            raise RuntimeError(
                f"Expected to mark a variable ready only once: parameter {self._names[i]!r}"
                " received a second gradient in one iteration (a second backward after one"
                " forward); run forward again, or accumulate inside no_sync()"
            )
        self._ready.add(i)
        self._waiting -= 1
        self._bucket_done(i)
        if self._waiting == 0:
            self._finish()

    def _bucket_done(self, i: int) -> None:
        """Count i off its bucket; launch, in bucket order, every bucket now complete (the
        last one is left to _finish, which runs it on this thread: nothing left to overlap)."""
        if not self._overlaps():
            return
        self._left[self._bucket_of[i]] -= 1
        while len(self._launched) < len(self._buckets) - 1 and not self._left[len(self._launched)]:
            dtype, members = self._buckets[len(self._launched)]
            self._launch(members, dtype, async_op=True)

    def _launch(self, members: list, dtype, async_op: bool) -> None:
        """Flatten the bucket's gradients (÷ W) and all-reduce them (in the background)."""
        params, parts = self._params, []
        for i in members:
            p = params[i]
            g = p.grad.array if p.grad is not None else xp.zeros_like(p.array)
            parts.append(g.reshape(-1).astype(dtype, copy=False))
        flat = xp.concatenate(parts) if parts else xp.zeros(0, dtype)
        flat /= self._group.size()  # before the sum, as torch divides: Σ_r (g_r / W)
        work = dist.all_reduce(flat, async_op=async_op, group=self._group) if members else None
        self._launched.append((members, flat, work))

    def _finish(self) -> None:
        """Launch the buckets not launched yet, wait for all, and write the averages."""
        self._armed = False
        params = self._params
        used = [True] * len(params)
        if self.find_unused_parameters:  # a parameter no rank used keeps its .grad
            flags = xp.asarray([p.grad is not None for p in params], dtype=xp.uint8)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self._group)
            used = [bool(f) for f in flags.tolist()]
        for dtype, members in self._buckets[len(self._launched) :]:
            last = len(self._launched) == len(self._buckets) - 1
            self._launch([i for i in members if used[i]], dtype, self.overlap and not last)
        self._ready = set()
        launched, self._launched = self._launched, []
        for members, flat, work in launched:
            if work is not None:
                work.wait()
            offset = 0
            for i in members:
                shape = params[i].array.shape
                n = params[i].array.size
                params[i].grad = Tensor(flat[offset : offset + n].reshape(shape))
                offset += n

    def _overlaps(self) -> bool:
        """Whether buckets are launched during backward (one bucket: nothing to overlap)."""
        return self.overlap and not self.find_unused_parameters and len(self._buckets) > 1

    # ------------------------------------------------------------ construction checks
    def _verify_same_model(self) -> None:
        """Every rank's parameters must have rank 0's shapes: say which differ, on all ranks."""
        world = self._group.size()
        signature = [len(self._params)]
        for p in self._params:
            signature += [p.array.ndim, *p.array.shape]
        lengths = [xp.zeros(1, dtype=xp.int64) for _ in range(world)]
        dist.all_gather(lengths, xp.asarray([len(signature)], dtype=xp.int64), group=self._group)
        lengths = [int(a[0]) for a in lengths]
        shapes = None
        if len(set(lengths)) == 1:
            got = [xp.zeros(lengths[0], dtype=xp.int64) for _ in range(world)]
            dist.all_gather(got, xp.asarray(signature, dtype=xp.int64), group=self._group)
            shapes = [_decode(a.tolist()) for a in got]
        for r in range(1, world):
            if shapes is None or shapes[r] != shapes[0]:
                raise RuntimeError(_model_difference(self._names, shapes, r))


def _ready_hook(owner: weakref.ref, i: int):
    def hook(param) -> None:
        ddp = owner()
        if ddp is not None:
            ddp._grad_ready(i)

    return hook


def _make_buckets(params: list, cap_bytes: float) -> list:
    """[(dtype, parameter indices)]: parameters in reverse order (the order backward tends to
    reach them), one dtype per bucket, a new bucket when one would exceed ``cap_bytes``."""
    buckets, open_ = [], {}
    for i in reversed(range(len(params))):
        a = params[i].array
        b = open_.get(a.dtype)
        if b is None or (b[2] + a.nbytes > cap_bytes and b[1]):
            b = open_[a.dtype] = [a.dtype, [], 0]
            buckets.append(b)
        b[1].append(i)
        b[2] += a.nbytes
    return [(dtype, members) for dtype, members, _ in buckets]


def _broadcast_coalesced(tensors: list, group) -> None:
    """The values of ``group``'s first rank into ``tensors`` on its every rank: one broadcast
    per dtype (the source named by its global rank, as torch's broadcast takes it)."""
    src, rank = dist.get_global_rank(group, 0), group.rank()
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(t.array.dtype, []).append(t)
    for same_dtype in by_dtype.values():
        flat = xp.concatenate([t.array.reshape(-1) for t in same_dtype])
        dist.broadcast(flat, src, group=group)
        if rank == 0:
            continue
        offset = 0
        for t in same_dtype:
            n = t.array.size
            t.array[...] = flat[offset : offset + n].reshape(t.array.shape)
            offset += n


def _reachable(out, index: dict) -> set[int]:
    """Indices (by ``index``: id → i) of the parameters that ``out``'s graph reaches."""
    found, seen, stack = set(), set(), []
    todo = [out]
    while todo:  # the tensors inside nested outputs: tuples, lists, dicts
        x = todo.pop()
        if isinstance(x, Tensor):
            stack.append(x)
        elif isinstance(x, (list, tuple, set)):
            todo.extend(x)
        elif isinstance(x, dict):
            todo.extend(x.values())
    while stack:
        t = stack.pop()
        fn = t._ctx
        if fn is None:
            if id(t) in index:
                found.add(index[id(t)])
            continue
        if id(fn) not in seen:
            seen.add(id(fn))
            stack.extend(p for p in fn.parents if p is not None)
    return found


def _decode(signature: list) -> list[tuple]:
    shapes, at = [], 1
    for _ in range(signature[0]):
        nd = signature[at]
        shapes.append(tuple(signature[at + 1 : at + 1 + nd]))
        at += 1 + nd
    return shapes


def _model_difference(names: list, shapes: list | None, r: int) -> str:
    head = "DistributedDataParallel needs the same model on every rank:"
    if shapes is None:
        return f"{head} the ranks have different numbers of parameters"
    if len(shapes[r]) != len(shapes[0]):
        return f"{head} {len(shapes[0])} parameters on rank 0, {len(shapes[r])} on rank {r}"
    for name, a, b in zip(names, shapes[0], shapes[r]):
        if a != b:
            return f"{head} parameter {name!r} has shape {a} on rank 0 but {b} on rank {r}"
    return head  # pragma: no cover - only called when the shapes differ
