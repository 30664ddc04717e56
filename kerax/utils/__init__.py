"""Keras's `keras.utils` for kerax: downloads, datasets from files, helpers.

Each family lives in its own module, named like Keras's (`file_utils`,
`image_dataset_utils`, ...); this package re-exports the public names.
"""

__all__: list[str] = []
