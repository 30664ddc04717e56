"""kerax's `keras.applications.xception`: `Xception`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["Xception", "decode_predictions", "preprocess_input"]

Xception = CONSTRUCTORS["Xception"]
preprocess_input = family_preprocess_input("xception")
