"""torch.Generator for ember: seeded streams of random draws, made on the host with NumPy's
PCG64 for either device (float draws are copied to the GPU in a process there), and the
default generator with one stream per DataLoader worker thread. Re-exported by backend.py,
part of the seam (the one other file that names NumPy's random module).
"""

from __future__ import annotations

import os
import threading

import numpy

from .backend import ON_GPU, check_device, xp
from .backend import device as _device
from .errors import InputTypeError


class Generator:
    """torch.Generator: a seeded source of random draws (``ember.Generator``).

    ``Generator(device="cpu")`` starts from torch's seed for a fresh generator, so two fresh
    generators draw alike; ``manual_seed(s)`` (returns the generator, as torch's) reseeds,
    ``seed()`` reseeds from the OS and returns the seed, ``initial_seed()`` says the seed,
    ``get_state()``/``set_state()`` save and restore the stream. Every random maker and
    initialiser takes one as ``generator=``; without it they draw from ``default_generator``,
    which ``ember.manual_seed`` seeds. The draws come from NumPy's PCG64, so a seed gives other
    numbers than torch's Mersenne Twister would; what repeats is ember's own stream.
    On the GPU the draws are made on the host and copied over, so a seed gives the same
    numbers on either device (float draws arrive as device arrays; integers and
    permutations, which index host data in samplers, stay on the host).
    """

    #: the seed torch gives a fresh Generator()
    DEFAULT_SEED = 67280421310721

    def __init__(self, device=None):
        # draws are made on the host either way: torch's "cpu" generator is accepted on the GPU;
        # a device, as torch's (it equals its name: g.device == "cpu" still holds)
        name = check_device(None if device is None or str(device) == "cpu" else device)
        self.device = _device(name)
        self.manual_seed(self.DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed the stream with ``seed``, an int from −2⁶³ to 2⁶⁴ − 1 (torch's range; a
        negative seed is kept as its 64-bit unsigned value, as torch's initial_seed says);
        returns the generator, as torch's."""
        if isinstance(seed, bool) or not isinstance(seed, (int, numpy.integer)):
            raise InputTypeError(
                f"manual_seed expects an integer seed (a long), got {type(seed).__name__}"
            )
        if not -(2**63) <= int(seed) < 2**64:
            raise ValueError(f"Overflow when unpacking long long: seed {seed}")
        self._initial = int(seed) % 2**64
        self._rng = numpy.random.Generator(numpy.random.PCG64(self._initial))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._initial

    def get_state(self) -> dict:
        """The stream's state (PCG64's), for set_state."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        """Restore a state from get_state; returns the generator."""
        self._rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"ember.Generator(device={str(self.device)!r}, initial_seed={self._initial})"

    def _stream(self):
        """The PCG64 stream a draw takes from, after vmap's say (``vmap_draw``)."""
        if getattr(_vmap_state, "levels", None):
            vmap_draw(self)
        return self._rng

    def standard_normal(self, shape, dtype):
        """Draws from N(0, 1) of ``shape`` in ``dtype``, on this process's device. A complex
        dtype gets torch's complex normal: real and imaginary parts each N(0, ½), so E|z|² = 1."""
        return _on_device(self._host_normal(shape, dtype))

    def _host_normal(self, shape, dtype):
        dtype = numpy.dtype(dtype)
        if dtype.kind == "c":
            pairs = self._stream().standard_normal((*_tuple(shape), 2), dtype=_real(dtype))
            return _as_complex(pairs * numpy.sqrt(0.5, dtype=pairs.dtype), dtype)
        if dtype == numpy.float16:  # NumPy draws no half: N(0, 1) in float32, rounded once
            return self._stream().standard_normal(shape, dtype=numpy.float32).astype(dtype)
        return self._stream().standard_normal(shape, dtype=dtype)

    def random(self, shape, dtype):
        """Draws from U[0, 1) of ``shape`` in ``dtype``, on this process's device (for a
        complex dtype, real and imaginary parts each, as torch)."""
        dtype = numpy.dtype(dtype)
        if dtype.kind == "c":
            pairs = self._stream().random((*_tuple(shape), 2), dtype=_real(dtype))
            return _on_device(_as_complex(pairs, dtype))
        if dtype == numpy.float16:
            # k·2⁻¹¹ for a uniform k < 2¹¹, as torch's half: exact, so never rounded up to 1
            k = self.integers(0, 2**11, shape)
            return _on_device((k * 2.0**-11).astype(dtype))
        return _on_device(self._stream().random(shape, dtype=dtype))

    def uniform(self, low, high, shape, dtype):
        """Draws low + (high − low)·u, u ~ U[0, 1) in float64, cast to ``dtype`` (for a complex
        dtype, real and imaginary parts each, as torch's uniform_)."""
        if numpy.dtype(dtype).kind == "c":
            out = _as_complex(self._stream().random((*_tuple(shape), 2)), numpy.complex128)
            out = low + (high - low) * out.real + 1j * (low + (high - low) * out.imag)
        else:
            out = self._stream().random(shape, dtype=numpy.float64)
            out = low + (high - low) * out
        return _on_device(out.astype(dtype, copy=False))

    def normal(self, mean, std, shape, dtype):
        """mean + std·z, z ~ N(0, 1) in float64, cast to ``dtype`` (torch's normal_ fill). A
        complex dtype draws on the (real, imaginary) pairs as torch does: each part
        N(mean, std²/2)."""
        if numpy.dtype(dtype).kind == "c":
            out = mean * (1 + 1j) + std * self._host_normal(shape, numpy.complex128)
        else:
            out = mean + std * self._host_normal(shape, numpy.float64)
        return _on_device(out.astype(dtype, copy=False))

    def host_random(self) -> float:
        """One draw from U[0, 1), on the host (a data transform's coin)."""
        return float(self._stream().random())

    def integers(self, low, high, shape):
        """int64 draws from [low, high) of ``shape``, on the host."""
        return self._stream().integers(low, high, size=shape, dtype=numpy.int64)

    def permutation(self, n: int):
        """A random permutation of 0 … n − 1, on the host."""
        return self._stream().permutation(n)

    def poisson(self, rates):
        """A Poisson draw per rate (float64 host array in, float64 host draws out)."""
        # (asarray: a 0-d rate draws a Python int, which has no astype)
        return numpy.asarray(self._stream().poisson(rates), dtype=numpy.float64)

    def binomial(self, n, p):
        """A Binomial(n, p) draw per element (host arrays in, float64 host draws out)."""
        return numpy.asarray(self._stream().binomial(n, p), dtype=numpy.float64)

    def bernoulli_mask(self, p_keep: float, shape, dtype):
        """1 with probability p_keep, else 0, of ``shape`` in ``dtype`` (a dropout mask)."""
        return _on_device(
            (self._stream().random(shape, dtype=numpy.float32) < p_keep).astype(dtype)
        )


def _tuple(shape) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _real(dtype):
    """float32 for complex64, float64 for complex128."""
    return numpy.empty(0, dtype).real.dtype


def _as_complex(pairs, dtype):
    """(..., 2) real pairs read as (...) complex numbers: the same memory, no copy."""
    return numpy.ascontiguousarray(pairs).view(dtype)[..., 0]


def _on_device(host):
    """A host draw as an array of this process's device (itself on the CPU)."""
    return xp.asarray(host) if ON_GPU else host


_worker_streams = threading.local()

# the vmap calls running in this thread, outermost first (func_vmap.py pushes and pops them);
# per thread, so a DataLoader worker's draws are not refused by a vmap in the main thread
_vmap_state = threading.local()

_RANDOM_IN_ERROR_MODE = (
    "vmap: called random operation while in randomness error mode. Please either use the"
    " 'same' or 'different' randomness flags on vmap or perform the randomness operation out"
    " of vmap"
)


def vmap_levels() -> list:
    """This thread's running vmap calls, outermost first: objects with ``randomness`` ('error',
    'different' or 'same') and ``states`` (generator id → (generator, state before its first
    draw in the call), kept by 'same' levels so that each slice draws the same numbers)."""
    levels = getattr(_vmap_state, "levels", None)
    if levels is None:
        levels = _vmap_state.levels = []
    return levels


def vmap_draw(gen: Generator) -> None:
    """A draw from ``gen`` inside vmap: refused if any enclosing vmap has randomness='error'
    (torch refuses it at whichever level sees it); every 'same' level notes the generator's
    state before its first draw, to put it back before each further slice."""
    levels = _vmap_state.levels
    if any(level.randomness == "error" for level in levels):
        raise RuntimeError(_RANDOM_IN_ERROR_MODE)
    for level in levels:
        if level.randomness == "same" and id(gen) not in level.states:
            level.states[id(gen)] = (gen, gen.get_state())


class _DefaultGenerator(Generator):
    """``default_generator``: in a DataLoader worker thread, that worker's own stream (see
    ``use_worker_stream``), as each of torch's worker processes has a default generator of its
    own; in every other thread, the process's stream."""

    def _slot(self) -> dict:
        slot = getattr(_worker_streams, "slot", None)
        return slot if slot is not None else self.__dict__.setdefault("_process_slot", {})

    _rng = property(lambda g: g._slot()["rng"], lambda g, v: g._slot().__setitem__("rng", v))
    _initial = property(
        lambda g: g._slot()["initial"], lambda g, v: g._slot().__setitem__("initial", v)
    )


def use_worker_stream(seed: int) -> None:
    """Give the calling thread (a DataLoader worker) a default-generator stream of its own,
    seeded with ``seed``: its draws neither take from nor depend on the other threads', so a
    seeded run repeats whatever the threads' timing."""
    _worker_streams.slot = {}
    default_generator.manual_seed(seed)


default_generator = _DefaultGenerator().manual_seed(0)


def generator_or_default(generator) -> Generator:
    """``generator`` if one was passed (checked), else ``default_generator``."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator
