"""Keras regularization layers: the dropout family, noise, activity regularization.

Random layers take the per-call `key` (no RNG state). They are the identity
in inference and need a key in training (a clear error without one). Keras's
`seed` stays in the config and, when set, is folded into the key.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from kerax import regularizers
from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers import _args
from kerax.layers._args import data_format_field, is_int, number, optional_int


def _noise_shape(value) -> tuple[int | None, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ValueError(
            f"Invalid value received for argument `noise_shape`. Expected a tuple or list of integers. "
            f"Received: noise_shape={value!r}"
        )
    for i, dim in enumerate(value):
        if dim is not None and (not is_int(dim) or dim <= 0):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all dimensions to be positive "
                f"integers or None. Received element at index {i}: {dim!r}"
            )
    return tuple(value)


def _concrete_noise_shape(layer, x, noise_shape):
    if noise_shape is None:
        return x.shape
    if len(noise_shape) != x.ndim:
        raise ValueError(
            f"{layer.describe()}: `noise_shape` {noise_shape} must have one entry per input dimension, got inputs "
            f"{shape_str(x.shape)}."
        )
    return tuple(d if n is None else n for n, d in zip(noise_shape, x.shape))


class _RandomLayer(Layer):
    """Shared plumbing: the key check and Keras's `seed` folded into the key."""

    supports_masking = True

    def _key(self, key):
        self.require_key(key)
        if self.seed is not None:
            key = jax.random.fold_in(key, self.seed)
        return key


def _dropout(x, rate, key, noise_shape):
    """Keras's `backend.random.dropout`: keep with prob `1 - rate`, scale by `1 / (1 - rate)`."""
    if rate >= 1:
        return jnp.zeros_like(
            x
        )  # Keras divides by zero here; the result is all zeros either way.
    keep_prob = 1.0 - rate
    keep = jax.random.bernoulli(key, p=keep_prob, shape=noise_shape)
    keep = jnp.broadcast_to(keep, x.shape)
    return jax.lax.select(keep, x / jnp.asarray(keep_prob, x.dtype), jnp.zeros_like(x))


class Dropout(_RandomLayer):
    """Randomly zeroes inputs with probability `rate` in training, scaling the rest by `1 / (1 - rate)`.

    `noise_shape` (None entries take the input's size) shares the dropout
    mask along size-1 axes.

    Args:
        rate: Float between 0 and 1. Fraction of the input units to drop.
        noise_shape: Tuple of integers representing the shape of the binary
            dropout mask that will be multiplied with the input. For
            instance, if your inputs have shape `(batch_size, timesteps,
            features)` and you want the dropout mask to be the same for all
            timesteps, you can use `noise_shape=(batch_size, 1, features)`.
            `None` entries take the input's size.
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.Dropout(0.5)
        >>> y, _ = layer.apply({}, {}, jnp.ones((2, 4)), key=jax.random.key(0), training=True)
    """

    rate: float = field(converter=_args.rate)
    noise_shape: tuple[int | None, ...] | None = field(None, converter=_noise_shape)
    seed: int | None = field(None, converter=optional_int)

    def call(self, params, state, x, *, key, training):
        del params
        if training and self.rate > 0:
            x = _dropout(
                x,
                self.rate,
                self._key(key),
                _concrete_noise_shape(self, x, self.noise_shape),
            )
        return x, state


class _SpatialDropout(_RandomLayer):
    """Drops whole feature maps: one draw per (sample, channel)."""

    _ndim = 0

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self._ndim)

    def call(self, params, state, x, *, key, training):
        del params
        if training and self.rate > 0:
            channel = (
                1
                if getattr(self, "data_format", "channels_last") == "channels_first"
                else x.ndim - 1
            )
            noise_shape = tuple(
                d if i in (0, channel) else 1 for i, d in enumerate(x.shape)
            )
            x = _dropout(x, self.rate, self._key(key), noise_shape)
        return x, state


class SpatialDropout1D(_SpatialDropout):
    """Dropout of entire 1D feature maps: inputs `(batch, steps, channels)`.

    Args:
        rate: Float between 0 and 1. Fraction of the input units to drop.
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.SpatialDropout1D(0.2)
    """

    rate: float = field(converter=_args.rate)
    seed: int | None = field(None, converter=optional_int)

    _ndim = 3


class SpatialDropout2D(_SpatialDropout):
    """Dropout of entire 2D feature maps: inputs `(batch, rows, cols, channels)` (or channels first).

    Args:
        rate: Float between 0 and 1. Fraction of the input units to drop.
        data_format: `"channels_first"` or `"channels_last"`. In
            `"channels_first"` mode, the channels dimension (the depth) is at
            index 1, in `"channels_last"` mode it is the last axis. `None`
            means `"channels_last"`.
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.SpatialDropout2D(0.2, data_format="channels_first")
    """

    rate: float = field(converter=_args.rate)
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    _ndim = 4


