"""Image files to float32 arrays, decoded and resized the way Keras's datasets do.

Keras's `image_dataset_from_directory` decodes with TensorFlow
(`tf.image.decode_image` + `tf.image.resize`, antialias off). kerax decodes
with Pillow and resizes in NumPy, reproducing TensorFlow's rules so that the
same folder gives the same arrays:

- PNG/BMP/GIF pixels are identical, including TensorFlow's (libpng's)
  RGB-to-grayscale weights (9797, 19234, 3737) / 2**15, truncated, which
  differ from Pillow's own `convert("L")`.
- JPEG is decoded by libjpeg in both; grayscale JPEGs ask libjpeg for the
  luma channel directly, as TensorFlow does.
- Resizing uses TensorFlow's sampling grids (half-pixel centers) and kernels:
  bilinear and nearest match to float32 rounding (<= 1e-4 on 0..255 values),
  bicubic with TensorFlow's 1024-entry Keys table, area, and lanczos3/5,
  gaussian, mitchellcubic as in `ScaleAndTranslate`.
"""

from __future__ import annotations

import io
import math
import pathlib
import warnings

import numpy as np

from kerax import config

__all__ = [
    "array_to_img",
    "img_to_array",
    "load_image",
    "load_img",
    "resize_image",
    "save_img",
    "smart_resize",
]

INTERPOLATIONS = (
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)

# TensorFlow decodes PNGs to grayscale through libpng's rgb_to_gray with the
# coefficients (0.299, 0.587) converted to 15-bit fixed point by truncation.
_GRAY = np.array([9797, 19234, 3737], np.uint32)


def _rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    return ((rgb[..., :3].astype(np.uint32) @ _GRAY) >> 15).astype(np.uint8)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    # 16-bit PNGs: TensorFlow's uint8 decode keeps the high byte.
    return (a.astype(np.uint32) >> 8).astype(np.uint8)


def load_image(path, num_channels: int = 3) -> np.ndarray:
    """Decodes an image file to a uint8 array `(height, width, num_channels)`.

    Channels are converted as `tf.image.decode_image(channels=...)` does:
    gray is repeated to RGB, alpha is dropped for RGB and added as 255 for
    RGBA, RGB becomes gray with libpng's weights; animated GIFs give their
    first frame.

    Example:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
        >>> Image.new("RGB", (3, 2), (10, 20, 30)).save(path)
        >>> kerax.utils.image_utils.load_image(path, 1)[..., 0]
        array([[18, 18, 18],
               [18, 18, 18]], dtype=uint8)
    """
    from PIL import Image  # Pillow: a dependency of matplotlib and of kerax.

    if num_channels not in (1, 3, 4):
        raise ValueError(
            f"`num_channels` must be 1, 3 or 4 (grayscale, rgb, rgba); got {num_channels}."
        )
    with Image.open(path) as img:
        if img.format == "JPEG" and num_channels == 1:
            img.draft("L", img.size)  # libjpeg's own luma, as TensorFlow asks.
        mode = img.mode
        if mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1"):
            img = img.convert(
                "RGBA" if "A" in mode or "transparency" in img.info else "RGB"
            )
            mode = img.mode
        a = _to_uint8(np.asarray(img))
    if a.ndim == 2:
        a = a[..., None]
    channels = a.shape[-1]
    if num_channels == 1:
        if channels in (1, 2):
            return np.ascontiguousarray(a[..., :1])
        return _rgb_to_gray(a)[..., None]
    if channels in (1, 2):
        rgb = np.repeat(a[..., :1], 3, axis=-1)
        alpha = a[..., 1:2] if channels == 2 else None
    else:
        rgb = a[..., :3]
        alpha = a[..., 3:4] if channels == 4 else None
    if num_channels == 3:
        return np.ascontiguousarray(rgb)
    if alpha is None:
        alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([rgb, alpha], axis=-1)


