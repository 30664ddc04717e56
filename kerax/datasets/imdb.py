"""IMDB: 50,000 movie reviews labelled by sentiment, as word-index sequences."""

from __future__ import annotations

import json

import numpy as np

from kerax.datasets._fetch import KERAS_ORIGIN, fetch, load_npz
from kerax.datasets._sequences import (
    limit_vocabulary,
    object_array,
    offset_and_filter,
)

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    base_url: str | None = None,
):
    """Loads IMDB reviews, downloading them once into the kerax cache.

    The ragged sequences are stored as NumPy object arrays (a pickle stream
    inside the `.npz`); they are read with a restricted unpickler that builds
    lists and arrays only, never `allow_pickle=True`.

    Args:
        path: the file name in the cache.
        num_words: keep the `num_words` most frequent words; others become
            `oov_char` (None: all).
        skip_top: also replace the `skip_top` most frequent words.
        maxlen: drop sequences of `maxlen` words or more.
        seed: the shuffling seed (Keras's default 113 gives Keras's order).
        start_char: marks the start of every sequence (None: no marker).
        oov_char: replaces dropped words (None: remove them).
        index_from: offset added to word indices (0-2 are padding, start, OOV).
        base_url: a mirror folder to download from.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of int lists and
        int64 label arrays, 25,000 each, as Keras returns them.

    Example:
        >>> (x, y), _ = kerax.datasets.imdb.load_data(num_words=10000)  # doctest: +SKIP
    """
    f = load_npz(fetch(path, KERAS_ORIGIN + "imdb.npz", SHA256, base_url=base_url))
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]
    options = dict(maxlen=maxlen, start_char=start_char, index_from=index_from)
    train, labels_train = offset_and_filter(x_train, labels_train, **options)
    test, labels_test = offset_and_filter(x_test, labels_test, **options)
    if maxlen and (not train or not test):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, no "
            "sequence was kept. Increase maxlen."
        )
    xs = limit_vocabulary(
        train + test, num_words=num_words, skip_top=skip_top, oov_char=oov_char
    )
    labels = np.concatenate(
        [
            np.asarray(labels_train, f["y_train"].dtype),
            np.asarray(labels_test, f["y_test"].dtype),
        ]
    )
    idx = len(train)
    return (object_array(xs[:idx]), labels[:idx]), (
        object_array(xs[idx:]),
        labels[idx:],
    )


def get_word_index(path: str = "imdb_word_index.json", *, base_url: str | None = None):
    """The `{word: index}` dictionary of the IMDB sequences (add `index_from`).

    Example:
        >>> index = kerax.datasets.imdb.get_word_index()  # doctest: +SKIP
    """
    file = fetch(
        path, KERAS_ORIGIN + "imdb_word_index.json", WORD_INDEX_MD5, base_url=base_url
    )
    with open(file) as f:
        return json.load(f)
