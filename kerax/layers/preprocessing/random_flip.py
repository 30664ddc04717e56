"""RandomFlip: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._image_ops import (
    check_choice,
    spatial_axes,
)
from kerax.layers.preprocessing._random_base import _RandomImageLayer

DOCS = {
    **ARG_DOCS,
    "mode": 'String indicating which flip mode to use. Can be `"horizontal"`, '
    '`"vertical"`, or `"horizontal_and_vertical"`. `"horizontal"` is a left-right '
    'flip and `"vertical"` is a top-bottom flip. Defaults to '
    '`"horizontal_and_vertical"`.',
}


@document_args(DOCS)
class RandomFlip(_RandomImageLayer):
    """Randomly flips images in training, like `keras.layers.RandomFlip`.

    `mode` is `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"`.
    Each image is flipped with probability 1/2; in `"horizontal_and_vertical"`
    mode Keras draws ONE coin per image for both axes (an image is flipped
    both ways or not at all), and so does kerax.

    Example:
        >>> layer = kerax.layers.RandomFlip("horizontal")
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    mode: str = "horizontal_and_vertical"
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        check_choice(
            self, "mode", ("horizontal", "vertical", "horizontal_and_vertical")
        )

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        return {"flips": jax.random.uniform(key, (images.shape[0], 1, 1, 1)) <= 0.5}

    def transform_images(self, images, transformation):
        h_axis, w_axis = spatial_axes(self.data_format)
        flips = transformation["flips"]
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            images = jnp.where(flips, jnp.flip(images, axis=w_axis), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            images = jnp.where(flips, jnp.flip(images, axis=h_axis), images)
        return images
