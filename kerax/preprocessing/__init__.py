"""Keras's `keras.preprocessing`: the dataset builders and the `image` and
`sequence` helpers, under Keras's names (they live in `kerax.utils`).

Example:
    >>> kerax.preprocessing.sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from kerax.preprocessing import image, sequence
from kerax.utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
