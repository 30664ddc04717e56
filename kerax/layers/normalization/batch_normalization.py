"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
RMSNormalization, UnitNormalization and SpectralNormalization.

Numerics follow Keras 3 on its JAX backend step by step (same reductions, same
`rsqrt` form, same casts), so imported Keras weights give the same outputs.
Batch and group statistics are computed in at least float32, as Keras does,
and moving statistics live in `state`.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from kerax import initializers
from kerax.core import naming
from kerax.core.layer import Layer, cast_floating, is_empty
from kerax.core.spec import shape_str

# `keras.config.epsilon()`: guards the masked-moment denominators.
_KERAS_EPSILON = 1e-7


def _stat_dtype(dtype):
    """At least float32: statistics in half precision overflow (as in Keras)."""
    return jnp.result_type(dtype, jnp.float32)


def _to_compute(layer: Layer, x):
    """What Keras's `__call__` does to a float input of an autocasting layer."""
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(layer.policy.compute_dtype)
    return x


def _check_axes(layer: Layer, spec, axes) -> None:
    ndim = len(spec.shape)
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool) or not -ndim <= a < ndim:
            raise ValueError(
                f"{layer.describe()}: axis {a!r} is out of bounds for inputs of shape "
                f"{shape_str(spec.shape)} (rank {ndim})."
            )
        if not isinstance(spec.shape[a], int):
            raise ValueError(
                f"{layer.describe()}: the normalized axis {a} must have a known size, "
                f"got shape {shape_str(spec.shape)}."
            )


def _int_or_ints(layer: Layer, value, what: str = "axis"):
    """Keras's `axis=int | list[int]`: validates, keeps the user's form."""
    items = value if isinstance(value, tuple) else (value,)
    if not items or any(not isinstance(a, int) or isinstance(a, bool) for a in items):
        raise TypeError(
            f"{layer.describe()}: `{what}` must be an int or a list/tuple of ints, "
            f"got {value!r}."
        )


