"""CenterCrop: crops the centre of images to a fixed size."""

from __future__ import annotations

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._args import data_format_field, positive_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._image_ops import (
    check_image_input,
    crop,
    smart_resize,
    spatial_axes,
)

DOCS = ARG_DOCS


@document_args(DOCS)
class CenterCrop(Layer):
    """Crops the centre `(height, width)` of images, like `keras.layers.CenterCrop`.

    Images smaller than the target in either dimension are instead
    aspect-ratio cropped and resized (bilinear), as Keras does. Outputs are
    floats of the compute dtype.

    Example:
        >>> layer = kerax.layers.CenterCrop(4, 4)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)))
        >>> y.shape
        (2, 4, 4, 3)
    """

    height: int = field(converter=positive_int)
    width: int = field(converter=positive_int)
    data_format: str = data_format_field()

    def check_input(self, spec):
        check_image_input(self, spec)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        x = x.astype(self.policy.compute_dtype)
        h_axis, w_axis = spatial_axes(self.data_format)
        h_diff, w_diff = x.shape[h_axis] - self.height, x.shape[w_axis] - self.width
        if h_diff >= 0 and w_diff >= 0:
            return crop(
                x, h_diff // 2, w_diff // 2, self.height, self.width, self.data_format
            ), state
        return smart_resize(
            x, (self.height, self.width), data_format=self.data_format
        ), state
