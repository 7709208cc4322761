"""Which ops autocast touches, and how: torch's op lists mapped onto ember's Function classes.

torch keeps these lists in ``aten/src/ATen/autocast_mode.cpp`` (the tables of the docs page
"Automatic Mixed Precision package - torch.amp"). Each entry here names the ember primitive
that runs the listed aten op; the lists differ between the CPU and the CUDA autocast, as
torch's do:

    LOWER    floating inputs (float32; float64 never) cast to the autocast dtype
    FP32     float16 inputs cast to float32
    PROMOTE  floating inputs cast to the widest among them (float32 over float16)
    BANNED   refused inside the region (CUDA's binary_cross_entropy)

An op torch lists that ember composes from primitives (addmm, mse_loss, kl_div, cdist, …) is
cast as one op by ``amp.as_one_op`` (the ``composite`` tables below), so its primitives keep
the dtypes the op's policy gave. Built on the first enabled region, when every op module is
imported.
"""

from __future__ import annotations

LOWER, FP32, PROMOTE, BANNED = "lower", "fp32", "promote", "banned"

# torch's CPU lower_precision_fp list: conv1d/2d/3d, bmm, mm, baddbmm, addmm, addbmm, linear,
# matmul, conv_transpose1d/2d/3d, prelu, scaled_dot_product_attention, mkldnn_rnn_layer (the
# LSTM), and the composite ops built from them (einsum through bmm, rnn_tanh/relu through
# linear). torch's CPU GRU stays float32 (its kernel is in no list), so ember's does too.
_CPU_LOWER = (
    "linalg.MatMul linalg.Linear conv.Conv2d conv3d.Conv3d conv_transpose.ConvTranspose2d"
    " activations_piecewise.PReLU attention.ScaledDotProductAttention einsum.Einsum"
    " recurrent.LSTMLayer recurrent_rnn.RNNLayer"
)
# torch's CPU fp32 list: the losses, fft, linalg, 3-d pooling, grid_sampler, prod, …
_CPU_FP32 = (
    "loss.CrossEntropy loss.NLLLoss loss.BCE loss.BCEWithLogits ctc.CTCLoss scan.Prod"
    " fft.FFTn fft.RFFTn fft.IRFFTn linalg_more.Cholesky linalg_more.Inv linalg_more.Solve"
    " linalg_more.SolveTriangular linalg_more.Pinv linalg_more.Lstsq linalg_decomp.Svd"
    " linalg_decomp.SvdVals linalg_decomp.Qr linalg_decomp.Eigh linalg_decomp.EigvalsH"
    " linalg_eig.Eig linalg_eig.Eigvals pool3d.MaxPool3d pool3d.MaxPool3dWithIndices"
    " pool3d.AvgPool3d unpool.MaxUnpool2d grid_sample.GridSample2d grid_sample.GridSample3d"
    " grid_sample.GridSampleBicubic2d complex.ViewAsComplex"
)
_CPU_PROMOTE = "shape.Cat shape.Stack index_more.IndexCopy"

