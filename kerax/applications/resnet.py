"""kerax's `keras.applications.resnet`: `ResNet101`, `ResNet152`, `ResNet50`, `preprocess_input` (RGB to BGR, then ImageNet mean per channel; mode "caffe") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = [
    "ResNet101",
    "ResNet152",
    "ResNet50",
    "decode_predictions",
    "preprocess_input",
]

ResNet101 = CONSTRUCTORS["ResNet101"]
ResNet152 = CONSTRUCTORS["ResNet152"]
ResNet50 = CONSTRUCTORS["ResNet50"]
preprocess_input = family_preprocess_input("resnet")
