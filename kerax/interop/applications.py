"""kerax layers for layers private to `keras.applications` (not in `keras.layers`).

They are registered like kerax's own layers, so a converted model saves and
loads, and `kerax.interop.converters` converts Keras's configs naming them.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from kerax.core import registry
from kerax.core.layer import Layer


class LayerScale(Layer):
    """`keras.applications.convnext.LayerScale`: `x * gamma`, one scale per channel.

    Args:
        init_values: The initial value of every scale.
        projection_dim: The number of channels.

    Example:
        >>> layer = LayerScale(0.5, 3)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> layer.apply(params, state, jnp.ones((1, 3)))[0]
        Array([[0.5, 0.5, 0.5]], dtype=float32)
    """

    init_values: float = 1e-6
    projection_dim: int = 1

    def build(self, key, spec):
        del key, spec  # Deterministic; the size comes from `projection_dim`.
        return {
            "gamma": jnp.full((self.projection_dim,), self.init_values, jnp.float32)
        }, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        return x * params["gamma"].astype(x.dtype), state

    def keras_weights(self, keras_layer):
        return {"gamma": np.asarray(keras_layer.weights[0].numpy())}, {}


class CustomScaleLayer(Layer):
    """`keras.applications.inception_resnet_v2.CustomScaleLayer`: `x + r * scale`.

    InceptionResNetV2's residual connection: the shortcut `x` plus the
    residual branch `r` scaled by a constant. No weights.

    Args:
        scale: The residual branch's scale.

    Example:
        >>> layer = CustomScaleLayer(scale=0.5)
        >>> x, r = jnp.ones((1, 2)), jnp.full((1, 2), 4.0)
        >>> layer.apply({}, {}, [x, r])[0]
        Array([[3., 3.]], dtype=float32)
    """

    scale: float = 1.0

    def call(self, params, state, inputs, *, key, training):
        del params, key, training
        x, r = inputs
        return x + r * self.scale, state


registry.add("layers", LayerScale)
registry.add("layers", CustomScaleLayer)
