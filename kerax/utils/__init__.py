"""Keras's `keras.utils` for kerax: downloads, datasets from files, helpers.

Each family lives in its own module, named like Keras's (`file_utils`,
`image_dataset_utils`, ...); this package re-exports the public names.
"""

from kerax.backend import (
    clear_session,
    is_keras_tensor,
    standardize_dtype,
)
from kerax.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from kerax.core.node import get_source_inputs
from kerax.preprocessing.feature_space import FeatureSpace
from kerax.saving.serialization_lib import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from kerax.training.objectives import pack_batch as pack_x_y_sample_weight
from kerax.training.objectives import unpack_batch as unpack_x_y_sample_weight
from kerax.training.progbar import Progbar
from kerax.utils.audio_dataset_utils import audio_dataset_from_directory
from kerax.utils.config_utils import Config
from kerax.utils.dataset_utils import FileDataset, split_dataset
from kerax.utils.file_utils import (
    extract_archive,
    get_file,
    hash_file,
    kerax_home,
    validate_file,
)
from kerax.utils.image_dataset_utils import image_dataset_from_directory
from kerax.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from kerax.utils.model_visualization import plot_model
from kerax.utils.numerical_utils import normalize, to_categorical
from kerax.utils.py_dataset import PyDataset
from kerax.utils.rng_utils import set_random_seed
from kerax.utils.sequence_utils import pad_sequences
from kerax.utils.text_dataset_utils import text_dataset_from_directory
from kerax.utils.timeseries_dataset_utils import timeseries_dataset_from_array

Sequence = PyDataset  # Keras's older name, kept by Keras as an alias.

__all__: list[str] = [
    "Config",
    "CustomObjectScope",
    "FeatureSpace",
    "Progbar",
    "Sequence",
    "clear_session",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_source_inputs",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "pack_x_y_sample_weight",
    "split_dataset",
    "standardize_dtype",
    "unpack_x_y_sample_weight",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
    "FileDataset",
    "audio_dataset_from_directory",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "extract_archive",
    "get_file",
    "hash_file",
    "kerax_home",
    "validate_file",
    "PyDataset",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
    "normalize",
    "pad_sequences",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]
