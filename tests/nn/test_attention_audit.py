"""Findings of the attention / Transformer parity audit that have no other home."""

import numpy as np

import ember
import ember.nn as nn


def test_learned_positional_embedding_follows_the_default_dtype():
    """Its table is made in the default dtype, like every other layer's parameters."""
    ember.set_default_dtype(ember.float64)
    try:
        p = nn.LearnedPositionalEmbedding(10, 8)
    finally:
        ember.set_default_dtype(ember.float32)
    assert p.weight.dtype == np.float64
    assert nn.LearnedPositionalEmbedding(10, 8).weight.dtype == np.float32
