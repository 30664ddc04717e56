"""Keras's image ops (`keras.ops.image`): resizing, color, geometry, filters.

`resize` is `jax.image.resize` with Keras's interpolation names and its
`crop_to_aspect_ratio` / `pad_to_aspect_ratio` options. The affine,
perspective and elastic transforms, the Gaussian blur and the HSV
conversions are the implementations kerax's preprocessing layers use
(`kerax.ops._image_impl`), with Keras's argument checks around them. Images
are one image (rank 3) or a batch (rank 4); `data_format=None` means
`kerax.config.image_data_format()` (`"channels_last"`).

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.image.resize(jnp.ones((2, 4, 4, 3)), (2, 2)).shape
    (2, 2, 2, 3)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from kerax import config
from kerax.ops import _image_impl
from kerax.ops._variables import accept_variables
from kerax.ops.nn import _dimension_numbers, _padding

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
    if _data_format(data_format, "image op") == "channels_last":
        return images.ndim - 3, images.ndim - 2
    return images.ndim - 2, images.ndim - 1


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


# Keras's `AFFINE_TRANSFORM_INTERPOLATIONS` (name -> spline order) and fill modes.
AFFINE_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
SCALE_AND_TRANSLATE_METHODS = (
    "linear",
    "bilinear",
    "trilinear",
    "cubic",
    "bicubic",
    "tricubic",
    "lanczos3",
    "lanczos5",
)


def _data_format(data_format, op: str) -> str:
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{op}: `data_format` must be 'channels_last' or 'channels_first'; "
            f"got {data_format!r}."
        )
    return data_format


def _choice(op: str, name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(
            f"{op}: `{name}` must be one of {list(choices)}; got {value!r}."
        )


def _batched(images, op: str, name: str = "images"):
    """`(images as a batch, whether the input was one image)`."""
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"{op}: `{name}` must have rank 3 (one image) or 4 (a batch of "
            f"images); got shape {images.shape}."
        )
    return (images[None], True) if images.ndim == 3 else (images, False)


def _unbatched(images, single: bool):
    return images[0] if single else images


def _rgb_images(images, data_format, op: str):
    images = jnp.asarray(images)
    data_format = _data_format(data_format, op)
    _batched(images, op)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(
            f"{op}: `images` must have a float dtype; got {images.dtype}. "
            "Cast them first, e.g. images.astype('float32') / 255."
        )
    axis = _image_impl.channel_axis(data_format)
    if images.shape[axis] != 3:
        raise ValueError(
            f"{op}: `images` must have 3 channels on the channel axis of "
            f"data_format={data_format!r}; got shape {images.shape}."
        )
    return images, data_format


def rgb_to_hsv(images, data_format=None):
    """RGB to HSV (each channel in [0, 1] for RGB in [0, 1]), as Keras's (dm_pix's)."""
    images, data_format = _rgb_images(images, data_format, "rgb_to_hsv")
    return _image_impl.rgb_to_hsv(images, data_format)


def hsv_to_rgb(images, data_format=None):
    """HSV to RGB, the inverse of `rgb_to_hsv`."""
    images, data_format = _rgb_images(images, data_format, "hsv_to_rgb")
    return _image_impl.hsv_to_rgb(images, data_format)


def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0,
    data_format=None,
):
    """Samples each image through an affine map, as `keras.ops.image.affine_transform`.

    `transform` is `(8,)` or `(batch, 8)`: `[a0, a1, a2, b0, b1, b2, c0, c1]`
    maps output pixel `(x, y)` to input `(a0 x + a1 y + a2, b0 x + b1 y + b2)`.
    `c0` and `c1` count as 0, as Keras documents for its non-TensorFlow
    backends (Keras's JAX code adds `c * c0` to the row of channel `c`
    instead; kerax does not reproduce that). One transform applies to a
    whole batch.
    """
    op = "affine_transform"
    _choice(op, "interpolation", interpolation, AFFINE_INTERPOLATIONS)
    _choice(op, "fill_mode", fill_mode, FILL_MODES)
    data_format = _data_format(data_format, op)
    images, single = _batched(images, op)
    transform = jnp.asarray(transform)
    if transform.ndim not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(
            f"{op}: `transform` must have shape (8,) or (batch, 8); got "
            f"{transform.shape}."
        )
    transform = jnp.reshape(transform, (-1, 8))
    if transform.shape[0] not in (1, images.shape[0]):
        raise ValueError(
            f"{op}: `transform` has {transform.shape[0]} rows for "
            f"{images.shape[0]} images; pass one row or one per image."
        )
    transform = jnp.broadcast_to(transform, (images.shape[0], 8))
    out = _image_impl.affine_transform(
        images, transform, interpolation, fill_mode, fill_value, data_format
    )
    return _unbatched(out, single)


def _corner_points(points, name: str, op: str):
    points = jnp.asarray(points)
    if points.shape[-2:] != (4, 2) or points.ndim not in (2, 3):
        raise ValueError(
            f"{op}: `{name}` must have shape (4, 2) (one image) or (batch, 4, 2); "
            f"got {points.shape}."
        )
    return jnp.reshape(points, (-1, 4, 2))


def perspective_transform(
    images,
    start_points,
    end_points,
    interpolation="bilinear",
    fill_value=0,
    data_format=None,
):
    """Warps images so that `start_points` move to `end_points` (4 corners each, `(x, y)`)."""
    op = "perspective_transform"
    _choice(op, "interpolation", interpolation, AFFINE_INTERPOLATIONS)
    data_format = _data_format(data_format, op)
    images, single = _batched(images, op)
    if jnp.shape(start_points) != jnp.shape(end_points):
        raise ValueError(
            f"{op}: `start_points` and `end_points` must have the same shape; got "
            f"{jnp.shape(start_points)} and {jnp.shape(end_points)}."
        )
    start = _corner_points(start_points, "start_points", op)
    end = _corner_points(end_points, "end_points", op)
    if start.shape[0] not in (1, images.shape[0]):
        raise ValueError(
            f"{op}: {start.shape[0]} sets of points for {images.shape[0]} images; "
            "pass one set or one per image."
        )
    shape = (images.shape[0], 4, 2)
    out = _image_impl.perspective_transform(
        images,
        jnp.broadcast_to(start, shape),
        jnp.broadcast_to(end, shape),
        interpolation,
        fill_value,
        data_format,
    )
    return _unbatched(out, single)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """`inputs` sampled at `coordinates` (`(inputs.ndim, ...)`), spline order 0 or 1.

    Keras's op is `jax.scipy.ndimage.map_coordinates`; so is this one (the
    image layers use a pixel-gathering form of it with the same numbers).
    """
    op = "map_coordinates"
    inputs, coordinates = jnp.asarray(inputs), jnp.asarray(coordinates)
    if coordinates.ndim < 2 or coordinates.shape[0] != inputs.ndim:
        raise ValueError(
            f"{op}: `coordinates` must have shape (inputs.ndim, ...) with rank >= 2, "
            f"here ({inputs.ndim}, ...); got {coordinates.shape}."
        )
    _choice(op, "fill_mode", fill_mode, FILL_MODES)
    if isinstance(order, bool) or order not in (0, 1):
        raise ValueError(f"{op}: `order` must be 0 or 1; got {order!r}.")
    return jax.scipy.ndimage.map_coordinates(
        inputs, coordinates, order, fill_mode, fill_value
    )


def _positive_ints(value, n: int, name: str, op: str) -> tuple[int, ...]:
    values = (value,) * n if isinstance(value, int) else tuple(value)
    if len(values) != n or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise ValueError(
            f"{op}: `{name}` must be a positive int or {n} positive ints; got {value!r}."
        )
    return values


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs each channel with a Gaussian kernel; `kernel_size` and `sigma` are `(x, y)`.

    Keras 3.15's JAX backend reads `data_format=None` as channels-first
    here (it skips the usual `image_data_format()` lookup); kerax uses
    `image_data_format()`, as Keras documents. Integer images are blurred in
    float32.
    """
    op = "gaussian_blur"
    data_format = _data_format(data_format, op)
    kernel_size = _positive_ints(kernel_size, 2, "kernel_size", op)
    images, single = _batched(images, op)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        images = images.astype(jnp.float32)
    sigma = jnp.asarray(sigma, images.dtype)
    if sigma.ndim > 1 or sigma.size not in (1, 2):
        raise ValueError(
            f"{op}: `sigma` must be a number or a pair (x, y); got shape {sigma.shape}."
        )
    sigma = jnp.broadcast_to(jnp.reshape(sigma, (-1,)), (2,))
    out = _image_impl.gaussian_blur(images, kernel_size, sigma, data_format)
    return _unbatched(out, single)


