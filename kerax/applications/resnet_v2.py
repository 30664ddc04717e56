"""kerax's `keras.applications.resnet_v2`: `ResNet101V2`, `ResNet152V2`, `ResNet50V2`, `preprocess_input` (pixels to [-1, 1]; mode "tf") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = [
    "ResNet101V2",
    "ResNet152V2",
    "ResNet50V2",
    "decode_predictions",
    "preprocess_input",
]

ResNet101V2 = CONSTRUCTORS["ResNet101V2"]
ResNet152V2 = CONSTRUCTORS["ResNet152V2"]
ResNet50V2 = CONSTRUCTORS["ResNet50V2"]
preprocess_input = family_preprocess_input("resnet_v2")
