"""kerax's `keras.applications.mobilenet_v3`: `preprocess_input` (returns its input: these models rescale [0, 255] pixels themselves) and `decode_predictions`."""

from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["decode_predictions", "preprocess_input"]

preprocess_input = family_preprocess_input("mobilenet_v3")
