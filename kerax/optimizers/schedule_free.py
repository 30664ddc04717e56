"""Keras's `ScheduleFreeAdamW` and the params to evaluate it on.

Schedule-Free AdamW (Defazio et al., 2024) keeps three sequences: `z`, where
the Adam-preconditioned gradient steps land (Keras's `momentum` slot); `x`,
the running average of the `z`s (weights `1/t`); and `y`, their
interpolation `(1 - beta_1) * z + beta_1 * x`, where gradients are taken.
As in Keras, the model's params are `y` and the optimizer state keeps `z`;
`x` is never stored: it is recovered as `(y - (1 - beta_1) * z) / beta_1`.

Keras 3.15 trains and evaluates on `y`: `fit`, `evaluate` and `predict`
use the model's variables as they are, with no swap (the optimizer
overrides no `finalize_variable_values`, and no callback switches the
variables). kerax's `Trainer` does the same. The paper and the reference
implementation evaluate on `x` instead (their `optimizer.eval()`);
`schedule_free_eval_params(opt_state, params)` gives those params, to pass
to `evaluate`/`predict` explicitly:

    eval_ts = ts._replace(
        params=ko.schedule_free_eval_params(ts.opt_state, ts.params))
    trainer.evaluate(eval_ts, x, y)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax

from kerax.optimizers.base import (
    _F32,
    KerasOptimizer,
    KerasOptimizerState,
    Rule,
    _build,
    _check_number,
    _lr_states,
    _map,
    _step,
    _zeros,
)

__all__ = ["ScheduleFreeAdamW", "ScheduleFreeSlots", "schedule_free_eval_params"]


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["momentum", "velocity"],
    meta_fields=["beta_1"],
)
@dataclasses.dataclass(frozen=True)
class ScheduleFreeSlots:
    """`ScheduleFreeAdamW`'s state per param; a pytree.

    Attributes:
        momentum: the `z` sequence (Keras's `momentum` variables), starting
            at the initial params.
        velocity: Adam's second moment estimate.
        beta_1: static; the interpolation weight, needed to recover `x`.
    """

    momentum: Any
    velocity: Any
    beta_1: float


def ScheduleFreeAdamW(
    learning_rate=0.0025,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    warmup_steps=0,
    weight_decay=None,
    clipnorm=None,
    clipvalue=None,
    global_clipnorm=None,
    use_ema=False,
    ema_momentum=0.99,
    ema_overwrite_frequency=None,
    loss_scale_factor=None,
    gradient_accumulation_steps=None,
    name=None,
) -> KerasOptimizer:
    """Schedule-Free AdamW (Defazio et al., 2024), as Keras's `ScheduleFreeAdamW`.

    Per step `t` (1-based), with `lr` warmed up linearly over `warmup_steps`:
    `v = beta_2 v + (1 - beta_2) g^2`;
    `z -= lr * g / (sqrt(v / (1 - beta_2^t)) + epsilon)`;
    `x = (1 - 1/t) x + (1/t) z`; params `y = (1 - beta_1) z + beta_1 x`.
    `weight_decay` is Keras's decoupled decay of the params before the step.
    The params are `y`; `schedule_free_eval_params` gives `x` (see the
    module doc for which one Keras evaluates on: `y`).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> tx = ScheduleFreeAdamW(learning_rate=0.01, warmup_steps=100)
        >>> params = {"w": jnp.ones(3)}
        >>> updates, state = jax.jit(tx.update)(params, tx.init(params), params)
    """
    args = dict(locals())
    _check_number("beta_1", beta_1, low=0, high=1, strict=("low",))
    _check_number("beta_2", beta_2, low=0, high=1, strict=("high",))
    _check_number("epsilon", epsilon)
    _check_number("warmup_steps", warmup_steps, low=0, integer=True)

    def init(params):
        return ScheduleFreeSlots(
            momentum=jax.tree.map(jnp.array, params),
            velocity=_zeros(params),
            beta_1=float(beta_1),
        )

    def update(grads, slots, params, lr, iterations):
        # Keras's `update_step`, operation for operation. Keras casts the
        # scalars (betas, step, learning rate) to the variable's dtype first:
        # in bfloat16, beta_2 = 0.999 becomes 1.0 and its bias correction 0,
        # so Keras's params turn NaN. Here the scalars are computed in
        # float32 and cast after (as kerax's Adam does); for float32
        # variables that is Keras's arithmetic exactly.
        local_step = _step(iterations)
        b1 = jnp.asarray(beta_1, _F32)
        b2 = jnp.asarray(beta_2, _F32)
        lr_t = lr
        if warmup_steps > 0:
            warmup = jnp.minimum(local_step / jnp.asarray(warmup_steps, _F32), 1.0)
            lr_t = lr_t * warmup
        bias_correction_2 = 1 - jnp.power(b2, local_step)
        weight = 1.0 / local_step

        def leaf(g, y, z, v):
            def c(s):
                return jnp.asarray(s, y.dtype)

            g = g.astype(y.dtype)
            v = v + (jnp.square(g) - v) * c(1 - b2)
            denom = jnp.sqrt(v / c(bias_correction_2)) + c(epsilon)
            z_new = z - (c(lr_t) * g) / denom
            x_old = (y - c(1 - b1) * z) / c(b1)
            x_new = c(1 - weight) * x_old + c(weight) * z_new
            y_new = c(1 - b1) * z_new + c(b1) * x_new
            return y_new - y, z_new, v

        deltas, z, v = _map(leaf, 3, grads, params, slots.momentum, slots.velocity)
        return deltas, ScheduleFreeSlots(momentum=z, velocity=v, beta_1=slots.beta_1)

    return _build("ScheduleFreeAdamW", Rule(init, update, needs_params=True), args)


def schedule_free_eval_params(opt_state, params):
    """The averaged params `x` of a `ScheduleFreeAdamW` run, for evaluation.

    Training keeps the params at `y`, the interpolation Keras (and
    `Trainer.evaluate`/`predict`) evaluates on; the Schedule-Free paper and
    its reference implementation evaluate on the average `x`, recovered as
    `(y - (1 - beta_1) * z) / beta_1`. Pure and jittable.

    Args:
        opt_state: state of a `ScheduleFreeAdamW` (possibly inside `freeze`,
            `optax.chain`, ..., e.g. a TrainState's `opt_state`).
        params: the current params `y`, with the structure the optimizer was
            initialized on or the full model params when it is wrapped in
            `freeze` (frozen leaves are returned as they are).

    Raises:
        ValueError: the state holds no `ScheduleFreeAdamW` state.

    Example:
        >>> import jax.numpy as jnp, kerax.optimizers as ko
        >>> params = {"w": jnp.ones(3)}
        >>> state = ko.ScheduleFreeAdamW().init(params)
        >>> ko.schedule_free_eval_params(state, params)["w"].tolist()
        [1.0, 1.0, 1.0]
    """
    try:
        found = _lr_states(opt_state)
    except ValueError:
        found = []
    states = [
        s
        for s in found
        if isinstance(s, KerasOptimizerState) and isinstance(s.slots, ScheduleFreeSlots)
    ]
    if not states:
        raise ValueError(
            "schedule_free_eval_params needs the state of a ScheduleFreeAdamW "
            "optimizer (kerax.optimizers.ScheduleFreeAdamW(...)); this optimizer "
            "state holds none."
        )
    slots = states[0].slots
    b1 = slots.beta_1

    def x_of(y, z):
        if isinstance(z, optax.MaskedNode):
            return y
        b = jnp.asarray(b1, y.dtype)
        return (y - (1 - b) * z) / b

    return jax.tree.map(x_of, params, slots.momentum)
