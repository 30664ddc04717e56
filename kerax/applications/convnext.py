"""kerax's `keras.applications.convnext`: `ConvNeXtBase`, `ConvNeXtLarge`, `ConvNeXtSmall`, `ConvNeXtTiny`, `ConvNeXtXLarge`, `preprocess_input` (returns its input: these models rescale [0, 255] pixels themselves) and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "decode_predictions",
    "preprocess_input",
]

ConvNeXtBase = CONSTRUCTORS["ConvNeXtBase"]
ConvNeXtLarge = CONSTRUCTORS["ConvNeXtLarge"]
ConvNeXtSmall = CONSTRUCTORS["ConvNeXtSmall"]
ConvNeXtTiny = CONSTRUCTORS["ConvNeXtTiny"]
ConvNeXtXLarge = CONSTRUCTORS["ConvNeXtXLarge"]
preprocess_input = family_preprocess_input("convnext")
