"""Datasets by name, for configs: `kerax.datasets.get("digits")`."""

from __future__ import annotations

import numpy as np

from kerax.datasets import cifar10, digits, fashion_mnist, mnist, synthetic


def _split(x, y, test_split=0.2, seed=0):
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_split))
    return (x[order[n_test:]], y[order[n_test:]]), (
        x[order[:n_test]],
        y[order[:n_test]],
    )


def _images(loader, scale=255.0):
    def load(**kwargs):
        (x, y), (xt, yt) = loader()
        x = x.astype(np.float32) / scale
        xt = xt.astype(np.float32) / scale
        if x.ndim == 3:
            x, xt = x[..., None], xt[..., None]
        return (x, y.reshape(-1).astype(np.int32)), (
            xt,
            yt.reshape(-1).astype(np.int32),
        )

    return load


_LOADERS = {
    "digits": lambda **kw: digits.load_data(**kw),
    "mnist": _images(mnist.load_data),
    "fashion_mnist": _images(fashion_mnist.load_data),
    "cifar10": _images(cifar10.load_data),
    "synthetic_classification": lambda test_split=0.2, seed=0, **kw: _split(
        *synthetic.classification(seed=seed, **kw), test_split, seed
    ),
    "synthetic_regression": lambda test_split=0.2, seed=0, **kw: _split(
        *synthetic.regression(seed=seed, **kw), test_split, seed
    ),
    "synthetic_sequences": lambda test_split=0.2, seed=0, **kw: _split(
        *synthetic.sequences(seed=seed, **kw), test_split, seed
    ),
    "synthetic_images": lambda test_split=0.2, seed=0, **kw: _split(
        *synthetic.images(seed=seed, **kw), test_split, seed
    ),
}


def names() -> list[str]:
    return sorted(_LOADERS)


def get(name: str, **kwargs):
    """`(x_train, y_train), (x_test, y_test)` for a dataset name (float images in [0, 1])."""
    if name not in _LOADERS:
        raise ValueError(f"Unknown dataset {name!r}; available: {names()}.")
    return _LOADERS[name](**kwargs)
