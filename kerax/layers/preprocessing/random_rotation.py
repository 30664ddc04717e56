"""RandomRotation: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing._random_base import (
    _base_factor,
    _RandomAffineLayer,
    compute_affine_matrix,
)


class RandomRotation(_RandomAffineLayer):
    """Randomly rotates images in training, like `keras.layers.RandomRotation`.

    `factor` is a fraction of a full turn: `0.2` draws angles in
    `[-72, 72]` degrees, `(a, b)` in `[360 a, 360 b]`; rotation about the
    image centre, counter-clockwise for positive angles. `fill_mode` (reflect,
    wrap, constant, nearest) fills points outside the input; `interpolation`
    is bilinear or nearest.

    Example:
        >>> layer = kerax.layers.RandomRotation(0.1, fill_mode="constant")
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: Any = None
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = None
    fill_value: float = 0.0
    data_format: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "factor", _base_factor(self, self.factor, (-1, 1)))
        super().__post_init__()

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        lower, upper = self.factor
        angle = jax.random.uniform(
            key, (images.shape[0],), minval=lower * 360.0, maxval=upper * 360.0
        )
        height, width = self._hw(images)
        zeros, ones = jnp.zeros_like(angle), jnp.ones_like(angle)
        matrix = compute_affine_matrix(
            angle, zeros, zeros, ones, zeros, zeros, height, width
        )
        return {"angle": angle, "rotation_matrix": matrix}

    def _matrix(self, transformation, images):
        return transformation["rotation_matrix"]
