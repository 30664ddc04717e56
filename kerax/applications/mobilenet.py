"""kerax's `keras.applications.mobilenet`: `MobileNet`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

MobileNet = CONSTRUCTORS["MobileNet"]
preprocess_input = family_preprocess_input("mobilenet")
