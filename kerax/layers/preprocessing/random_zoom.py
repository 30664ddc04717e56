"""RandomZoom: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._random_base import _pair_factor, _RandomAffineLayer

DOCS = {
    **ARG_DOCS,
    "height_factor": "a float represented as fraction of value, or a tuple of size 2 "
    "representing lower and upper bound for zooming vertically. When represented as "
    "a single float, this value is used for both the upper and lower bound. A "
    "positive value means zooming out, while a negative value means zooming in. For "
    "instance, `height_factor=(0.2, 0.3)` result in an output zoomed out by a random "
    "amount in the range `[+20%, +30%]`.",
    "width_factor": "a float represented as fraction of value, or a tuple of size 2 "
    "representing lower and upper bound for zooming horizontally. `None` means "
    "zooming vertical and horizontal directions by preserving the aspect ratio. "
    "Defaults to `None`.",
    "fill_mode": ARG_DOCS["fill_mode"].replace("{fill_mode}", "reflect"),
}


@document_args(DOCS)
class RandomZoom(_RandomAffineLayer):
    """Randomly zooms images in training, like `keras.layers.RandomZoom`.

    `height_factor` (and `width_factor`) in `(-1, 1]`: the zoom is drawn in
    `[1 + lower, 1 + upper]` per image; positive values zoom out, negative
    zoom in. Without `width_factor` the aspect ratio is kept (same zoom).

    Example:
        >>> layer = kerax.layers.RandomZoom(0.2)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    height_factor: float | tuple[float, float] = field()
    width_factor: float | tuple[float, float] | None = None
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = field(None, converter=optional_int)
    fill_value: float = 0.0
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        _pair_factor(self, self.height_factor, "height_factor", lower_open=True)
        if self.width_factor is not None:
            _pair_factor(self, self.width_factor, "width_factor", lower_open=True)

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        kh, kw = jax.random.split(key)
        shape = (images.shape[0], 1)
        lower, upper = _pair_factor(
            self, self.height_factor, "height_factor", lower_open=True
        )
        height_zoom = jax.random.uniform(
            kh, shape, minval=1.0 + lower, maxval=1.0 + upper
        )
        if self.width_factor is None:
            return {"height_zoom": height_zoom, "width_zoom": height_zoom}
        lower, upper = _pair_factor(
            self, self.width_factor, "width_factor", lower_open=True
        )
        return {
            "height_zoom": height_zoom,
            "width_zoom": jax.random.uniform(
                kw, shape, minval=1.0 + lower, maxval=1.0 + upper
            ),
        }

    def _matrix(self, transformation, images):
        height, width = self._hw(images)
        zx = transformation["width_zoom"].astype(jnp.float32)
        zy = transformation["height_zoom"].astype(jnp.float32)
        zeros = jnp.zeros_like(zx)
        x_offset = ((jnp.float32(width) - 1.0) / 2.0) * (1.0 - zx)
        y_offset = ((jnp.float32(height) - 1.0) / 2.0) * (1.0 - zy)
        return jnp.concatenate(
            [zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], axis=1
        )
