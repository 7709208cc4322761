"""``ember.backends``: torch.backends' switches and queries, for code written for torch.

Training scripts set ``torch.backends.cudnn.benchmark = True`` or ``deterministic = True`` and
ask ``torch.backends.mps.is_available()``; the same lines run on ember. What the switches
would select does not exist here: ember calls neither cuDNN, oneDNN (mkldnn) nor MKL, so
those report ``is_available() == False`` and their flags are stored and read back only (ember's
CPU ops are deterministic and take no autotuning). ``cuda.matmul.allow_tf32`` is tied to
``ember.set_float32_matmul_precision`` as in torch ("high" ⇔ TF32 allowed).
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
