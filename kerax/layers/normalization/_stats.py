"""What the normalization layers share: Keras's statistics dtype, casts and axis checks."""

from __future__ import annotations

import jax.numpy as jnp

from kerax.core.layer import Layer
from kerax.core.spec import shape_str

# `keras.config.epsilon()`: guards the masked-moment denominators.
KERAS_EPSILON = 1e-7


def stat_dtype(dtype):
    """At least float32: statistics in half precision overflow (as in Keras)."""
    return jnp.result_type(dtype, jnp.float32)


def to_compute(layer: Layer, x):
    """What Keras's `__call__` does to a float input of an autocasting layer."""
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(layer.policy.compute_dtype)
    return x


def check_axes(layer: Layer, spec, axes) -> None:
    """Each normalized axis is in range and has a known size."""
    ndim = len(spec.shape)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{layer.describe()}: axis {a!r} is out of bounds for inputs of shape "
                f"{shape_str(spec.shape)} (rank {ndim})."
            )
        if not isinstance(spec.shape[a], int):
            raise ValueError(
                f"{layer.describe()}: the normalized axis {a} must have a known size, "
                f"got shape {shape_str(spec.shape)}."
            )
