"""torch.nn.modules.adaptive at torch's path: AdaptiveLogSoftmaxWithLoss and _ASMoutput, the
(output, loss) named tuple its forward returns."""

from ..layers_pool_more import AdaptiveLogSoftmaxWithLoss, _ASMoutput  # noqa: F401

__all__ = ["AdaptiveLogSoftmaxWithLoss"]
