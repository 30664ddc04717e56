"""8x8 handwritten digits bundled with scikit-learn (1797 images, 10 classes)."""

from __future__ import annotations

import numpy as np


def load_data(test_split: float = 0.2, seed: int = 0, normalize: bool = True):
    """Returns `(x_train, y_train), (x_test, y_test)` like Keras loaders.

    Images have shape (8, 8, 1), float32 in [0, 1] when `normalize` (raw values
    are 0..16), labels int32. The split is stratified-free but seeded.

    Example:
        >>> (x, y), (xt, yt) = kerax.datasets.digits.load_data()
        >>> x.shape[1:]
        (8, 8, 1)
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32)[..., None]
    if normalize:
        x = x / 16.0
    y = bunch.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_split))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])
