"""CIFAR-10: 60,000 32x32 colour images in 10 classes.

The archive holds Python pickles; they are read with `SafeUnpickler`, which
only builds dicts, lists, bytes and NumPy arrays: a tampered file cannot make
it import or call anything.
"""

from __future__ import annotations

import os

import numpy as np

from kerax.datasets._fetch import fetch, load_pickle

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_batch(fpath, label_key: str = "labels"):
    """`(data uint8 (N, 3, 32, 32), labels)` from one CIFAR batch file."""
    d = load_pickle(fpath, encoding="bytes")
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = np.asarray(d["data"], np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def load_data(*, base_url: str | None = None):
    """Loads CIFAR-10, downloading and extracting it once into the kerax cache.

    Args:
        base_url: a mirror folder to download from (default:
            `$KERAX_DATASETS_BASE_URL`, else the CIFAR homepage, as Keras).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images `(50000, 32, 32, 3)`
        and `(10000, 32, 32, 3)` (channels last), uint8 labels `(N, 1)`, as
        Keras returns them.

    Example:
        >>> (x_train, y_train), _ = kerax.datasets.cifar10.load_data()  # doctest: +SKIP
    """
    folder = fetch(
        "cifar-10-batches-py-target", ORIGIN, SHA256, base_url=base_url, extract=True
    )
    folder = os.path.join(folder, "cifar-10-batches-py")
    xs, ys = [], []
    for i in range(1, 6):
        x, y = load_batch(os.path.join(folder, f"data_batch_{i}"))
        xs.append(x)
        ys.append(np.asarray(y, np.uint8))
    x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    x_train = np.concatenate(xs).transpose(0, 2, 3, 1)
    y_train = np.concatenate(ys).reshape(-1, 1)
    x_test = x_test.transpose(0, 2, 3, 1)
    y_test = np.asarray(y_test, np.uint8).reshape(-1, 1)
    return (x_train, y_train), (x_test, y_test)
