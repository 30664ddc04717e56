"""kerax's `keras.applications.mobilenet_v2`: `MobileNetV2`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

MobileNetV2 = CONSTRUCTORS["MobileNetV2"]
preprocess_input = family_preprocess_input("mobilenet_v2")
