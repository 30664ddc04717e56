"""RandomTranslation: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing._random_base import _pair_factor, _RandomAffineLayer


class RandomTranslation(_RandomAffineLayer):
    """Randomly translates images in training, like `keras.layers.RandomTranslation`.

    `height_factor`/`width_factor` in `[-1, 1]` are fractions of the image
    size: `0.2` shifts by up to 20% either way (a pair `(a, b)` gives the
    range). Shifts are drawn per image, in pixels, not rounded.

    Example:
        >>> layer = kerax.layers.RandomTranslation(0.1, 0.1)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    height_factor: Any = None
    width_factor: Any = None
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = None
    fill_value: float = 0.0
    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        _pair_factor(self, self.height_factor, "height_factor", lower_open=False)
        _pair_factor(self, self.width_factor, "width_factor", lower_open=False)

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        kh, kw = jax.random.split(key)
        height, width = self._hw(images)
        shape = (images.shape[0], 1)
        h_lower, h_upper = _pair_factor(
            self, self.height_factor, "height_factor", lower_open=False
        )
        w_lower, w_upper = _pair_factor(
            self, self.width_factor, "width_factor", lower_open=False
        )
        dy = jax.random.uniform(kh, shape, minval=h_lower, maxval=h_upper) * height
        dx = jax.random.uniform(kw, shape, minval=w_lower, maxval=w_upper) * width
        return {"translations": jnp.concatenate([dx, dy], axis=1).astype(jnp.float32)}

    def _matrix(self, transformation, images):
        dx, dy = jnp.split(transformation["translations"], 2, axis=1)
        zeros, ones = jnp.zeros_like(dx), jnp.ones_like(dx)
        return jnp.concatenate(
            [ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1
        )
