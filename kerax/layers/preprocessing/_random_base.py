"""Keras's random image augmentation layers, driven by the call's `key`.

Each layer works in two steps, with Keras's names:
`get_random_transformation(images, key=key)` draws the transform parameters
(a dict with the keys of Keras's own transformation dict), and
`transform_images(images, transformation)` applies them deterministically,
with Keras's numerics. `apply(..., training=True)` needs a key and does
both; in inference the layers are the identity (RandomCrop crops the centre
instead, see its docstring) and need no key. There is no RNG state: Keras's
`seed`, when set, is folded into the key.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.core.layer import Layer
from kerax.layers._core_utils import standardize_data_format
from kerax.layers._preprocessing_image import (
    AFFINE_FILL_MODES,
    AFFINE_INTERPOLATIONS,
    affine_transform,
    aspect_crop_box,
    check_choice,
    check_image_input,
    check_positive_int,
    crop,
    resize,
    smart_resize,
    spatial_axes,
)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _base_factor(layer, factor, bounds):
    """Keras's `BaseImagePreprocessingLayer._set_factor`: a number or a pair -> sorted `(lower, upper)`."""
    error = (
        f"{layer.describe()}: The `factor` argument should be a number (or a list of two numbers) in the range "
        f"[{bounds[0]}, {bounds[1]}]. Received: factor={factor!r}"
    )
    if isinstance(factor, tuple | list):
        if len(factor) != 2 or not all(_is_number(f) for f in factor):
            raise ValueError(error)
        if factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(error)
        return tuple(sorted(factor))
    if _is_number(factor):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(error)
        factor = abs(factor)
        return (max(-factor, bounds[0]), factor)
    raise ValueError(error)


def _pair_factor(layer, factor, name, lower_open: bool):
    """RandomZoom/RandomTranslation's `_set_factor`: in (-1, 1] (zoom) or [-1, 1] (translation)."""
    error = (
        f"{layer.describe()}: The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"{'(-1.0, 1.0]' if lower_open else '[-1.0, 1.0]'}. Received: {name}={factor!r}"
    )

    def check(v):
        if not _is_number(v) or v > 1.0 or (v <= -1.0 if lower_open else v < -1.0):
            raise ValueError(error)

    if isinstance(factor, tuple | list):
        if len(factor) != 2:
            raise ValueError(error)
        check(factor[0])
        check(factor[1])
        return tuple(sorted(factor))
    check(factor)
    return (-abs(factor), abs(factor))


def compute_affine_matrix(
    angle,
    translate_x,
    translate_y,
    scale,
    shear_x,
    shear_y,
    height,
    width,
    center_x=0.5,
    center_y=0.5,
):
    """Keras's `_compute_affine_matrix` (angles in degrees): `(batch, 8)` transforms."""
    rad = jnp.asarray(math.pi / 180.0, jnp.float32)
    angle, shear_x, shear_y = angle * rad, shear_x * rad, shear_y * rad
    dtype = angle.dtype
    cx = center_x * (jnp.asarray(width, dtype) - 1)
    cy = center_y * (jnp.asarray(height, dtype) - 1)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    shear_x, shear_y = jnp.tan(shear_x), jnp.tan(shear_y)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    cols = [a0, a1, a2, b0, b1, b2]
    return jnp.concatenate(
        [c[:, None] for c in cols] + [jnp.zeros((angle.shape[0], 2), dtype)], axis=1
    )


class _RandomImageLayer(Layer):
    """Shared plumbing: the key (with `seed` folded in), rank check, train/inference split."""

    def __post_init__(self):
        super().__post_init__()
        standardize_data_format(self)
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(
                f"{self.describe()}: `seed` must be an int or None, got {seed!r}."
            )

    def check_input(self, spec):
        check_image_input(self, spec)

    def _key(self, key):
        self.require_key(key)
        return key if self.seed is None else jax.random.fold_in(key, self.seed)

    def _hw(self, images):
        h_axis, w_axis = spatial_axes(self.data_format)
        return images.shape[h_axis], images.shape[w_axis]

    def inference(self, images):
        """What inference returns: Keras casts to the compute dtype and leaves the images as they are."""
        return images.astype(self.policy.compute_dtype)

    def call(self, params, state, x, *, key, training):
        del params
        if not training:
            return self.inference(x), state
        x = x.astype(self.policy.compute_dtype)
        transformation = self.get_random_transformation(x, key=key)
        return self.transform_images(x, transformation), state

    def get_random_transformation(self, images, *, key):
        raise NotImplementedError

    def transform_images(self, images, transformation):
        raise NotImplementedError


