"""RandomBrightness: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing._random_base import (
    _base_factor,
    _check_value_range,
    _RandomImageLayer,
)


class RandomBrightness(_RandomImageLayer):
    """Randomly shifts brightness in training, like `keras.layers.RandomBrightness`.

    Adds `delta * (value_range[1] - value_range[0])` to each image, `delta`
    drawn in `factor` (a number `f` means `[-f, f]`, within `[-1, 1]`), then
    clips to `value_range`. Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomBrightness(0.2, value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: Any = None
    value_range: Any = (0, 255)
    seed: int | None = None
    data_format: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "factor", _base_factor(self, self.factor, (-1, 1)))
        super().__post_init__()
        _check_value_range(self, sort=True)

    def inference(self, images):
        return images

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        delta = jax.random.uniform(
            key,
            (images.shape[0], 1, 1, 1),
            minval=self.factor[0],
            maxval=self.factor[1],
        )
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation):
        images = images + transformation["rgb_delta"].astype(images.dtype)
        return jnp.clip(images, self.value_range[0], self.value_range[1])
