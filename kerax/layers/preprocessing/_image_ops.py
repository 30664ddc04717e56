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


# --------------------------------------------------------- affine transform
def _linear_nodes(coordinate):
    lower = jnp.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.astype(jnp.int32)
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def _nearest_nodes(coordinate):
    return [(lax.round(coordinate).astype(jnp.int32), coordinate.dtype.type(1))]


def _mirror_index(index, size):
    s = size - 1
    return jnp.abs((index + s) % (2 * s) - s)


_INDEX_FIXERS = {
    "constant": lambda index, size: index,
    "nearest": lambda index, size: jnp.clip(index, 0, size - 1),
    "wrap": lambda index, size: index % size,
    "mirror": _mirror_index,
    "reflect": lambda index, size: jnp.floor_divide(
        _mirror_index(2 * index + 1, 2 * size + 1) - 1, 2
    ),
}


def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0.0,
    data_format="channels_last",
):
    """Keras's `ops.image.affine_transform` on the JAX backend, for batched images.

    `transform` is `(batch, 8)`: `[a0, a1, a2, b0, b1, b2, c0, c1]` maps output
    pixel `(x, y)` to input `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`
    with `k = c0 x + c1 y + 1` (Keras requires c0 = c1 = 0). The sampling
    reproduces `jax.scipy.ndimage.map_coordinates` (order 0 or 1, Keras's fill
    modes) but gathers whole pixels (all channels at once) rather than one
    channel at a time; the sums run in the same order, so the numbers match.
    """
    if data_format == "channels_first":
        images = jnp.transpose(images, (0, 2, 3, 1))
    height, width = images.shape[1], images.shape[2]
    a0, a1, a2, b0, b1, b2, c0, c1 = jnp.split(transform.astype(jnp.float32), 8, axis=1)
    # Keras's own form (same einsum shapes, so the same rounding): row/col/channel
    # indices times [[b1, a1, 0], [b0, a0, 0], [c0, c1, 1]], plus (b2, a2). The
    # channel index only adds 0 to rows and columns: one channel slice suffices.
    zeros, ones = jnp.zeros_like(a0), jnp.ones_like(a0)
    matrix = jnp.reshape(
        jnp.concatenate([b1, a1, zeros, b0, a0, zeros, c0, c1, ones], axis=1),
        (-1, 3, 3),
    )
    grid = jnp.stack(
        jnp.meshgrid(
            jnp.arange(height), jnp.arange(width), jnp.arange(1), indexing="ij"
        ),
        axis=-1,
    )
    grid = jnp.broadcast_to(grid, (images.shape[0], *grid.shape))
    # HIGHEST: a TF32 dot on GPUs would move sample points by a fraction of a pixel.
    coords = jnp.einsum(
        "Bhwij, Bjk -> Bhwik", grid, matrix, precision=lax.Precision.HIGHEST
    )
    rows, cols, _ = jnp.split(jnp.squeeze(coords, 3), 3, axis=-1)
    rows = jnp.squeeze(rows, -1) + b2[:, :, None]
    cols = jnp.squeeze(cols, -1) + a2[:, :, None]
    out = map_coordinates(images, rows, cols, interpolation, fill_mode, fill_value)
    if data_format == "channels_first":
        out = jnp.transpose(out, (0, 3, 1, 2))
    return out


def map_coordinates(
    images, rows, cols, interpolation="bilinear", fill_mode="constant", fill_value=0.0
):
    """`jax.scipy.ndimage.map_coordinates` (order 0 or 1) on each channel of channels-last images.

    Output pixel `(b, i, j)` samples image `b` at `(rows[b, i, j], cols[b, i, j])`;
    whole pixels are gathered (all channels at once), with the sums in
    `map_coordinates`'s order, so the numbers match it. `fill_mode` is one of
    `AFFINE_FILL_MODES` or `"mirror"`.
    """
    height, width = images.shape[1], images.shape[2]
    nodes = _linear_nodes if interpolation == "bilinear" else _nearest_nodes
    fix = _INDEX_FIXERS[fill_mode]
    cval = jnp.asarray(fill_value, images.dtype)

    def axis_nodes(coordinate, size):
        out = []
        for index, weight in nodes(coordinate):
            valid = (0 <= index) & (index < size) if fill_mode == "constant" else None
            out.append((fix(index, size), valid, weight))
        return out

    terms = []
    for hi, hvalid, hw in axis_nodes(rows, height):
        for wi, wvalid, ww in axis_nodes(cols, width):
            pixels = jax.vmap(lambda img, i, j: img[i, j])(
                images, hi, wi
            )  # (B, H, W, C)
            if hvalid is not None:
                pixels = jnp.where((hvalid & wvalid)[..., None], pixels, cval)
            weight = hw * ww
            terms.append((weight[..., None] if jnp.ndim(weight) else weight) * pixels)
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out.astype(images.dtype)


# ------------------------------------------------------------ gaussian blur
def gaussian_blur(images, kernel_size, sigma, data_format="channels_last", radius=None):
    """Keras's `ops.image.gaussian_blur` on the JAX backend, for batched images.

    `kernel_size` and `sigma` are `(x, y)` pairs, as Keras takes them (the
    first is the width direction). Each channel is convolved with the outer
    product of two normalized 1-D Gaussians, zero-padded ("SAME").
    `radius`, an int (traced or not), zeroes the taps farther than it from
    the centre: a static `kernel_size` then stands in for a kernel of size
    `2 * radius + 1` known only at run time (zero taps and zero padding add
    nothing to the sums).
    """
    dtype = images.dtype
    sigma = jnp.asarray(sigma, dtype)

    def kernel1d(size, s):
        x = jnp.arange(size, dtype=dtype) - jnp.asarray((size - 1) / 2, dtype)
        k = jnp.exp(-0.5 * (x / s) ** 2)
        if radius is not None:
            k = jnp.where(jnp.abs(x) <= radius, k, 0)
        return k / jnp.sum(k)

    kernel = jnp.outer(
        kernel1d(kernel_size[1], sigma[1]), kernel1d(kernel_size[0], sigma[0])
    )
    channels = images.shape[-1 if data_format == "channels_last" else 1]
    kernel = jnp.broadcast_to(kernel[:, :, None, None], (*kernel.shape, 1, channels))
    layout = "NHWC" if data_format == "channels_last" else "NCHW"
    # HIGHEST: a TF32 convolution on GPUs would round the blur to ~1e-3.
    return lax.conv_general_dilated(
        images,
        kernel.astype(dtype),
        window_strides=(1, 1),
        padding="SAME",
        dimension_numbers=(layout, "HWIO", layout),
        feature_group_count=channels,
        precision=lax.Precision.HIGHEST,
    )
