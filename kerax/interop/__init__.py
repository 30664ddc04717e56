"""Bringing models across from other libraries (Keras 3)."""

from kerax.interop import converters
from kerax.interop.applications import CustomScaleLayer, LayerScale
from kerax.interop.converters import CONVERTERS, converter
from kerax.interop.keras import from_keras, layer_from_keras, layer_weights

__all__ = [
    "CONVERTERS",
    "CustomScaleLayer",
    "LayerScale",
    "converter",
    "converters",
    "from_keras",
    "layer_from_keras",
    "layer_weights",
]
