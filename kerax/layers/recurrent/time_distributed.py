"""TimeDistributed: applies a layer to every time step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core import aux_losses, naming
from kerax.core.layer import is_empty
from kerax.core.spec import shape_str
from kerax.layers._docs import document_args
from kerax.layers.core.wrapper import Wrapper


@document_args({"layer": "A kerax layer instance, applied to every temporal slice."})
class TimeDistributed(Wrapper):
    """Applies `layer` to every time step, like `keras.layers.TimeDistributed`.

    Inputs `(batch, time, ...)`; the wrapped layer sees `(batch, ...)`
    inputs and its params sit under its name (`time_distributed/dense/kernel`).
    The steps run as one batched call on `(batch * time, ...)` (one big matmul
    or conv; randomness differs per step). A layer with state in training
    (e.g. BatchNormalization) instead runs step by step with `lax.scan`, so
    that, as in Keras, statistics are per step and the state is updated once
    per step in order.

    Example:
        >>> td = kerax.layers.TimeDistributed(kerax.layers.Dense(8))
        >>> params, state = td.init(jax.random.key(0), kerax.spec((None, 5, 3)))
        >>> td.apply(params, state, jnp.ones((2, 5, 3)))[0].shape
        (2, 5, 8)
    """

    supports_masking = True
    autocast = False

    def children(self):
        return [(self.layer.scope_name, self.layer)]

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=3, what="inputs (batch, time, ...)")

    def build(self, key, spec):
        name = self.layer.scope_name
        inner = jax.ShapeDtypeStruct((spec.shape[0], *spec.shape[2:]), spec.dtype)
        p, s = self.layer.init(naming.child_key(key, name), inner)
        return ({name: p} if not is_empty(p) else {}), (
            {name: s} if not is_empty(s) else {}
        )

    def call(self, params, state, x, *, key, training, mask=None):
        name = self.layer.scope_name
        p, s = params.get(name, {}), state.get(name, {})
        kwargs = {}
        if mask is not None:
            if mask.ndim < 2 or mask.shape[1] != x.shape[1]:
                raise ValueError(
                    f"{self.describe()}: the mask must be at least 2D with the inputs' time steps, got mask "
                    f"{shape_str(mask.shape)} for inputs {shape_str(x.shape)}."
                )
            if self.layer.accepts_mask():
                kwargs["mask"] = mask
        ckey = naming.child_key(key, name)
        batch, steps = x.shape[0], x.shape[1]
        if training and not is_empty(s):
            y, s = self._scan_steps(p, s, x, ckey, kwargs)
        else:
            merged = {
                k: v.reshape((batch * steps, *v.shape[2:])) for k, v in kwargs.items()
            }
            y, s = self.layer.apply(
                p,
                s,
                x.reshape((batch * steps, *x.shape[2:])),
                key=ckey,
                training=training,
                **merged,
            )
            y = jax.tree.map(lambda a: a.reshape((batch, steps, *a.shape[1:])), y)
        return y, ({**state, name: s} if (not is_empty(s) or name in state) else state)

    def _scan_steps(self, params, state, x, key, kwargs):
        def body(carry, inputs):
            s, t = carry
            x_t, kw = inputs
            k_t = None if key is None else jax.random.fold_in(key, t)
            with aux_losses.collect() as losses:
                y, s = self.layer.apply(params, s, x_t, key=k_t, training=True, **kw)
            return (s, t + 1), (y, aux_losses.total(losses))

        xs = (
            jnp.swapaxes(x, 0, 1),
            {k: jnp.swapaxes(v, 0, 1) for k, v in kwargs.items()},
        )
        (state, _), (ys, extra) = lax.scan(body, (state, jnp.zeros((), jnp.int32)), xs)
        aux_losses.add_loss(jnp.sum(extra))
        return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), ys), state
