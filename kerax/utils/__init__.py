"""Keras's `keras.utils` for kerax: downloads, datasets from files, helpers.

Each family lives in its own module, named like Keras's (`file_utils`,
`image_dataset_utils`, ...); this package re-exports the public names.
"""

from kerax.utils.dataset_utils import FileDataset
from kerax.utils.file_utils import (
    extract_archive,
    get_file,
    hash_file,
    kerax_home,
    validate_file,
)
from kerax.utils.image_dataset_utils import image_dataset_from_directory

__all__: list[str] = [
    "FileDataset",
    "image_dataset_from_directory",
    "extract_archive",
    "get_file",
    "hash_file",
    "kerax_home",
    "validate_file",
]