def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """Moves pixels by a blurred random field, as `keras.ops.image.elastic_transform`.

    The field is `alpha * blur(normal * sigma)` with a Gaussian blur of
    standard deviation `sigma` and size `int(6 sigma) | 1` (so `sigma` must
    be a number, not a traced value). As in Keras 3.15, one draw moves both
    coordinates (pixels move along the diagonal). `seed` is a JAX key or an
    int (see `kerax.random`): kerax has no global seed. With the raw key
    Keras derives from its seed (`uint32[seed, 0]`) the numbers are Keras's.
    """
    from kerax.random import draw_seed  # kerax.random imports kerax.core only.

    op = "elastic_transform"
    _choice(op, "interpolation", interpolation, AFFINE_INTERPOLATIONS)
    _choice(op, "fill_mode", fill_mode, FILL_MODES)
    data_format = _data_format(data_format, op)
    images, single = _batched(images, op)
    try:
        kernel = int(6 * float(sigma)) | 1
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise ValueError(
            f"{op}: `sigma` must be a concrete number (it sets the blur kernel's "
            f"size); got {sigma!r}."
        ) from None
    key = draw_seed(seed, op)
    dtype = jnp.result_type(images.dtype, jnp.float32)
    channels_last = data_format == "channels_last"
    batch, height, width = (
        (images.shape[0], *images.shape[1:3])
        if channels_last
        else (images.shape[0], *images.shape[2:4])
    )
    axis = -1 if channels_last else 1
    sigma = jnp.asarray(sigma, jnp.float32)
    noise = jax.random.normal(key, (batch, height, width), dtype) * sigma
    blurred = _image_impl.gaussian_blur(
        jnp.expand_dims(noise, axis), (kernel, kernel), (sigma, sigma), data_format
    )
    displacement = jnp.asarray(alpha, jnp.float32) * jnp.squeeze(blurred, axis)
    x, y = jnp.meshgrid(jnp.arange(width), jnp.arange(height))
    source = images if channels_last else jnp.transpose(images, (0, 2, 3, 1))
    out = _image_impl.map_coordinates(
        source,
        y[None] + displacement,
        x[None] + displacement,
        interpolation,
        fill_mode,
        fill_value,
    )
    if not channels_last:
        out = jnp.transpose(out, (0, 3, 1, 2))
    return _unbatched(out, single).astype(images.dtype)


