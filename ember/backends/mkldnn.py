"""torch.backends.mkldnn (oneDNN): ember's convolutions are its own (im2col and GEMM)."""

enabled = True  # stored and read back only


def is_available() -> bool:
    """False: ember does not call oneDNN."""
    return False
