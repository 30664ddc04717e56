"""Random boxes shared by RandomErasing and CutMix: Keras's crop bounds and pixel masks."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing._image_ops import spatial_axes


def crop_bounds(key, length: int, ratio, dtype):
    """Keras's `_compute_crop_bounds`: a span of `ratio * length` at a uniform start, per image.

    `ratio` is `(batch,)`; the bounds are `(batch, 1, 1, 1)`, as `box_masks` takes them.
    """
    crop_length = (ratio * length).astype(dtype)
    start = jax.random.uniform(key, ratio.shape, dtype) * (length - crop_length)
    start, end = start[:, None, None, None], (start + crop_length)[:, None, None, None]
    return start, end


def box_masks(shape, data_format: str, x0, x1, y0, y1, dtype):
    """Keras's `_generate_batch_mask`: pixels with `x0 <= x < x1` and `y0 <= y < y1`, all channels.

    `x0`... are `(batch, 1, 1, 1)`; the mask has the images' full `shape`, as
    Keras's transformation holds it.
    """
    h_axis, w_axis = spatial_axes(data_format)
    grid_y, grid_x = jnp.meshgrid(
        jnp.arange(shape[h_axis], dtype=dtype),
        jnp.arange(shape[w_axis], dtype=dtype),
        indexing="ij",
    )
    grid_shape = [1, 1, 1, 1]
    grid_shape[h_axis], grid_shape[w_axis] = shape[h_axis], shape[w_axis]
    grid_x, grid_y = grid_x.reshape(grid_shape), grid_y.reshape(grid_shape)
    masks = (grid_x >= x0) & (grid_x < x1) & (grid_y >= y0) & (grid_y < y1)
    return jnp.broadcast_to(masks, shape)