def _extract_patches(images, size, strides, dilation_rate, padding, data_format, op):
    n = len(size)
    images = jnp.asarray(images)
    single = images.ndim == n + 1
    if images.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"{op}: `images` must have rank {n + 1} (one) or {n + 2} (a batch); "
            f"got shape {images.shape}."
        )
    if single:
        images = images[None]
    channels_last = _data_format(data_format, op) == "channels_last"
    channels = images.shape[-1 if channels_last else 1]
    out_dim = math.prod(size) * channels
    # Keras's identity kernel: output channel `(i, j, c)` reads pixel (i, j)
    # of channel c. HIGHEST: a TF32 convolution would round the pixels.
    kernel = jnp.reshape(
        jnp.eye(out_dim, dtype=images.dtype), (*size, channels, out_dim)
    )
    patches = lax.conv_general_dilated(
        images,
        kernel,
        _positive_ints(strides, n, "strides", op),
        _padding(padding),
        rhs_dilation=_positive_ints(dilation_rate, n, "dilation_rate", op),
        dimension_numbers=_dimension_numbers(n, channels_last),
        precision=lax.Precision.HIGHEST,
    )
    return patches[0] if single else patches


def extract_patches(
    images, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    """Patches of `size` as channels: `(..., rows, cols, size_h * size_w * channels)`.

    A `size` of 3 ints extracts 3-D patches, as `extract_patches_3d`.
    `strides` defaults to `size` (non-overlapping patches).
    """
    op = "extract_patches"
    if not isinstance(size, int):
        if not isinstance(size, tuple | list):
            raise TypeError(
                f"{op}: `size` must be an int or a tuple; got {type(size).__name__}."
            )
        if len(size) not in (2, 3):
            raise ValueError(
                f"{op}: `size` must be an int or a tuple of 2 (or 3) ints; got {size!r}."
            )
        if len(size) == 3:
            return extract_patches_3d(
                images, size, strides, dilation_rate, padding, data_format
            )
    size = _positive_ints(size, 2, "size", op)
    strides = strides or size  # Keras: `if not strides: strides = size`.
    return _extract_patches(
        images, size, strides, dilation_rate, padding, data_format, op
    )


def extract_patches_3d(
    volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    """3-D patches of `size` as channels: `(..., d, h, w, size_d * size_h * size_w * channels)`."""
    op = "extract_patches_3d"
    size = _positive_ints(size, 3, "size", op)
    strides = size if strides is None else strides
    return _extract_patches(
        volumes, size, strides, dilation_rate, padding, data_format, op
    )


def _non_negative(op: str, **values) -> None:
    for name, value in values.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ValueError(f"{op}: `{name}` must be an int >= 0; got {value!r}.")


def _two_of_three(op: str, names, values) -> None:
    if list(values).count(None) != 1:
        given = ", ".join(f"{n}={v!r}" for n, v in zip(names, values))
        raise ValueError(
            f"{op}: pass exactly two of {', '.join(f'`{n}`' for n in names)}; got {given}."
        )


def _hw(images, data_format, op):
    images, single = _batched(images, op)
    h_axis = 1 if _data_format(data_format, op) == "channels_last" else 2
    return images, single, h_axis


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Zero-pads images: two of top/bottom/target height, two of left/right/target width."""
    op = "pad_images"
    images, single, h_axis = _hw(images, data_format, op)
    _two_of_three(
        op,
        ("top_padding", "bottom_padding", "target_height"),
        (top_padding, bottom_padding, target_height),
    )
    _two_of_three(
        op,
        ("left_padding", "right_padding", "target_width"),
        (left_padding, right_padding, target_width),
    )
    _non_negative(
        op,
        top_padding=top_padding,
        bottom_padding=bottom_padding,
        target_height=target_height,
        left_padding=left_padding,
        right_padding=right_padding,
        target_width=target_width,
    )
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    if top_padding is None:
        top_padding = target_height - bottom_padding - height
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - height
    if left_padding is None:
        left_padding = target_width - right_padding - width
    if right_padding is None:
        right_padding = target_width - left_padding - width
    _non_negative(
        op,
        top_padding=top_padding,
        bottom_padding=bottom_padding,
        left_padding=left_padding,
        right_padding=right_padding,
    )
    widths = [(0, 0)] * 4
    widths[h_axis] = (top_padding, bottom_padding)
    widths[h_axis + 1] = (left_padding, right_padding)
    return _unbatched(jnp.pad(images, widths), single)


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Crops images: two of top/bottom/target height, two of left/right/target width."""
    op = "crop_images"
    images, single, h_axis = _hw(images, data_format, op)
    _two_of_three(
        op,
        ("top_cropping", "bottom_cropping", "target_height"),
        (top_cropping, bottom_cropping, target_height),
    )
    _two_of_three(
        op,
        ("left_cropping", "right_cropping", "target_width"),
        (left_cropping, right_cropping, target_width),
    )
    _non_negative(
        op,
        top_cropping=top_cropping,
        bottom_cropping=bottom_cropping,
        target_height=target_height,
        left_cropping=left_cropping,
        right_cropping=right_cropping,
        target_width=target_width,
    )
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    if top_cropping is None:
        top_cropping = height - target_height - bottom_cropping
    if target_height is None:
        target_height = height - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = width - target_width - right_cropping
    if target_width is None:
        target_width = width - right_cropping - left_cropping
    _non_negative(
        op,
        top_cropping=top_cropping,
        target_height=target_height,
        left_cropping=left_cropping,
        target_width=target_width,
    )
    if top_cropping + target_height > height or left_cropping + target_width > width:
        raise ValueError(
            f"{op}: the crop (top_cropping={top_cropping}, target_height="
            f"{target_height}, left_cropping={left_cropping}, target_width="
            f"{target_width}) does not fit in images of height {height} and "
            f"width {width}."
        )
    images = lax.slice_in_dim(
        images, top_cropping, top_cropping + target_height, axis=h_axis
    )
    images = lax.slice_in_dim(
        images, left_cropping, left_cropping + target_width, axis=h_axis + 1
    )
    return _unbatched(images, single)


def scale_and_translate(
    images, output_shape, scale, translation, spatial_dims, method, antialias=True
):
    """`jax.image.scale_and_translate` under Keras's argument order."""
    _choice("scale_and_translate", "method", method, SCALE_AND_TRANSLATE_METHODS)
    return jax.image.scale_and_translate(
        jnp.asarray(images),
        output_shape,
        spatial_dims,
        jnp.asarray(scale),
        jnp.asarray(translation),
        method,
        antialias,
    )


def _depthwise(images, kernel, layout: str, padding: str):
    """Each channel convolved with the 2-D `kernel` (no flip: a correlation, as Keras)."""
    channels = images.shape[layout.index("C")]
    kernel = jnp.broadcast_to(kernel[:, :, None, None], (*kernel.shape, 1, channels))
    # HIGHEST: a TF32 convolution on GPUs would round the inputs to ~1e-3.
    return lax.conv_general_dilated(
        images,
        kernel.astype(images.dtype),
        (1, 1),
        padding,
        dimension_numbers=(layout, "HWIO", layout),
        feature_group_count=channels,
        precision=lax.Precision.HIGHEST,
    )


def sobel_edges(images, data_format=None):
    """Sobel gradients per channel: `(..., 2)`, `[dy, dx]` on the new last axis."""
    op = "sobel_edges"
    data_format = _data_format(data_format, op)
    images, single = _batched(images, op)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        images = images.astype(jnp.float32)
    layout = "NHWC" if data_format == "channels_last" else "NCHW"
    sobel_x = jnp.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], images.dtype)
    edges_y = _depthwise(images, sobel_x.T, layout, "SAME")
    edges_x = _depthwise(images, sobel_x, layout, "SAME")
    return _unbatched(jnp.stack([edges_y, edges_x], axis=-1), single)