# ------------------------------------------------------------------ resizing
#
# Each method is a per-axis list of taps: output i reads input rows
# `index[i, k]` with weights `weight[i, k]`. Resizing is one gather-and-sum
# per axis (height, then width), a few taps per pixel.


def _bilinear_taps(in_size, out_size):
    scale = in_size / out_size
    x = (np.arange(out_size, dtype=np.float32) + 0.5) * np.float32(scale) - 0.5
    floor = np.floor(x)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(x), in_size - 1).astype(np.int64)
    return lower, upper, (x - floor).astype(np.float32)


def _nearest_index(in_size, out_size):
    scale = np.float32(in_size / out_size)
    x = np.floor((np.arange(out_size, dtype=np.float32) + 0.5) * scale)
    return np.clip(x.astype(np.int64), 0, in_size - 1)


_TABLE = 1024


def _keys_table(a=-0.5):
    x = np.arange(_TABLE + 1, dtype=np.float64) / _TABLE
    w_near = ((a + 2) * x - (a + 3)) * x * x + 1
    x1 = x + 1
    w_far = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
    return w_near.astype(np.float32), w_far.astype(np.float32)


def _bicubic_taps(in_size, out_size):
    near, far = _keys_table()
    scale = np.float32(in_size / out_size)
    x = (np.arange(out_size, dtype=np.float32) + 0.5) * scale - 0.5
    base = np.floor(x).astype(np.int64)
    offset = np.rint((x - np.floor(x)) * _TABLE).astype(np.int64)
    weights = np.stack(
        [far[offset], near[offset], near[_TABLE - offset], far[_TABLE - offset]], 1
    )
    index = base[:, None] + np.arange(-1, 3)[None, :]
    valid = (index >= 0) & (index < in_size)
    weights = np.where(valid, weights, 0.0)
    weights = weights / weights.sum(1, keepdims=True)
    return np.clip(index, 0, in_size - 1), weights.astype(np.float32)


def _area_taps(in_size, out_size):
    scale = in_size / out_size
    width = int(math.ceil(scale)) + 1
    start = np.arange(out_size) * scale
    stop = start + scale
    first = np.floor(start).astype(np.int64)
    index = first[:, None] + np.arange(width)[None, :]
    overlap = np.minimum(index + 1, stop[:, None]) - np.maximum(index, start[:, None])
    weights = np.clip(overlap, 0, None) / scale
    return np.clip(index, 0, in_size - 1), weights.astype(np.float32)


def _lanczos(radius):
    def kernel(x):
        x = np.abs(x)
        px = np.pi * x
        with np.errstate(divide="ignore", invalid="ignore"):
            v = radius * np.sin(px) * np.sin(px / radius) / (px * px)
        v = np.where(x < 1e-6, 1.0, v)
        return np.where(x > radius, 0.0, v)

    return kernel, radius


def _gaussian(x):
    x = np.abs(x)
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2 * 0.5 * 0.5)))


def _mitchell(x):
    x = np.abs(x)
    b = c = 1.0 / 3.0
    near = (
        (12 - 9 * b - 6 * c) * x**3 + (-18 + 12 * b + 6 * c) * x**2 + (6 - 2 * b)
    ) / 6
    far = (
        (-b - 6 * c) * x**3
        + (6 * b + 30 * c) * x**2
        + (-12 * b - 48 * c) * x
        + (8 * b + 24 * c)
    ) / 6
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


_KERNELS = {
    "lanczos3": _lanczos(3),
    "lanczos5": _lanczos(5),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell, 2.0),
}


