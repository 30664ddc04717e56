"""kerax's `keras.applications.resnet50`: `ResNet50`, `preprocess_input` (RGB to BGR, then ImageNet mean per channel; mode "caffe") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]

ResNet50 = CONSTRUCTORS["ResNet50"]
preprocess_input = family_preprocess_input("resnet50")
