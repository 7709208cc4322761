"""ember's benchmarks: ember and PyTorch side by side in one process (see harness.py)."""
