"""kerax's `keras.applications.vgg19`: `VGG19`, `preprocess_input` (RGB to BGR, then ImageNet mean per channel; mode "caffe") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]

VGG19 = CONSTRUCTORS["VGG19"]
preprocess_input = family_preprocess_input("vgg19")
