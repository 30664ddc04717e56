"""kerax's `keras.applications.nasnet`: `NASNetLarge`, `NASNetMobile`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]

NASNetLarge = CONSTRUCTORS["NASNetLarge"]
NASNetMobile = CONSTRUCTORS["NASNetMobile"]
preprocess_input = family_preprocess_input("nasnet")
