"""Keras's Adam family: Adam, AdamW, Adamax, Nadam, Adafactor, Lamb, Lion.

Each factory returns an optax `GradientTransformation` (a `KerasOptimizer`)
whose update rule is written out from Keras 3's `update_step`, not taken from
optax: Keras's Adam folds the bias corrections into the step size and adds
epsilon to the uncorrected `sqrt(v)`, its Nadam keeps Dozat's momentum
schedule, its Adafactor clips and scales as Keras does.

Every factory takes, besides its own arguments:
`weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name`
with Keras's meanings and defaults (see `kerax.optimizers.base`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.optimizers.base import (
    _F32,
    KerasOptimizer,
    Rule,
    _build,
    _map,
    _step,
    _zeros,
)

__all__ = ["Adam", "AdamW", "Adamax", "Nadam", "Adafactor", "Lamb", "Lion"]


# --------------------------------------------------------------- Adam ------


def _adam_step_size(lr, beta_1, beta_2, local_step):
    """Keras's Adam step size: both bias corrections folded into `lr`."""
    beta_1_power = jnp.power(jnp.asarray(beta_1, _F32), local_step)
    beta_2_power = jnp.power(jnp.asarray(beta_2, _F32), local_step)
    return lr * jnp.sqrt(1 - beta_2_power) / (1 - beta_1_power)


def _adam_moments(g, m, v, beta_1, beta_2):
    """Keras's Adam moment updates (`m += (g - m) (1 - beta_1)`, likewise `v`)."""
    return m + (g - m) * (1 - beta_1), v + (jnp.square(g) - v) * (1 - beta_2)


def _adam_rule(beta_1, beta_2, epsilon, amsgrad) -> Rule:
    def init(params):
        return {
            "momentum": _zeros(params),
            "velocity": _zeros(params),
            "velocity_hat": _zeros(params) if amsgrad else None,
        }

    def update(grads, slots, params, lr, iterations):
        del params  # Not used by Adam.
        # Keras folds both bias corrections into the step size and adds
        # epsilon to the uncorrected sqrt(v) (the Adam paper's Algorithm 1
        # "efficient version"); optax adds it to the corrected one.
        alpha = _adam_step_size(lr, beta_1, beta_2, _step(iterations))

        def leaf(g, m, v, v_hat):
            m, v = _adam_moments(g, m, v, beta_1, beta_2)
            v_used = v
            if amsgrad:
                v_hat = jnp.maximum(v_hat, v)
                v_used = v_hat
            delta = -((m * alpha.astype(g.dtype)) / (jnp.sqrt(v_used) + epsilon))
            return delta, m, v, v_hat

        hats = slots["velocity_hat"] if amsgrad else jax.tree.map(lambda g: None, grads)
        deltas, m, v, v_hat = _map(
            leaf, 4, grads, slots["momentum"], slots["velocity"], hats
        )
        return deltas, {
            "momentum": m,
            "velocity": v,
            "velocity_hat": v_hat if amsgrad else None,
        }

    return Rule(init, update)


