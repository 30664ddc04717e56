"""RandomRotation: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import (
    ARG_DOCS,
    base_factor,
)
from kerax.layers.preprocessing._random_base import (
    _RandomAffineLayer,
    compute_affine_matrix,
)

DOCS = {
    **ARG_DOCS,
    "factor": "a float represented as fraction of 2 Pi, or a tuple of size 2 "
    "representing lower and upper bound for rotating clockwise and "
    "counter-clockwise. A positive values means rotating counter clock-wise, while a "
    "negative value means clock-wise. When represented as a single float, this value "
    "is used for both the upper and lower bound. For instance, `factor=(-0.2, 0.3)` "
    "results in an output rotation by a random amount in the range "
    "`[-20% * 360, 30% * 360]`.",
    "fill_mode": ARG_DOCS["fill_mode"].replace("{fill_mode}", "reflect"),
}


@document_args(DOCS)
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

    factor: tuple[float, float] = field(converter=base_factor(-1, 1))
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = field(None, converter=optional_int)
    fill_value: float = 0.0
    data_format: str = data_format_field()

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
