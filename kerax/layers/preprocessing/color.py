"""Keras's color augmentations: RandomGrayscale, RandomHue, RandomSaturation,
RandomColorDegeneration, RandomColorJitter.

Like the other random image layers, each draws Keras's transformation with
`get_random_transformation(images, key=key)` and applies it with Keras's
numerics in `transform_images(images, transformation)`; inference returns
the input. Hue and saturation work in HSV (Keras's JAX conversions);
grayscale is ITU-R 601 luma, as `keras.ops.image.rgb_to_grayscale`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._color_ops import (
    _RandomColorLayer,
    check_images,
    hsv_to_rgb,
    rgb_to_hsv,
    split_channels,
    stack_channels,
    transform_value_range,
)
from kerax.layers.preprocessing._fields import (
    ARG_DOCS,
    _is_number,
    base_factor,
    value_range,
)
from kerax.layers.preprocessing.random_brightness import RandomBrightness
from kerax.layers.preprocessing.random_contrast import RandomContrast
from kerax.ops.image import rgb_to_grayscale

# Keras's `backend.epsilon()`, which RandomSaturation adds to its odds ratio.
_EPSILON = 1e-7

_HUE_FACTOR = (
    "A single float or a tuple of two floats. `factor` controls the extent to which "
    "the image hue is impacted. `factor=0.0` makes this layer perform a no-op "
    "operation, while a value of `1.0` performs the most aggressive contrast "
    "adjustment available. If a tuple is used, a `factor` is sampled between the "
    "two values for every image augmented. If a single float is used, a value "
    "between `0.0` and the passed float is sampled."
)
_SATURATION_FACTOR = (
    "A tuple of two floats or a single float. `factor` controls the extent to which "
    "the image saturation is impacted. `factor=0.5` makes this layer perform a no-op "
    "operation. `factor=0.0` makes the image fully grayscale. `factor=1.0` makes the "
    "image fully saturated. Values should be between `0.0` and `1.0`. If a tuple is "
    "used, a `factor` is sampled between the two values for every image augmented. "
    "A single float `f` samples in `[-f, f]` (Keras 3.15's `_set_factor`; values "
    "below 0 give grayscale)."
)

DOCS = {
    **ARG_DOCS,
    "value_range": "the range of values the incoming images will have. Represented "
    "as a two-number tuple written `[low, high]`. This is typically either `[0, 1]` "
    "or `[0, 255]` depending on how your preprocessing pipeline is set up.",
    "brightness_factor": "Float or a list/tuple of 2 floats between -1.0 and 1.0: "
    "`RandomBrightness`'s `factor`. None (the default) skips brightness.",
    "contrast_factor": "a positive float represented as fraction of value, or a "
    "tuple of size 2 representing lower and upper bound: `RandomContrast`'s "
    "`factor`. None (the default) skips contrast.",
    "saturation_factor": "A tuple of two floats or a single float: "
    "`RandomSaturation`'s `factor`. None (the default) skips saturation.",
    "hue_factor": "A single float or a tuple of two floats: `RandomHue`'s `factor`. "
    "None (the default) skips hue.",
}


def _probability(value) -> float:
    if not _is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"should be between 0 and 1. Received: factor={value!r}")
    return value


def _optional_factor(value):
    """None, a number or a pair, as given (the stage layer checks its range)."""
    if value is None or _is_number(value):
        return value
    if isinstance(value, tuple | list) and all(_is_number(v) for v in value):
        return tuple(value)
    raise ValueError(
        f"should be None, a number or a pair of numbers. Received: {value!r}"
    )


def _per_image(factor):
    """`(batch,)` factors as `(batch, 1, 1)`, to scale one HSV plane."""
    return jnp.reshape(factor, (-1, 1, 1))


@document_args(
    {
        **DOCS,
        "factor": "Float between 0 and 1, specifying the factor of "
        "converting each image to grayscale. Defaults to 0.5. A value of 1.0 "
        "means all images will be converted, while 0.0 means no images will "
        "be converted.",
    }
)
class RandomGrayscale(_RandomColorLayer):
    """Randomly converts images to grayscale in training, like `keras.layers.RandomGrayscale`.

    Each image is converted with probability `factor`; the output keeps the
    input's channel count (all channels equal the luma). The transformation
    is Keras's: a bare `(batch, 1, 1, 1)` boolean array, not a dict.
    Inference returns the input.

    Example:
        >>> layer = kerax.layers.RandomGrayscale(1.0)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    channels = (1, 3)

    factor: float = field(0.5, converter=_probability)
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        draws = jax.random.uniform(self._key(key), (images.shape[0], 1, 1, 1))
        return draws < self.factor

    def transform_images(self, images, transformation):
        gray = rgb_to_grayscale(images, data_format=self.data_format)
        return jnp.where(transformation, gray, images)


