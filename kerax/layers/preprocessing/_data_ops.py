"""What the layers that learn from data share: reading batches, config values."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import jax
import numpy as np


def _to_config_value(value):
    """Arrays and lists in a config become (nested) tuples / floats: hashable and JSON-safe."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        value = value["config"]["value"]  # Keras's serialized numpy array.
    out = np.asarray(value).tolist()

    def freeze(v):
        return tuple(freeze(x) for x in v) if isinstance(v, list) else v

    return freeze(out)


def _extract_batch(batch):
    """Keras's rule: an `(x, y[, sample_weight])` tuple contributes its `x`."""
    return batch[0] if isinstance(batch, tuple) else batch


def _is_array(data) -> bool:
    return isinstance(data, np.ndarray | jax.Array)


def _batches(layer, data, batch_size):
    """The batches of `data` (an array, split by `batch_size`, or an iterable of batches)."""
    if _is_array(data):
        if batch_size is None:
            return [data]
        return [data[i : i + batch_size] for i in range(0, data.shape[0], batch_size)]
    if isinstance(data, str | bytes) or not hasattr(data, "__iter__"):
        raise TypeError(
            f"{layer.describe()}.adapt: unsupported data type {type(data).__name__}. Pass a NumPy or JAX array, or an "
            "iterable of batches (a list of arrays, a generator, a tf.data.Dataset)."
        )
    return data


def _token_batches(layer, data, steps, convert: Callable, what: str) -> Iterator:
    """What a lookup's or a vectorizer's `adapt` reads, batch by batch.

    A list, tuple or array (a `tf.Tensor` too) is one batch; any other
    iterable yields batches (`(x, y)` gives `x`), its first `steps` only, and
    no more is read (an endless `tf.data` stream included). Each batch is
    `convert(batch)`; a rank-1 batch holds one token per document, as Keras
    reads it.
    """
    if isinstance(data, list | tuple | np.ndarray | jax.Array) or hasattr(
        data, "numpy"
    ):
        batches = [data]
    elif hasattr(data, "__iter__") and not isinstance(data, str | bytes):
        batches = map(_extract_batch, itertools.islice(data, steps))
    else:
        raise TypeError(
            f"{layer.describe()}.adapt: unsupported data type {type(data).__name__}. Pass {what}."
        )
    for batch in batches:
        batch = convert(batch)
        yield batch[:, None] if batch.ndim == 1 else batch
