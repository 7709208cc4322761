"""Primitive differentiable ops on raw arrays, by family.

Every op is a :class:`ember.function.Function`; nothing here knows Tensors.
"""
