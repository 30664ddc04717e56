"""Fashion-MNIST from the Keras cache folder `fashion-mnist/` (no download)."""

from __future__ import annotations

import gzip

import numpy as np

from kerax.datasets._cache import keras_datasets_dir, require

_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def load_data():
    """`(x_train, y_train), (x_test, y_test)`, uint8 images (N, 28, 28), like Keras."""
    folder = keras_datasets_dir() / "fashion-mnist"
    paths = [require(folder / f, "fashion_mnist", _ORIGIN + f) for f in _FILES]
    with gzip.open(paths[0], "rb") as f:
        y_train = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[1], "rb") as f:
        x_train = np.frombuffer(f.read(), np.uint8, offset=16).reshape(
            len(y_train), 28, 28
        )
    with gzip.open(paths[2], "rb") as f:
        y_test = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[3], "rb") as f:
        x_test = np.frombuffer(f.read(), np.uint8, offset=16).reshape(
            len(y_test), 28, 28
        )
    return (x_train, y_train), (x_test, y_test)
