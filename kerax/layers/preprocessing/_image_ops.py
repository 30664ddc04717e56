"""Keras's deterministic image preprocessing layers (Resizing, CenterCrop) and shared image ops.

The ops reproduce Keras's JAX backend numerics (`keras.src.backend.jax.image`):
resizing is `jax.image.resize` (antialias off unless asked), the affine
transform is Keras's coordinate map followed by `jax.scipy.ndimage`-style
sampling. Inference paths are export-friendly (rule R1): crops are static
slices, nearest-neighbour resizing is broadcasts and strided slices (exactly
`jax.image.resize`'s "nearest", without its gather). The geometric random
layers gather pixels, but only in training.

Images are batched: `(batch, height, width, channels)` for
`data_format="channels_last"`, `(batch, channels, height, width)` for
`"channels_first"`. Keras also accepts a single rank-3 image; kerax needs the
batch axis (add it with `x[None]`).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

# The sampling ops live with `kerax.ops.image`, which shares them (re-exported here).
from kerax.ops._image_impl import (  # noqa: F401
    affine_transform,
    gaussian_blur,
    map_coordinates,
)

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def spatial_axes(data_format: str) -> tuple[int, int]:
    return (1, 2) if data_format == "channels_last" else (2, 3)


def check_image_input(layer, spec) -> None:
    layer.expect_ndim(
        spec,
        ndim=4,
        what="a batch of images (batch, height, width, channels) or (batch, channels, height, width)",
    )


def check_positive_int(layer, name: str) -> None:
    value = getattr(layer, name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"{layer.describe()}: `{name}` must be a positive int, got {value!r}."
        )


def check_choice(layer, name: str, choices, error=ValueError) -> None:
    value = getattr(layer, name)
    if value not in choices:
        raise error(
            f"{layer.describe()}: Unknown `{name}` {value!r}. Expected one of {choices}."
        )


# ------------------------------------------------------------------- resize
def _nearest_offsets(m: int, n: int) -> np.ndarray:
    """`jax.image.resize`'s nearest source index per output index (computed in float32, as JAX does)."""
    offsets = (
        (np.arange(n, dtype=np.float32) + np.float32(0.5))
        * np.float32(m)
        / np.float32(n)
    )
    return np.floor(offsets.astype(np.float32)).astype(np.int64)


def _runs(offsets):
    """Maximal runs of evenly spaced (step >= 0) source indices: `(first output, end, step)`."""
    runs, j, n = [], 0, len(offsets)
    while j < n:
        k = j + 1
        step = int(offsets[k] - offsets[j]) if k < n else 1
        while k < n and offsets[k] - offsets[k - 1] == step:
            k += 1
        runs.append((j, k, step))
        j = k
    return runs


def _nearest_axis(x, axis: int, n: int):
    """Nearest-neighbour resize of one axis to `n`, equal to `jax.image.resize(..., "nearest")`, gather-free."""
    m = x.shape[axis]
    if m == n:
        return x
    offsets = _nearest_offsets(m, n)
    g = math.gcd(m, n)
    mp, nq = m // g, n // g
    periodic = np.array_equal(offsets, (np.arange(n) * mp + mp // 2) // nq)
    # Output j reads input floor((j + 1/2) m / n): repeat each input nq times,
    # then every mp-th element from mp // 2. One op; cheap when nq is small.
    if periodic and nq <= 4:
        if nq > 1:
            x = jnp.expand_dims(x, axis + 1)
            x = jnp.broadcast_to(x, (*x.shape[: axis + 1], nq, *x.shape[axis + 2 :]))
            x = jnp.reshape(x, (*x.shape[:axis], m * nq, *x.shape[axis + 2 :]))
        return lax.slice_in_dim(x, mp // 2, mp // 2 + (n - 1) * mp + 1, mp, axis)
    runs = _runs(offsets)
    if periodic and nq < len(runs):
        # Output t * nq + r reads input t * mp + offsets[r]: nq strided slices, interleaved.
        phases = [
            lax.slice_in_dim(
                x, int(offsets[r]), int(offsets[r]) + (g - 1) * mp + 1, mp, axis
            )
            for r in range(nq)
        ]
        out = jnp.stack(phases, axis=axis + 1)
        return jnp.reshape(out, (*x.shape[:axis], n, *x.shape[axis + 1 :]))
    pieces = []
    for j, k, step in runs:
        start = int(offsets[j])
        if step == 0:
            piece = lax.slice_in_dim(x, start, start + 1, 1, axis)
            pieces.append(
                jnp.broadcast_to(piece, (*x.shape[:axis], k - j, *x.shape[axis + 1 :]))
            )
        else:
            pieces.append(
                lax.slice_in_dim(x, start, int(offsets[k - 1]) + 1, step, axis)
            )
    return jnp.concatenate(pieces, axis) if len(pieces) > 1 else pieces[0]


def resize(
    images, size, interpolation="bilinear", antialias=False, data_format="channels_last"
):
    """Keras's `ops.image.resize` on the JAX backend (batched images, no aspect-ratio handling)."""
    h_axis, w_axis = spatial_axes(data_format)
    if interpolation == "nearest":
        return _nearest_axis(_nearest_axis(images, h_axis, size[0]), w_axis, size[1])
    shape = list(images.shape)
    shape[h_axis], shape[w_axis] = size
    return jax.image.resize(
        images, tuple(shape), method=interpolation, antialias=antialias
    )


def crop(
    images, top: int, left: int, height: int, width: int, data_format="channels_last"
):
    """`images[:, top:top + height, left:left + width]` with Python slice clipping, as static slices."""
    h_axis, w_axis = spatial_axes(data_format)
    h, w = images.shape[h_axis], images.shape[w_axis]
    images = lax.slice_in_dim(images, min(top, h), min(top + height, h), 1, h_axis)
    return lax.slice_in_dim(images, min(left, w), min(left + width, w), 1, w_axis)


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int):
    """Keras's largest centred window with the target aspect ratio: `(top, left, crop_h, crop_w)`."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (
        int(float(height - crop_height) / 2),
        int(float(width - crop_width) / 2),
        crop_height,
        crop_width,
    )


def smart_resize(images, size, interpolation="bilinear", data_format="channels_last"):
    """Keras's `utils.image_utils.smart_resize`: aspect-ratio crop, then resize."""
    h_axis, w_axis = spatial_axes(data_format)
    top, left, ch, cw = aspect_crop_box(
        images.shape[h_axis], images.shape[w_axis], *size
    )
    return resize(
        crop(images, top, left, ch, cw, data_format),
        size,
        interpolation,
        False,
        data_format,
    )


def saturate_cast(x, dtype):
    """Keras's `_saturate_cast`: clip to the target range (nudged inside it), then cast."""
    dtype, in_dtype = np.dtype(dtype), np.dtype(x.dtype)

    def limits(d):
        if d == np.bool_:
            return 0, 1
        info = jnp.iinfo(d) if jnp.issubdtype(d, jnp.integer) else jnp.finfo(d)
        return info.min, info.max

    (in_min, in_max), (out_min, out_max) = limits(in_dtype), limits(dtype)
    lo = np.asarray(np.maximum(in_min, out_min)).astype(in_dtype)
    if lo < out_min:
        lo = np.nextafter(lo, 0, dtype=in_dtype)
    hi = np.asarray(np.minimum(in_max, out_max)).astype(in_dtype)
    if hi > out_max:
        hi = np.nextafter(hi, 0, dtype=in_dtype)
    return jnp.clip(x, lo, hi).astype(dtype)
