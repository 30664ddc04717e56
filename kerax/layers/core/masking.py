"""`Masking`: masks timesteps whose features all equal a value."""

from __future__ import annotations

import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._args import number


class Masking(Layer):
    """Masks a sequence by using a mask value to skip timesteps.

    For each timestep of the input (dimension #1 of a `(batch, timesteps,
    features)` input), if all values at that timestep equal `mask_value`,
    the timestep is masked (skipped) in all downstream layers that support
    masking. The output zeroes masked timesteps (as Keras does) and
    `compute_mask` returns `any(x != mask_value, axis=-1)`.

    Args:
        mask_value: The value that marks a timestep to skip.

    Example:
        >>> layer = kerax.layers.Masking(mask_value=0.0)
        >>> x = jnp.array([[[1.0], [0.0]]])
        >>> layer.compute_mask(x)
        Array([[ True, False]], dtype=bool)
    """

    mask_value: float = field(0.0, converter=number)

    supports_masking = True

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        keep = jnp.any(jnp.not_equal(x, self.mask_value), axis=-1, keepdims=True)
        return jnp.where(keep, x, jnp.zeros((), x.dtype)), state

    def compute_mask(self, x, mask=None):
        del mask  # Keras recomputes the mask from the values.
        return jnp.any(jnp.not_equal(x, self.mask_value), axis=-1)