class RandomFlip(_RandomImageLayer):
    """Randomly flips images in training, like `keras.layers.RandomFlip`.

    `mode` is `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"`.
    Each image is flipped with probability 1/2; in `"horizontal_and_vertical"`
    mode Keras draws ONE coin per image for both axes (an image is flipped
    both ways or not at all), and so does kerax.

    Example:
        >>> layer = kerax.layers.RandomFlip("horizontal")
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    mode: str = "horizontal_and_vertical"
    seed: int | None = None
    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        check_choice(
            self, "mode", ("horizontal", "vertical", "horizontal_and_vertical")
        )

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        return {"flips": jax.random.uniform(key, (images.shape[0], 1, 1, 1)) <= 0.5}

    def transform_images(self, images, transformation):
        h_axis, w_axis = spatial_axes(self.data_format)
        flips = transformation["flips"]
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            images = jnp.where(flips, jnp.flip(images, axis=w_axis), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            images = jnp.where(flips, jnp.flip(images, axis=h_axis), images)
        return images


class RandomCrop(_RandomImageLayer):
    """Randomly crops `(height, width)` in training, like `keras.layers.RandomCrop`.

    Training: one crop location per batch (as Keras: all images of a batch
    share it), drawn uniformly. Images not larger than the target in both
    dimensions take Keras's deterministic fallback (its aspect-ratio offsets,
    then a bilinear resize to the target).

    Inference: the largest centred window with the target aspect ratio,
    resized (bilinear) to `(height, width)` (Keras's `smart_resize`) — the
    behaviour Keras documents and declares in its output shape. Keras 3.15's
    code returns the input unchanged in inference instead (an output that
    contradicts its own output shape); kerax keeps the output shape the same
    in both modes.

    Example:
        >>> layer = kerax.layers.RandomCrop(4, 4)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
        >>> y.shape
        (2, 4, 4, 3)
    """

    height: int = None
    width: int = None
    seed: int | None = None
    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self, "height")
        check_positive_int(self, "width")

    def inference(self, images):
        images = images.astype(self.policy.compute_dtype)
        if self._hw(images) == (self.height, self.width):
            return images
        return smart_resize(
            images, (self.height, self.width), data_format=self.data_format
        )

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        height, width = self._hw(images)
        if height > self.height and width > self.width:
            kh, kw = jax.random.split(key)
            h_start = jax.random.uniform(
                kh, (), minval=0, maxval=float(height - self.height + 1)
            ).astype(jnp.int32)
            w_start = jax.random.uniform(
                kw, (), minval=0, maxval=float(width - self.width + 1)
            ).astype(jnp.int32)
            return h_start, w_start
        top, left, _, _ = aspect_crop_box(height, width, self.height, self.width)
        return top, left

    def transform_images(self, images, transformation):
        h_start, w_start = transformation
        h_axis, w_axis = spatial_axes(self.data_format)
        if isinstance(h_start, int | np.integer) and isinstance(
            w_start, int | np.integer
        ):
            h_start, w_start = int(h_start), int(w_start)
            images = crop(
                images, h_start, w_start, self.height, self.width, self.data_format
            )
        else:
            images = lax.dynamic_slice_in_dim(images, h_start, self.height, h_axis)
            images = lax.dynamic_slice_in_dim(images, w_start, self.width, w_axis)
        if self._hw(images) != (self.height, self.width):
            images = resize(
                images, (self.height, self.width), data_format=self.data_format
            ).astype(self.policy.compute_dtype)
        return images


class _RandomAffineLayer(_RandomImageLayer):
    """Rotation, zoom and translation: an affine map sampled like Keras's `affine_transform`."""

    def __post_init__(self):
        super().__post_init__()
        check_choice(self, "fill_mode", AFFINE_FILL_MODES, NotImplementedError)
        check_choice(self, "interpolation", AFFINE_INTERPOLATIONS, NotImplementedError)
        if not _is_number(self.fill_value):
            raise ValueError(
                f"{self.describe()}: `fill_value` must be a number, got {self.fill_value!r}."
            )

    def _matrix(self, transformation, images):
        raise NotImplementedError

    def transform_images(self, images, transformation):
        matrix = self._matrix(transformation, images)
        return affine_transform(
            images,
            matrix,
            self.interpolation,
            self.fill_mode,
            self.fill_value,
            self.data_format,
        )


class RandomRotation(_RandomAffineLayer):
    """Randomly rotates images in training, like `keras.layers.RandomRotation`.

    `factor` is a fraction of a full turn: `0.2` draws angles in
    `[-72, 72]` degrees, `(a, b)` in `[360 a, 360 b]`; rotation about the
    image centre, counter-clockwise for positive angles. `fill_mode` (reflect,
    wrap, constant, nearest) fills points outside the input; `interpolation`
    is bilinear or nearest.

    Example:
        >>> layer = kerax.layers.RandomRotation(0.1, fill_mode="constant")
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: Any = None
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = None
    fill_value: float = 0.0
    data_format: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "factor", _base_factor(self, self.factor, (-1, 1)))
        super().__post_init__()

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        lower, upper = self.factor
        angle = jax.random.uniform(
            key, (images.shape[0],), minval=lower * 360.0, maxval=upper * 360.0
        )
        height, width = self._hw(images)
        zeros, ones = jnp.zeros_like(angle), jnp.ones_like(angle)
        matrix = compute_affine_matrix(
            angle, zeros, zeros, ones, zeros, zeros, height, width
        )
        return {"angle": angle, "rotation_matrix": matrix}

    def _matrix(self, transformation, images):
        return transformation["rotation_matrix"]


class RandomZoom(_RandomAffineLayer):
    """Randomly zooms images in training, like `keras.layers.RandomZoom`.

    `height_factor` (and `width_factor`) in `(-1, 1]`: the zoom is drawn in
    `[1 + lower, 1 + upper]` per image; positive values zoom out, negative
    zoom in. Without `width_factor` the aspect ratio is kept (same zoom).

    Example:
        >>> layer = kerax.layers.RandomZoom(0.2)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    height_factor: Any = None
    width_factor: Any = None
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = None
    fill_value: float = 0.0
    data_format: str | None = None

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


class RandomTranslation(_RandomAffineLayer):
    """Randomly translates images in training, like `keras.layers.RandomTranslation`.

    `height_factor`/`width_factor` in `[-1, 1]` are fractions of the image
    size: `0.2` shifts by up to 20% either way (a pair `(a, b)` gives the
    range). Shifts are drawn per image, in pixels, not rounded.

    Example:
        >>> layer = kerax.layers.RandomTranslation(0.1, 0.1)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    height_factor: Any = None
    width_factor: Any = None
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    seed: int | None = None
    fill_value: float = 0.0
    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        _pair_factor(self, self.height_factor, "height_factor", lower_open=False)
        _pair_factor(self, self.width_factor, "width_factor", lower_open=False)

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        kh, kw = jax.random.split(key)
        height, width = self._hw(images)
        shape = (images.shape[0], 1)
        h_lower, h_upper = _pair_factor(
            self, self.height_factor, "height_factor", lower_open=False
        )
        w_lower, w_upper = _pair_factor(
            self, self.width_factor, "width_factor", lower_open=False
        )
        dy = jax.random.uniform(kh, shape, minval=h_lower, maxval=h_upper) * height
        dx = jax.random.uniform(kw, shape, minval=w_lower, maxval=w_upper) * width
        return {"translations": jnp.concatenate([dx, dy], axis=1).astype(jnp.float32)}

    def _matrix(self, transformation, images):
        dx, dy = jnp.split(transformation["translations"], 2, axis=1)
        zeros, ones = jnp.zeros_like(dx), jnp.ones_like(dx)
        return jnp.concatenate(
            [ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1
        )


def _check_value_range(layer, sort: bool):
    value_range = layer.value_range
    if (
        not isinstance(value_range, tuple | list)
        or len(value_range) != 2
        or not all(_is_number(v) for v in value_range)
    ):
        raise ValueError(
            f"{layer.describe()}: The `value_range` argument should be a list of two numbers. Received: value_range={value_range!r}"
        )
    object.__setattr__(
        layer, "value_range", tuple(sorted(value_range)) if sort else tuple(value_range)
    )


class RandomContrast(_RandomImageLayer):
    """Randomly adjusts contrast in training, like `keras.layers.RandomContrast`.

    Each image becomes `(x - mean) * c + mean` (mean over its height and
    width, per channel), clipped to `value_range`, with `c` drawn in
    `[1 - lower, 1 + upper]` from `factor`. As in Keras 3.15, a single
    number `f` becomes `factor=(0, f)`: contrast is only increased, up to
    `1 + f`; pass a pair `(a, b)` for `[1 - a, 1 + b]`. Inference returns
    the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomContrast(0.2)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: Any = None
    value_range: Any = (0, 255)
    seed: int | None = None
    data_format: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "factor", _base_factor(self, self.factor, (0, 1)))
        super().__post_init__()
        _check_value_range(self, sort=False)

    def inference(self, images):
        return images

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        dtype = self.policy.compute_dtype
        factor = jax.random.uniform(
            key,
            (images.shape[0], 1, 1, 1),
            dtype,
            minval=1.0 - self.factor[0],
            maxval=1.0 + self.factor[1],
        )
        return {"contrast_factor": factor}

    def transform_images(self, images, transformation):
        h_axis, w_axis = spatial_axes(self.data_format)
        mean = jnp.mean(
            jnp.mean(images, axis=h_axis, keepdims=True), axis=w_axis, keepdims=True
        )
        outputs = (images - mean) * transformation["contrast_factor"] + mean
        return jnp.clip(outputs, self.value_range[0], self.value_range[1])


class RandomBrightness(_RandomImageLayer):
    """Randomly shifts brightness in training, like `keras.layers.RandomBrightness`.

    Adds `delta * (value_range[1] - value_range[0])` to each image, `delta`
    drawn in `factor` (a number `f` means `[-f, f]`, within `[-1, 1]`), then
    clips to `value_range`. Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomBrightness(0.2, value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: Any = None
    value_range: Any = (0, 255)
    seed: int | None = None
    data_format: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "factor", _base_factor(self, self.factor, (-1, 1)))
        super().__post_init__()
        _check_value_range(self, sort=True)

    def inference(self, images):
        return images

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        delta = jax.random.uniform(
            key,
            (images.shape[0], 1, 1, 1),
            minval=self.factor[0],
            maxval=self.factor[1],
        )
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation):
        images = images + transformation["rgb_delta"].astype(images.dtype)
        return jnp.clip(images, self.value_range[0], self.value_range[1])