def _kernel_taps(in_size, out_size, method):
    """TensorFlow's `ScaleAndTranslate` spans, without antialiasing."""
    kernel, radius = _KERNELS[method]
    inv_scale = in_size / out_size
    centre = (np.arange(out_size) + 0.5) * inv_scale
    start = np.ceil(centre - radius - 0.5).astype(np.int64)
    width = int(2 * radius) + 2
    index = start[:, None] + np.arange(width)[None, :]
    valid = (
        (index >= 0)
        & (index < in_size)
        & (index <= np.floor(centre + radius - 0.5)[:, None])
    )
    weights = np.where(valid, kernel(index + 0.5 - centre[:, None]), 0.0)
    total = weights.sum(1, keepdims=True)
    weights = np.where(
        np.abs(total) >= 1000 * np.finfo(np.float32).tiny, weights / total, 0.0
    )
    return np.clip(index, 0, in_size - 1), weights.astype(np.float32)


def _resize_axis(x, size, axis, method):
    in_size = x.shape[axis]
    if method == "bilinear":
        lower, upper, lerp = _bilinear_taps(in_size, size)
        shape = [1] * x.ndim
        shape[axis] = size
        lo = np.take(x, lower, axis=axis)
        hi = np.take(x, upper, axis=axis)
        return lo + (hi - lo) * lerp.reshape(shape)
    if method == "nearest":
        return np.take(x, _nearest_index(in_size, size), axis=axis)
    if method == "bicubic":
        index, weights = _bicubic_taps(in_size, size)
    elif method == "area":
        index, weights = _area_taps(in_size, size)
    else:
        index, weights = _kernel_taps(in_size, size, method)
    shape = [1] * x.ndim
    shape[axis] = size
    out = np.zeros(x.shape[:axis] + (size,) + x.shape[axis + 1 :], np.float32)
    for k in range(index.shape[1]):
        out += np.take(x, index[:, k], axis=axis) * weights[:, k].reshape(shape)
    return out


