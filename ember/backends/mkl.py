"""torch.backends.mkl: ember's BLAS is NumPy's (OpenBLAS), not MKL."""


def is_available() -> bool:
    """False: ember does not call MKL."""
    return False
