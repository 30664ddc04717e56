"""Keras's word-index preprocessing shared by IMDB and Reuters."""

from __future__ import annotations

import numpy as np


def offset_and_filter(xs, labels, *, maxlen, start_char, index_from):
    """Shifts indices by `index_from`, adds `start_char`, drops sequences >= maxlen."""
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    else:
        xs = [list(x) for x in xs]
    labels = list(labels)
    if maxlen:
        kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
        xs, labels = [x for x, _ in kept], [y for _, y in kept]
    return xs, labels


def limit_vocabulary(xs, *, num_words, skip_top, oov_char):
    """Words outside `[skip_top, num_words)` become `oov_char` (or are removed)."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(lists) -> np.ndarray:
    """A 1-D `dtype=object` array of lists (what Keras returns), never 2-D."""
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out
