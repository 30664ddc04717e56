"""Keras activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax import activations
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers import _args
from kerax.layers._args import (
    ActivationArg,
    Axis,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    constraint_field,
    initializer_field,
    regularizer_field,
)


def _non_negative(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"cannot be None or a negative value. Received: {value!r}")
    return value


def _optional_non_negative(value) -> float | None:
    return None if value is None else _non_negative(value)


def _shared_axes(value) -> tuple[int, ...] | None:
    if value is None:
        return None
    shared = _args.axis(value)
    shared = (shared,) if isinstance(shared, int) else shared
    if any(a < 1 for a in shared):
        raise ValueError(f"expected ints >= 1 (axis 0 is the batch), got {value!r}.")
    return shared


class Activation(Layer):
    """Applies an activation function to an output.

    Args:
        activation: Activation function. It could be a callable, or the
            name of an activation from the `kerax.activations` namespace.

    Example:
        >>> layer = kerax.layers.Activation("relu")
        >>> layer.apply({}, {}, jnp.array([[-1.0, 2.0]]))[0]
        Array([[0., 2.]], dtype=float32)
    """

    activation: ActivationArg = field(converter=_args.activation)

    supports_masking = True

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return activations.get(self.activation)(x), state


class ReLU(Layer):
    """Rectified linear unit with Keras's `max_value`, `negative_slope`, `threshold`.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`,
    `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: Float >= 0. Maximum activation value. `None` means
            unlimited. Defaults to `None`.
        negative_slope: Float >= 0. Negative slope coefficient. Defaults to
            `0.0`.
        threshold: Float >= 0. Threshold value for thresholded activation.
            Defaults to `0.0`.

    Example:
        >>> layer = kerax.layers.ReLU(max_value=6.0)
        >>> layer.apply({}, {}, jnp.array([[-1.0, 8.0]]))[0]
        Array([[0., 6.]], dtype=float32)
    """

    max_value: float | None = field(None, converter=_optional_non_negative)
    negative_slope: float = field(0.0, converter=_non_negative)
    threshold: float = field(0.0, converter=_non_negative)

    supports_masking = True

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
    """Leaky version of a Rectified Linear Unit activation layer.

    `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: Float >= 0.0. Negative slope coefficient. Defaults
            to `0.3`.

    Example:
        >>> kerax.layers.LeakyReLU().apply({}, {}, jnp.array([[-1.0, 2.0]]))[0]
        Array([[-0.3,  2. ]], dtype=float32)
    """

    negative_slope: float = field(0.3, converter=_non_negative)

    supports_masking = True

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return activations.leaky_relu(x, negative_slope=self.negative_slope), state


class PReLU(Layer):
    """Parametric ReLU: `relu(x) - alpha * relu(-x)` with a learned `alpha`.

    `alpha` has the input's non-batch shape, with size 1 along `shared_axes`
    (1-based, the batch being axis 0, as in Keras).

    Args:
        alpha_initializer: Initializer function for the weights.
        alpha_regularizer: Regularizer for the weights.
        alpha_constraint: Constraint for the weights.
        shared_axes: The axes along which to share learnable parameters for
            the activation function. For example, if the incoming feature
            maps are from a 2D convolution with output shape `(batch,
            height, width, channels)`, and you wish to share parameters
            across space so that each filter only has one set of
            parameters, set `shared_axes=[1, 2]`.

    Example:
        >>> layer = kerax.layers.PReLU(shared_axes=(1, 2))
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 8, 8, 3)))
        >>> params["alpha"].shape
        (1, 1, 3)
    """

    alpha_initializer: InitializerArg = initializer_field("Zeros")
    alpha_regularizer: RegularizerArg = regularizer_field("alpha")
    alpha_constraint: ConstraintArg = constraint_field("alpha")
    shared_axes: tuple[int, ...] | None = field(None, converter=_shared_axes)

    supports_masking = True

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
    """Applies an Exponential Linear Unit function to an output.

    `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    Args:
        alpha: float, slope of negative section. Defaults to `1.0`.

    Example:
        >>> kerax.layers.ELU(alpha=1.0).apply({}, {}, jnp.array([[0.0, 2.0]]))[0]
        Array([[0., 2.]], dtype=float32)
    """

    alpha: float = field(1.0, converter=_args.number)

    supports_masking = True

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

    Args:
        axis: Integer, or tuple of integers, axis along which the softmax
            normalization is applied.

    Example:
        >>> layer = kerax.layers.Softmax()
        >>> x = jnp.array([[1.0, 1.0, 5.0]])
        >>> layer.apply({}, {}, x, mask=jnp.array([[True, True, False]]))[0]
        Array([[0.5, 0.5, 0. ]], dtype=float32)
    """

    axis: Axis = field(-1, converter=_args.axis)

    supports_masking = True

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
