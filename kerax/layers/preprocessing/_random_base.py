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

import jax
import jax.numpy as jnp

from kerax.core.layer import Layer
from kerax.layers.preprocessing._image_ops import (
    AFFINE_FILL_MODES,
    AFFINE_INTERPOLATIONS,
    affine_transform,
    check_choice,
    check_image_input,
    spatial_axes,
)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


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
        if x.ndim == 3:  # Keras's unbatched image: transformed as a batch of one.
            y, state = self.call(params, state, x[None], key=key, training=training)
            return y[0], state
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
