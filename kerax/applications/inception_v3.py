"""kerax's `keras.applications.inception_v3`: `InceptionV3`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]

InceptionV3 = CONSTRUCTORS["InceptionV3"]
preprocess_input = family_preprocess_input("inception_v3")
