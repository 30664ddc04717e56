"""RandomCrop: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int, positive_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._image_ops import (
    aspect_crop_box,
    crop,
    resize,
    smart_resize,
    spatial_axes,
)
from kerax.layers.preprocessing._random_base import _RandomImageLayer

DOCS = ARG_DOCS


@document_args(DOCS)
class RandomCrop(_RandomImageLayer):
    """Randomly crops `(height, width)` in training, like `keras.layers.RandomCrop`.

    Training: one crop location per batch (as Keras: all images of a batch
    share it), drawn uniformly. Images not larger than the target in both
    dimensions take Keras's deterministic fallback (its aspect-ratio offsets,
    then a bilinear resize to the target).

    Inference: the largest centred window with the target aspect ratio,
    resized (bilinear) to `(height, width)` (Keras's `smart_resize`) — the
    behaviour Keras documents and declares in its output shape. Keras 3.15's
    code returns the input unchanged in inference instead (an output that
    contradicts its own output shape); kerax keeps the output shape the same
    in both modes.

    Example:
        >>> layer = kerax.layers.RandomCrop(4, 4)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
        >>> y.shape
        (2, 4, 4, 3)
    """

    height: int = field(converter=positive_int)
    width: int = field(converter=positive_int)
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def inference(self, images):
        images = images.astype(self.policy.compute_dtype)
        if self._hw(images) == (self.height, self.width):
            return images
        return smart_resize(
            images, (self.height, self.width), data_format=self.data_format
        )

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        height, width = self._hw(images)
        if height > self.height and width > self.width:
            kh, kw = jax.random.split(key)
            h_start = jax.random.uniform(
                kh, (), minval=0, maxval=float(height - self.height + 1)
            ).astype(jnp.int32)
            w_start = jax.random.uniform(
                kw, (), minval=0, maxval=float(width - self.width + 1)
            ).astype(jnp.int32)
            return h_start, w_start
        top, left, _, _ = aspect_crop_box(height, width, self.height, self.width)
        return top, left

    def transform_images(self, images, transformation):
        h_start, w_start = transformation
        h_axis, w_axis = spatial_axes(self.data_format)
        if isinstance(h_start, int | np.integer) and isinstance(
            w_start, int | np.integer
        ):
            h_start, w_start = int(h_start), int(w_start)
            images = crop(
                images, h_start, w_start, self.height, self.width, self.data_format
            )
        else:
            images = lax.dynamic_slice_in_dim(images, h_start, self.height, h_axis)
            images = lax.dynamic_slice_in_dim(images, w_start, self.width, w_axis)
        if self._hw(images) != (self.height, self.width):
            images = resize(
                images, (self.height, self.width), data_format=self.data_format
            ).astype(self.policy.compute_dtype)
        return images
