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

# The color math lives with `kerax.ops.image`, which shares it (re-exported here).
from kerax.ops._image_impl import (  # noqa: F401
    channel_axis,
    hsv_to_rgb,
    rgb_to_hsv,
    split_channels,
    stack_channels,
)


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
