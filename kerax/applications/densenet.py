"""kerax's `keras.applications.densenet`: `DenseNet121`, `DenseNet169`, `DenseNet201`, `preprocess_input` (pixels to [0, 1], then ImageNet mean and std per channel; mode "torch") and `decode_predictions`."""

from kerax.applications._factory import CONSTRUCTORS
from kerax.applications.imagenet_utils import (
    decode_predictions,
    family_preprocess_input,
)

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "decode_predictions",
    "preprocess_input",
]

DenseNet121 = CONSTRUCTORS["DenseNet121"]
DenseNet169 = CONSTRUCTORS["DenseNet169"]
DenseNet201 = CONSTRUCTORS["DenseNet201"]
preprocess_input = family_preprocess_input("densenet")
