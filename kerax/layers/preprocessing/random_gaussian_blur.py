"""RandomGaussianBlur: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, is_int, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS, base_factor, value_range
from kerax.layers.preprocessing._image_ops import gaussian_blur
from kerax.layers.preprocessing._random_base import _RandomImageLayer


def odd_kernel_size(value) -> tuple[int, int]:
    """Keras's `_set_kernel_size`: an odd int `k` -> `(k, k)`, or a pair of odd ints."""
    values = tuple(value) if isinstance(value, tuple | list) else (value, value)
    if len(values) != 2 or not all(is_int(v) and v > 0 and v % 2 for v in values):
        raise ValueError(
            f"must be a positive odd integer or a pair of them. Received: {value!r}"
        )
    return tuple(int(v) for v in values)


DOCS = {
    **ARG_DOCS,
    "factor": "A single float or a tuple of two floats in `[0, 1]`, the probability "
    "of blurring. A probability is sampled in `(min, max)` for each image (a single "
    "float `f` means `(0, f)`), and the image is blurred with that probability. "
    "Defaults to 1.0.",
    "kernel_size": "Integer, or a pair `(width, height)` of integers. Size of the "
    "Gaussian kernel used for blurring. Must be odd. Default is 3.",
    "sigma": "Float or tuple of two floats in `[0, 1]`. Standard deviation of the "
    "Gaussian kernel: two values (width and height directions) are sampled in this "
    "range per call, shared by the batch (a single float `s` means `(0, s)`). "
    "Default is 1.0.",
    "value_range": "the range of values the incoming images will have. Represented "
    "as a two-number tuple written `[low, high]`. This is typically either `[0, 1]` "
    "or `[0, 255]` depending on how your preprocessing pipeline is set up. Outputs "
    "are clipped to it.",
}


@document_args(DOCS)
class RandomGaussianBlur(_RandomImageLayer):
    """Randomly blurs images in training, like `keras.layers.RandomGaussianBlur`.

    Per call, one pair of standard deviations (x, y) is drawn in `sigma`
    (plus 1e-6) for the whole batch, as Keras does; each image is blurred
    with a probability drawn in `factor`. Outputs are clipped to
    `value_range`. Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomGaussianBlur(kernel_size=3, value_range=(0, 1))
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    kernel_size: tuple[int, int] = field(3, converter=odd_kernel_size)
    sigma: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        k_probability, k_threshold, k_sigma = jax.random.split(self._key(key), 3)
        batch = images.shape[0]
        probability = jax.random.uniform(
            k_probability, (batch,), minval=self.factor[0], maxval=self.factor[1]
        )
        threshold = jax.random.uniform(k_threshold, (batch,))
        sigma = jax.random.uniform(
            k_sigma, (2,), self.policy.compute_dtype, *self.sigma
        )
        return {
            "should_apply_blur": threshold < probability,
            "blur_factor": sigma + 1e-6,
        }

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        blurred = gaussian_blur(
            images, self.kernel_size, transformation["blur_factor"], self.data_format
        )
        apply = transformation["should_apply_blur"][:, None, None, None]
        images = jnp.where(apply, blurred, images)
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(
            self.policy.compute_dtype
        )
