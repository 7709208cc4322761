"""Error classes of ember.data that are both what ember raised and what torch.utils.data raises.

torch checks some of the data utilities' arguments with ``assert`` (AssertionError), and
refuses others only by accident, when the bad value reaches an index or a division (IndexError,
TypeError, ZeroDivisionError). Each class here is ember's class and torch's at once, so code
written for either ``except`` catches it, as ``ember.errors``' pairs do for the ops.
"""

from __future__ import annotations

from ..errors import InputError, InputTypeError


class DatasetKindError(TypeError, AssertionError):
    """An IterableDataset where only map-style datasets go (ConcatDataset), or a map-style one
    where only IterableDatasets go (ChainDataset): ember's TypeError, torch's assert."""


class NoSampleDimError(ValueError, IndexError):
    """A TensorDataset of no tensor, or of a 0-d one, has no first dimension to hold samples:
    ember's ValueError, and the IndexError torch's ``tensors[0].size(0)`` raises."""


class ArgumentTypeError(ValueError, TypeError):
    """An argument of the wrong type that torch takes and fails on later (a float
    ``num_replicas`` slicing the indices): ember's ValueError when it is given, torch's
    TypeError."""


class EmptySourceError(InputError, ZeroDivisionError):
    """A RandomSampler asked for indices of an empty data_source: torch's RuntimeError (its
    randint with high = 0) or ZeroDivisionError (``num_samples // n``), and ember's
    ValueError."""


class ElementConversionError(InputTypeError, ValueError):
    """A tensor of several elements in a batch led by a number: torch.tensor's ValueError
    (only one element tensors can be converted to Python scalars), and the InputTypeError
    ember raised before."""


class NotIndexableError(NotImplementedError, TypeError):
    """An IterableDataset indexed: torch's Dataset.__getitem__ NotImplementedError, and the
    TypeError ember raised."""
