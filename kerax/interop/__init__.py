"""Bringing models across from other libraries (Keras 3)."""

from kerax.interop.keras import from_keras, layer_from_keras, layer_weights

__all__ = ["from_keras", "layer_from_keras", "layer_weights"]
