"""RandomErasing: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import (
    ARG_DOCS,
    _is_number,
    base_factor,
    value_range,
)
from kerax.layers.preprocessing._random_base import _RandomImageLayer
from kerax.layers.preprocessing._random_boxes import box_masks, crop_bounds


def erasing_fill_value(value) -> float | tuple[float, float, float] | None:
    """None (Gaussian noise), a number, or three numbers (one per channel)."""
    if value is None or _is_number(value):
        return value
    if (
        isinstance(value, tuple | list)
        and len(value) == 3
        and all(_is_number(v) for v in value)
    ):
        return tuple(value)
    raise ValueError(
        f"should be None, a number or a list of three numbers. Received: {value!r}"
    )


DOCS = {
    **ARG_DOCS,
    "factor": "A single float or a tuple of two floats in `[0, 1]`, the probability "
    "of erasing. A probability is sampled in `(min, max)` for each image (a single "
    "float `f` means `(0, f)`), and the image is erased with that probability. "
    "Defaults to 1.0.",
    "scale": "A tuple of two floats in `[0, 1]`: each side of the erased patch is "
    "`sqrt(s)` times the image's side, `s` drawn in this range per side and image. "
    "Defaults to `(0.02, 0.33)`.",
    "fill_value": "A value to fill the erased region with: a number, three numbers "
    "(one per channel), or `None` to sample Gaussian noise scaled by "
    "`value_range[1]`. Clipped to `value_range`. Defaults to `None`.",
    "value_range": "the range of values the incoming images will have. Represented "
    "as a two-number tuple written `[low, high]`. This is typically either `[0, 1]` "
    "or `[0, 255]` depending on how your preprocessing pipeline is set up.",
}


@document_args(DOCS)
class RandomErasing(_RandomImageLayer):
    """Erases a random box of each image in training, like `keras.layers.RandomErasing`.

    Random Erasing ([Zhong et al., 2017](https://arxiv.org/abs/1708.04896)):
    per image, a box of sides `sqrt(s_w) * width` and `sqrt(s_h) * height`
    (`s_w`, `s_h` drawn in `scale`) at a uniform position is replaced by
    `fill_value`, with a probability drawn in `factor`. As in Keras, the
    transformation holds the full-size boolean `batch_masks` and
    `fill_value` arrays. A three-number `fill_value` is one value per
    channel, in either data format (Keras 3.15 documents it, but its JAX
    backend's `full_like` refuses the tuple). Inference
    returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomErasing(value_range=(0, 1))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    scale: tuple[float, float] = field((0.02, 0.33), converter=base_factor(0, 1))
    fill_value: float | tuple[float, float, float] | None = field(
        None, converter=erasing_fill_value
    )
    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def _fill_value(self, key, images):
        dtype = self.policy.compute_dtype
        if self.fill_value is None:
            fill = jax.random.normal(key, images.shape, dtype) * self.value_range[1]
        elif _is_number(self.fill_value):
            fill = jnp.full(images.shape, self.fill_value, dtype)
        else:
            channel_shape = [1, 1, 1, 1]
            channel_shape[-1 if self.data_format == "channels_last" else 1] = 3
            fill = jnp.broadcast_to(
                jnp.reshape(jnp.asarray(self.fill_value, dtype), channel_shape),
                images.shape,
            )
        return jnp.clip(fill, self.value_range[0], self.value_range[1])

    def get_random_transformation(self, images, *, key):
        keys = jax.random.split(self._key(key), 6)
        dtype = self.policy.compute_dtype
        batch = images.shape[0]
        height, width = self._hw(images)
        ratio = jnp.sqrt(jax.random.uniform(keys[0], (batch, 2), dtype, *self.scale))
        x0, x1 = crop_bounds(keys[1], width, ratio[:, 0], dtype)
        y0, y1 = crop_bounds(keys[2], height, ratio[:, 1], dtype)
        probability = jax.random.uniform(
            keys[3], (batch,), minval=self.factor[0], maxval=self.factor[1]
        )
        threshold = jax.random.uniform(keys[4], (batch,))
        return {
            "apply_erasing": threshold < probability,
            "batch_masks": box_masks(
                images.shape, self.data_format, x0, x1, y0, y1, dtype
            ),
            "fill_value": self._fill_value(keys[5], images),
        }

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        erased = jnp.where(
            transformation["batch_masks"], transformation["fill_value"], images
        )
        apply = transformation["apply_erasing"][:, None, None, None]
        return jnp.where(apply, erased, images).astype(self.policy.compute_dtype)
