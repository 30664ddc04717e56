"""Image sampling and color math shared by `kerax.ops.image` and the image layers.

The ops in `kerax.ops.image` validate Keras's arguments and accept a single
image or a batch; these helpers take batched images (rank 4) in either data
format. They reproduce Keras's JAX backend numerics
(`keras.src.backend.jax.image`): the affine and perspective transforms are
Keras's coordinate maps followed by `jax.scipy.ndimage`-style sampling, the
blur is Keras's separable Gaussian, and the HSV conversions are Keras's
(after dm_pix). The preprocessing layers (`kerax.layers.preprocessing`)
import them from here, so the ops and the layers share one implementation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


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
    `"constant"`, `"nearest"`, `"wrap"`, `"mirror"` or `"reflect"`.
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
    if jnp.issubdtype(images.dtype, jnp.integer):
        out = lax.round(out)  # As `map_coordinates`: integers round half away from 0.
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


# ---------------------------------------------------- perspective transform
def homography(start_points, end_points):
    """Keras's `compute_homography_matrix`: the 8 coefficients mapping `end_points` to `start_points`."""
    start_x, start_y = start_points[..., 0], start_points[..., 1]
    end_x, end_y = end_points[..., 0], end_points[..., 1]
    zeros, ones = jnp.zeros_like(end_x), jnp.ones_like(end_x)
    x_rows = jnp.stack(
        [end_x, end_y, ones, zeros, zeros, zeros, -start_x * end_x, -start_x * end_y],
        axis=-1,
    )
    y_rows = jnp.stack(
        [zeros, zeros, zeros, end_x, end_y, ones, -start_y * end_x, -start_y * end_y],
        axis=-1,
    )
    coefficients = jnp.concatenate([x_rows, y_rows], axis=1)
    target = jnp.concatenate([start_x, start_y], axis=-1)[..., None]
    return jnp.linalg.solve(coefficients, target)[..., 0]


def perspective_transform(
    images, start_points, end_points, interpolation, fill_value, data_format
):
    """Keras's `ops.image.perspective_transform` on the JAX backend, for batched images."""
    if data_format == "channels_first":
        images = jnp.transpose(images, (0, 2, 3, 1))
    height, width = images.shape[1], images.shape[2]
    t = homography(start_points.astype(jnp.float32), end_points.astype(jnp.float32))
    t = [c[:, :, None] for c in jnp.split(t, 8, axis=1)]  # (batch, 1, 1) each
    x, y = jnp.meshgrid(jnp.arange(width), jnp.arange(height), indexing="xy")
    x, y = x[None], y[None]
    denominator = t[6] * x + t[7] * y + 1.0
    cols = (t[0] * x + t[1] * y + t[2]) / denominator
    rows = (t[3] * x + t[4] * y + t[5]) / denominator
    out = map_coordinates(images, rows, cols, interpolation, "constant", fill_value)
    if data_format == "channels_first":
        out = jnp.transpose(out, (0, 3, 1, 2))
    return out


# ------------------------------------------------------------------- color
def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else -3


def split_channels(images, data_format: str):
    axis = channel_axis(data_format)
    return [jnp.squeeze(c, axis) for c in jnp.split(images, images.shape[axis], axis)]


def stack_channels(planes, data_format: str):
    return jnp.stack(planes, axis=channel_axis(data_format))


def rgb_to_hsv(images, data_format: str):
    """RGB to HSV, each in [0, 1] for RGB in [0, 1] (hue and saturation are scale-free)."""
    eps = jnp.finfo(images.dtype).eps
    images = jnp.where(jnp.abs(images) < eps, 0.0, images)
    r, g, b = split_channels(images, data_format)
    value = jnp.maximum(jnp.maximum(r, g), b)
    range_ = value - jnp.minimum(jnp.minimum(r, g), b)
    # The safe denominators keep grey pixels (range 0) and black ones finite.
    safe_value = jnp.where(value > 0, value, 1.0)
    safe_range = jnp.where(range_ > 0, range_, 1.0)
    saturation = jnp.where(value > 0, range_ / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_range)
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(range_ > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return stack_channels([hue, saturation, value], data_format)


def hsv_to_rgb(images, data_format: str):
    """The inverse of `rgb_to_hsv`."""
    hue, saturation, value = split_channels(images, data_format)
    dh = jnp.mod(hue, 1.0) * 6.0
    dr = jnp.clip(jnp.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = jnp.clip(2.0 - jnp.abs(dh - 2.0), 0.0, 1.0)
    db = jnp.clip(2.0 - jnp.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    planes = [value * (one_minus_s + saturation * d) for d in (dr, dg, db)]
    return stack_channels(planes, data_format)
