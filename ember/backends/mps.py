"""torch.backends.mps: Apple's Metal backend, which ember has no ops for."""


def is_available() -> bool:
    """False: ember has no Metal backend."""
    return False


def is_built() -> bool:
    """False: ember has no Metal backend."""
    return False