class BatchNormalization(Layer):
    """Normalizes with batch statistics in training, moving averages in inference.

    Training (`training=True`) normalizes with the batch's mean and variance
    (over every axis but `axis`) and returns the updated moving averages in
    `state`, exactly as Keras updates its variables:
    `moving = moving * momentum + batch_stat * (1 - momentum)`. Inference uses
    `state["moving_mean"]`/`state["moving_variance"]` and returns `state`
    unchanged. Like Keras, `trainable=False` makes the layer run in inference
    mode even when `training=True`.

    Statistics are computed in (at least) float32 under any dtype policy, and
    `gamma`, `beta` and the moving statistics stay in the variable dtype, as in
    Keras. Under `jit` with a batch sharded across devices, the means are
    global (XLA inserts the cross-device reductions), so `synchronized` needs
    no special handling: statistics are always those of the whole batch.

    `mask` (shape of the input without the normalized axis) excludes positions
    from the batch statistics in training, as in Keras. `renorm=True` is batch
    renormalization (Ioffe, 2017) with Keras's extra state
    (`moving_stddev`, `renorm_mean`, `renorm_stddev`).

    Example:
        >>> bn = kerax.layers.BatchNormalization()
        >>> params, state = bn.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, state = bn.apply(params, state, jnp.ones((2, 3)), training=True)
    """

    axis: int = -1
    momentum: float = 0.99
    epsilon: float = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Any = "zeros"
    gamma_initializer: Any = "ones"
    moving_mean_initializer: Any = "zeros"
    moving_variance_initializer: Any = "ones"
    beta_regularizer: Any = None
    gamma_regularizer: Any = None
    beta_constraint: Any = None
    gamma_constraint: Any = None
    renorm: bool = False
    renorm_clipping: Any = None
    renorm_momentum: float = 0.99
    synchronized: bool = False

    supports_masking = True
    # Keras creates BN variables with `autocast=False`: the layer casts itself.
    autocast = False

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise TypeError(
                f"{self.describe()}: `axis` must be an int, got {self.axis!r}."
            )
        clipping = self.renorm_clipping
        if isinstance(clipping, dict):
            clipping = tuple(sorted(clipping.items()))
        if self.renorm and clipping is None:
            clipping = ()
        if clipping is not None:
            clipping = tuple(tuple(kv) for kv in clipping)
            keys = [k for k, _ in clipping]
            if set(keys) - {"rmax", "rmin", "dmax"}:
                raise ValueError(
                    f"{self.describe()}: invalid keys for `renorm_clipping`: {sorted(keys)}. "
                    "Supported keys: ['dmax', 'rmax', 'rmin']."
                )
            c = dict(clipping)
            if (
                c.get("rmax") is not None
                and c.get("rmin") is not None
                and c["rmax"] < c["rmin"]
            ):
                raise ValueError(
                    f"{self.describe()}: `renorm_clipping` needs rmax >= rmin, got "
                    f"rmax={c['rmax']}, rmin={c['rmin']}."
                )
            if c.get("dmax") is not None and c["dmax"] < 0:
                raise ValueError(
                    f"{self.describe()}: `renorm_clipping` needs dmax >= 0, got dmax={c['dmax']}."
                )
        object.__setattr__(self, "renorm_clipping", clipping)
        if not 0.0 <= float(self.momentum) <= 1.0:
            raise ValueError(
                f"{self.describe()}: `momentum` must be in [0, 1], got {self.momentum!r}."
            )

    def get_config(self) -> dict:
        config = super().get_config()
        if self.renorm_clipping is not None:
            config["renorm_clipping"] = dict(self.renorm_clipping)
        return config

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)
        _check_axes(self, spec, (self.axis,))

    def build(self, key, spec):
        dtype = self.policy.variable_dtype
        shape = (spec.shape[self.axis],)
        k_gamma, k_beta, k_mean, k_var = jax.random.split(key, 4)
        params = {}
        if self.scale:
            params["gamma"] = self.gamma_initializer(k_gamma, shape, dtype)
        if self.center:
            params["beta"] = self.beta_initializer(k_beta, shape, dtype)
        state = {
            "moving_mean": self.moving_mean_initializer(k_mean, shape, dtype),
            "moving_variance": self.moving_variance_initializer(k_var, shape, dtype),
        }
        if self.renorm:
            stddev = jnp.sqrt(state["moving_variance"])
            state["moving_stddev"] = stddev
            state["renorm_mean"] = self.moving_mean_initializer(k_mean, shape, dtype)
            state["renorm_stddev"] = stddev
        return params, state

    def _reduction_axes(self, ndim):
        axes = list(range(ndim))
        del axes[self.axis]
        return tuple(axes)

    def _moments(self, x, mask):
        axes = self._reduction_axes(x.ndim)
        if mask is None:
            return jnp.mean(x, axes), jnp.var(x, axes)
        m = jnp.broadcast_to(jnp.expand_dims(mask, -1), x.shape).astype(bool)
        count = jnp.sum(m.astype(x.dtype), axes, keepdims=True)
        mean = jnp.sum(jnp.where(m, x, 0), axes, keepdims=True) / (
            count + _KERAS_EPSILON
        )
        sq = jnp.square(jnp.where(m, x - mean, 0))
        var = jnp.sum(sq, axes, keepdims=True) / (count + _KERAS_EPSILON)
        return jnp.reshape(mean, (-1,)), jnp.reshape(var, (-1,))

    def call(self, params, state, x, *, key, training, mask=None):
        del key  # Not random.
        if mask is not None and mask.ndim != x.ndim - 1:
            raise ValueError(
                f"{self.describe()}: the mask must have one dimension less than the inputs, "
                f"got mask shape {shape_str(mask.shape)} and inputs {shape_str(x.shape)}."
            )
        out_dtype = self.policy.compute_dtype
        x = _to_compute(self, x)
        x = x.astype(_stat_dtype(x.dtype))
        dt = x.dtype
        gamma = params["gamma"].astype(dt) if self.scale else None
        beta = params["beta"].astype(dt) if self.center else None
        if training and self.trainable:
            mean, var = self._moments(x, mask)
            if self.renorm:
                gamma, beta, new_state = self._renorm(state, mean, var, gamma, beta, dt)
            else:
                m = self.momentum
                new_state = {
                    "moving_mean": state["moving_mean"].astype(dt) * m
                    + mean * (1.0 - m),
                    "moving_variance": state["moving_variance"].astype(dt) * m
                    + var * (1.0 - m),
                }
            state = {k: v.astype(state[k].dtype) for k, v in new_state.items()}
        else:
            mean = state["moving_mean"].astype(dt)
            var = state["moving_variance"].astype(dt)
        y = _batch_norm(x, mean, var, self.axis, beta, gamma, self.epsilon)
        return y.astype(out_dtype), state

    def _renorm(self, state, mean, var, gamma, beta, dt):
        """Batch renormalization: Keras's corrections `r`, `d` and state updates."""
        eps = self.epsilon
        clip = dict(self.renorm_clipping or ())
        stddev = jnp.sqrt(var + eps)
        renorm_mean = state["renorm_mean"].astype(dt)
        renorm_stddev_raw = state["renorm_stddev"].astype(dt)
        renorm_stddev = jnp.maximum(renorm_stddev_raw, jnp.sqrt(jnp.asarray(eps, dt)))
        r = stddev / renorm_stddev
        d = (mean - renorm_mean) / renorm_stddev
        if clip.get("rmin") is not None:
            r = jnp.maximum(r, clip["rmin"])
        if clip.get("rmax") is not None:
            r = jnp.minimum(r, clip["rmax"])
        if clip.get("dmax") is not None:
            d = jnp.clip(d, -clip["dmax"], clip["dmax"])
        r, d = jax.lax.stop_gradient(r), jax.lax.stop_gradient(d)
        if gamma is not None:
            new_gamma, new_beta = r * gamma, d * gamma
        else:
            new_gamma, new_beta = r.astype(dt), d.astype(dt)
        if beta is not None:
            new_beta = new_beta + beta
        rm, m = self.renorm_momentum, self.momentum
        moving_stddev = state["moving_stddev"].astype(dt) * m + stddev * (1.0 - m)
        new_state = {
            "renorm_mean": renorm_mean * rm + mean * (1.0 - rm),
            "renorm_stddev": renorm_stddev_raw * rm + stddev * (1.0 - rm),
            "moving_mean": state["moving_mean"].astype(dt) * m + mean * (1.0 - m),
            "moving_stddev": moving_stddev,
            # ReLU: rounding must not make the variance negative (as in Keras).
            "moving_variance": jax.nn.relu(moving_stddev * moving_stddev - eps),
        }
        return new_gamma, new_beta, new_state


