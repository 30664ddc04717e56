"""CenterCrop: crops the centre of images to a fixed size."""

from __future__ import annotations

from kerax.core.layer import Layer
from kerax.layers._core_utils import standardize_data_format
from kerax.layers.preprocessing._image_ops import (
    check_image_input,
    check_positive_int,
    crop,
    smart_resize,
    spatial_axes,
)


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

    height: int = None
    width: int = None
    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        standardize_data_format(self)
        check_positive_int(self, "height")
        check_positive_int(self, "width")

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
