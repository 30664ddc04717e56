"""RandomTranslation: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._random_base import _pair_factor, _RandomAffineLayer

DOCS = {
    **ARG_DOCS,
    "height_factor": "a float represented as fraction of value, or a tuple of size 2 "
    "representing lower and upper bound for shifting vertically. A negative value "
    "means shifting image up, while a positive value means shifting image down. "
    "When represented as a single positive float, this value is used for both the "
    "upper and lower bound. For instance, `height_factor=(-0.2, 0.3)` results in an "
    "output shifted by a random amount in the range `[-20%, +30%]`.",
    "width_factor": "a float represented as fraction of value, or a tuple of size 2 "
    "representing lower and upper bound for shifting horizontally. A negative value "
    "means shifting image left, while a positive value means shifting image right.",
    "fill_mode": ARG_DOCS["fill_mode"].replace("{fill_mode}", "reflect"),
}


@document_args(DOCS)
class RandomTranslation(_RandomAffineLayer):
    """Randomly translates images in training, like `keras.layers.RandomTranslation`.

    `height_factor`/`width_factor` in `[-1, 1]` are fractions of the image
    size: `0.2` shifts by up to 20% either way (a pair `(a, b)` gives the
    range). Shifts are drawn per image, in pixels, not rounded.

    Example:
        >>> layer = kerax.layers.RandomTranslation(0.1, 0.1)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    height_factor: float | tuple[float, float] = field()
    width_factor: float | tuple[float, float] = field()
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = field(None, converter=optional_int)
    fill_value: float = 0.0
    data_format: str = data_format_field()

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
