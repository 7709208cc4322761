"""torch.signal: window functions for spectral analysis and filter design (``windows``)."""

from . import windows  # noqa: F401
