"""Keras activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax import activations
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Activation(Layer):
    """Applies an activation function by Keras name or callable.

    Example:
        >>> layer = kerax.layers.Activation("relu")
        >>> layer.apply({}, {}, jnp.array([[-1.0, 2.0]]))[0]
        Array([[0., 2.]], dtype=float32)
    """

    activation: Any = None

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        activations.get(self.activation)  # Fail at construction on unknown names.

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return activations.get(self.activation)(x), state


class ReLU(Layer):
    """Rectified linear unit with Keras's `max_value`, `negative_slope`, `threshold`.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`,
    `negative_slope * (x - threshold)` otherwise.

    Example:
        >>> layer = kerax.layers.ReLU(max_value=6.0)
        >>> layer.apply({}, {}, jnp.array([[-1.0, 8.0]]))[0]
        Array([[0., 6.]], dtype=float32)
    """

    max_value: float | None = None
    negative_slope: float = 0.0
    threshold: float = 0.0

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        if self.max_value is not None and (
            not _number(self.max_value) or self.max_value < 0.0
        ):
            raise ValueError(
                f"{self.describe()}: max_value of a ReLU layer cannot be a negative value. Received: max_value={self.max_value}"
            )
        if not _number(self.negative_slope) or self.negative_slope < 0.0:
            raise ValueError(
                f"{self.describe()}: negative_slope of a ReLU layer cannot be None or a negative value. "
                f"Received: negative_slope={self.negative_slope}"
            )
        if not _number(self.threshold) or self.threshold < 0.0:
            raise ValueError(
                f"{self.describe()}: threshold of a ReLU layer cannot be None or a negative value. "
                f"Received: threshold={self.threshold}"
            )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        y = activations.relu(
            x,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )
        return y, state


class LeakyReLU(Layer):
    """`x` for `x >= 0`, `negative_slope * x` otherwise (Keras default slope 0.3).

    Example:
        >>> kerax.layers.LeakyReLU().apply({}, {}, jnp.array([[-1.0, 2.0]]))[0]
        Array([[-0.3,  2. ]], dtype=float32)
    """

    negative_slope: float = 0.3

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        if not _number(self.negative_slope) or self.negative_slope < 0:
            raise ValueError(
                f"{self.describe()}: The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={self.negative_slope}"
            )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return activations.leaky_relu(x, negative_slope=self.negative_slope), state


class PReLU(Layer):
    """Parametric ReLU: `relu(x) - alpha * relu(-x)` with a learned `alpha`.

    `alpha` has the input's non-batch shape, with size 1 along `shared_axes`
    (1-based, the batch being axis 0, as in Keras).

    Example:
        >>> layer = kerax.layers.PReLU(shared_axes=(1, 2))
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 8, 8, 3)))
        >>> params["alpha"].shape
        (1, 1, 3)
    """

    alpha_initializer: Any = "Zeros"
    alpha_regularizer: Any = None
    alpha_constraint: Any = None
    shared_axes: Any = None

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        shared = self.shared_axes
        if shared is not None:
            shared = (shared,) if isinstance(shared, int) else tuple(shared)
            if not all(
                isinstance(a, int) and not isinstance(a, bool) and a >= 1
                for a in shared
            ):
                raise ValueError(
                    f"{self.describe()}: `shared_axes` must be ints >= 1 (axis 0 is the batch), got {self.shared_axes!r}."
                )
        object.__setattr__(self, "shared_axes", shared)

    def _param_shape(self, shape):
        param_shape = list(shape[1:])
        for i in self.shared_axes or ():
            param_shape[i - 1] = 1
        return tuple(param_shape)

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)
        rank = len(spec.shape)
        for i in self.shared_axes or ():
            if i >= rank:
                raise ValueError(
                    f"{self.describe()}: shared axis {i} is out of range for inputs {shape_str(spec.shape)}."
                )
        free = [
            d
            for i, d in enumerate(spec.shape)
            if i > 0 and i not in (self.shared_axes or ())
        ]
        if any(is_symbolic(d) for d in free):
            raise ValueError(
                f"{self.describe()} needs known sizes for the non-shared axes of its inputs to shape `alpha`, got "
                f"{shape_str(spec.shape)}; list the unknown axes in `shared_axes`."
            )

    def build(self, key, spec):
        return {
            "alpha": self.alpha_initializer(
                key, self._param_shape(spec.shape), jnp.float32
            )
        }, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        alpha = params["alpha"]
        if x.ndim != alpha.ndim + 1 or any(
            a != 1 and not is_symbolic(d) and a != d
            for a, d in zip(alpha.shape, x.shape[1:])
        ):
            raise ValueError(
                f"{self.describe()} expected inputs of shape {shape_str((None, *alpha.shape))} (1 = shared axis), "
                f"got {shape_str(x.shape)}."
            )
        alpha = jnp.expand_dims(
            alpha, 0
        )  # Same rank as x: strict rank promotion holds.
        return jax.nn.relu(x) - alpha * jax.nn.relu(-x), state


class ELU(Layer):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    Example:
        >>> kerax.layers.ELU(alpha=1.0).apply({}, {}, jnp.array([[0.0, 2.0]]))[0]
        Array([[0., 2.]], dtype=float32)
    """

    alpha: float = 1.0

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        if not _number(self.alpha):
            raise ValueError(
                f"{self.describe()}: `alpha` must be a number, got {self.alpha!r}."
            )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return activations.elu(x, alpha=self.alpha), state


