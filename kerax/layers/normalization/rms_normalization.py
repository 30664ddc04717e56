"""`RMSNormalization`: root-mean-square normalization (Zhang & Sennrich, 2019)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers import _args
from kerax.layers._args import number
from kerax.layers.normalization._stats import check_axes, stat_dtype


def _axis(value) -> int | tuple[int, ...]:
    """Keras's `axis=int | list[int]` (a list becomes a tuple)."""
    try:
        return _args.axis(value)
    except ValueError as e:
        raise TypeError(str(e)) from None


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019), like Keras.

    `y = x * rsqrt(mean(x**2, axis) + epsilon) * scale`, computed in at
    least float32; the param is named `scale` as in Keras.

    Args:
        axis: int, or tuple of ints. The axis on which to perform the
            normalization.
        epsilon: float. A small number to add to avoid division by zero.

    Example:
        >>> rms = kerax.layers.RMSNormalization()
        >>> params, state = rms.init(jax.random.key(0), kerax.spec((None, 8)))
    """

    axis: int | tuple[int, ...] = field(-1, converter=_axis)
    epsilon: float = field(1e-6, converter=number)

    @property
    def _axes(self) -> list[int]:
        return sorted(self.axis) if isinstance(self.axis, tuple) else [self.axis]

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)
        check_axes(self, spec, self._axes)

    def build(self, key, spec):
        del key  # Deterministic (ones).
        shape = tuple(spec.shape[a] for a in self._axes)
        return {"scale": jnp.ones(shape, jnp.float32)}, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        original = x.dtype
        x = x.astype(stat_dtype(x.dtype))
        ms = jnp.mean(jnp.square(x), axis=tuple(self._axes), keepdims=True)
        scale = params["scale"].astype(x.dtype)
        # Keras broadcasts `scale` against the trailing axes; spelled out here.
        scale = jnp.reshape(scale, (1,) * (x.ndim - scale.ndim) + scale.shape)
        y = x * jax.lax.rsqrt(ms + self.epsilon) * scale
        return y.astype(original), state

    def axes(self):
        return {"scale": ("embed",)} if isinstance(self.axis, int) else {}