def ssim(
    image1,
    image2,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """Structural similarity, averaged over pixels and channels (one value per image).

    Keras's formula: Gaussian-weighted ("valid") local means, variances and
    covariance. Keras casts the result back to the images' dtype, which
    truncates integer images' SSIM to 0 or 1; kerax returns it as a float.
    """
    op = "ssim"
    data_format = _data_format(data_format, op)
    image1, single = _batched(image1, op, "image1")
    image2, _ = _batched(image2, op, "image2")
    if image1.shape != image2.shape:
        raise ValueError(
            f"{op}: `image1` and `image2` must have the same shape; got "
            f"{image1.shape} and {image2.shape}."
        )
    filter_size = _positive_ints(filter_size, 1, "filter_size", op)[0]
    dtype = jnp.result_type(image1.dtype, float)
    image1, image2 = image1.astype(dtype), image2.astype(dtype)
    layout = "NHWC" if data_format == "channels_last" else "NCHW"
    x = jnp.arange(filter_size, dtype=dtype) - (filter_size - 1) / 2.0
    gauss = jnp.exp(-(x**2) / (2.0 * filter_sigma**2))
    gauss = gauss / jnp.sum(gauss)
    kernel = jnp.outer(gauss, gauss)

    def mean(v):
        return _depthwise(v, kernel, layout, "VALID")

    mu1, mu2 = mean(image1), mean(image2)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = mean(image1 * image1) - mu1_sq
    sigma2_sq = mean(image2 * image2) - mu2_sq
    sigma12 = mean(image1 * image2) - mu1_mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    numerator = (2.0 * mu1_mu2 + c1) * (2.0 * sigma12 + c2)
    denominator = (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2)
    return _unbatched(jnp.mean(numerator / denominator, axis=(1, 2, 3)), single)


__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]

# Inside a Keras-style `call`, variables are accepted where arrays are.
accept_variables(globals(), __all__)
