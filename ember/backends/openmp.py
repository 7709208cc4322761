"""torch.backends.openmp: ember runs no OpenMP parallel regions of its own (NumPy's BLAS
threads are set by ember.set_num_threads)."""


def is_available() -> bool:
    """False: ember itself is not built with OpenMP."""
    return False
