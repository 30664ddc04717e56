"""Reuters: 11,228 newswires labelled over 46 topics, as word-index sequences."""

from __future__ import annotations

import json

import numpy as np

from kerax.datasets._fetch import KERAS_ORIGIN, fetch, load_npz
from kerax.datasets._sequences import (
    limit_vocabulary,
    object_array,
    offset_and_filter,
)

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal",
    "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei",
    "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog",
    "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    base_url: str | None = None,
):
    """Loads the Reuters newswires, downloading them once into the kerax cache.

    Arguments as `kerax.datasets.imdb.load_data`, plus `test_split`, the
    fraction of the shuffled newswires kept for the test set. The ragged
    sequences are read with a restricted unpickler (lists and arrays only).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of int lists and
        int64 topic labels, as Keras returns them.

    Example:
        >>> (x, y), _ = kerax.datasets.reuters.load_data(num_words=10000)  # doctest: +SKIP
    """
    f = load_npz(fetch(path, KERAS_ORIGIN + "reuters.npz", SHA256, base_url=base_url))
    xs, labels = f["x"], f["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs, labels = offset_and_filter(
        xs, labels, maxlen=maxlen, start_char=start_char, index_from=index_from
    )
    xs = limit_vocabulary(xs, num_words=num_words, skip_top=skip_top, oov_char=oov_char)
    labels = np.asarray(labels, f["y"].dtype)
    idx = int(len(xs) * (1 - test_split))
    return (object_array(xs[:idx]), np.array(labels[:idx])), (
        object_array(xs[idx:]),
        np.array(labels[idx:]),
    )


def get_word_index(
    path: str = "reuters_word_index.json", *, base_url: str | None = None
):
    """The `{word: index}` dictionary of the Reuters sequences (add `index_from`).

    Example:
        >>> index = kerax.datasets.reuters.get_word_index()  # doctest: +SKIP
    """
    file = fetch(
        path,
        KERAS_ORIGIN + "reuters_word_index.json",
        WORD_INDEX_MD5,
        base_url=base_url,
    )
    with open(file) as f:
        return json.load(f)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, indexed like the labels.

    Example:
        >>> kerax.datasets.reuters.get_label_names()[:3]
        ('cocoa', 'grain', 'veg-oil')
    """
    return _LABEL_NAMES
