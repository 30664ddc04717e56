"""Keras's classic optimizers: SGD, RMSprop, Adagrad, Adadelta, Ftrl.

Each factory returns an optax `GradientTransformation` (a `KerasOptimizer`)
whose update rule is written out from Keras 3's `update_step`, not taken from
optax: Keras's Adagrad starts the accumulator at 0.1 and puts epsilon inside
the square root, its RMSprop puts epsilon inside the root too, and its SGD
momentum accumulates `lr * g` (so a changing learning rate acts differently).

Every factory takes, besides its own arguments:
`weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name`
with Keras's meanings and defaults (see `kerax.optimizers.base`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.optimizers.base import (
    KerasOptimizer,
    Rule,
    _build,
    _map,
    _zeros,
)

__all__ = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Ftrl"]


# ---------------------------------------------------------------- SGD ------


def SGD(
    learning_rate=0.01,
    momentum=0.0,
    nesterov=False,
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
    """Gradient descent with optional (Nesterov) momentum, as Keras's `SGD`.

    `m = momentum * m - lr * g`; `w += m` (or `w += momentum * m - lr * g`
    with `nesterov=True`); without momentum `w -= lr * g`.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> tx = SGD(learning_rate=0.1, momentum=0.9)
        >>> params = {"w": jnp.ones(2)}
        >>> updates, state = tx.update(params, tx.init(params), params)
        >>> [round(w, 4) for w in optax.apply_updates(params, updates)["w"].tolist()]
        [0.9, 0.9]
    """
    args = dict(locals())
    momentum = float(momentum)
    if momentum < 0 or momentum > 1:
        raise ValueError(f"`momentum` must be a float between [0, 1]. Got {momentum}")

    def init(params):
        return _zeros(params) if momentum != 0 else None

    def update(grads, m, params, lr, iterations):
        del params, iterations  # Not used by SGD.
        if momentum == 0:
            return jax.tree.map(lambda g: -(g * lr.astype(g.dtype)), grads), None

        def leaf(g, m):
            lr_ = lr.astype(g.dtype)
            m = m * momentum - g * lr_
            return (m * momentum - g * lr_ if nesterov else m), m

        return _map(leaf, 2, grads, m)

    return _build("SGD", Rule(init, update), args)


# ------------------------------------------------------------ RMSprop ------


def RMSprop(
    learning_rate=0.001,
    rho=0.9,
    momentum=0.0,
    epsilon=1e-7,
    centered=False,
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
    """RMSprop (Hinton, lecture 6e), as Keras's `RMSprop`.

    `v = rho * v + (1 - rho) * g**2`; `w -= lr * g / sqrt(v + epsilon)`
    (epsilon inside the root, unlike optax). `centered=True` subtracts the
    squared running mean of `g` from `v`; `momentum > 0` accumulates steps.
    """
    args = dict(locals())

    def init(params):
        return {
            "velocity": _zeros(params),
            "momentum": _zeros(params) if momentum > 0 else None,
            "average_gradient": _zeros(params) if centered else None,
        }

    def update(grads, slots, params, lr, iterations):
        del params, iterations  # Not used by RMSprop.

        def leaf(g, velocity, mom, avg):
            velocity = rho * velocity + (1 - rho) * jnp.square(g)
            if centered:
                avg = rho * avg + (1 - rho) * g
                denominator = velocity - jnp.square(avg) + epsilon
            else:
                denominator = velocity + epsilon
            increment = (lr.astype(g.dtype) * g) / jnp.sqrt(denominator)
            if momentum > 0:
                mom = momentum * mom + increment
                return -mom, velocity, mom, avg
            return -increment, velocity, mom, avg

        zeros = jax.tree.map(lambda g: None, grads)
        deltas, velocity, mom, avg = _map(
            leaf,
            4,
            grads,
            slots["velocity"],
            slots["momentum"] if momentum > 0 else zeros,
            slots["average_gradient"] if centered else zeros,
        )
        return deltas, {
            "velocity": velocity,
            "momentum": mom if momentum > 0 else None,
            "average_gradient": avg if centered else None,
        }

    return _build("RMSprop", Rule(init, update), args)


# ------------------------------------------------ Adagrad, Adadelta --------


def Adagrad(
    learning_rate=0.001,
    initial_accumulator_value=0.1,
    epsilon=1e-7,
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
    """Adagrad (Duchi et al., 2011), as Keras's `Adagrad`.

    `a += g**2` (from `initial_accumulator_value`); `w -= lr * g / sqrt(a + eps)`.
    """
    args = dict(locals())

    def init(params):
        return jax.tree.map(
            lambda p: jnp.full_like(p, initial_accumulator_value), params
        )

    def update(grads, acc, params, lr, iterations):
        del params, iterations  # Not used by Adagrad.

        def leaf(g, a):
            a = a + jnp.square(g)
            return -((lr.astype(g.dtype) * g) / jnp.sqrt(a + epsilon)), a

        return _map(leaf, 2, grads, acc)

    return _build("Adagrad", Rule(init, update), args)


def Adadelta(
    learning_rate=0.001,
    rho=0.95,
    epsilon=1e-7,
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
    """Adadelta (Zeiler, 2012), as Keras's `Adadelta` (with a learning rate).

    `Eg = rho Eg + (1-rho) g**2`; `d = -sqrt(Ed + eps) / sqrt(Eg + eps) * g`;
    `Ed = rho Ed + (1-rho) d**2`; `w += lr * d`.
    """
    args = dict(locals())

    def init(params):
        return {
            "accumulated_grad": _zeros(params),
            "accumulated_delta_var": _zeros(params),
        }

    def update(grads, slots, params, lr, iterations):
        del params, iterations  # Not used by Adadelta.

        def leaf(g, acc_g, acc_d):
            acc_g = rho * acc_g + (1 - rho) * jnp.square(g)
            delta_var = -((jnp.sqrt(acc_d + epsilon) * g) / jnp.sqrt(acc_g + epsilon))
            acc_d = rho * acc_d + (1 - rho) * jnp.square(delta_var)
            return lr.astype(g.dtype) * delta_var, acc_g, acc_d

        deltas, acc_g, acc_d = _map(
            leaf, 3, grads, slots["accumulated_grad"], slots["accumulated_delta_var"]
        )
        return deltas, {"accumulated_grad": acc_g, "accumulated_delta_var": acc_d}

    return _build("Adadelta", Rule(init, update), args)


# --------------------------------------------------------------- Ftrl ------


def Ftrl(
    learning_rate=0.001,
    learning_rate_power=-0.5,
    initial_accumulator_value=0.1,
    l1_regularization_strength=0.0,
    l2_regularization_strength=0.0,
    l2_shrinkage_regularization_strength=0.0,
    beta=0.0,
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
    """FTRL-Proximal (McMahan et al., 2013), as Keras's `Ftrl`.

    Keeps `accumulator` (sum of `g**2`) and `linear`; the new weight is the
    closed-form proximal solution `(clip(linear, ±l1) - linear) / quadratic`.
    """
    args = dict(locals())
    for arg, value, sign in (
        ("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
        ("learning_rate_power", -learning_rate_power, "negative or zero"),
        ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
        ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
        (
            "l2_shrinkage_regularization_strength",
            l2_shrinkage_regularization_strength,
            "positive or zero",
        ),
    ):
        if value < 0.0:
            raise ValueError(
                f"`{arg}` needs to be {sign}. Received: {arg}={args[arg]}."
            )

    def init(params):
        return {
            "accumulator": jax.tree.map(
                lambda p: jnp.full_like(p, initial_accumulator_value), params
            ),
            "linear": _zeros(params),
        }

    def update(grads, slots, params, lr, iterations):
        del iterations  # Not used by Ftrl.
        lr_power = learning_rate_power
        l2_reg = l2_regularization_strength + beta / (2.0 * lr)
        l1 = l1_regularization_strength

        def leaf(g, w, accum, linear):
            lr_ = lr.astype(g.dtype)
            grad_to_use = g + 2 * l2_shrinkage_regularization_strength * w
            new_accum = accum + jnp.square(g)
            linear = linear + (
                grad_to_use
                - (
                    (jnp.power(new_accum, -lr_power) - jnp.power(accum, -lr_power))
                    / lr_
                )
                * w
            )
            quadratic = jnp.power(new_accum, -lr_power) / lr_ + 2 * l2_reg
            new_w = (jnp.clip(linear, -l1, l1) - linear) / quadratic
            return new_w - w, new_accum, linear

        deltas, accum, linear = _map(
            leaf, 3, grads, params, slots["accumulator"], slots["linear"]
        )
        return deltas, {"accumulator": accum, "linear": linear}

    return _build("Ftrl", Rule(init, update, needs_params=True), args)