@document_args({**DOCS, "factor": _HUE_FACTOR})
class RandomHue(_RandomColorLayer):
    """Randomly rotates the hue of RGB images in training, like `keras.layers.RandomHue`.

    Each image draws `delta` in `factor` with a random sign and shifts its
    hue by `delta / 2` turns (HSV, wrapped to [0, 1)). Inference returns the
    input.

    Example:
        >>> layer = kerax.layers.RandomHue(0.5, value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    channels = (3,)

    factor: tuple[float, float] = field(converter=base_factor(0, 1))
    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        sign_key, factor_key = jax.random.split(self._key(key))
        batch = (images.shape[0],)
        sign = jnp.where(jax.random.uniform(sign_key, batch) > 0.5, -1.0, 1.0)
        factor = jax.random.uniform(
            factor_key, batch, minval=self.factor[0], maxval=self.factor[1]
        )
        return {"factor": sign * factor * 0.5}

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        images = transform_value_range(images.astype(dtype), self.value_range, (0, 1))
        hue, saturation, value = split_channels(
            rgb_to_hsv(images, self.data_format), self.data_format
        )
        hue = hue + _per_image(transformation["factor"].astype(images.dtype))
        hue = jnp.where(hue > 1.0, hue - 1.0, hue)
        hue = jnp.where(hue < 0.0, hue + 1.0, hue)
        images = hsv_to_rgb(
            stack_channels([hue, saturation, value], self.data_format), self.data_format
        )
        images = transform_value_range(jnp.clip(images, 0, 1), (0, 1), self.value_range)
        return images.astype(dtype)


@document_args({**DOCS, "factor": _SATURATION_FACTOR})
class RandomSaturation(_RandomColorLayer):
    """Randomly scales the saturation of RGB images in training, like `keras.layers.RandomSaturation`.

    Each image draws `f` in `factor` and multiplies its HSV saturation by
    `f / (1 - f)` (0.5: unchanged), clipped to `value_range` as Keras 3.15
    does (so with `(0, 255)` saturation is not capped at 1). Inference
    returns the input.

    Example:
        >>> layer = kerax.layers.RandomSaturation((0.2, 0.8), value_range=(0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    channels = (3,)

    factor: tuple[float, float] = field(converter=base_factor(-1, 1))
    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        factor = jax.random.uniform(
            self._key(key),
            (images.shape[0],),
            minval=self.factor[0],
            maxval=self.factor[1],
        )
        return {"factor": factor / (1 - factor + _EPSILON)}

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        hue, saturation, value = split_channels(
            rgb_to_hsv(images.astype(dtype), self.data_format), self.data_format
        )
        saturation = jnp.clip(
            saturation * _per_image(transformation["factor"].astype(dtype)),
            self.value_range[0],
            self.value_range[1],
        )
        return hsv_to_rgb(
            stack_channels([hue, saturation, value], self.data_format), self.data_format
        )


@document_args(
    {
        **DOCS,
        "factor": "A tuple of two floats or a single float. `factor=0.0` makes this "
        "layer perform a no-op operation, while a value of 1.0 uses the degenerated "
        "result entirely. If a tuple is used, a `factor` is sampled between the two "
        "values for every image augmented. A single float `f` samples in `[-f, f]` "
        "(Keras 3.15's `_set_factor`; negative values move away from gray).",
    }
)
class RandomColorDegeneration(_RandomColorLayer):
    """Randomly blends RGB images towards their grayscale, like `keras.layers.RandomColorDegeneration`.

    Each image draws `f` in `factor` and becomes `x + f (gray(x) - x)`,
    clipped to `value_range`. Inference returns the input.

    Example:
        >>> layer = kerax.layers.RandomColorDegeneration((0.0, 1.0))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    channels = (3,)

    factor: tuple[float, float] = field(converter=base_factor(-1, 1))
    value_range: tuple[float, float] = field((0, 255), converter=value_range(sort=True))
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        factor = jax.random.uniform(
            self._key(key),
            (images.shape[0], 1, 1, 1),
            minval=self.factor[0],
            maxval=self.factor[1],
        )
        return {"factor": factor}

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        images = images.astype(dtype)
        gray = rgb_to_grayscale(images, data_format=self.data_format)
        images = images + transformation["factor"].astype(dtype) * (gray - images)
        return jnp.clip(images, self.value_range[0], self.value_range[1])


# RandomColorJitter's stages, in Keras's order; the index picks each stage's key.
_JITTER_STAGES = ("brightness", "contrast", "saturation", "hue")
_JITTER_LAYERS = {
    "brightness": RandomBrightness,
    "contrast": RandomContrast,
    "saturation": RandomSaturation,
    "hue": RandomHue,
}


@document_args(DOCS)
class RandomColorJitter(_RandomColorLayer):
    """Random brightness, contrast, saturation and hue in turn, like `keras.layers.RandomColorJitter`.

    Each stage whose factor is set runs kerax's own layer (`RandomBrightness`,
    `RandomContrast`, `RandomSaturation`, `RandomHue`) with that factor and
    `value_range`, in Keras's order. The transformation is a dict of the
    stages' transformations (`{"brightness": {...}, "hue": {...}}`); each
    stage has its own key, so turning one stage on or off leaves the others'
    draws unchanged. Keras builds the stages with the global data format;
    kerax passes them this layer's `data_format`. Inference returns the input.

    Example:
        >>> layer = kerax.layers.RandomColorJitter((0.0, 1.0), brightness_factor=0.2, hue_factor=0.1)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    brightness_factor: float | tuple | None = field(None, converter=_optional_factor)
    contrast_factor: float | tuple | None = field(None, converter=_optional_factor)
    saturation_factor: float | tuple | None = field(None, converter=_optional_factor)
    hue_factor: float | tuple | None = field(None, converter=_optional_factor)
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        self._stages()  # Checks each stage's factor now.

    def _stages(self) -> dict[str, _RandomColorLayer]:
        """The enabled stages, made on demand: they are config, not sublayers with params."""
        stages = {}
        for name in _JITTER_STAGES:
            factor = getattr(self, f"{name}_factor")
            if factor is None:
                continue
            try:
                stages[name] = _JITTER_LAYERS[name](
                    factor=factor,
                    value_range=self.value_range,
                    data_format=self.data_format,
                    dtype=self.dtype,
                )
            except ValueError as e:
                raise ValueError(
                    f"{self.describe()}: argument `{name}_factor`: {e}"
                ) from None
        return stages

    def check_input(self, spec):
        needs_rgb = self.saturation_factor is not None or self.hue_factor is not None
        check_images(self, spec, (3,) if needs_rgb else None)

    def get_random_transformation(self, images, *, key):
        keys = jax.random.split(self._key(key), len(_JITTER_STAGES))
        return {
            name: stage.get_random_transformation(
                images, key=keys[_JITTER_STAGES.index(name)]
            )
            for name, stage in self._stages().items()
        }

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        for name, stage in self._stages().items():
            images = stage.transform_images(images, transformation[name])
        return images
