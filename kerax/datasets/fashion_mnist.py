"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing."""

from __future__ import annotations

import gzip

import numpy as np

from kerax.datasets._fetch import KERAS_ORIGIN, fetch

# Keras publishes no hashes for these four files (its loader passes none).
_FILES = {
    "train-labels-idx1-ubyte.gz": None,
    "train-images-idx3-ubyte.gz": None,
    "t10k-labels-idx1-ubyte.gz": None,
    "t10k-images-idx3-ubyte.gz": None,
}


def _read(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data(*, base_url: str | None = None):
    """Loads Fashion-MNIST, downloading it once into the kerax cache.

    Keras gives no hashes for these files, so they are checked only for
    completeness (the length the server announces).

    Args:
        base_url: a mirror folder to download from (default:
            `$KERAX_DATASETS_BASE_URL`, else Keras's origin).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images `(60000, 28, 28)`
        and `(10000, 28, 28)`, uint8 labels, as Keras returns them.

    Example:
        >>> (x_train, y_train), _ = kerax.datasets.fashion_mnist.load_data()  # doctest: +SKIP
    """
    paths = [
        fetch(
            name,
            KERAS_ORIGIN + name,
            digest,
            base_url=base_url,
            cache_subdir="datasets/fashion-mnist",
        )
        for name, digest in _FILES.items()
    ]
    y_train, y_test = _read(paths[0], 8), _read(paths[2], 8)
    x_train = _read(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = _read(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
