"""Keras's `keras.preprocessing`: the dataset builders and the `image` and
`sequence` helpers, under Keras's names (they live in `kerax.utils`), and
`FeatureSpace` (`feature_space.py`; Keras's `keras.utils.FeatureSpace`, also
`kerax.utils.FeatureSpace`), which sits here because it composes layers,
saving and interop, above the utils floor.

Example:
    >>> kerax.preprocessing.sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from kerax.preprocessing import image, sequence
from kerax.preprocessing.feature_space import FeatureSpace
from kerax.utils.image_dataset_utils import image_dataset_from_directory
from kerax.utils.text_dataset_utils import text_dataset_from_directory
from kerax.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = [
    "FeatureSpace",
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