def Adam(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-7,
    amsgrad=False,
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
    """Adam (Kingma and Ba, 2014), as Keras's `Adam`.

    `w -= lr_t * m / (sqrt(v) + epsilon)` with
    `lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`; `amsgrad=True` uses
    the running maximum of `v` (Reddi et al., 2018).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> tx = Adam(learning_rate=1e-3)
        >>> params = {"w": jnp.zeros(3)}
        >>> state = tx.init(params)
        >>> updates, state = jax.jit(tx.update)(params, state, params)
    """
    args = dict(locals())
    return _build("Adam", _adam_rule(beta_1, beta_2, epsilon, amsgrad), args)


def AdamW(
    learning_rate=0.001,
    weight_decay=0.004,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-7,
    amsgrad=False,
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
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Keras's AdamW is Adam with `weight_decay` required: `w -= w * wd * lr`
    before each Adam step (the decay is scaled by the learning rate, as in
    Keras; optax's `adamw` scales it by the learning rate too).
    """
    args = dict(locals())
    if weight_decay is None:
        raise ValueError(
            "Argument `weight_decay` must be a float. Received: weight_decay=None"
        )
    return _build("AdamW", _adam_rule(beta_1, beta_2, epsilon, amsgrad), args)


def Adamax(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
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
    """Adamax, Adam's infinity-norm variant (Kingma and Ba, 2014, section 7).

    `u = max(beta_2 * u, |g|)`; `w -= lr * m / ((1 - beta_1**t) * (u + epsilon))`.
    """
    args = dict(locals())

    def init(params):
        return {"momentum": _zeros(params), "norm": _zeros(params)}

    def update(grads, slots, params, lr, iterations):
        del params  # Not used by Adamax.
        beta_1_power = jnp.power(jnp.asarray(beta_1, _F32), _step(iterations))

        def leaf(g, m, u):
            m = m + (g - m) * (1 - beta_1)
            u = jnp.maximum(beta_2 * u, jnp.abs(g))
            delta = -(
                (lr.astype(g.dtype) * m)
                / ((1 - beta_1_power).astype(g.dtype) * (u + epsilon))
            )
            return delta, m, u

        deltas, m, u = _map(leaf, 3, grads, slots["momentum"], slots["norm"])
        return deltas, {"momentum": m, "norm": u}

    return _build("Adamax", Rule(init, update), args)


def Nadam(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
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
    """Nadam, Adam with Nesterov momentum (Dozat, 2016), as Keras's `Nadam`.

    Keras keeps Dozat's momentum schedule `u_t = beta_1 (1 - 0.5 * 0.96**t)` and
    its running product (`u_product`, one scalar for all variables).
    """
    args = dict(locals())

    def init(params):
        return {
            "momentum": _zeros(params),
            "velocity": _zeros(params),
            "u_product": jnp.ones([], _F32),
        }

    def update(grads, slots, params, lr, iterations):
        del params  # Not used by Nadam.
        local_step = _step(iterations)
        next_step = _step(iterations, 2)
        u_product = (
            slots["u_product"] * beta_1 * (1.0 - 0.5 * jnp.power(0.96, local_step))
        )
        decay = jnp.asarray(0.96, _F32)
        b1 = jnp.asarray(beta_1, _F32)
        b2 = jnp.asarray(beta_2, _F32)
        u_t = b1 * (1.0 - 0.5 * jnp.power(decay, local_step))
        u_t_1 = b1 * (1.0 - 0.5 * jnp.power(decay, next_step))
        u_product_t_1 = u_product * u_t_1
        beta_2_power = jnp.power(b2, local_step)

        def leaf(g, m, v):
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (
                1 - u_product
            )
            v_hat = v / (1 - beta_2_power)
            delta = -((m_hat * lr.astype(g.dtype)) / (jnp.sqrt(v_hat) + epsilon))
            return delta, m, v

        deltas, m, v = _map(leaf, 3, grads, slots["momentum"], slots["velocity"])
        return deltas, {"momentum": m, "velocity": v, "u_product": u_product}

    return _build("Nadam", Rule(init, update), args)


# ---------------------------------------------------------- Adafactor ------


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


def Adafactor(
    learning_rate=0.001,
    beta_2_decay=-0.8,
    epsilon_1=1e-30,
    epsilon_2=1e-3,
    clip_threshold=1.0,
    relative_step=True,
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
    """Adafactor (Shazeer and Stern, 2018), as Keras's `Adafactor`.

    Variables of rank >= 2 keep factored second moments over their last two
    axes (`r`: row means, `c`: column means); smaller ones a full `v`. The
    step is `max(epsilon_2, rms(w)) * min(lr, 1/sqrt(t))` times the update
    clipped to RMS `clip_threshold`. Keras applies `min(lr, 1/sqrt(t))`
    whatever `relative_step` says, and so does this.
    """
    args = dict(locals())
    del relative_step  # Keras's own arithmetic makes it a no-op; see above.

    def init(params):
        def factored(p, shape):
            return jnp.zeros(shape, p.dtype) if p.ndim >= 2 else jnp.zeros([], p.dtype)

        return {
            "r": jax.tree.map(lambda p: factored(p, p.shape[:-1]), params),
            "c": jax.tree.map(
                lambda p: factored(p, p.shape[:-2] + p.shape[-1:]), params
            ),
            "velocity": _zeros(params),
        }

    def update(grads, slots, params, lr, iterations):
        local_step = _step(iterations)
        rho_t = jnp.minimum(lr, 1 / jnp.sqrt(local_step))
        beta_2_t = 1 - jnp.power(local_step, beta_2_decay)

        def leaf(g, w, r, c, v):
            alpha_t = jnp.maximum(jnp.asarray(epsilon_2, g.dtype), _rms(w)) * rho_t
            regulated_grad_square = jnp.square(g) + epsilon_1
            if w.ndim >= 2:
                r = beta_2_t * r + (1 - beta_2_t) * jnp.mean(
                    regulated_grad_square, axis=-1
                )
                c = beta_2_t * c + (1 - beta_2_t) * jnp.mean(
                    regulated_grad_square, axis=-2
                )
                v = jnp.expand_dims(
                    r / jnp.mean(r, axis=-1, keepdims=True), -1
                ) * jnp.expand_dims(c, -2)
            else:
                v = beta_2_t * v + (1 - beta_2_t) * regulated_grad_square
            u_t = g / jnp.sqrt(v)
            u_t_hat = u_t / jnp.maximum(
                jnp.ones([], g.dtype), _rms(u_t) / clip_threshold
            )
            return -(alpha_t * u_t_hat), r, c, v

        deltas, r, c, v = _map(
            leaf, 4, grads, params, slots["r"], slots["c"], slots["velocity"]
        )
        return deltas, {"r": r, "c": c, "velocity": v}

    return _build("Adafactor", Rule(init, update, needs_params=True), args)


# ------------------------------------------------------------ Lamb, Lion ---


def Lamb(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
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
    """LAMB (You et al., 2019), as Keras's `Lamb`.

    The Adam direction `m_hat / (sqrt(v_hat) + eps)` scaled per variable by the
    trust ratio `||w|| / ||direction||` (1 when either norm is 0).
    """
    args = dict(locals())

    def init(params):
        return {"momentum": _zeros(params), "velocity": _zeros(params)}

    def update(grads, slots, params, lr, iterations):
        local_step = _step(iterations)
        beta_1_power = jnp.power(jnp.asarray(beta_1, _F32), local_step)
        beta_2_power = jnp.power(jnp.asarray(beta_2, _F32), local_step)

        def leaf(g, w, m, v):
            m = m + (g - m) * (1 - beta_1)
            v = v + (jnp.square(g) - v) * (1 - beta_2)
            m_t_hat = m / (1.0 - beta_1_power)
            v_sqrt = jnp.sqrt(v / (1.0 - beta_2_power)) + epsilon
            direction = m_t_hat / v_sqrt
            w_norm = jnp.sqrt(jnp.sum(jnp.square(w)))
            g_norm = jnp.sqrt(jnp.sum(jnp.square(direction)))
            ratio = jnp.where(
                w_norm > 0, jnp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0
            )
            return -(ratio * lr.astype(g.dtype) * direction), m, v

        deltas, m, v = _map(
            leaf, 3, grads, params, slots["momentum"], slots["velocity"]
        )
        return deltas, {"momentum": m, "velocity": v}

    return _build("Lamb", Rule(init, update, needs_params=True), args)


def Lion(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.99,
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
    """Lion (Chen et al., 2023), as Keras's `Lion`.

    `w -= lr * sign(beta_1 m + (1 - beta_1) g)`; then
    `m = beta_2 m + (1 - beta_2) g`.
    """
    args = dict(locals())
    if beta_1 <= 0 or beta_1 > 1:
        raise ValueError(
            "Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
            f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}."
        )

    def init(params):
        return _zeros(params)

    def update(grads, m, params, lr, iterations):
        del params, iterations  # Not used by Lion.
        b1 = jnp.asarray(beta_1, _F32)
        b2 = jnp.asarray(beta_2, _F32)

        def leaf(g, m):
            delta = -(lr.astype(g.dtype) * jnp.sign(m * b1 + g * (1.0 - b1)))
            return delta, m * b2 + g * (1.0 - b2)

        return _map(leaf, 2, grads, m)

    return _build("Lion", Rule(init, update), args)
