"""ember.strided: torch's one dense layout, a single object that copies keep."""

import copy

import ember


def test_strided_is_one_object_named_as_torch(torch):
    assert repr(ember.strided) == "ember.strided" and repr(torch.strided) == "torch.strided"
    assert copy.deepcopy(ember.strided) is ember.strided
    assert isinstance(ember.strided, ember.layout)
