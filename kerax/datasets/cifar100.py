"""CIFAR-100: 60,000 32x32 colour images in 100 classes (20 superclasses)."""

from __future__ import annotations

import os

import numpy as np

from kerax.datasets._fetch import fetch
from kerax.datasets.cifar10 import load_batch

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode: str = "fine", *, base_url: str | None = None):
    """Loads CIFAR-100, downloading and extracting it once into the kerax cache.

    Args:
        label_mode: `"fine"` (100 classes) or `"coarse"` (20 superclasses).
        base_url: a mirror folder to download from (default:
            `$KERAX_DATASETS_BASE_URL`, else the CIFAR homepage, as Keras).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images `(50000, 32, 32, 3)`
        and `(10000, 32, 32, 3)`, labels `(N, 1)`, as Keras returns them.

    Example:
        >>> (x, y), _ = kerax.datasets.cifar100.load_data("coarse")  # doctest: +SKIP
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of "fine", "coarse". Received: label_mode={label_mode!r}.'
        )
    folder = fetch(
        "cifar-100-python-target", ORIGIN, SHA256, base_url=base_url, extract=True
    )
    folder = os.path.join(folder, "cifar-100-python")
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(folder, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(folder, "test"), label_key=key)
    return (
        x_train.transpose(0, 2, 3, 1),
        np.reshape(y_train, (len(y_train), 1)),
    ), (x_test.transpose(0, 2, 3, 1), np.reshape(y_test, (len(y_test), 1)))
