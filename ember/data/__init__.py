"""ember.data — datasets, batching, and the real datasets ember trains on.

from ember.data import DataLoader, load_dataset
data = load_dataset("digits")
for x, y in DataLoader(data.train, batch_size=64, shuffle=True):
    ...
"""

from .cifar import load_cifar10, read_cifar10_arrays
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets_more import ChainDataset, ConcatDataset, IterableDataset, StackDataset
from .distributed_sampler import DistributedSampler
from .download import ChecksumError, data_home, sha256_of
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .synthetic import adding_problem
from .text import (
    TEXT_CORPORA,
    CharVocab,
    load_text,
    python_docs_corpus,
    tiny_shakespeare,
    train_val_split,
)
from .vision import (
    CLASSIFICATION_DATASETS,
    ClassificationData,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_mnist1d,
    read_idx,
    read_mnist_arrays,
)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler",
    "adding_problem",
    "DistributedSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_convert",
    "get_worker_info",
    "CLASSIFICATION_DATASETS",
    "TEXT_CORPORA",
    "ChainDataset",
    "CharVocab",
    "ChecksumError",
    "ClassificationData",
    "ConcatDataset",
    "StackDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "Subset",
    "TensorDataset",
    "data_home",
    "default_collate",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist1d",
    "load_text",
    "python_docs_corpus",
    "random_split",
    "read_cifar10_arrays",
    "read_idx",
    "read_mnist_arrays",
    "sha256_of",
    "tiny_shakespeare",
    "train_val_split",
]
