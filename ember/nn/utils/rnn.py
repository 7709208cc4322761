"""Packed sequences, as torch.nn.utils.rnn: a batch of variable-length sequences without padding.

A PackedSequence holds the batch sorted by decreasing length and stores, time step after time
step, the rows x_t of the sequences still running at t:

    data             (Σ lengths, *)  the batch_sizes[0] rows of step 0, then those of step 1, …
    batch_sizes      (T_max,) int64  batch_sizes[t] = how many sequences are longer than t
    sorted_indices   (B,) int64      sorted position j holds original sequence sorted_indices[j]
    unsorted_indices (B,) int64      original sequence b sits at sorted position
                                     unsorted_indices[b]; both None when the batch came sorted

So row r of ``data`` with offsets o_t = Σ_{s<t} batch_sizes[s] is step t of sequence
sorted_indices[r - o_t] for the t with o_t ≤ r < o_t + batch_sizes[t]. Packing and unpacking
are each one gather (a fancy index) whose indices NumPy computes from that formula, so both
are differentiable through the gather's scatter-add backward, with no loop over the batch.

ember's recurrent layers take a PackedSequence as torch's do (``nn.LSTM(...)(packed)``); they
also take ``lengths=`` with a padded batch directly, which is what they run underneath.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

from ... import functional as F
from ...backend import xp
from ...creation import full
from ...errors import InputError, InputTypeError
from ...tensor import Tensor, as_array


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """A packed batch (fields as torch's; see the module docstring for what each one holds).

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`; a recurrent layer
    given one returns one with the same ``batch_sizes`` and indices. Built by hand, as
    torch's: ``unsorted_indices`` defaults to the inverse of ``sorted_indices``, and
    ``PackedSequence((data, batch_sizes))`` takes the pair as one argument.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:  # torch's form for the pair a packing op returns
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise TypeError(
                    "PackedSequence: expected data and batch_sizes, or one pair (data,"
                    f" batch_sizes), got {type(data).__name__}"
                )
            data, batch_sizes = data
        if unsorted_indices is None:  # else the batch would come back in sorted order
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data`` converted as ``Tensor.to(*args, **kwargs)`` converts
        it (a dtype, a device, keywords); the sizes and indices are integer bookkeeping and
        stay as they are. Nothing to convert returns ``self``, as torch's."""
        return self._with_data(self.data.to(*args, **kwargs))

    def _with_data(self, data) -> PackedSequence:
        return self if data is self.data else self._replace(data=data)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        return self._with_data(self.data.cpu(*args, **kwargs))

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self._with_data(self.data.cuda(*args, **kwargs))

    def pin_memory(self) -> PackedSequence:
        return self._with_data(self.data.pin_memory())

    def is_pinned(self) -> bool:
        return self.data.is_pinned()

    is_cuda = property(lambda self: self.data.is_cuda)

    # torch's dtype methods, each ``self.to(dtype=…)``
    def double(self) -> PackedSequence:
        return self.to(dtype=xp.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=xp.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=xp.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=xp.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=xp.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=xp.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=xp.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=xp.uint8)


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _index(t):
    """The integer array of a Tensor, array or list (fields of a hand-built PackedSequence)."""
    return None if t is None else as_array(t).astype(xp.int64)


def _offsets(batch_sizes):
    """o_t = Σ_{s<t} batch_sizes[s]: where step t's rows start in ``data``."""
    return xp.cumsum(batch_sizes) - batch_sizes


def _pack(padded: Tensor, batch_sizes, sorted_indices, batch_first: bool) -> Tensor:
    """The ``data`` of a PackedSequence from a padded (T, B, *) or (B, T, *) batch."""
    N = int(batch_sizes.sum())
    t = xp.repeat(xp.arange(len(batch_sizes)), batch_sizes)  # time step of each packed row
    j = xp.arange(N) - _offsets(batch_sizes)[t]  # its sorted position within the step
    b = j if sorted_indices is None else sorted_indices[j]  # its sequence in the batch
    T, B = (padded.shape[1], padded.shape[0]) if batch_first else padded.shape[:2]
    # one flat row index into (T·B, *) rather than a (t, b) pair: the gather's backward then
    # takes the fast row-wise scatter-add path
    rows = b * T + t if batch_first else t * B + b
    return padded.reshape(T * B, *padded.shape[2:])[rows]


def pack_padded_sequence(
    input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch: input (T, B, *) (batch_first: (B, T, *)), lengths (B,) → packed.

    Sequence b is input[:lengths[b], b] (batch_first: input[b, :lengths[b]]); what lies past
    its end is ignored and gets a zero gradient. ``lengths`` is a list, array or int64 Tensor of
    B integers in [1, T]; with ``enforce_sorted=True`` (torch's default) they must not increase
    and the indices of the result are None; ``enforce_sorted=False`` sorts the batch (stably).
    """
    input = _as_tensor(input)
    if input.ndim < 2:
        raise ValueError(
            "pack_padded_sequence: expected input of shape (T, B, *) or, with batch_first,"
            f" (B, T, *), got {tuple(input.shape)}"
        )
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    lengths = as_array(lengths)
    if lengths.size and lengths.dtype.kind not in "biuf":
        raise TypeError(f"pack_padded_sequence: lengths must be numbers, got dtype {lengths.dtype}")
    if lengths.ndim != 1:  # (torch's RuntimeError; a float length is cut to an int, as torch's)
        raise InputError(
            "pack_padded_sequence: expected lengths as a 1-D list or tensor of B integers, got"
            f" shape {tuple(lengths.shape)}"
        )
    lengths = lengths.astype(xp.int64)
    layout = f"input of shape {tuple(input.shape)} with batch_first={batch_first}"
    if input.numel() == 0:  # torch's RuntimeError, before it counts the lengths
        raise InputError(f"pack_padded_sequence: cannot pack empty tensors, got {layout}")
    if lengths.shape[0] != B:  # this and the refusals below: torch's RuntimeError
        raise InputError(
            f"pack_padded_sequence: expected one length per sequence, batch size {B} ({layout}),"
            f" got {lengths.shape[0]} lengths {lengths.tolist()}"
        )
    if lengths.min() < 1 or lengths.max() > T:
        bad = int(xp.flatnonzero((lengths < 1) | (lengths > T))[0])
        raise InputError(
            f"pack_padded_sequence: every length must be in [1, {T}] (T of the {layout}), got"
            f" lengths[{bad}] = {lengths[bad]} in {lengths.tolist()}"
        )
    if enforce_sorted:
        if (xp.diff(lengths) > 0).any():
            raise InputError(
                "pack_padded_sequence: with enforce_sorted=True lengths must be sorted in"
                f" decreasing order, got {lengths.tolist()}; pass enforce_sorted=False to pack"
                " an unsorted batch"
            )
        sorted_indices = unsorted_indices = None
    else:
        sorted_indices = xp.argsort(-lengths, kind="stable")  # torch's sort is stable too
        unsorted_indices = xp.empty_like(sorted_indices)
        unsorted_indices[sorted_indices] = xp.arange(B)
        lengths = lengths[sorted_indices]
    # batch_sizes[t] = #{b : lengths[b] > t}
    batch_sizes = (lengths[:, None] > xp.arange(int(lengths[0]))).sum(0).astype(xp.int64)
    return PackedSequence(
        _pack(input, batch_sizes, sorted_indices, batch_first),
        Tensor(batch_sizes),
        None if sorted_indices is None else Tensor(sorted_indices),
        None if unsorted_indices is None else Tensor(unsorted_indices),
    )


def pack_as(padded: Tensor, like: PackedSequence, batch_first: bool = False) -> PackedSequence:
    """Pack ``padded`` with the batch sizes and order of ``like`` (ember's; not in torch).

    ``padded`` (T, B, *) or (B, T, *) with T ≥ len(like.batch_sizes), in the original batch
    order; this is how a recurrent layer packs its output like its input.
    """
    bs = like.batch_sizes
    return PackedSequence(
        _pack(padded, _index(bs), _index(like.sorted_indices), batch_first),
        bs,
        like.sorted_indices,
        like.unsorted_indices,
    )


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo packing: → (padded (T, B, *) or, batch_first, (B, T, *), lengths (B,) int64).

    Sequences come back in their original order (``unsorted_indices`` applied); T is the
    longest length, or ``total_length`` if given (it must be at least that: to restore the
    input's T, e.g. under data parallelism). Positions past a sequence's end hold
    ``padding_value`` and pass no gradient.
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            "pad_packed_sequence: expected a PackedSequence (from pack_padded_sequence or"
            f" pack_sequence), got {type(sequence).__name__}"
        )
    data = _as_tensor(sequence.data)
    bs = as_array(sequence.batch_sizes).astype(xp.int64)
    T_max, B, N = len(bs), int(bs[0]), int(bs.sum())
    if N > data.shape[0] or (xp.diff(bs) > 0).any():  # built by hand: torch's RuntimeError
        raise InputError(
            f"pad_packed_sequence: batch_sizes {bs.tolist()} must not increase, and count no"
            f" more than the {data.shape[0]} rows of data (shape {tuple(data.shape)})"
        )
    T = T_max if total_length is None else operator.index(total_length)  # 4.0: TypeError
    if T < T_max:
        raise ValueError(
            "pad_packed_sequence: expected total_length to be at least the length of the longest"
            f" sequence, {T_max}, got total_length={total_length}"
        )
    order = _index(sequence.unsorted_indices)
    j = xp.arange(B) if order is None else order  # sorted position of each original sequence
    bs_t = xp.concatenate([bs, xp.zeros(T - T_max, xp.int64)])
    running = j[None, :] < bs_t[:, None]  # (T, B): is sequence b still running at t?
    # the row of data for (t, b), or the extra row after data's that holds the padding value
    # (after all of data's rows: a hand-built sequence may have more than Σ batch_sizes)
    rows = xp.where(running, _offsets(bs_t)[:, None] + j, data.shape[0])
    # ember.full refuses a value the dtype cannot hold (NaN into integers), as torch's fill
    pad = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = F.cat([data, pad])[rows.T if batch_first else rows]
    return padded, Tensor(running.sum(0).astype(xp.int64))


def pad_sequence(
    sequences,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of shapes (L_b, *) into (T, B, *) (batch_first: (B, T, *)), T = max L_b.

    The shorter ones are padded with ``padding_value`` after their end (``padding_side="right"``)
    or before their start (``"left"``); the trailing dimensions * must agree.
    """
    if not isinstance(padding_side, str):  # torch's parser: TypeError
        raise InputTypeError(f"pad_sequence: padding_side must be a str, got {padding_side!r}")
    if padding_side not in ("left", "right"):  # here and below: torch's RuntimeError
        raise InputError(
            f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}"
        )
    seqs = [_as_tensor(s) for s in sequences]
    if not seqs:
        raise InputError("pad_sequence: expected at least one sequence, got none")
    rest = seqs[0].shape[1:]
    for k, s in enumerate(seqs):
        if s.ndim < 1 or s.shape[1:] != rest:
            raise InputError(
                f"pad_sequence: every sequence must have shape (L, *{rest}) like sequence 0,"
                f" sequence {k} has shape {tuple(s.shape)}"
            )
    L = xp.array([s.shape[0] for s in seqs], dtype=xp.int64)
    T, N = int(L.max()), int(L.sum())
    start = xp.cumsum(L) - L  # where sequence b's rows start in the concatenation
    t = xp.arange(T)[:, None]
    lead = 0 if padding_side == "right" else T - L  # padding rows before sequence b
    inside = (t >= lead) & (t < lead + L)
    rows = xp.where(inside, start + t - lead, N)  # (T, B); N is the padding row
    # the result has the first sequence's dtype (torch copies every sequence into it), and a
    # padding value that dtype cannot hold is refused, padding or not, as torch's fill_
    dtype = seqs[0].dtype
    pad = full((1, *rest), padding_value, dtype=dtype)
    seqs = [q if q.dtype == dtype else q.to(dtype) for q in seqs]
    return F.cat([*seqs, pad])[rows.T if batch_first else rows]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes (L_b, *), each L_b ≥ 1.

    Same as ``pack_padded_sequence(pad_sequence(sequences), [L_b ...], enforce_sorted=...)``;
    with ``enforce_sorted=True`` they must come longest first.
    """
    seqs = [_as_tensor(s) for s in sequences]
    lengths = [s.shape[0] if s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Undo :func:`pad_sequence`: padded (T, B, *) (batch_first: (B, T, *)) and lengths (B,)
    → the list of B sequences, sequence b of shape (lengths[b], *) (views: gradients flow)."""
    padded = _as_tensor(padded_sequences)
    if not batch_first:
        padded = padded.transpose(0, 1)
    lengths = as_array(lengths).reshape(-1)
    B, T = padded.shape[:2]
    if lengths.shape[0] != B:
        raise ValueError(
            f"unpad_sequence: expected {B} lengths for padded input of shape"
            f" {tuple(padded_sequences.shape)} with batch_first={batch_first}, got"
            f" {lengths.tolist()}"
        )
    # torch keeps the steps t < lengths[b]: a length past T takes all T, one below 0 none, a
    # fractional one rounds up (2.5 keeps t = 0, 1, 2)
    kept = (xp.arange(T)[None, :] < lengths[:, None]).sum(1)
    return [padded[b, : int(n)] for b, n in enumerate(kept)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """Undo :func:`pack_sequence`: the list of sequences (L_b, *), in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def invert_permutation(permutation):
    """The inverse of a permutation of 0 … n-1 (None stays None): inv[permutation[i]] = i."""
    if permutation is None:
        return None
    p = _index(permutation)
    inv = xp.empty_like(p)
    inv[p] = xp.arange(p.shape[0])
    return Tensor(inv)


__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_as",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]
