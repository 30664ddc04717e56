"""RandomBrightness: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import (
    ARG_DOCS,
    base_factor,
    value_range,
)
from kerax.layers.preprocessing._random_base import (
    _RandomImageLayer,
)

DOCS = {
    **ARG_DOCS,
    "factor": "Float or a list/tuple of 2 floats between -1.0 and 1.0. The factor is "
    "used to determine the lower bound and upper bound of the brightness adjustment. "
    "A float value will be chosen randomly between the limits. When -1.0 is chosen, "
    "the output image will be black, and when 1.0 is chosen, the image will be fully "
    "white. When only one float is provided, eg, 0.2, then -0.2 will be used for "
    "lower bound and 0.2 will be used for upper bound.",
    "value_range": "Optional list/tuple of 2 floats for the lower and upper limit of "
    "the values of the input data. To make no change, use `[0.0, 1.0]`, e.g., if the "
    "image input has been scaled before this layer. Defaults to `[0.0, 255.0]`. The "
    "brightness adjustment will be scaled to this range, and the output values will "
    "be clipped to this range.",
}


@document_args(DOCS)
class RandomBrightness(_RandomImageLayer):
    """Randomly shifts brightness in training, like `keras.layers.RandomBrightness`.

    Adds `delta * (value_range[1] - value_range[0])` to each image, `delta`
    drawn in `factor` (a number `f` means `[-f, f]`, within `[-1, 1]`), then
    clips to `value_range`. Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomBrightness(0.2, value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(converter=base_factor(-1, 1))
    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()

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
