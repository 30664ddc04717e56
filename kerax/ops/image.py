"""Keras's image ops (`keras.ops.image`): resizing and color conversion.

`resize` is `jax.image.resize` with Keras's interpolation names and its
`crop_to_aspect_ratio` / `pad_to_aspect_ratio` options.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.image.resize(jnp.ones((2, 4, 4, 3)), (2, 2)).shape
    (2, 2, 2, 3)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.ops._variables import accept_variables

RESIZE_INTERPOLATIONS = {
    "bilinear": "linear",
    "nearest": "nearest",
    "lanczos3": "lanczos3",
    "lanczos5": "lanczos5",
    "bicubic": "cubic",
}


def _hw_axes(images, data_format) -> tuple[int, int]:
    if images.ndim not in (3, 4):
        raise ValueError(
            "Images must have rank 3 (one image) or 4 (a batch); got shape "
            f"{images.shape}."
        )
    if data_format in (None, "channels_last"):
        return images.ndim - 3, images.ndim - 2
    if data_format == "channels_first":
        return images.ndim - 2, images.ndim - 1
    raise ValueError(
        f"data_format must be 'channels_last' or 'channels_first'; got {data_format!r}."
    )


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Resizes images to `size = (height, width)`, as `keras.ops.image.resize`."""
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"resize: `interpolation` must be one of {list(RESIZE_INTERPOLATIONS)}; "
            f"got {interpolation!r}."
        )
    if fill_mode != "constant":
        raise ValueError(
            f"resize: only fill_mode='constant' is supported; got {fill_mode!r}."
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "resize: pass at most one of crop_to_aspect_ratio and pad_to_aspect_ratio."
        )
    if len(size) != 2:
        raise ValueError(f"resize: `size` must be (height, width); got {size!r}.")
    images = jnp.asarray(images)
    h_axis, w_axis = _hw_axes(images, data_format)
    height, width = images.shape[h_axis], images.shape[w_axis]
    target_h, target_w = size
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(width * target_h / target_w)), 1)
        crop_w = max(min(width, int(height * target_w / target_h)), 1)
        images = jax.lax.slice_in_dim(
            images, (height - crop_h) // 2, (height - crop_h) // 2 + crop_h, axis=h_axis
        )
        images = jax.lax.slice_in_dim(
            images, (width - crop_w) // 2, (width - crop_w) // 2 + crop_w, axis=w_axis
        )
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(width * target_h / target_w))
        pad_w = max(width, int(height * target_w / target_h))
        top, left = (pad_h - height) // 2, (pad_w - width) // 2
        widths = [(0, 0)] * images.ndim
        # Keras pads the same amount on both sides, one axis at a time.
        if top > 0:
            widths[h_axis] = (top, top)
        elif left > 0:
            widths[w_axis] = (left, left)
        images = jnp.pad(images, widths, constant_values=fill_value)
    shape = list(images.shape)
    shape[h_axis], shape[w_axis] = target_h, target_w
    return jax.image.resize(
        images,
        tuple(shape),
        method=RESIZE_INTERPOLATIONS[interpolation],
        antialias=antialias,
    )


def rgb_to_grayscale(images, data_format=None):
    """ITU-R 601 luma (`0.2989 R + 0.5870 G + 0.1140 B`), keeping a channel axis."""
    images = jnp.asarray(images)
    h_axis, _ = _hw_axes(images, data_format)
    channels_axis = -1 if h_axis == images.ndim - 3 else -3
    if images.shape[channels_axis] == 1:
        return images
    if images.shape[channels_axis] != 3:
        raise ValueError(
            f"rgb_to_grayscale: expected 1 or 3 channels; got shape {images.shape}."
        )
    weights = jnp.array([0.2989, 0.5870, 0.1140], jnp.result_type(images, float))
    gray = jnp.tensordot(
        images.astype(weights.dtype), weights, axes=(channels_axis, -1)
    )
    return jnp.expand_dims(gray, channels_axis).astype(images.dtype)


__all__ = ["resize", "rgb_to_grayscale"]

# Inside a Keras-style `call`, variables are accepted where arrays are.
accept_variables(globals(), __all__)
