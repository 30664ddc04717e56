"""`GroupNormalization`: normalizes over groups of channels (Wu & He, 2018)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers._args import (
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    constraint_field,
    initializer_field,
    is_int,
    number,
    regularizer_field,
)
from kerax.layers.normalization._stats import check_axes, stat_dtype


def _groups(value) -> int:
    if not is_int(value) or (value <= 0 and value != -1):
        raise ValueError(
            f"expected a positive int (or -1 for instance normalization), got {value!r}."
        )
    return int(value)


def _int_axis(value) -> int:
    if not is_int(value):
        raise TypeError(f"expected an int, got {value!r}.")
    return int(value)


class GroupNormalization(Layer):
    """Normalizes over groups of channels (Wu & He, 2018), like Keras.

    The `axis` dimension (channels) is split into `groups`; mean and variance
    are taken per example over each group and every other non-batch axis.
    `groups=-1` means one group per channel (instance normalization).

    Args:
        groups: Integer, the number of groups for Group Normalization. Can
            be in the range `[1, N]` where N is the input dimension. The
            input dimension must be divisible by the number of groups.
            Defaults to 32.
        axis: Integer, the axis of the channels. `-1` is the last dimension
            in the input. Defaults to `-1`.
        epsilon: Small float added to variance to avoid dividing by zero.
            Defaults to 1e-3.
        center: If `True`, add offset of `beta` to normalized tensor. If
            `False`, `beta` is ignored. Defaults to `True`.
        scale: If `True`, multiply by `gamma`. If `False`, `gamma` is not
            used. Defaults to `True`.
        beta_initializer: Initializer for the beta weight.
        gamma_initializer: Initializer for the gamma weight.
        beta_regularizer: Optional regularizer for the beta weight.
        gamma_regularizer: Optional regularizer for the gamma weight.
        beta_constraint: Optional constraint for the beta weight.
        gamma_constraint: Optional constraint for the gamma weight.

    Example:
        >>> gn = kerax.layers.GroupNormalization(groups=2)
        >>> params, state = gn.init(jax.random.key(0), kerax.spec((None, 4, 4, 6)))
    """

    groups: int = field(32, converter=_groups)
    axis: int = field(-1, converter=_int_axis)
    epsilon: float = field(1e-3, converter=number)
    center: bool = True
    scale: bool = True
    beta_initializer: InitializerArg = initializer_field("zeros")
    gamma_initializer: InitializerArg = initializer_field("ones")
    beta_regularizer: RegularizerArg = regularizer_field("beta")
    gamma_regularizer: RegularizerArg = regularizer_field("gamma")
    beta_constraint: ConstraintArg = constraint_field("beta")
    gamma_constraint: ConstraintArg = constraint_field("gamma")

    supports_masking = True
    autocast = False

    def _groups_for(self, dim: int) -> int:
        return dim if self.groups == -1 else self.groups

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)
        check_axes(self, spec, (self.axis,))
        dim = spec.shape[self.axis]
        groups = self._groups_for(dim)
        if dim < groups:
            raise ValueError(
                f"{self.describe()}: the number of groups ({groups}) cannot be more than "
                f"the number of channels ({dim}) of inputs {shape_str(spec.shape)}."
            )
        if dim % groups:
            raise ValueError(
                f"{self.describe()}: the number of channels ({dim}) must be a multiple of "
                f"the number of groups ({groups}); inputs {shape_str(spec.shape)}."
            )

    def build(self, key, spec):
        dtype = self.policy.variable_dtype
        shape = (spec.shape[self.axis],)
        k_gamma, k_beta = jax.random.split(key)
        params = {}
        if self.scale:
            params["gamma"] = self.gamma_initializer(k_gamma, shape, dtype)
        if self.center:
            params["beta"] = self.beta_initializer(k_beta, shape, dtype)
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        dim = x.shape[self.axis]
        groups = self._groups_for(dim)
        # Keras's reshape: insert the group axis before the channel axis.
        group_shape = list(x.shape)
        group_shape[self.axis] = dim // groups
        group_shape.insert(self.axis, groups)
        broadcast_shape = [1] * x.ndim
        broadcast_shape[self.axis] = dim // groups
        broadcast_shape.insert(self.axis, groups)
        inputs_dtype = x.dtype
        g = jnp.reshape(x, group_shape).astype(stat_dtype(x.dtype))
        reduction = list(range(1, g.ndim))
        reduction.pop(-2 if self.axis == -1 else self.axis - 1)
        mean = jnp.mean(g, tuple(reduction), keepdims=True)
        var = jnp.var(g, axis=tuple(reduction), keepdims=True)
        inv = jax.lax.rsqrt(var + self.epsilon)
        if self.scale:
            inv = inv * jnp.reshape(params["gamma"], broadcast_shape).astype(g.dtype)
        res = -mean * inv
        if self.center:
            res = res + jnp.reshape(params["beta"], broadcast_shape).astype(g.dtype)
        y = (g * inv + res).astype(inputs_dtype)
        return jnp.reshape(y, x.shape).astype(self.policy.compute_dtype), state
