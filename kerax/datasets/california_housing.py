"""California Housing: 20,640 census block groups, 8 features, median house value."""

from __future__ import annotations

import numpy as np

from kerax.datasets._fetch import KERAS_ORIGIN, fetch
from kerax.datasets._housing import split

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
    *,
    base_url: str | None = None,
):
    """Loads California Housing, downloading it once into the kerax cache.

    Args:
        version: `"large"` (20,640 samples) or `"small"` (the first 600,
            Keras's stand-in for `boston_housing`).
        path: the file name in the cache.
        test_split: fraction of the (shuffled) data kept for the test set.
        seed: the shuffling seed (Keras's default 113 gives Keras's split).
        base_url: a mirror folder to download from.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: features `(N, 8)`, targets
        `(N,)` in dollars, as Keras returns them.

    Example:
        >>> (x, y), _ = kerax.datasets.california_housing.load_data("small")  # doctest: +SKIP
    """
    if version not in ("small", "large"):
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version!r}"
        )
    file = fetch(
        path, KERAS_ORIGIN + "california_housing.npz", SHA256, base_url=base_url
    )
    with np.load(file, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return split(x, y, test_split, seed)
