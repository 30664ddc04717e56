"""`BatchNormalization`: batch statistics in training, moving averages in inference."""

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
    integer,
    number,
    regularizer_field,
)
from kerax.layers.normalization._stats import (
    KERAS_EPSILON,
    check_axes,
    stat_dtype,
    to_compute,
)


def _renorm_clipping(value) -> tuple[tuple[str, float], ...] | None:
    """Keras's `renorm_clipping` dict as sorted `(key, value)` pairs, checked."""
    if value is None:
        return None
    pairs = tuple(sorted(value.items())) if isinstance(value, dict) else value
    pairs = tuple(tuple(kv) for kv in pairs)
    keys = [k for k, _ in pairs]
    if set(keys) - {"rmax", "rmin", "dmax"}:
        raise ValueError(
            f"invalid keys {sorted(keys)}. Supported keys: ['dmax', 'rmax', 'rmin']."
        )
    c = dict(pairs)
    if (
        c.get("rmax") is not None
        and c.get("rmin") is not None
        and c["rmax"] < c["rmin"]
    ):
        raise ValueError(f"needs rmax >= rmin, got rmax={c['rmax']}, rmin={c['rmin']}.")
    if c.get("dmax") is not None and c["dmax"] < 0:
        raise ValueError(f"needs dmax >= 0, got dmax={c['dmax']}.")
    return pairs


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

    Args:
        axis: Integer, the axis that should be normalized (typically the
            features axis). For instance, after a `Conv2D` layer with
            `data_format="channels_first"`, use `axis=1`.
        momentum: Momentum for the moving average.
        epsilon: Small float added to variance to avoid dividing by zero.
        center: If `True`, add offset of `beta` to normalized tensor. If
            `False`, `beta` is ignored.
        scale: If `True`, multiply by `gamma`. If `False`, `gamma` is not
            used. When the next layer is linear this can be disabled since
            the scaling will be done by the next layer.
        beta_initializer: Initializer for the beta weight.
        gamma_initializer: Initializer for the gamma weight.
        moving_mean_initializer: Initializer for the moving mean.
        moving_variance_initializer: Initializer for the moving variance.
        beta_regularizer: Optional regularizer for the beta weight.
        gamma_regularizer: Optional regularizer for the gamma weight.
        beta_constraint: Optional constraint for the beta weight.
        gamma_constraint: Optional constraint for the gamma weight.
        renorm: Whether to use Batch Renormalization
            (https://arxiv.org/abs/1702.03275). This adds extra variables
            during training. The inference is the same for either value of
            this parameter.
        renorm_clipping: Dictionary, valid only if `renorm = True`. Maps
            optional keys `"rmax"`, `"rmin"`, `"dmax"` to floats used to
            clip the renorm correction. The correction `(r, d)` is used as
            `corrected_value = normalized_value * r + d`, with `r` clipped
            to `[rmin, rmax]`, and `d` to `[-dmax, dmax]`. Missing `rmax`,
            `rmin`, `dmax` are set to `inf`, `0`, `inf`, respectively.
            (Stored as sorted `(key, value)` pairs, which are hashable.)
        renorm_momentum: Momentum used to update the moving means and
            standard deviations with renorm. Valid only if `renorm=True`.
        synchronized: Accepted for Keras compatibility: kerax's statistics
            are always those of the whole (global) batch under `jit`.

    Example:
        >>> bn = kerax.layers.BatchNormalization()
        >>> params, state = bn.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, state = bn.apply(params, state, jnp.ones((2, 3)), training=True)
    """

    axis: int = field(-1, converter=integer)
    momentum: float = field(0.99, converter=number)
    epsilon: float = field(1e-3, converter=number)
    center: bool = True
    scale: bool = True
    beta_initializer: InitializerArg = initializer_field("zeros")
    gamma_initializer: InitializerArg = initializer_field("ones")
    moving_mean_initializer: InitializerArg = initializer_field("zeros")
    moving_variance_initializer: InitializerArg = initializer_field("ones")
    beta_regularizer: RegularizerArg = regularizer_field("beta")
    gamma_regularizer: RegularizerArg = regularizer_field("gamma")
    beta_constraint: ConstraintArg = constraint_field("beta")
    gamma_constraint: ConstraintArg = constraint_field("gamma")
    renorm: bool = False
    renorm_clipping: tuple[tuple[str, float], ...] | None = field(
        None, converter=_renorm_clipping
    )
    renorm_momentum: float = field(0.99, converter=number)
    synchronized: bool = False

    supports_masking = True
    # Keras creates BN variables with `autocast=False`: the layer casts itself.
    autocast = False

    def __post_init__(self):
        super().__post_init__()
        if self.renorm and self.renorm_clipping is None:
            # Keras's config holds `{}` here; a converter sees one field only.
            object.__setattr__(self, "renorm_clipping", ())
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
        check_axes(self, spec, (self.axis,))

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
            count + KERAS_EPSILON
        )
        sq = jnp.square(jnp.where(m, x - mean, 0))
        var = jnp.sum(sq, axes, keepdims=True) / (count + KERAS_EPSILON)
        return jnp.reshape(mean, (-1,)), jnp.reshape(var, (-1,))

    def call(self, params, state, x, *, key, training, mask=None):
        del key  # Not random.
        if mask is not None and mask.ndim != x.ndim - 1:
            raise ValueError(
                f"{self.describe()}: the mask must have one dimension less than the inputs, "
                f"got mask shape {shape_str(mask.shape)} and inputs {shape_str(x.shape)}."
            )
        out_dtype = self.policy.compute_dtype
        x = to_compute(self, x)
        x = x.astype(stat_dtype(x.dtype))
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
