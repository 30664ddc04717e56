"""RandomContrast: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing._image_ops import (
    spatial_axes,
)
from kerax.layers.preprocessing._random_base import (
    _base_factor,
    _check_value_range,
    _RandomImageLayer,
)


class RandomContrast(_RandomImageLayer):
    """Randomly adjusts contrast in training, like `keras.layers.RandomContrast`.

    Each image becomes `(x - mean) * c + mean` (mean over its height and
    width, per channel), clipped to `value_range`, with `c` drawn in
    `[1 - lower, 1 + upper]` from `factor`. As in Keras 3.15, a single
    number `f` becomes `factor=(0, f)`: contrast is only increased, up to
    `1 + f`; pass a pair `(a, b)` for `[1 - a, 1 + b]`. Inference returns
    the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomContrast(0.2)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: Any = None
    value_range: Any = (0, 255)
    seed: int | None = None
    data_format: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "factor", _base_factor(self, self.factor, (0, 1)))
        super().__post_init__()
        _check_value_range(self, sort=False)

    def inference(self, images):
        return images

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        dtype = self.policy.compute_dtype
        factor = jax.random.uniform(
            key,
            (images.shape[0], 1, 1, 1),
            dtype,
            minval=1.0 - self.factor[0],
            maxval=1.0 + self.factor[1],
        )
        return {"contrast_factor": factor}

    def transform_images(self, images, transformation):
        h_axis, w_axis = spatial_axes(self.data_format)
        mean = jnp.mean(
            jnp.mean(images, axis=h_axis, keepdims=True), axis=w_axis, keepdims=True
        )
        outputs = (images - mean) * transformation["contrast_factor"] + mean
        return jnp.clip(outputs, self.value_range[0], self.value_range[1])
