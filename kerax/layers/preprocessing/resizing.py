"""Resizing: resizes images to a fixed size."""

from __future__ import annotations

import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._args import data_format_field, positive_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._image_ops import (
    RESIZE_INTERPOLATIONS,
    aspect_crop_box,
    check_choice,
    check_image_input,
    crop,
    resize,
    saturate_cast,
    spatial_axes,
)

DOCS = {
    **ARG_DOCS,
    "interpolation": 'String, the interpolation method. Supports `"bilinear"`, '
    '`"nearest"`, `"bicubic"`, `"lanczos3"`, `"lanczos5"`. Defaults to '
    '`"bilinear"`.',
    "crop_to_aspect_ratio": "If `True`, resize the images without aspect ratio "
    "distortion. When the original aspect ratio differs from the target aspect "
    "ratio, the output image will be cropped so as to return the largest possible "
    "window in the image (of size `(height, width)`) that matches the target aspect "
    "ratio. By default (`crop_to_aspect_ratio=False`), aspect ratio may not be "
    "preserved.",
    "pad_to_aspect_ratio": "If `True`, pad the images without aspect ratio "
    "distortion. When the original aspect ratio differs from the target aspect "
    "ratio, the output image will be evenly padded on the short side.",
    "fill_mode": "When using `pad_to_aspect_ratio=True`, padded areas are filled "
    'according to the given mode. Only `"constant"` is supported at this time '
    "(fill with constant value, equal to `fill_value`).",
    "fill_value": "Float. Padding value to use when `pad_to_aspect_ratio=True`.",
    "antialias": "Whether to use an antialiasing filter when downsampling an image.",
}


# ------------------------------------------------------------------ layers
@document_args(DOCS)
class Resizing(Layer):
    """Resizes images to `(height, width)`, like `keras.layers.Resizing`.

    Numerics are Keras's JAX backend: `jax.image.resize` with
    `antialias=False` by default. `crop_to_aspect_ratio` takes the largest
    centred window of the target aspect ratio first; `pad_to_aspect_ratio`
    pads with `fill_value` instead. Integer images are rounded and
    saturate-cast back to their dtype, as in Keras.

    Example:
        >>> layer = kerax.layers.Resizing(4, 4)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)))
        >>> y.shape
        (2, 4, 4, 3)
    """

    height: int = field(converter=positive_int)
    width: int = field(converter=positive_int)
    interpolation: str = "bilinear"
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False
    fill_mode: str = "constant"
    fill_value: float = 0.0
    antialias: bool = field(False, converter=bool)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        check_choice(self, "interpolation", RESIZE_INTERPOLATIONS)
        if self.fill_mode != "constant":
            raise ValueError(
                f"{self.describe()}: Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: fill_mode={self.fill_mode!r}"
            )
        if self.pad_to_aspect_ratio and self.crop_to_aspect_ratio:
            raise ValueError(
                f"{self.describe()}: Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."
            )

    def check_input(self, spec):
        check_image_input(self, spec)

    def _pad_to_aspect(self, images):
        h_axis, w_axis = spatial_axes(self.data_format)
        height, width = images.shape[h_axis], images.shape[w_axis]
        pad_height = max(height, int(float(width * self.height) / self.width))
        pad_width = max(width, int(float(height * self.width) / self.height))
        top = int(float(pad_height - height) / 2)
        left = int(float(pad_width - width) / 2)
        pads = [(0, 0)] * 4
        # Keras pads one axis only (rows first), by the same amount on both sides.
        if top > 0:
            pads[h_axis] = (top, top)
        elif left > 0:
            pads[w_axis] = (left, left)
        else:
            return images
        return jnp.pad(
            images, pads, constant_values=jnp.asarray(self.fill_value, images.dtype)
        )

    def call(self, params, state, x, *, key, training):
        if x.ndim == 3:  # Keras's unbatched image: resized as a batch of one.
            y, state = self.call(params, state, x[None], key=key, training=training)
            return y[0], state
        del params, key, training
        h_axis, w_axis = spatial_axes(self.data_format)
        images = x
        if self.crop_to_aspect_ratio:
            top, left, ch, cw = aspect_crop_box(
                x.shape[h_axis], x.shape[w_axis], self.height, self.width
            )
            images = crop(images, top, left, ch, cw, self.data_format)
        elif self.pad_to_aspect_ratio:
            images = self._pad_to_aspect(images)
        y = resize(
            images,
            (self.height, self.width),
            self.interpolation,
            self.antialias,
            self.data_format,
        )
        if y.dtype != x.dtype:
            if jnp.issubdtype(x.dtype, jnp.integer):
                y = jnp.round(y)
            y = saturate_cast(y, x.dtype)
        return y, state
