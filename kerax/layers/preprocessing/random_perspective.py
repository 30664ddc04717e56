"""RandomPerspective: a random image augmentation, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS, _is_number, base_factor
from kerax.layers.preprocessing._image_ops import AFFINE_INTERPOLATIONS, check_choice
from kerax.layers.preprocessing._random_base import _RandomImageLayer

# Shared with `kerax.ops.image.perspective_transform`.
from kerax.ops._image_impl import homography, perspective_transform  # noqa: F401


def unit_scale(value) -> float:
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"should be a number in the range [0, 1]. Received: scale={value!r}"
        )
    return value


DOCS = {
    **ARG_DOCS,
    "factor": "A single float or a tuple of two floats in `[0, 1]`, the probability "
    "of the transformation. A probability is sampled in `(min, max)` for each image "
    "(a single float `f` means `(0, f)`), and the image is transformed with that "
    "probability. Defaults to 1.0.",
    "scale": "A float in `[0, 1]`, how far the corners may move: each corner "
    "coordinate is moved by a fraction drawn in `[-scale / 2, scale / 2]` of "
    "itself. Defaults to 1.0.",
    "fill_value": "a float, the value of points outside the input's boundaries.",
}


@document_args(DOCS)
class RandomPerspective(_RandomImageLayer):
    """Random perspective warps in training, like `keras.layers.RandomPerspective`.

    The corners `(0, 0)`, `(w-1, 0)`, `(0, h-1)`, `(w-1, h-1)` move to
    `p (1 + d)` per coordinate, `d` drawn in `[-scale / 2, scale / 2]`;
    the output samples the input through the homography mapping the moved
    corners back (points outside get `fill_value`). Each image is warped
    with a probability drawn in `factor`. Inference returns the input
    unchanged.

    Example:
        >>> layer = kerax.layers.RandomPerspective(scale=0.4)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    scale: float = field(1.0, converter=unit_scale)
    interpolation: str = "bilinear"
    fill_value: float = 0.0
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        check_choice(self, "interpolation", AFFINE_INTERPOLATIONS, NotImplementedError)
        if not _is_number(self.fill_value):
            raise ValueError(
                f"{self.describe()}: `fill_value` must be a number, got {self.fill_value!r}."
            )

    def get_random_transformation(self, images, *, key):
        k_probability, k_threshold, k_corners = jax.random.split(self._key(key), 3)
        dtype = self.policy.compute_dtype
        batch = images.shape[0]
        height, width = self._hw(images)
        probability = jax.random.uniform(
            k_probability, (batch,), minval=self.factor[0], maxval=self.factor[1]
        )
        threshold = jax.random.uniform(k_threshold, (batch,))
        moves = jax.random.uniform(
            k_corners, (batch, 4, 2), dtype, -0.5 * self.scale, 0.5 * self.scale
        )
        corners = [
            [0.0, 0.0],
            [width - 1, 0.0],
            [0.0, height - 1],
            [width - 1, height - 1],
        ]
        start_points = jnp.broadcast_to(jnp.asarray(corners, dtype), (batch, 4, 2))
        return {
            "apply_perspective": threshold < probability,
            "start_points": start_points,
            "end_points": start_points + start_points * moves,
        }

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        warped = perspective_transform(
            images,
            transformation["start_points"],
            transformation["end_points"],
            self.interpolation,
            self.fill_value,
            self.data_format,
        )
        apply = transformation["apply_perspective"][:, None, None, None]
        return jnp.where(apply, warped, images)
