"""What the global pooling layers share."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from kerax.core.layer import Layer
from kerax.layers._args import data_format_field, spatial_axes
from kerax.layers.pooling.base_pooling import lowest


class BaseGlobalPooling(Layer):
    """Shared fields and code of the global pooling layers."""

    data_format: str = data_format_field()
    keepdims: bool = False

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self.rank + 2)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        axes = spatial_axes(self.rank, self.data_format)
        if self.kind == "max":
            # `initial`: jnp.max otherwise proves each reduced axis non-empty,
            # which a symbolic length (a valid conv's `max(d - 2, 0)`) cannot.
            y = jnp.max(x, axis=axes, keepdims=self.keepdims, initial=lowest(x.dtype))
            return y, state
        return jnp.mean(x, axis=axes, keepdims=self.keepdims), state
