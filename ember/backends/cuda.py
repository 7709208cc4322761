"""torch.backends.cuda: ``is_built()`` says whether ember can run on CUDA here (CuPy sees a
GPU); ``matmul.allow_tf32`` is ember.set_float32_matmul_precision seen as a flag, as in torch
("high" allows TF32, "highest" does not)."""

from __future__ import annotations


def is_built() -> bool:
    """Whether this process runs ember on a CUDA device (EMBER_DEVICE=cuda)."""
    from .. import backend

    return bool(backend.ON_GPU)


class _Matmul:
    """torch.backends.cuda.matmul: allow_tf32 reads and sets the float32 matmul precision;
    the reduced-precision reductions are stored and read back."""

    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        from ..torch_misc import get_float32_matmul_precision

        return get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        from ..torch_misc import set_float32_matmul_precision

        set_float32_matmul_precision("high" if value else "highest")


matmul = _Matmul()