def _large_negative_number(dtype):
    # Keras's choice: -1e9 fits float32/bfloat16, float16 needs -3e4.
    return -3e4 if jnp.dtype(dtype) == jnp.float16 else -1e9


class Softmax(Layer):
    """Softmax over `axis` (an int or a tuple of ints), with Keras's `mask`.

    Where `mask` is False the input is replaced by a large negative number
    (-1e9, -3e4 in float16) before the softmax and the output is set to 0,
    exactly as Keras does. `mask` must broadcast to the input.

    Example:
        >>> layer = kerax.layers.Softmax()
        >>> x = jnp.array([[1.0, 1.0, 5.0]])
        >>> layer.apply({}, {}, x, mask=jnp.array([[True, True, False]]))[0]
        Array([[0.5, 0.5, 0. ]], dtype=float32)
    """

    axis: Any = -1

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        if not axes or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in axes
        ):
            raise ValueError(
                f"{self.describe()}: `axis` must be an int or a tuple of ints, got {self.axis!r}."
            )

    def check_input(self, spec):
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        rank = len(spec.shape)
        if any(not -rank <= a < rank for a in axes):
            raise ValueError(
                f"{self.describe()}: axis {self.axis} is out of range for inputs {shape_str(spec.shape)}."
            )

    def call(self, params, state, x, *, key, training, mask=None):
        del params, key, training
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.ndim > x.ndim or any(
                m != 1 and m != d
                for m, d in zip(mask.shape[::-1], x.shape[::-1])
                if not (is_symbolic(m) or is_symbolic(d))
            ):
                raise ValueError(
                    f"{self.describe()}: The `mask` must be broadcastable to `inputs`: each mask dimension must be 1 "
                    f"or match the input's. Received: inputs.shape={shape_str(x.shape)}, mask.shape={shape_str(mask.shape)}"
                )
            if mask.dtype != jnp.bool_:
                mask = mask > jnp.asarray(0.5, mask.dtype)
            mask = jnp.expand_dims(mask, tuple(range(x.ndim - mask.ndim)))
            x = jnp.where(
                mask, x, jnp.asarray(_large_negative_number(x.dtype), x.dtype)
            )
        if isinstance(self.axis, tuple) and len(self.axis) > 1:
            y = jnp.exp(x - jax.nn.logsumexp(x, axis=self.axis, keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, tuple) else self.axis
            y = activations.softmax(x, axis=axis)
        if mask is not None:
            y = jnp.where(mask, y, jnp.zeros((), y.dtype))
        return y, state


__all__ = ["ELU", "Activation", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
