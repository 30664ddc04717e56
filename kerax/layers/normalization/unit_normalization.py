"""`UnitNormalization`: scales each example to unit L2 norm."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers import _args


def _axis(value) -> int | tuple[int, ...]:
    """Keras's `axis=int | list[int]` (a list becomes a tuple)."""
    try:
        return _args.axis(value)
    except ValueError as e:
        raise TypeError(str(e)) from None


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis` (`keras.layers.UnitNormalization`).

    Args:
        axis: Integer or list/tuple. The axis or axes to normalize across.
            Typically, this is the features axis or axes. The left-out axes
            are typically the batch axis or axes. `-1` is the last dimension
            in the input. Defaults to `-1`.

    Example:
        >>> un = kerax.layers.UnitNormalization()
        >>> y, _ = un.apply({}, {}, jnp.array([[3.0, 4.0]]))  # [[0.6, 0.8]]
    """

    axis: int | tuple[int, ...] = field(-1, converter=_axis)

    supports_masking = True

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        ndim = len(spec.shape)
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(
                    f"{self.describe()}: axis {a} is out of bounds for inputs of shape "
                    f"{shape_str(spec.shape)}."
                )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        axis = self.axis if isinstance(self.axis, int) else tuple(self.axis)
        square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
        # Keras's `ops.normalize(order=2, epsilon=1e-12)`: x * min(rsqrt, 1/eps).
        inv_norm = jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / 1e-12)
        return x * inv_norm, state