def _batch_norm(x, mean, var, axis, offset, scale, epsilon):
    """`keras.ops.batch_normalization` on JAX, same operation order."""
    shape = [1] * x.ndim
    shape[axis] = mean.shape[0]
    inv = jax.lax.rsqrt(jnp.reshape(var, shape) + epsilon)
    if scale is not None:
        inv = inv * jnp.reshape(scale, shape)
    res = -jnp.reshape(mean, shape) * inv
    if offset is not None:
        res = res + jnp.reshape(offset, shape)
    return x * inv + res


class LayerNormalization(Layer):
    """Normalizes each example over `axis` (the features), like Keras.

    `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, statistics over
    `axis` (an int or a tuple of ints), computed in at least float32.
    `rms_scaling=True` is Keras's deprecated variant (scales by the variance,
    no centering, `gamma` only); prefer `RMSNormalization`.

    Example:
        >>> ln = kerax.layers.LayerNormalization()
        >>> params, state = ln.init(jax.random.key(0), kerax.spec((None, 5, 8)))
        >>> y, _ = ln.apply(params, state, jnp.ones((2, 5, 8)))
    """

    axis: Any = -1
    epsilon: float = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Any = "zeros"
    gamma_initializer: Any = "ones"
    beta_regularizer: Any = None
    gamma_regularizer: Any = None
    beta_constraint: Any = None
    gamma_constraint: Any = None
    rms_scaling: bool = False

    supports_masking = True
    autocast = False  # As Keras: inputs keep their dtype, variables stay float32.

    def __post_init__(self):
        super().__post_init__()
        _int_or_ints(self, self.axis)
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
        _check_axes(self, spec, self._axes)

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
        x = x.astype(_stat_dtype(x.dtype))
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