# torch's CUDA float16 list adds addmv/addr/mv/chain_matmul (composed here of MatMul) and
# every cuDNN RNN (GRU included).
_CUDA_LOWER = _CPU_LOWER + " recurrent_gru.GRULayer"
# torch's CUDA float32 list: pow, __rdiv__/__rtruediv__/reciprocal, acos, asin, cosh, sinh,
# tan, erfinv, exp, expm1, log, log10, log1p, log2, softmax, log_softmax, sum, prod, cumsum,
# cumprod, layer_norm, norm, logsumexp, softplus, the losses.
_CUDA_FP32 = (
    "elementwise.Pow elementwise.PowScalar elementwise.RPowScalar elementwise.RDivScalar"
    " elementwise_more.Acos elementwise_more.Asin elementwise_more.Cosh elementwise_more.Sinh"
    " elementwise_more.Tan elementwise_more.Erfinv elementwise.Exp elementwise.Expm1"
    " elementwise.Log elementwise_more.Log10 elementwise.Log1p elementwise_more.Log2"
    " reduce.Softmax reduce.LogSoftmax reduce.Sum scan.Prod scan.CumSum scan.CumProd"
    " scan.PNorm layernorm.LayerNorm activations_piecewise.Softplus loss.CrossEntropy"
    " loss.NLLLoss loss.BCEWithLogits reduce.LogSumExp"
)
# torch's CUDA promote list: addcdiv, addcmul, atan2, bilinear, cross, dot, grid_sample,
# index_put, scatter_add, tensordot, and cat/stack/index_copy.
_CUDA_PROMOTE = _CPU_PROMOTE + (
    " elementwise_more.Atan2 grid_sample.GridSample2d grid_sample.GridSample3d"
    " grid_sample.GridSampleBicubic2d index_put.IndexPut"
)
_CUDA_BANNED = "loss.BCE"

# Ops ember composes of primitives that torch's autocast casts as one op (amp.as_one_op marks
# them): left alone, the primitives would be cast one by one (mv's MatMul lowered on the CPU,
# where torch's mv is in no list; addmm's float16 product promoted back to float32 by its
# Add, where torch's addmm is float16). NONE: the op runs on its inputs' dtypes, autocast off;
# an op a device's table leaves out is cast piece by piece there, as torch's decomposes
# (tensordot on the CPU: its mm is lowered).
NONE = "none"
# The losses and cdist that both of torch's float32 lists name and ember composes: a float16
# input gives a float32 loss, as torch's (cross_entropy's class-index path is loss.CrossEntropy
# above; its probability targets go through log_softmax and a sum here).
_FP32_COMPOSITE = {
    name: FP32
    for name in (
        "mse_loss l1_loss smooth_l1_loss huber_loss kl_div margin_ranking_loss"
        " hinge_embedding_loss cosine_embedding_loss triplet_margin_loss poisson_nll_loss"
        " soft_margin_loss multi_margin_loss multilabel_margin_loss cross_entropy cdist"
    ).split()
}
_CPU_COMPOSITE = {
    "addmm": LOWER, "addbmm": LOWER, "baddbmm": LOWER, "linalg_vecdot": LOWER,
    "mv": NONE, "addmv": NONE, "addr": NONE, "dot": NONE, "vdot": NONE,
    **_FP32_COMPOSITE,
}  # fmt: skip
_CUDA_COMPOSITE = {
    "addmm": LOWER, "addbmm": LOWER, "baddbmm": LOWER, "linalg_vecdot": LOWER,
    "mv": LOWER, "addmv": LOWER, "addr": LOWER, "dot": PROMOTE, "vdot": NONE,
    "tensordot": PROMOTE, **_FP32_COMPOSITE,
}  # fmt: skip


def composite(device: str) -> dict:
    """{torch op name: policy} of the composite ops (as_one_op) for ``device``."""
    return _CUDA_COMPOSITE if device == "cuda" else _CPU_COMPOSITE


BCE_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_"
    "logits\nor torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and "
    "BCEWithLogits are\nsafe to autocast."
)


def _classes(names: str) -> list:
    import importlib

    out = []
    for name in names.split():
        module, cls = name.rsplit(".", 1)
        out.append(getattr(importlib.import_module(f"ember.ops.{module}"), cls))
    return out


def build(device: str) -> dict:
    """{Function class: policy} for ``device`` ("cpu" or "cuda")."""
    if device == "cuda":
        lists = ((_CUDA_LOWER, LOWER), (_CUDA_FP32, FP32), (_CUDA_PROMOTE, PROMOTE),
                 (_CUDA_BANNED, BANNED))  # fmt: skip
    else:
        lists = ((_CPU_LOWER, LOWER), (_CPU_FP32, FP32), (_CPU_PROMOTE, PROMOTE))
    return {cls: policy for names, policy in lists for cls in _classes(names)}
