"""RandomElasticTransform: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import (
    ARG_DOCS,
    _is_number,
    base_factor,
    value_range,
)
from kerax.layers.preprocessing._image_ops import (
    AFFINE_FILL_MODES,
    AFFINE_INTERPOLATIONS,
    check_choice,
    gaussian_blur,
    map_coordinates,
    spatial_axes,
)
from kerax.layers.preprocessing._random_base import _RandomImageLayer

DOCS = {
    **ARG_DOCS,
    "factor": "A single float or a tuple of two floats in `[0, 1]`, the probability "
    "of the transformation. A probability is sampled in `(min, max)` for each image "
    "(a single float `f` means `(0, f)`), and the image is transformed with that "
    "probability. Defaults to 1.0.",
    "scale": "A single float or a tuple of two floats in `[0, 1]`: the distortion "
    "strength `s` is drawn in this range per call (a single float means `(0, s)`); "
    "the displacement field is scaled by `alpha = 0.1 s max(height, width)` after a "
    "Gaussian blur of standard deviation `sigma = 0.05 s min(height, width)`. "
    "Defaults to 1.0.",
    "fill_mode": ARG_DOCS["fill_mode"].replace("{fill_mode}", "reflect")
    + ' `"mirror"`: `(c d c b | a b c d | c b a b)`.',
    "value_range": "the range of values the incoming images will have. Represented "
    "as a two-number tuple written `[low, high]`. This is typically either `[0, 1]` "
    "or `[0, 255]` depending on how your preprocessing pipeline is set up. Outputs "
    "are clipped to it.",
}


def _params(height: int, width: int, factor, xp=jnp):
    """Keras's `get_elastic_transform_params`, in float32 as Keras computes it.

    `xp=np` gives the same float32 numbers from a static `factor`.
    """
    f32 = xp.float32
    factor = xp.asarray(factor, f32)
    alpha = f32(max(height, width)) * (f32(0.1) * factor)
    return alpha, f32(min(height, width)) * (f32(0.05) * factor)


@document_args(DOCS)
class RandomElasticTransform(_RandomImageLayer):
    """Random elastic distortions in training, like `keras.layers.RandomElasticTransform`.

    Pixels move by a Gaussian-blurred field of Gaussian noise (Simard et
    al., 2003), its strength drawn in `scale` once per call; each image is distorted
    with a probability drawn in `factor`, then clipped to `value_range`.
    The transformation holds the noise's PRNG key (`"seed"`), as Keras's
    holds its seed. As in Keras 3.15, one noise field moves both
    coordinates (x and y draw from the same seed), so pixels move along
    the diagonal. Keras sizes the blur kernel from the drawn strength
    (`int(6 sigma) | 1`); kerax convolves with the largest such kernel
    `scale` allows and zeroes the taps beyond the drawn one, which gives
    Keras's sums with a static shape (so the layer jits). Inference
    returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomElasticTransform(scale=0.5, value_range=(0, 1))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    scale: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    interpolation: str = "bilinear"
    fill_mode: str = "reflect"
    fill_value: float = 0.0
    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        check_choice(self, "interpolation", AFFINE_INTERPOLATIONS, NotImplementedError)
        check_choice(
            self, "fill_mode", (*AFFINE_FILL_MODES, "mirror"), NotImplementedError
        )
        if not _is_number(self.fill_value):
            raise ValueError(
                f"{self.describe()}: `fill_value` must be a number, got {self.fill_value!r}."
            )

    def get_random_transformation(self, images, *, key):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return None  # Keras: nothing to do.
        k_probability, k_threshold, k_factor, k_noise = jax.random.split(
            self._key(key), 4
        )
        batch = images.shape[0]
        probability = jax.random.uniform(
            k_probability, (batch,), minval=self.factor[0], maxval=self.factor[1]
        )
        threshold = jax.random.uniform(k_threshold, (batch,))
        distortion = jax.random.uniform(
            k_factor, (), self.policy.compute_dtype, *self.scale
        )
        return {
            "apply_transform": threshold < probability,
            "distortion_factor": distortion,
            "seed": k_noise,
        }

    def _displacement(self, key, shape, dtype, factor):
        """Keras's blurred noise field `alpha * blur(normal * sigma)`, `(batch, height, width)`."""
        height, width = shape[1:3]
        alpha, sigma = _params(height, width, factor)
        _, sigma_max = _params(height, width, self.scale[1], np)
        kernel = int(6 * sigma_max) | 1  # The largest kernel of any draw.
        size = (6 * sigma).astype(jnp.int32) | 1  # Keras's kernel for this draw.
        noise = jax.random.normal(key, shape, dtype) * sigma
        channel_axis = -1 if self.data_format == "channels_last" else 1
        blurred = gaussian_blur(
            jnp.expand_dims(noise, channel_axis),
            (kernel, kernel),
            (sigma, sigma),
            self.data_format,
            radius=size // 2,
        )
        return alpha * jnp.squeeze(blurred, channel_axis)

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        if transformation is None:
            return images
        h_axis, w_axis = spatial_axes(self.data_format)
        height, width = images.shape[h_axis], images.shape[w_axis]
        displacement = self._displacement(
            transformation["seed"],
            (images.shape[0], height, width),
            images.dtype,
            transformation["distortion_factor"],
        )
        x, y = jnp.meshgrid(jnp.arange(width), jnp.arange(height))
        x, y = x[None], y[None]
        channels_first = self.data_format == "channels_first"
        source = jnp.transpose(images, (0, 2, 3, 1)) if channels_first else images
        distorted = map_coordinates(
            source,
            y + displacement,
            x + displacement,
            self.interpolation,
            self.fill_mode,
            self.fill_value,
        )
        if channels_first:
            distorted = jnp.transpose(distorted, (0, 3, 1, 2))
        apply = transformation["apply_transform"][:, None, None, None]
        images = jnp.where(apply, distorted, images)
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(
            self.policy.compute_dtype
        )
