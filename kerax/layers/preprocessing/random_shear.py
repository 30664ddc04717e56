"""RandomShear: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS, _is_number
from kerax.layers.preprocessing._random_base import _RandomAffineLayer


def shear_factor(factor) -> tuple[float, float]:
    """Keras's `RandomShear._set_factor_with_name`: a number `f` in [0, 1] -> `(-f, f)`.

    A pair is sorted. Keras checks each value is in [0, 1], yet its config
    stores `(-f, f)` (which Keras's own `from_config` then refuses); kerax
    takes pair values in [-1, 1] so that configs reload.
    """
    error = (
        "should be a number (or a list of two numbers) in the range [0, 1.0]. "
        f"Received: {factor!r}"
    )
    if isinstance(factor, tuple | list):
        if len(factor) != 2 or not all(
            _is_number(v) and -1.0 <= v <= 1.0 for v in factor
        ):
            raise ValueError(error)
        return tuple(sorted(factor))
    if not _is_number(factor) or not 0.0 <= factor <= 1.0:
        raise ValueError(error)
    return (-factor, factor)


_FACTOR = (
    "A tuple of two floats. For each augmented image, a value is sampled from the "
    "provided range, and its sign flipped with probability 1/2 (the same flip for "
    "both axes). A float `f` gives the range `(-f, f)`. Values represent a "
    "fraction of the image to shear over: 0.3 shears pixels up to 30% of the way "
    "across the image. All provided values should be in `[0, 1]`."
)
DOCS = {
    **ARG_DOCS,
    "x_factor": _FACTOR + " Shear along the x-axis (horizontal).",
    "y_factor": _FACTOR + " Shear along the y-axis (vertical).",
    "fill_mode": ARG_DOCS["fill_mode"].replace("{fill_mode}", "reflect"),
}


@document_args(DOCS)
class RandomShear(_RandomAffineLayer):
    """Randomly shears images in training, like `keras.layers.RandomShear`.

    Per image, shear factors `sx` (from `x_factor`) and `sy` (from
    `y_factor`) are drawn, both negated with probability 1/2, and output
    pixel `(x, y)` samples the input at `(x + sx y, sy x + y)` (about the
    top-left corner, as Keras). Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.RandomShear(x_factor=0.2, y_factor=0.1)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    x_factor: tuple[float, float] = field(0.0, converter=shear_factor)
    y_factor: tuple[float, float] = field(0.0, converter=shear_factor)
    interpolation: str = "bilinear"
    fill_mode: str = "reflect"
    fill_value: float = 0.0
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def get_random_transformation(self, images, *, key):
        k_invert, k_y, k_x = jax.random.split(self._key(key), 3)
        dtype = self.policy.compute_dtype
        shape = (images.shape[0], 1)
        invert = jnp.where(jax.random.uniform(k_invert, shape, dtype) > 0.5, -1, 1)
        shear_y = jax.random.uniform(k_y, shape, dtype, *self.y_factor)
        shear_x = jax.random.uniform(k_x, shape, dtype, *self.x_factor)
        shear = jnp.concatenate([shear_x, shear_y], axis=1) * invert.astype(dtype)
        return {"shear_factor": shear}

    def _matrix(self, transformation, images):
        sx, sy = jnp.split(transformation["shear_factor"].astype(jnp.float32), 2, 1)
        zeros, ones = jnp.zeros_like(sx), jnp.ones_like(sx)
        return jnp.concatenate([ones, sx, zeros, sy, ones, zeros, zeros, zeros], 1)
