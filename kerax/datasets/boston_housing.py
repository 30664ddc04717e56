"""Boston Housing: 506 samples of 13 attributes, target: median value in k$.

The data has an ethical problem (its "B" attribute); Keras discourages using
it except to illustrate such problems. `california_housing` replaces it.
"""

from __future__ import annotations

import numpy as np

from kerax.datasets._fetch import KERAS_ORIGIN, fetch
from kerax.datasets._housing import split

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(
    path: str = "boston_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
    *,
    base_url: str | None = None,
):
    """Loads Boston Housing, downloading it once into the kerax cache.

    Args:
        path: the file name in the cache.
        test_split: fraction of the (shuffled) data kept for the test set.
        seed: the shuffling seed (Keras's default 113 gives Keras's split).
        base_url: a mirror folder to download from.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float64 features `(N, 13)`,
        targets `(N,)`, as Keras returns them.

    Example:
        >>> (x, y), _ = kerax.datasets.boston_housing.load_data()  # doctest: +SKIP
    """
    file = fetch(path, KERAS_ORIGIN + "boston_housing.npz", SHA256, base_url=base_url)
    with np.load(file, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return split(x, y, test_split, seed)