class SpatialDropout3D(SpatialDropout2D):
    """Dropout of entire 3D feature maps: inputs `(batch, d1, d2, d3, channels)` (or channels first).

    Args:
        rate: Float between 0 and 1. Fraction of the input units to drop.
        data_format: `"channels_first"` or `"channels_last"`. In
            `"channels_first"` mode, the channels dimension (the depth) is at
            index 1, in `"channels_last"` mode it is the last axis. `None`
            means `"channels_last"`.
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.SpatialDropout3D(0.2)
    """

    _ndim = 5


class GaussianDropout(_RandomLayer):
    """Multiplies inputs by noise of mean 1 and stddev `sqrt(rate / (1 - rate))` in training.

    Args:
        rate: Float, drop probability (as with `Dropout`). The
            multiplicative noise will have standard deviation
            `sqrt(rate / (1 - rate))`.
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.GaussianDropout(0.1)
    """

    rate: float = field(converter=_args.rate)
    seed: int | None = field(None, converter=optional_int)

    def call(self, params, state, x, *, key, training):
        del params
        if training and self.rate > 0:
            if self.rate >= 1:
                raise ValueError(
                    f"{self.describe()}: rate=1 means noise of infinite variance; use rate < 1."
                )
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = 1.0 + stddev * jax.random.normal(self._key(key), x.shape, x.dtype)
            x = x * noise
        return x, state


class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise of `stddev` in training.

    Args:
        stddev: Float, standard deviation of the noise distribution (between
            0 and 1, as Keras checks).
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.GaussianNoise(0.1)
    """

    stddev: float = field(converter=_args.rate)
    seed: int | None = field(None, converter=optional_int)

    def call(self, params, state, x, *, key, training):
        del params
        if training and self.stddev > 0:
            x = x + self.stddev * jax.random.normal(self._key(key), x.shape, x.dtype)
        return x, state


# SELU's fixed point, as in Keras.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_RandomLayer):
    """Dropout that keeps the self-normalizing mean and variance of SELU networks.

    Dropped units are set to SELU's negative saturation value and the result
    is affinely corrected, as in Keras.

    Args:
        rate: Float between 0 and 1. The fraction of the input units to
            drop.
        noise_shape: Tuple of integers representing the shape of the binary
            alpha dropout mask that will be multiplied with the input
            (`None` entries take the input's size).
        seed: A Python integer to use as random seed (folded into the call's
            `key`, so one key gives different layers different noise).

    Example:
        >>> layer = kerax.layers.AlphaDropout(0.1)
    """

    rate: float = field(converter=_args.rate)
    noise_shape: tuple[int | None, ...] | None = field(None, converter=_noise_shape)
    seed: int | None = field(None, converter=optional_int)

    def call(self, params, state, x, *, key, training):
        del params
        if training and self.rate > 0:
            noise_shape = _concrete_noise_shape(self, x, self.noise_shape)
            alpha_p = -_SELU_ALPHA * _SELU_SCALE
            uniform = jax.random.uniform(self._key(key), noise_shape)
            kept = (uniform >= self.rate).astype(x.dtype)
            a = (
                ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
                if self.rate < 1
                else 0.0
            )
            b = -a * alpha_p * self.rate
            y = x * kept + alpha_p * (1 - kept)
            x = jnp.asarray(a, x.dtype) * y + jnp.asarray(b, x.dtype)
        return x, state


class ActivityRegularization(Layer):
    """Identity whose output adds `l1 * sum|x| + l2 * sum x^2` (divided by the batch size) to the training loss.

    The penalty reaches training through the auxiliary losses of
    `Layer.apply_with_losses`, with the same value as Keras's `model.losses`.

    Args:
        l1: L1 regularization factor (positive float).
        l2: L2 regularization factor (positive float).

    Example:
        >>> layer = kerax.layers.ActivityRegularization(l2=0.01)
        >>> y, state, aux = layer.apply_with_losses({}, {}, jnp.ones((2, 3)))
        >>> bool(jnp.isclose(aux, 0.01 * 6 / 2))  # l2 * sum(x**2) / batch_size
        True
    """

    l1: float = field(0.0, converter=number)
    l2: float = field(0.0, converter=number)

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        regularizers.L1L2(l1=self.l1, l2=self.l2)  # Keras's validation and messages.

    def call(self, params, state, x, *, key, training):
        del params, key, training
        add_activity_loss(regularizers.L1L2(l1=self.l1, l2=self.l2), x)
        return x, state


__all__ = [
    "ActivityRegularization",
    "AlphaDropout",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]
