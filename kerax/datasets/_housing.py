"""The shuffled train/test split shared by the two housing datasets (Keras's)."""

from __future__ import annotations

import numpy as np


def split(x, y, test_split: float, seed: int):
    if not 0 <= test_split < 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. It must be between 0 "
            "and 1 (exclusive of 1)."
        )
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))
