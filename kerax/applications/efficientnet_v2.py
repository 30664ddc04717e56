"""kerax's `keras.applications.efficientnet_v2`: `EfficientNetV2B0`, `EfficientNetV2B1`, `EfficientNetV2B2`, `EfficientNetV2B3`, `EfficientNetV2L`, `EfficientNetV2M`, `EfficientNetV2S`, `preprocess_input` (returns its input: these models rescale [0, 255] pixels themselves) and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = [
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "decode_predictions",
    "preprocess_input",
]

EfficientNetV2B0 = CONSTRUCTORS["EfficientNetV2B0"]
EfficientNetV2B1 = CONSTRUCTORS["EfficientNetV2B1"]
EfficientNetV2B2 = CONSTRUCTORS["EfficientNetV2B2"]
EfficientNetV2B3 = CONSTRUCTORS["EfficientNetV2B3"]
EfficientNetV2L = CONSTRUCTORS["EfficientNetV2L"]
EfficientNetV2M = CONSTRUCTORS["EfficientNetV2M"]
EfficientNetV2S = CONSTRUCTORS["EfficientNetV2S"]
preprocess_input = family_preprocess_input("efficientnet_v2")
