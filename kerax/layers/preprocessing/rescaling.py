"""Rescaling: multiplies inputs by `scale` and adds `offset`."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from kerax.core.layer import Layer
from kerax.layers.preprocessing._data_ops import _to_config_value


# ----------------------------------------------------------------- Rescaling
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

    scale: Any = None
    offset: Any = 0.0

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        if self.scale is None:
            raise ValueError(
                f"{self.describe()}: `scale` is required, e.g. Rescaling(1 / 255)."
            )
        for name in ("scale", "offset"):
            value = _to_config_value(getattr(self, name))
            try:
                np.asarray(value, np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{self.describe()}: `{name}` must be a number or a sequence of numbers, got {value!r}."
                ) from None
            object.__setattr__(self, name, value)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        dtype = self.policy.compute_dtype
        x = x.astype(dtype)

        def aligned(v):  # Explicit broadcasting against the trailing axes.
            v = jnp.asarray(v, dtype)
            return jnp.reshape(v, (1,) * (x.ndim - v.ndim) + v.shape) if v.ndim else v

        return x * aligned(self.scale) + aligned(self.offset), state
