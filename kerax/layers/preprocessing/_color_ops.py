"""Pixel-value ops and a base class shared by the color and intensity augmentations.

`transform_value_range` is Keras's `BaseImagePreprocessingLayer._transform_value_range`;
`rgb_to_hsv` / `hsv_to_rgb` are Keras's JAX backend conversions (after dm_pix), so
the layers built on them match Keras to float32 rounding. Images are batched
(rank 4) in either data format.
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from kerax.core.spec import shape_str
from kerax.layers.preprocessing._fields import _is_number
from kerax.layers.preprocessing._random_base import _RandomImageLayer


def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else -3


def check_images(layer, spec, channels: tuple[int, ...] | None = None) -> None:
    """A batch of images (rank 4), with a channel count in `channels` when given."""
    shape = spec.shape
    if len(shape) != 4:
        raise ValueError(
            f"{layer.describe()} expected a batch of images of rank 4, "
            f"(batch, height, width, channels) or (batch, channels, height, width); "
            f"got shape {shape_str(shape)} (rank {len(shape)}). kerax image layers take "
            "batched inputs only: add the batch axis with `images[None]`."
        )
    if channels is None:
        return
    n = shape[channel_axis(layer.data_format)]
    if n not in channels:
        expected = " or ".join(str(c) for c in channels)
        raise ValueError(
            f"{layer.describe()} expected {expected} channels (RGB) on the channel axis of "
            f'data_format="{layer.data_format}", got shape {shape_str(shape)}. Pass '
            "RGB images, or set `data_format` to match their layout."
        )


class _RandomColorLayer(_RandomImageLayer):
    """A random layer that changes pixel values only; inference returns the input as is.

    `channels` (when set) are the channel counts the layer accepts: the
    color-space ops need RGB.
    """

    channels: ClassVar[tuple[int, ...] | None] = None

    def check_input(self, spec):
        check_images(self, spec, self.channels)

    def inference(self, images):
        return images


def unit_factor(factor) -> tuple[float, float]:
    """Solarization's `_set_factor`: a number `f` in [0, 1] is `(0, f)`; a pair is sorted."""
    error = (
        "should be a number (or a list of two numbers) in the range [0, 1]. "
        f"Received: {factor!r}"
    )
    if isinstance(factor, tuple | list):
        if len(factor) != 2 or not all(_is_number(f) and 0 <= f <= 1 for f in factor):
            raise ValueError(error)
        return tuple(sorted(factor))
    if not _is_number(factor) or not 0 <= factor <= 1:
        raise ValueError(error)
    return (0, factor)


def transform_value_range(images, original_range, target_range, dtype=jnp.float32):
    """Maps `original_range` linearly onto `target_range`, in `dtype` (a no-op if equal)."""
    if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
        return images
    images = images.astype(dtype)
    low, high = (jnp.asarray(v, dtype) for v in original_range)
    target_low, target_high = (jnp.asarray(v, dtype) for v in target_range)
    images = (images - low) / (high - low)
    return images * (target_high - target_low) + target_low


def split_channels(images, data_format: str):
    axis = channel_axis(data_format)
    return [jnp.squeeze(c, axis) for c in jnp.split(images, images.shape[axis], axis)]


def stack_channels(planes, data_format: str):
    return jnp.stack(planes, axis=channel_axis(data_format))


def rgb_to_hsv(images, data_format: str):
    """RGB to HSV, each in [0, 1] for RGB in [0, 1] (hue and saturation are scale-free)."""
    eps = jnp.finfo(images.dtype).eps
    images = jnp.where(jnp.abs(images) < eps, 0.0, images)
    r, g, b = split_channels(images, data_format)
    value = jnp.maximum(jnp.maximum(r, g), b)
    range_ = value - jnp.minimum(jnp.minimum(r, g), b)
    # The safe denominators keep grey pixels (range 0) and black ones finite.
    safe_value = jnp.where(value > 0, value, 1.0)
    safe_range = jnp.where(range_ > 0, range_, 1.0)
    saturation = jnp.where(value > 0, range_ / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_range)
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(range_ > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return stack_channels([hue, saturation, value], data_format)


def hsv_to_rgb(images, data_format: str):
    """The inverse of `rgb_to_hsv`."""
    hue, saturation, value = split_channels(images, data_format)
    dh = jnp.mod(hue, 1.0) * 6.0
    dr = jnp.clip(jnp.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = jnp.clip(2.0 - jnp.abs(dh - 2.0), 0.0, 1.0)
    db = jnp.clip(2.0 - jnp.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    planes = [value * (one_minus_s + saturation * d) for d in (dr, dg, db)]
    return stack_channels(planes, data_format)