class GroupNormalization(Layer):
    """Normalizes over groups of channels (Wu & He, 2018), like Keras.

    The `axis` dimension (channels) is split into `groups`; mean and variance
    are taken per example over each group and every other non-batch axis.
    `groups=-1` means one group per channel (instance normalization).

    Example:
        >>> gn = kerax.layers.GroupNormalization(groups=2)
        >>> params, state = gn.init(jax.random.key(0), kerax.spec((None, 4, 4, 6)))
    """

    groups: int = 32
    axis: int = -1
    epsilon: float = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Any = "zeros"
    gamma_initializer: Any = "ones"
    beta_regularizer: Any = None
    gamma_regularizer: Any = None
    beta_constraint: Any = None
    gamma_constraint: Any = None

    supports_masking = True
    autocast = False

    def __post_init__(self):
        super().__post_init__()
        if (
            not isinstance(self.groups, int)
            or isinstance(self.groups, bool)
            or (self.groups <= 0 and self.groups != -1)
        ):
            raise ValueError(
                f"{self.describe()}: `groups` must be a positive int (or -1 for instance "
                f"normalization), got {self.groups!r}."
            )
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise TypeError(
                f"{self.describe()}: `axis` must be an int, got {self.axis!r}."
            )

    def _groups_for(self, dim: int) -> int:
        return dim if self.groups == -1 else self.groups

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)
        _check_axes(self, spec, (self.axis,))
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
        g = jnp.reshape(x, group_shape).astype(_stat_dtype(x.dtype))
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


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019), like Keras.

    `y = x * rsqrt(mean(x**2, axis) + epsilon) * scale`, computed in at
    least float32; the param is named `scale` as in Keras.

    Example:
        >>> rms = kerax.layers.RMSNormalization()
        >>> params, state = rms.init(jax.random.key(0), kerax.spec((None, 8)))
    """

    axis: Any = -1
    epsilon: float = 1e-6

    def __post_init__(self):
        super().__post_init__()
        _int_or_ints(self, self.axis)

    @property
    def _axes(self) -> list[int]:
        return sorted(self.axis) if isinstance(self.axis, tuple) else [self.axis]

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)
        _check_axes(self, spec, self._axes)

    def build(self, key, spec):
        del key  # Deterministic (ones).
        shape = tuple(spec.shape[a] for a in self._axes)
        return {"scale": jnp.ones(shape, jnp.float32)}, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        original = x.dtype
        x = x.astype(_stat_dtype(x.dtype))
        ms = jnp.mean(jnp.square(x), axis=tuple(self._axes), keepdims=True)
        scale = params["scale"].astype(x.dtype)
        # Keras broadcasts `scale` against the trailing axes; spelled out here.
        scale = jnp.reshape(scale, (1,) * (x.ndim - scale.ndim) + scale.shape)
        y = x * jax.lax.rsqrt(ms + self.epsilon) * scale
        return y.astype(original), state

    def axes(self):
        return {"scale": ("embed",)} if isinstance(self.axis, int) else {}


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis` (`keras.layers.UnitNormalization`).

    Example:
        >>> un = kerax.layers.UnitNormalization()
        >>> y, _ = un.apply({}, {}, jnp.array([[3.0, 4.0]]))  # [[0.6, 0.8]]
    """

    axis: Any = -1

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        _int_or_ints(self, self.axis)

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


def _l2_normalize_all(x):
    """`keras.utils.normalize(x, axis=None)` on tensors (epsilon 1e-7)."""
    inv = jnp.minimum(jax.lax.rsqrt(jnp.sum(jnp.square(x))), 1.0 / _KERAS_EPSILON)
    return x * inv