def resize_image(
    image: np.ndarray, size, interpolation: str = "bilinear"
) -> np.ndarray:
    """Resizes `(height, width, channels)` to `size` as `tf.image.resize` does.

    Returns float32 like TensorFlow (also when the size does not change),
    except `"nearest"`, which keeps the input's dtype (TensorFlow's rule, so
    Keras's datasets give uint8 images with it).

    Example:
        >>> x = np.arange(4, dtype=np.float32).reshape(2, 2, 1)
        >>> kerax.utils.image_utils.resize_image(x, (4, 4))[..., 0][0]
        array([0.  , 0.25, 0.75, 1.  ], dtype=float32)
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {INTERPOLATIONS}; got {interpolation!r}."
        )
    x = np.asarray(image)
    if interpolation != "nearest":
        x = x.astype(np.float32)
    height, width = int(size[0]), int(size[1])
    if x.shape[0] != height or interpolation not in ("bilinear", "nearest"):
        x = _resize_axis(x, height, 0, interpolation)
    if x.shape[1] != width or interpolation not in ("bilinear", "nearest"):
        x = _resize_axis(x, width, 1, interpolation)
    return x


def smart_resize(
    image: np.ndarray, size, interpolation: str = "bilinear"
) -> np.ndarray:
    """Keras's `smart_resize`: the largest centred crop of the target aspect ratio, resized.

    Example:
        >>> kerax.utils.image_utils.smart_resize(np.zeros((40, 20, 3)), (10, 10)).shape
        (10, 10, 3)
    """
    height, width = image.shape[0], image.shape[1]
    th, tw = int(size[0]), int(size[1])
    f32 = np.float32
    crop_h = max(min(height, int(f32(width * th) / f32(tw))), 1)
    crop_w = max(min(width, int(f32(height * tw) / f32(th))), 1)
    h0 = int(f32(height - crop_h) / f32(2))
    w0 = int(f32(width - crop_w) / f32(2))
    return resize_image(image[h0 : h0 + crop_h, w0 : w0 + crop_w], size, interpolation)


def resize_with_pad(
    image: np.ndarray, size, interpolation: str = "bilinear"
) -> np.ndarray:
    """`tf.image.resize_with_pad`: keep the aspect ratio, pad with zeros (centred)."""
    height, width = image.shape[0], image.shape[1]
    th, tw = int(size[0]), int(size[1])
    f32 = np.float32
    ratio = max(f32(width) / f32(tw), f32(height) / f32(th))
    rh_f, rw_f = f32(height) / ratio, f32(width) / ratio
    rh, rw = int(np.floor(rh_f)), int(np.floor(rw_f))
    ph = max(0, int(np.floor((f32(th) - rh_f) / f32(2))))
    pw = max(0, int(np.floor((f32(tw) - rw_f) / f32(2))))
    resized = resize_image(image, (rh, rw), interpolation)
    out = np.zeros((th, tw, image.shape[2]), resized.dtype)
    out[ph : ph + rh, pw : pw + rw] = resized
    return out


# ------------------------------------------------------ Keras's PIL helpers
# `keras.utils.load_img`, `img_to_array`, `array_to_img`, `save_img`: the
# same Pillow calls and array rules as Keras's `image_utils`, so keras-io code
# that reads, shows or writes single images runs unchanged.
_PIL_RESAMPLING = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _channels(data_format) -> str:
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}."
        )
    return data_format


def load_img(
    path,
    color_mode="rgb",
    target_size=None,
    interpolation="nearest",
    keep_aspect_ratio=False,
):
    """Keras's `load_img`: an image file as a PIL image, converted and resized.

    Args:
        path: A path, or an `io.BytesIO` of the file's bytes.
        color_mode: `"rgb"`, `"rgba"` or `"grayscale"`.
        target_size: `(height, width)`, or None for the file's size.
        interpolation: Pillow's resampling: `"nearest"`, `"bilinear"`,
            `"bicubic"`, `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: Crop the middle to the target's aspect ratio first.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "red.png")
        >>> kerax.utils.save_img(path, np.full((4, 6, 3), 200.0), scale=False)
        >>> img = kerax.utils.load_img(path, target_size=(2, 3))
        >>> kerax.utils.img_to_array(img).shape
        (2, 3, 3)
    """
    from PIL import Image

    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, pathlib.Path | bytes | str):
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(
            f"load_img: path must be path-like or io.BytesIO, not {type(path)}."
        )
    modes = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in modes:
        raise ValueError(
            f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba', got {color_mode!r}."
        )
    if img.mode not in modes[color_mode]:
        img = img.convert(modes[color_mode][0])
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])  # Pillow's (width, height).
    if img.size == size:
        return img
    if interpolation not in _PIL_RESAMPLING:
        raise ValueError(
            f"load_img: interpolation {interpolation!r} is not one of {list(_PIL_RESAMPLING)}."
        )
    resample = getattr(Image.Resampling, interpolation.upper())
    box = None
    if keep_aspect_ratio:
        width, height = img.size
        crop_height = min(height, (width * size[1]) // size[0])
        crop_width = min(width, (height * size[0]) // size[1])
        top, left = (height - crop_height) // 2, (width - crop_width) // 2
        box = [left, top, left + crop_width, top + crop_height]
    return img.resize(size, resample, box=box)


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
    """Keras's `img_to_array`: a PIL image as a rank-3 array (float32 by default)."""
    x = np.asarray(img, dtype=dtype or "float32")
    channels_first = _channels(data_format) == "channels_first"
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if channels_first else x
    if x.ndim == 2:
        return x[None] if channels_first else x[..., None]
    raise ValueError(f"img_to_array: unsupported image shape {x.shape}.")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Keras's `array_to_img`: a rank-3 array as a PIL image (rescaled to 0..255 by default)."""
    from PIL import Image

    x = np.array(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(
            f"array_to_img: expected one image of rank 3, got an array of shape {x.shape}."
        )
    if _channels(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale, as Keras writes it.
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: unsupported number of channels {channels}.")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs) -> None:
    """Keras's `save_img`: writes a rank-3 array as an image file (format from the suffix)."""
    if file_format is None and isinstance(path, str | pathlib.Path):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.",
            stacklevel=2,
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
