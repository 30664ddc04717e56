"""`LayerNormalization`: normalizes each example over its feature axes."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers import _args
from kerax.layers._args import (
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    constraint_field,
    initializer_field,
    number,
    regularizer_field,
)
from kerax.layers.normalization._stats import check_axes, stat_dtype


def _axis(value) -> int | tuple[int, ...]:
    """Keras's `axis=int | list[int]` (a list becomes a tuple)."""
    try:
        return _args.axis(value)
    except ValueError as e:
        raise TypeError(str(e)) from None


class LayerNormalization(Layer):
    """Normalizes each example over `axis` (the features), like Keras.

    `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, statistics over
    `axis` (an int or a tuple of ints), computed in at least float32.
    `rms_scaling=True` is Keras's deprecated variant (scales by the variance,
    no centering, `gamma` only); prefer `RMSNormalization`.

    Args:
        axis: Integer or List/Tuple. The axis or axes to normalize across.
            Typically, this is the features axis/axes. The left-out axes are
            typically the batch axis/axes. `-1` is the last dimension in the
            input. Defaults to `-1`.
        epsilon: Small float added to variance to avoid dividing by zero.
            Defaults to 1e-3.
        center: If True, add offset of `beta` to normalized tensor. If
            False, `beta` is ignored. Defaults to `True`.
        scale: If True, multiply by `gamma`. If False, `gamma` is not used.
            When the next layer is linear (also e.g. `nn.relu`), this can be
            disabled since the scaling will be done by the next layer.
            Defaults to `True`.
        beta_initializer: Initializer for the beta weight.
        gamma_initializer: Initializer for the gamma weight.
        beta_regularizer: Optional regularizer for the beta weight.
        gamma_regularizer: Optional regularizer for the gamma weight.
        beta_constraint: Optional constraint for the beta weight.
        gamma_constraint: Optional constraint for the gamma weight.
        rms_scaling: Deprecated (as in Keras). If True, `center` and
            `scale` are ignored and the inputs are scaled by `gamma` and the
            inverse square root of their variance.

    Example:
        >>> ln = kerax.layers.LayerNormalization()
        >>> params, state = ln.init(jax.random.key(0), kerax.spec((None, 5, 8)))
        >>> y, _ = ln.apply(params, state, jnp.ones((2, 5, 8)))
    """

    axis: int | tuple[int, ...] = field(-1, converter=_axis)
    epsilon: float = field(1e-3, converter=number)
    center: bool = True
    scale: bool = True
    beta_initializer: InitializerArg = initializer_field("zeros")
    gamma_initializer: InitializerArg = initializer_field("ones")
    beta_regularizer: RegularizerArg = regularizer_field("beta")
    gamma_regularizer: RegularizerArg = regularizer_field("gamma")
    beta_constraint: ConstraintArg = constraint_field("beta")
    gamma_constraint: ConstraintArg = constraint_field("gamma")
    rms_scaling: bool = False

    supports_masking = True
    autocast = False  # As Keras: inputs keep their dtype, variables stay float32.

    def __post_init__(self):
        super().__post_init__()
        if self.rms_scaling:
            warnings.warn(
                f"{self.describe()}: `rms_scaling=True` is deprecated (as in Keras): it scales by the "
                "variance, not the root mean square. Use kerax.layers.RMSNormalization instead.",
                stacklevel=2,
            )

    @property
    def _axes(self) -> list[int]:
        return sorted(self.axis) if isinstance(self.axis, tuple) else [self.axis]

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)
        check_axes(self, spec, self._axes)

    def build(self, key, spec):
        dtype = self.policy.variable_dtype
        shape = tuple(spec.shape[a] for a in self._axes)
        k_gamma, k_beta = jax.random.split(key)
        params = {}
        if self.scale or self.rms_scaling:
            params["gamma"] = self.gamma_initializer(k_gamma, shape, dtype)
        if self.center and not self.rms_scaling:
            params["beta"] = self.beta_initializer(k_beta, shape, dtype)
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        original = x.dtype
        x = x.astype(stat_dtype(x.dtype))
        axes = self._axes
        gamma = params.get("gamma")
        beta = params.get("beta")
        gamma = None if gamma is None else gamma.astype(x.dtype)
        beta = None if beta is None else beta.astype(x.dtype)
        broadcast_shape = [1] * x.ndim
        for a in axes:
            broadcast_shape[a] = x.shape[a]

        def bcast(v):
            # Keras reshapes (never transposes) multi-axis weights.
            if v is not None and v.ndim != x.ndim and axes != [x.ndim - 1]:
                return jnp.reshape(v, broadcast_shape)
            return v

        if self.rms_scaling:
            var = jnp.var(x, axis=tuple(axes), keepdims=True)
            y = x * jax.lax.rsqrt(var + self.epsilon)
            if gamma is not None:
                y = y * bcast(gamma)
        else:
            mean = jnp.mean(x, tuple(axes), keepdims=True)
            var = jnp.var(x, axis=tuple(axes), keepdims=True)
            gamma, beta = bcast(gamma), bcast(beta)
            inv = jax.lax.rsqrt(var + self.epsilon)
            if gamma is not None:
                inv = inv * gamma
            res = -mean * inv
            if beta is not None:
                res = res + beta
            y = x * inv + res
        return y.astype(original).astype(self.policy.compute_dtype), state

    def axes(self):
        if isinstance(self.axis, int):
            return {"gamma": ("embed",), "beta": ("embed",)}
        return {}
