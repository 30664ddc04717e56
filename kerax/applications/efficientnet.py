"""kerax's `keras.applications.efficientnet`: `EfficientNetB0`, `EfficientNetB1`, `EfficientNetB2`, `EfficientNetB3`, `EfficientNetB4`, `EfficientNetB5`, `EfficientNetB6`, `EfficientNetB7`, `preprocess_input` (returns its input: these models rescale [0, 255] pixels themselves) and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = [
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "decode_predictions",
    "preprocess_input",
]

EfficientNetB0 = CONSTRUCTORS["EfficientNetB0"]
EfficientNetB1 = CONSTRUCTORS["EfficientNetB1"]
EfficientNetB2 = CONSTRUCTORS["EfficientNetB2"]
EfficientNetB3 = CONSTRUCTORS["EfficientNetB3"]
EfficientNetB4 = CONSTRUCTORS["EfficientNetB4"]
EfficientNetB5 = CONSTRUCTORS["EfficientNetB5"]
EfficientNetB6 = CONSTRUCTORS["EfficientNetB6"]
EfficientNetB7 = CONSTRUCTORS["EfficientNetB7"]
preprocess_input = family_preprocess_input("efficientnet")
