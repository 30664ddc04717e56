"""kerax's `keras.applications.vgg16`: `VGG16`, `preprocess_input` (RGB to BGR, then ImageNet mean per channel; mode "caffe") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

VGG16 = CONSTRUCTORS["VGG16"]
preprocess_input = family_preprocess_input("vgg16")