class SpectralNormalization(Layer):
    """Wraps a layer and divides its kernel by its spectral norm in training.

    `layer` must have a `kernel` (Dense, Conv*, ...) or `embeddings` param.
    Its params nest under its name (`params["dense"]["kernel"]`) and the
    power-iteration vector is `state["vector_u"]`, mirroring the Keras
    variable paths (`spectral_normalization/dense/kernel`,
    `spectral_normalization/vector_u`), so Keras weights import as is.

    In training, `power_iterations` steps of power iteration refine
    `vector_u` (returned in the new `state`) and the wrapped layer runs with
    `kernel / sigma`; gradients flow through `kernel` and `sigma` with the
    power-iteration vectors held constant, as in Keras. `params` are never
    changed by `apply` (they are inputs, not variables): Keras's eager call
    also writes `kernel / sigma` back into the kernel variable, but under
    `fit` on the JAX backend that write is dropped, as here. Inference runs
    the wrapped layer with the kernel as given, like Keras.

    Example:
        >>> sn = kerax.layers.SpectralNormalization(kerax.layers.Dense(4))
        >>> params, state = sn.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, state = sn.apply(params, state, jnp.ones((2, 3)), training=True)
    """

    layer: Layer = None
    power_iterations: int = 1

    autocast = False  # The wrapped layer casts for itself.
    _KERNEL_NAMES: ClassVar[tuple] = ("kernel", "embeddings")

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.layer, Layer):
            raise ValueError(
                f"{self.describe()}: `layer` must be a kerax layer with a `kernel` or "
                f"`embeddings` param, got {self.layer!r}."
            )
        if not isinstance(self.power_iterations, int) or self.power_iterations <= 0:
            raise ValueError(
                f"{self.describe()}: `power_iterations` must be a positive int, got "
                f"{self.power_iterations!r}."
            )

    @classmethod
    def from_keras_config(cls, config: dict):
        from kerax.interop.keras import construct_from_keras, layer_from_keras

        return construct_from_keras(
            cls, config, layer=layer_from_keras(config["layer"])
        )

    @property
    def _inner_name(self) -> str:
        return self.layer.scope_name

    def children(self):
        return [(self._inner_name, self.layer)]

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)

    def _kernel_name(self, inner_params) -> str:
        for name in self._KERNEL_NAMES:
            if name in inner_params:
                return name
        raise ValueError(
            f"{self.describe()}: the wrapped {self.layer.describe()} has no `kernel` nor "
            f"`embeddings` param (it has {sorted(inner_params)})."
        )

    def build(self, key, spec):
        name = self._inner_name
        inner_params, inner_state = self.layer.init(naming.child_key(key, name), spec)
        kernel = inner_params[self._kernel_name(inner_params)]
        k_u = jax.random.fold_in(key, 0)
        vector_u = initializers.TruncatedNormal(stddev=0.02)(
            k_u, (1, kernel.shape[-1]), kernel.dtype
        )
        state = {"vector_u": vector_u}
        if not is_empty(inner_state):
            state[name] = inner_state
        return {name: inner_params}, state

    def _normalized(self, kernel, vector_u):
        weights = jnp.reshape(kernel, (-1, kernel.shape[-1]))
        u = vector_u
        v = None
        for _ in range(self.power_iterations):
            v = _l2_normalize_all(u @ weights.T)
            u = _l2_normalize_all(v @ weights)
        u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = (v @ weights) @ u.T
        new_kernel = jnp.reshape(kernel / sigma, kernel.shape)
        # Keras leaves an all-zero kernel (and `vector_u`) untouched.
        all_zero = jnp.all(kernel == 0)
        u = jnp.where(all_zero, vector_u, u.astype(vector_u.dtype))
        return u, jnp.where(all_zero, kernel, new_kernel.astype(kernel.dtype))

    def call(self, params, state, x, *, key, training, mask=None):
        name = self._inner_name
        if jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.policy.compute_dtype)
        inner_params = params[name]
        if training:
            kname = self._kernel_name(inner_params)
            vector_u, kernel = self._normalized(inner_params[kname], state["vector_u"])
            inner_params = dict(inner_params, **{kname: kernel})
        kwargs = {} if mask is None else {"mask": mask}
        y, inner_state = self.layer.apply(
            inner_params,
            state.get(name, {}),
            x,
            key=naming.child_key(key, name),
            training=training,
            **kwargs,
        )
        if training:
            state = dict(state, vector_u=vector_u)
            if name in state:
                state[name] = inner_state
        if jnp.issubdtype(x.dtype, jnp.floating):
            y = cast_floating(y, x.dtype)
        # Keras casts to the input dtype even for integer inputs, turning an
        # Embedding's vectors into integers; kerax keeps them float.
        return y, state

    def compute_mask(self, x, mask=None):
        return self.layer.compute_mask(x, mask=mask)


__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "RMSNormalization",
    "SpectralNormalization",
    "UnitNormalization",
]
