"""MNIST from the Keras cache file `mnist.npz` (no download)."""

from __future__ import annotations

import numpy as np

from kerax.datasets._cache import keras_datasets_dir, require


def load_data(path: str = "mnist.npz"):
    """`(x_train, y_train), (x_test, y_test)`, uint8 images (N, 28, 28), like Keras."""
    file = require(
        keras_datasets_dir() / path,
        "mnist",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    )
    with np.load(file, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
