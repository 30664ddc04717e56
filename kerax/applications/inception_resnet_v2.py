"""kerax's `keras.applications.inception_resnet_v2`: `InceptionResNetV2`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["InceptionResNetV2", "decode_predictions", "preprocess_input"]

InceptionResNetV2 = CONSTRUCTORS["InceptionResNetV2"]
preprocess_input = family_preprocess_input("inception_resnet_v2")
