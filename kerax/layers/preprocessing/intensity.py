"""Keras's pixel-intensity augmentations: Solarization, RandomInvert, RandomPosterization,
AutoContrast, Equalization, RandomSharpness.

The random ones follow `_RandomImageLayer`: `get_random_transformation(images, key=key)`
draws Keras's transformation dict, `transform_images(images, transformation)`
applies it with Keras's numerics, and inference returns the input.
AutoContrast is deterministic and applies in training and inference alike;
Equalization is deterministic too, and (as Keras 3.15's code does) applies
only in training.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._args import data_format_field, is_int, optional_int, positive_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._color_ops import (
    _RandomColorLayer,
    channel_axis,
    check_images,
    transform_value_range,
    unit_factor,
)
from kerax.layers.preprocessing._fields import ARG_DOCS, base_factor, value_range
from kerax.layers.preprocessing._image_ops import spatial_axes

_VALUE_RANGE = (
    "a tuple or a list of two elements. The first value represents the lower bound "
    "for values in input images, the second represents the upper bound. Images "
    "passed to the layer should have values within `value_range`. Typical values "
    "to pass are `(0, 255)` (RGB image) or `(0., 1.)` (scaled image)."
)

DOCS = {
    **ARG_DOCS,
    "value_range": _VALUE_RANGE,
    "addition_factor": "A tuple of two floats or a single float, between 0 and 1. "
    "For each augmented image a value is sampled from the provided range. If a float "
    "is passed, the range is interpreted as `(0, addition_factor)`. If specified, "
    "this value (times the value range of input images, e.g. 255), is added to each "
    "pixel before solarization and thresholding. Defaults to 0.0.",
    "threshold_factor": "A tuple of two floats or a single float. For each augmented "
    "image a value is sampled from the provided range. If a float is passed, the "
    "range is interpreted as `(0, threshold_factor)`. If specified, only pixel "
    "values above this threshold will be solarized.",
    "bins": "Integer specifying the number of histogram bins to use for "
    "equalization. Defaults to 256, which is suitable for 8-bit images.",
}

_INVERT_FACTOR = (
    "A single float or a tuple of two floats. `factor` controls the probability of "
    "inverting the image colors. If a tuple is provided, the value is sampled "
    "between the two values for each image, where `factor[0]` is the minimum and "
    "`factor[1]` is the maximum probability. If a single float is provided, a value "
    "between `0.0` and the provided float is sampled. Defaults to `(0, 1)`."
)
_POSTERIZATION_FACTOR = (
    "integer, the number of bits to keep for each channel. Must be a value between "
    "1-8. A single integer `b` draws from `[1, b)` (Keras's `randint`, upper bound "
    "excluded) unless `b` is 1; a pair `(b, b)` always keeps `b` bits."
)
_SHARPNESS_FACTOR = (
    "A tuple of two floats or a single float. `factor` controls the extent to which "
    "the image sharpness is impacted. `factor=0.0` results in a fully blurred image, "
    "`factor=0.5` applies no operation (preserving the original image), and "
    "`factor=1.0` enhances the sharpness beyond the original. Values should be "
    "between `0.0` and `1.0`. If a tuple is used, a `factor` is sampled between the "
    "two values for every image augmented. If a single float is used, a value "
    "between `0.0` and the passed float is sampled."
)


def _bits(factor) -> tuple[int, int]:
    """RandomPosterization's factor: Keras's `_set_factor` in [1, 8], integers only."""
    low, high = base_factor(1, 8)(factor)
    if not all(is_int(v) or float(v).is_integer() for v in (low, high)):
        raise ValueError(
            f"should be an integer number of bits (or a pair of them). Received: factor={factor!r}"
        )
    return int(low), int(high)


def _batch_uniform(key, images, shape_tail=(), **kwargs):
    return jax.random.uniform(key, (images.shape[0], *shape_tail), **kwargs)


@document_args(DOCS)
class Solarization(_RandomColorLayer):
    """Applies `(max_value - pixel + min_value)` to pixels above a threshold, like `keras.layers.Solarization`.

    In training each image draws an addition and a threshold (both on the
    0..255 scale): pixels (mapped to 0..255) get the addition, are clipped,
    and those at or above the threshold become `255 - pixel`; the result is
    mapped back to `value_range`. With the defaults every pixel is inverted.
    As in Keras 3.15 only the upper bound of each factor is scaled by 255
    (a pair `(a, b)` draws in `[a, 255 b]`). Inference returns the input.

    Example:
        >>> layer = kerax.layers.Solarization(value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.full((1, 2, 2, 3), 0.25), key=jax.random.key(0), training=True)
        >>> round(float(y[0, 0, 0, 0]), 4)  # 1 - 0.25, every pixel solarized.
        0.75
    """

    addition_factor: tuple[float, float] = field(0.0, converter=unit_factor)
    threshold_factor: tuple[float, float] = field(0.0, converter=unit_factor)
    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def inference(self, images):
        return images.astype(self.policy.compute_dtype)  # Keras casts first.

    def get_random_transformation(self, images, *, key):
        add_key, threshold_key = jax.random.split(self._key(key))
        dtype, shape = self.policy.compute_dtype, (1, 1, 1)
        (a_low, a_high), (t_low, t_high) = self.addition_factor, self.threshold_factor
        return {
            "additions": _batch_uniform(
                add_key, images, shape, dtype=dtype, minval=a_low, maxval=a_high * 255
            ),
            "thresholds": _batch_uniform(
                threshold_key,
                images,
                shape,
                dtype=dtype,
                minval=t_low,
                maxval=t_high * 255,
            ),
        }

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        images = transform_value_range(
            images.astype(dtype), self.value_range, (0, 255), dtype
        )
        images = jnp.clip(images + transformation["additions"].astype(dtype), 0, 255)
        images = jnp.where(
            images < transformation["thresholds"].astype(dtype), images, 255 - images
        )
        return transform_value_range(images, (0, 255), self.value_range, dtype)


@document_args({**DOCS, "factor": _INVERT_FACTOR})
class RandomInvert(_RandomColorLayer):
    """Randomly inverts image colors in training, like `keras.layers.RandomInvert`.

    Each image draws a probability `p` in `factor` and is inverted with
    probability `p`: pixels become `value_range[1] - pixel` (Keras's formula:
    the low end of the range is not added back). Inference returns the input.

    Example:
        >>> layer = kerax.layers.RandomInvert(value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def get_random_transformation(self, images, *, key):
        p_key, coin_key = jax.random.split(self._key(key))
        probability = _batch_uniform(
            p_key, images, minval=self.factor[0], maxval=self.factor[1]
        )
        return {"apply_inversion": _batch_uniform(coin_key, images) < probability}

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        invert = jnp.reshape(transformation["apply_inversion"], (-1, 1, 1, 1))
        return jnp.where(invert, self.value_range[1] - images, images)


@document_args({**DOCS, "factor": _POSTERIZATION_FACTOR})
class RandomPosterization(_RandomColorLayer):
    """Keeps only the high bits of each channel in training, like `keras.layers.RandomPosterization`.

    Pixels are mapped to 0..255, truncated to `uint8`, and their low
    `8 - bits` bits cleared, then mapped back to `value_range`; `bits` is
    drawn per image from `factor`. Inference returns the input.

    Example:
        >>> layer = kerax.layers.RandomPosterization((2, 2))
        >>> y, _ = layer.apply({}, {}, jnp.full((1, 2, 2, 3), 200.0), key=jax.random.key(0), training=True)
        >>> float(y[0, 0, 0, 0])
        192.0
    """

    factor: tuple[int, int] = field(converter=_bits)
    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        low, high = self.factor
        shape = (images.shape[0],)
        if low != high:
            bits = jax.random.randint(key, shape, low, high, dtype=jnp.uint8)
        else:
            bits = jnp.full(shape, low, jnp.uint8)
        return {"shift_factor": 8 - bits}

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        shift = jnp.reshape(transformation["shift_factor"], (-1, 1, 1, 1)).astype(
            jnp.uint8
        )
        images = transform_value_range(images, self.value_range, (0, 255), dtype)
        images = (images.astype(jnp.uint8) >> shift) << shift
        return transform_value_range(
            images.astype(dtype), (0, 255), self.value_range, dtype
        )


@document_args({**DOCS, "factor": _SHARPNESS_FACTOR})
class RandomSharpness(_RandomColorLayer):
    """Randomly blurs or sharpens images in training, like `keras.layers.RandomSharpness`.

    Each image is blended with its 3x3 smoothed copy (kernel 1/13, centre
    5/13, zero padding): `x + (1 - 2 f) (smoothed - x)`, clipped to
    `value_range`, with `f` drawn per image in `factor` (0.5: unchanged).
    Inference returns the input.

    Example:
        >>> layer = kerax.layers.RandomSharpness(0.8)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(converter=base_factor(0, 1))
    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def inference(self, images):
        return images.astype(self.policy.compute_dtype)  # Keras casts first.

    def get_random_transformation(self, images, *, key):
        factor = _batch_uniform(
            self._key(key), images, minval=self.factor[0], maxval=self.factor[1]
        )
        return {"factor": factor}

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        images = images.astype(dtype)
        sharpness = jnp.reshape(
            transformation["factor"].astype(dtype) * 2, (-1, 1, 1, 1)
        )
        channels = images.shape[channel_axis(self.data_format)]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.asarray([[a, a, a], [a, b, a], [a, a, a]], dtype)
        kernel = jnp.tile(jnp.reshape(kernel, (3, 3, 1, 1)), (1, 1, 1, channels))
        layout = "NHWC" if self.data_format == "channels_last" else "NCHW"
        smoothed = lax.conv_general_dilated(
            images,
            kernel,
            (1, 1),
            "SAME",
            dimension_numbers=(layout, "HWIO", layout),
            feature_group_count=channels,
            # A TF32 convolution on GPUs would round the blur to ~1e-3.
            precision=lax.Precision.HIGHEST,
        )
        images = images + (1.0 - sharpness) * (smoothed.astype(dtype) - images)
        return jnp.clip(images, self.value_range[0], self.value_range[1])


class _DeterministicImageLayer(Layer):
    """An image layer with no randomness: `transform_images` is the whole computation."""

    def check_input(self, spec):
        check_images(self, spec)

    def call(self, params, state, x, *, key, training):
        del params, key
        if not self._applies(training):
            return x, state
        return self.transform_images(x.astype(self.policy.compute_dtype)), state

    def _applies(self, training: bool) -> bool:
        return True

    def transform_images(self, images, transformation=None):
        raise NotImplementedError


@document_args(DOCS)
class AutoContrast(_DeterministicImageLayer):
    """Stretches each channel to the full `value_range`, like `keras.layers.AutoContrast`.

    Per image and channel, the minimum maps to `value_range[0]` and the
    maximum to `value_range[1]`; constant channels are left unchanged.
    Applied in training and inference alike; needs no key. (Keras 3.15 takes
    the minimum and maximum over axes 1 and 2 whatever `data_format` is;
    kerax uses the height and width axes, the same for `"channels_last"`.)

    Example:
        >>> layer = kerax.layers.AutoContrast(value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.array([[[[0.25], [0.5]]]]))
        >>> y.ravel().tolist()
        [0.0, 1.0]
    """

    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    data_format: str = data_format_field()

    def transform_images(self, images, transformation=None):
        del transformation  # Deterministic.
        dtype = self.policy.compute_dtype
        original = images
        images = transform_value_range(images, self.value_range, (0, 255), dtype)
        images = images.astype(dtype)
        axes = spatial_axes(self.data_format)
        low = jnp.min(images, axis=axes, keepdims=True)
        high = jnp.max(images, axis=axes, keepdims=True)
        # A constant channel gives 0 * inf = NaN below: it keeps its input values.
        scale = 255.0 / (high - low)
        images = jnp.clip(images * scale + -low * scale, 0.0, 255.0)
        images = transform_value_range(images, (0, 255), self.value_range, dtype)
        return jnp.where(jnp.isnan(images), original, images)


@document_args(DOCS)
class Equalization(_DeterministicImageLayer):
    """Histogram-equalizes each channel in training, like `keras.layers.Equalization`.

    Pixels (mapped to 0..255) fall in `bins` equal bins; each channel is
    remapped through the rounded normalized cumulative histogram, then mapped
    back to `value_range`. A channel whose values fill one bin is unchanged.
    Deterministic: needs no key. Two behaviours follow Keras 3.15's code
    exactly: the histogram of a channel counts the whole batch (equalize one
    image per call for per-image histograms), and inference
    (`training=False`) returns the input unchanged, as Keras does despite its
    docstring.

    Example:
        >>> layer = kerax.layers.Equalization(value_range=(0.0, 1.0), bins=4)
        >>> x = jnp.array([[[[0.0], [0.1]], [[0.2], [1.0]]]])
        >>> y, _ = layer.apply({}, {}, x, training=True)
        >>> y.ravel().tolist()
        [0.0, 0.0, 0.0, 1.0]
    """

    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    bins: int = field(256, converter=positive_int)
    data_format: str = data_format_field()

    def _applies(self, training: bool) -> bool:
        return training

    def transform_images(self, images, transformation=None):
        del transformation  # Deterministic.
        dtype = self.policy.compute_dtype
        axis = channel_axis(self.data_format)
        channels = jnp.moveaxis(images.astype(dtype), axis, 0)
        equalized = jax.vmap(self._equalize_channel)(channels)
        return jnp.moveaxis(equalized, 0, axis).astype(dtype)

    def _equalize_channel(self, channel):
        """One channel of the whole batch; Python-float scales as Keras's `_scale_values`."""
        low, high = self.value_range
        scale = 255 / (high - low)
        channel = channel * scale - low * scale
        bins = self.bins
        # Keras bins the histogram as `v (bins - 1) / 255` but looks pixels up
        # as `v / 255 (bins - 1)`; both roundings are kept.
        hist_index = (
            channel.astype(jnp.float32) * (bins - 1) / jnp.float32(255)
        ).astype(jnp.int32)
        hist = jnp.bincount(
            jnp.clip(hist_index, 0, bins - 1).ravel(), length=bins
        ).astype(jnp.int32)
        cdf = jnp.cumsum(hist)
        cdf_min = cdf[jnp.argmax(cdf > 0)]
        denominator = cdf[-1] - cdf_min
        denominator = jnp.where(denominator == 0, 1, denominator)
        lookup = jnp.clip(jnp.round((cdf - cdf_min) * 255 / denominator), 0, 255)
        index = jnp.clip(channel / 255.0 * (bins - 1), 0, bins - 1).astype(jnp.int32)
        equalized = jnp.where(
            jnp.count_nonzero(hist) <= 1, channel, jnp.take(lookup, index)
        )
        return equalized * ((high - low) / 255) + low
