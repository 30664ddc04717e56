"""MNIST: 70,000 28x28 grayscale handwritten digits (Keras's `mnist.npz`)."""

from __future__ import annotations

import numpy as np

from kerax.datasets._fetch import KERAS_ORIGIN, fetch

SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz", *, base_url: str | None = None):
    """Loads MNIST, downloading it once into the kerax cache.

    Args:
        path: the file name in the cache (`$KERAX_HOME/datasets`).
        base_url: a mirror folder to download from instead of Keras's
            (default: `$KERAX_DATASETS_BASE_URL`, else Keras's origin).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images `(60000, 28, 28)`
        and `(10000, 28, 28)`, uint8 labels `(60000,)` and `(10000,)`, as
        Keras returns them.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = kerax.datasets.mnist.load_data()  # doctest: +SKIP
    """
    file = fetch(path, KERAS_ORIGIN + "mnist.npz", SHA256, base_url=base_url)
    with np.load(file, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
