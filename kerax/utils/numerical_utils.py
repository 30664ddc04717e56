"""Keras's `to_categorical` and `normalize` (`keras.utils.numerical_utils`).

As in Keras, NumPy (or list) inputs give NumPy outputs and JAX arrays give
JAX arrays, so data preparation stays on the host.

Example:
    >>> from kerax import utils
    >>> utils.to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from kerax import ops

__all__ = ["normalize", "to_categorical"]


def to_categorical(x, num_classes: int | None = None):
    """Converts a class vector (integers) to a one-hot class matrix.

    Args:
        x: Class indices, `0 <= x < num_classes`, of any shape; a trailing
            axis of size 1 is dropped first.
        num_classes: The number of classes; `max(x) + 1` when None (NumPy
            inputs only: a JAX array needs a static number).

    Returns:
        `x.shape + (num_classes,)` float one-hot codes: a NumPy array for
        array-like inputs, a JAX array for JAX arrays.
    """
    if isinstance(x, jax.Array):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = jnp.squeeze(x, -1)
        if num_classes is None:
            raise ValueError(
                "to_categorical: pass `num_classes` for JAX array inputs (the "
                "output shape must be static under jit)."
            )
        return ops.one_hot(x, num_classes)
    x = np.asarray(x, dtype="int64")
    shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"to_categorical: class indices must be in [0, {num_classes}); got "
            f"values from {x.min()} to {x.max()}. Pass a larger num_classes."
        )
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis: int = -1, order: int = 2):
    """Divides `x` by its `order`-norm along `axis` (zero norms count as 1).

    Example:
        >>> import numpy as np
        >>> normalize(np.array([[3.0, 4.0]]))
        array([[0.6, 0.8]])
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        # Keras's NumPy path: an axis of 0 or None normalizes along the last.
        return x / np.expand_dims(norm, axis or -1)
    return ops.normalize(x, axis=axis, order=order)
