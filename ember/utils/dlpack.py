"""torch.utils.dlpack at torch's path: ``from_dlpack`` and ``to_dlpack`` (torch_copies_more.py),
sharing memory with NumPy, CuPy, torch or any library that speaks DLPack."""

from ..torch_copies_more import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]
