"""`Identity`: returns its input unchanged."""

from __future__ import annotations

from kerax.core.layer import Layer


class Identity(Layer):
    """Identity layer: returns its input unchanged (masks pass through).

    This layer should be used as a placeholder when no operation is to be
    performed.

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> kerax.layers.Identity().apply({}, {}, jnp.ones((1, 2)))[0]
        Array([[1., 1.]], dtype=float32)
    """

    supports_masking = True

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return x, state
