"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE): a deterministic image layer."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._args import data_format_field, int_tuple, number
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS, value_range
from kerax.layers.preprocessing._image_ops import check_image_input

DOCS = {
    **ARG_DOCS,
    "value_range": "Optional list/tuple of 2 floats specifying the lower and upper "
    "limits of the input data values. Defaults to `(0, 255)`.",
    "clip_limit": "Float. Limits the noise amplification in near-constant regions. "
    "Defaults to 4.0.",
    "tile_grid_size": "Tuple of 2 integers `(height, width)`. Specifies the number "
    "of tiles to divide the image into. Defaults to `(8, 8)`.",
}


def _rescale(images, source, target):
    """Keras's `_transform_value_range` (float32): `source` range onto `target` range."""
    if tuple(source) == tuple(target):
        return images
    f32 = jnp.float32
    images = images.astype(f32)
    images = (images - f32(source[0])) / (f32(source[1]) - f32(source[0]))
    return images * (f32(target[1]) - f32(target[0])) + f32(target[0])


@document_args(DOCS)
class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """CLAHE on each channel, like `keras.layers.ContrastLimitedAdaptiveHistogramEqualization`.

    The image (values mapped from `value_range` to `[0, 255]`, padded
    symmetrically at the bottom and right to whole tiles) is cut into a
    `tile_grid_size` grid; each tile's 256-bin histogram is clipped at
    `clip_limit * tile_pixels / 256` (the excess spread evenly), and each
    pixel is mapped through its four nearest tiles' equalizing CDFs,
    interpolated bilinearly. Histograms are counted with a scatter-add
    rather than Keras's one-hot sum (the same counts, without Keras's
    `256 x` image-sized buffer). Deterministic: the same in training and
    inference. The output has the input's dtype.

    Example:
        >>> layer = kerax.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
        >>> y, _ = layer.apply({}, {}, jnp.arange(128.0).reshape(2, 8, 8, 1))
    """

    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    clip_limit: float = field(4.0, converter=number)
    tile_grid_size: tuple[int, int] = field((8, 8), converter=int_tuple(2))
    data_format: str = data_format_field()

    def check_input(self, spec):
        check_image_input(self, spec)

    def call(self, params, state, x, *, key, training):
        del params, key, training  # Deterministic, no weights.
        channels_first = self.data_format == "channels_first"
        images = jnp.transpose(x, (0, 2, 3, 1)) if channels_first else x
        out = _rescale(images, self.value_range, (0, 255))
        out = clahe(out, self.clip_limit, self.tile_grid_size)
        out = _rescale(out, (0, 255), self.value_range)
        out = out.astype(x.dtype)
        return (jnp.transpose(out, (0, 3, 1, 2)) if channels_first else out), state


@functools.partial(jax.jit, static_argnames=("clip_limit", "tile_grid_size"))
def clahe(images, clip_limit: float, tile_grid_size: tuple[int, int]):
    """Keras's `_clahe` on `(batch, height, width, channels)` values in `[0, 255]`.

    Jitted as a whole: run eagerly (a data pipeline's map), its many small
    ops would each be dispatched (and compiled) on their own.
    """
    batch, height, width, channels = images.shape
    grid_h, grid_w = tile_grid_size
    tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
    padded = jnp.pad(
        images,
        [
            (0, 0),
            (0, tile_h * grid_h - height),
            (0, tile_w * grid_w - width),
            (0, 0),
        ],
        mode="symmetric",
    )
    tiles = jnp.reshape(padded, (batch, grid_h, tile_h, grid_w, tile_w, channels))
    tiles = jnp.transpose(tiles, (0, 1, 3, 5, 2, 4))
    tiles = jnp.clip(tiles.astype(jnp.int32), 0, 255)
    tiles = jnp.reshape(tiles, (-1, tile_h * tile_w))
    hists = jax.vmap(lambda t: jnp.bincount(t, length=256))(tiles)
    hists = jnp.reshape(hists, (batch, grid_h, grid_w, channels, 256))
    hists = hists.astype(jnp.float32)

    if clip_limit > 0:
        limit = jnp.float32(clip_limit * (tile_h * tile_w) / 256.0)
        clipped = jnp.clip(hists, 0, limit)
        excess = jnp.sum(hists - clipped, axis=-1, keepdims=True)
        hists = clipped + excess / 256.0
    cdf = jnp.cumsum(hists, axis=-1)
    cdf_min = jnp.min(cdf, axis=-1, keepdims=True)
    denominator = jnp.float32(tile_h * tile_w) - cdf_min
    denominator = jnp.where(denominator == 0, 1.0, denominator)
    cdf = jnp.clip((cdf - cdf_min) * 255.0 / denominator, 0, 255)
    # One tile of edge padding: pixels near the border read their own tile twice.
    cdf = jnp.pad(cdf, [(0, 0), (1, 1), (1, 1), (0, 0), (0, 0)], mode="edge")

    def neighbours(size, tile, grid):
        position = (jnp.arange(size, dtype=jnp.float32) - tile / 2.0) / tile + 1.0
        lower = jnp.floor(position)
        index = [
            jnp.clip(v, 0, grid + 1).astype(jnp.int32) for v in (lower, lower + 1.0)
        ]
        return index, position - lower

    (y0, y1), wy = neighbours(tile_h * grid_h, tile_h, grid_h)
    (x0, x1), wx = neighbours(tile_w * grid_w, tile_w, grid_w)
    y0, y1, wy = (v[None, :, None, None] for v in (y0, y1, wy))
    x0, x1, wx = (v[None, None, :, None] for v in (x0, x1, wx))
    b = jnp.arange(batch)[:, None, None, None]
    c = jnp.arange(channels)[None, None, None, :]
    pixels = jnp.clip(padded, 0, 255).astype(jnp.int32)
    nw, ne = cdf[b, y0, x0, c, pixels], cdf[b, y0, x1, c, pixels]
    sw, se = cdf[b, y1, x0, c, pixels], cdf[b, y1, x1, c, pixels]
    top = nw * (1.0 - wx) + ne * wx
    bottom = sw * (1.0 - wx) + se * wx
    result = top * (1.0 - wy) + bottom * wy
    return result[:, :height, :width, :]
