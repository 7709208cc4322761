"""The torch names the packages export: each reachable where torch users look for it."""

import pytest

import ember
import ember.functional as F
import ember.nn as nn
import ember.optim as optim
from ember.optim import lr_scheduler

NN = (
    "ReLU6 SELU Mish Hardsigmoid Hardswish ELU CELU Softplus Softsign Tanhshrink Hardtanh"
    " Threshold GLU Softmin PReLU CosineSimilarity PairwiseDistance SmoothL1Loss HuberLoss"
    " KLDivLoss MarginRankingLoss HingeEmbeddingLoss CosineEmbeddingLoss TripletMarginLoss"
    " PoissonNLLLoss GaussianNLLLoss SoftMarginLoss MultiLabelSoftMarginLoss Upsample"
    " PixelShuffle PixelUnshuffle InstanceNorm1d InstanceNorm2d RMSNorm ZeroPad2d ConstantPad2d"
    " ReflectionPad2d ReplicationPad2d Dropout2d Unflatten Bilinear ParameterList ParameterDict"
    " ConvTranspose1d ConvTranspose2d Unfold Fold AdaptiveMaxPool1d AdaptiveMaxPool2d EmbeddingBag"
    " CTCLoss"
).split()
FUNCTIONAL = (
    "hardtanh relu6 elu selu celu softplus mish softsign hardsigmoid hardswish glu threshold"
    " tanhshrink softmin prelu normalize cosine_similarity pairwise_distance one_hot"
    " smooth_l1_loss huber_loss kl_div margin_ranking_loss hinge_embedding_loss"
    " cosine_embedding_loss triplet_margin_loss poisson_nll_loss gaussian_nll_loss"
    " soft_margin_loss multilabel_soft_margin_loss gather cumsum sort topk interpolate pad"
    " pixel_shuffle instance_norm rms_norm dropout2d bilinear conv_transpose1d conv_transpose2d"
    " unfold fold adaptive_max_pool2d embedding_bag ctc_loss"
).split()
OPTIM = "SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam".split()
SCHEDULERS = (
    "StepLR ExponentialLR CosineAnnealingLR ReduceLROnPlateau LambdaLR MultiplicativeLR"
    " MultiStepLR ConstantLR PolynomialLR CosineAnnealingWarmRestarts ChainedScheduler CyclicLR"
    " OneCycleLR"
).split()


@pytest.mark.parametrize(
    "module, names",
    [(nn, NN), (F, FUNCTIONAL), (optim, OPTIM), (lr_scheduler, SCHEDULERS)],
    ids=["nn", "functional", "optim", "lr_scheduler"],
)
def test_torch_names_are_exported(module, names):
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{module.__name__} lacks {missing}"
    listed = getattr(module, "__all__", None)
    if listed is not None:  # lr_scheduler has no __all__; the others must list every name
        assert not [n for n in names if n not in listed], f"{module.__name__}.__all__ is short"


def test_exports_are_the_implementations_the_tests_check():
    from ember.functional.loss_more import huber_loss
    from ember.nn.activation_more import PReLU

    assert F.huber_loss is huber_loss and nn.PReLU is PReLU
    assert callable(ember.nn.utils.rnn.pack_padded_sequence)


def test_functional_pad_takes_every_mode(torch):
    import numpy as np

    x = np.arange(24.0).reshape(1, 2, 3, 4)
    for mode in ("constant", "reflect", "replicate", "circular"):
        got = F.pad(ember.tensor(x), (1, 2, 2, 1), mode=mode).numpy()
        want = torch.nn.functional.pad(torch.tensor(x), (1, 2, 2, 1), mode=mode).numpy()
        np.testing.assert_array_equal(got, want)
