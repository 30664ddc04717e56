"""Datasets by name, for configs: `kerax.datasets.get("digits")`."""

from __future__ import annotations

import numpy as np

from kerax.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    digits,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
    synthetic,
)


def _split(x, y, test_split=0.2, seed=0):
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_split))
    return (x[order[n_test:]], y[order[n_test:]]), (
        x[order[:n_test]],
        y[order[:n_test]],
    )


def _images(loader, scale=255.0):
    def load(**kwargs):
        (x, y), (xt, yt) = loader(**kwargs)
        x = x.astype(np.float32) / scale
        xt = xt.astype(np.float32) / scale
        if x.ndim == 3:
            x, xt = x[..., None], xt[..., None]
        return (x, y.reshape(-1).astype(np.int32)), (
            xt,
            yt.reshape(-1).astype(np.int32),
        )

    return load


def _tabular(loader):
    def load(**kwargs):
        (x, y), (xt, yt) = loader(**kwargs)
        return (x.astype(np.float32), y.reshape(-1, 1).astype(np.float32)), (
            xt.astype(np.float32),
            yt.reshape(-1, 1).astype(np.float32),
        )

    return load


def _pad(sequences, maxlen: int) -> np.ndarray:
    """Keras's `pad_sequences` defaults: keep the last `maxlen`, zeros in front."""
    out = np.zeros((len(sequences), maxlen), np.int32)
    for i, s in enumerate(sequences):
        s = s[-maxlen:]
        if len(s):
            out[i, maxlen - len(s) :] = s
    return out


def _word_sequences(loader):
    def load(num_words=10000, maxlen=200, **kwargs):
        (x, y), (xt, yt) = loader(num_words=num_words, **kwargs)
        return (_pad(x, maxlen), y.astype(np.int32)), (
            _pad(xt, maxlen),
            yt.astype(np.int32),
        )

    return load


_LOADERS = {
    "digits": lambda **kw: digits.load_data(**kw),
    "mnist": _images(mnist.load_data),
    "fashion_mnist": _images(fashion_mnist.load_data),
    "cifar10": _images(cifar10.load_data),
    "cifar100": _images(cifar100.load_data),
    "boston_housing": _tabular(boston_housing.load_data),
    "california_housing": _tabular(california_housing.load_data),
    "imdb": _word_sequences(imdb.load_data),
    "reuters": _word_sequences(reuters.load_data),
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
    """`(x_train, y_train), (x_test, y_test)` for a dataset name, ready to train on.

    Images become float32 in [0, 1] with a channel axis and int32 labels;
    housing data float32 with targets `(N, 1)`; IMDB and Reuters int32
    sequences padded to `maxlen` (default 200) over the `num_words` (default
    10000) most frequent words. Keyword arguments go to the loader.

    Example:
        >>> (x, y), (xt, yt) = kerax.datasets.get("digits")
        >>> x.dtype, y.dtype
        (dtype('float32'), dtype('int32'))
    """
    if name not in _LOADERS:
        raise ValueError(f"Unknown dataset {name!r}; available: {names()}.")
    return _LOADERS[name](**kwargs)
