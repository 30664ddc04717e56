"""Rescaling: multiplies inputs by `scale` and adds `offset`."""

from __future__ import annotations

import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import (
    Values,
    numbers,
)

DOCS = {
    "scale": "Float (or a per-channel sequence), the scale to apply to the inputs.",
    "offset": "Float (or a per-channel sequence), the offset to apply to the inputs.",
}


# ----------------------------------------------------------------- Rescaling
@document_args(DOCS)
class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`, like `keras.layers.Rescaling`.

    `scale` and `offset` may be numbers or per-channel sequences (broadcast
    against the last axis). Integer inputs become floats of the compute dtype.

    Example:
        >>> layer = kerax.layers.Rescaling(1 / 127.5, offset=-1)
        >>> y, _ = layer.apply({}, {}, jnp.array([[0.0, 255.0]]))
        >>> y
        Array([[-1.,  1.]], dtype=float32)
    """

    scale: Values = field(converter=numbers)
    offset: Values = field(0.0, converter=numbers)

    supports_masking = True

    def call(self, params, state, x, *, key, training):
        del params, key, training
        dtype = self.policy.compute_dtype
        x = x.astype(dtype)

        def aligned(v):  # Explicit broadcasting against the trailing axes.
            v = jnp.asarray(v, dtype)
            return jnp.reshape(v, (1,) * (x.ndim - v.ndim) + v.shape) if v.ndim else v

        return x * aligned(self.scale) + aligned(self.offset), state
