"""RandomContrast: a random image augmentation, driven by the call's `key`."""

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
from kerax.layers.preprocessing._image_ops import (
    spatial_axes,
)
from kerax.layers.preprocessing._random_base import (
    _RandomImageLayer,
)

DOCS = {
    **ARG_DOCS,
    "factor": "a positive float represented as fraction of value, or a tuple of size "
    "2 representing lower and upper bound. When represented as a single float, "
    "lower = upper. The contrast factor will be randomly picked between "
    "`[1.0 - lower, 1.0 + upper]`. For any pixel x in the channel, the output will "
    "be `(x - mean) * factor + mean` where `mean` is the mean value of the channel.",
    "value_range": "the range of values the incoming images will have. Represented "
    "as a two-number tuple written `[low, high]`. This is typically either `[0, 1]` "
    "or `[0, 255]` depending on how your preprocessing pipeline is set up.",
}


@document_args(DOCS)
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

    factor: tuple[float, float] = field(converter=base_factor(0, 1))
    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()

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
