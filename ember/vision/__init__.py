"""torchvision's shape for ember: ``datasets`` (MNIST, FashionMNIST, CIFAR10) and ``transforms``.

    from ember.vision import datasets, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("../shared/data/mnist", train=True, transform=tf)

The datasets read the same checksummed files as ``ember.data.load_mnist``; the transforms
(crops, flips, Resize, RandomResizedCrop, rotation and affine warps, colour jitter, blur,
erasing and the random containers) work per image, as torchvision's, for a DataLoader's
workers to run, each drawing from its own stream of ember's default generator.
"""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
