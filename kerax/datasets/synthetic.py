"""Small generated datasets for tests, examples and benchmarks."""

from __future__ import annotations

import numpy as np


def classification(
    n: int = 512,
    features: int = 16,
    classes: int = 4,
    seed: int = 0,
    noise: float = 0.5,
):
    """Gaussian blobs: `(x, y)` with x float32 (n, features), y int32 (n,)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (classes, features)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.int32)
    x = centers[y] + noise * rng.normal(size=(n, features)).astype(np.float32)
    return x.astype(np.float32), y


def regression(n: int = 512, features: int = 8, seed: int = 0, noise: float = 0.1):
    """A noisy linear target: `(x, y)` with y float32 (n, 1)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(features, 1)).astype(np.float32)
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, (x @ w + noise * rng.normal(size=(n, 1))).astype(np.float32)


def sequences(n: int = 512, length: int = 20, vocab: int = 50, seed: int = 0):
    """Token sequences labelled by whether token 1 ('good') outnumbers token 2 ('bad').

    A text-classification stand-in that needs order-free counting over a
    variable length: sequences are zero-padded at the end (0 = padding), so
    `Embedding(mask_zero=True)` + an RNN is the natural model.
    Returns `(x int32 (n, length), y int32 (n,))`.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(3, vocab, (n, length)).astype(np.int32)
    lengths = rng.integers(length // 2, length + 1, n)
    y = np.zeros(n, np.int32)
    for i in range(n):
        k = lengths[i]
        good, bad = rng.integers(0, 4, 2)
        if good == bad:
            good += 1
        pos = rng.choice(k, good + bad, replace=False)
        x[i, pos[:good]] = 1
        x[i, pos[good:]] = 2
        x[i, k:] = 0
        y[i] = int(good > bad)
    return x, y


def images(
    n: int = 256, size: int = 16, channels: int = 1, classes: int = 4, seed: int = 0
):
    """Noisy images of class-specific stripes: `(x float32 (n, s, s, c), y int32 (n,))`."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n).astype(np.int32)
    grid = np.arange(size)
    x = np.empty((n, size, size, channels), np.float32)
    for c in range(classes):
        pattern = (
            np.sin(grid[:, None] * (c + 1) * np.pi / size)
            * np.cos(grid[None, :] * (classes - c) * np.pi / size)
        ).astype(np.float32)
        x[y == c] = pattern[None, :, :, None]
    x += 0.3 * rng.normal(size=x.shape).astype(np.float32)
    return x, y
