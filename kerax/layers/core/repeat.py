"""`Repeat`: one block applied `times` times, params stacked, run by `lax.scan`.

Scanning over layers keeps compile time flat for deep stacks: the block is
traced once, whatever `times` is.
"""

from __future__ import annotations

import jax

from kerax.core import aux_losses
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str, to_spec


def _block(block) -> Layer:
    if not isinstance(block, Layer):
        raise TypeError(f"expected a kerax layer, got {block!r}.")
    return block


def _times(times) -> int:
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"expected a positive int, got {times!r}.")
    return times


class Repeat(Layer):
    """Applies `block` `times` times with separate, stacked params.

    The block must map its input spec to the same spec. Params and state are
    the block's with a leading axis of size `times`, under the block's name.

    Args:
        block: The layer (or model) to repeat; it must keep its input's
            shape and dtype.
        times: How many times to apply it, each time with its own params.
        name: The layer's name (default `"repeat"`).
        dtype: The dtype policy of the block if it sets none.
        trainable: `False` freezes every repetition.

    Example:
        >>> block = kerax.layers.Dense(16, activation="relu", name="mlp")
        >>> deep = kerax.layers.Repeat(block, 12)
        >>> params, _ = deep.init(jax.random.key(0), kerax.spec((None, 16)))
        >>> params["mlp"]["kernel"].shape
        (12, 16, 16)
    """

    block: Layer = field(converter=_block)
    times: int = field(1, converter=_times)

    autocast = False

    def children(self):
        return [(self.block.scope_name, self.block)]

    def check_input(self, spec) -> None:
        out = to_spec(self.block.output_spec(spec))
        if out != to_spec(spec):
            raise ValueError(
                f"{self.describe()}: the block {self.block.describe()} maps {shape_str(spec.shape)} to "
                f"{shape_str(out.shape)}; a repeated block must keep its input shape and dtype."
            )

    def build(self, key, spec):
        keys = jax.random.split(key, self.times)
        params, state = jax.vmap(lambda k: self.block.init(k, spec))(keys)
        name = self.block.scope_name
        return ({name: params} if jax.tree.leaves(params) else {}), (
            {name: state} if jax.tree.leaves(state) else {}
        )

    def call(self, params, state, x, *, key, training):
        name = self.block.scope_name
        p, s = params.get(name, {}), state.get(name, {})
        keys = None if key is None else jax.random.split(key, self.times)

        def body(x, xs):
            p_i, s_i, k_i = xs
            with aux_losses.collect() as losses:
                y, s_i = self.block.apply(p_i, s_i, x, key=k_i, training=training)
            return y, (s_i, aux_losses.total(losses))

        y, (s, extra) = jax.lax.scan(body, x, (p, s, keys))
        aux_losses.add_loss(extra.sum())
        return y, ({name: s} if jax.tree.leaves(s) else {})

    def regularization_loss(self, params):
        name = self.block.scope_name
        if name not in params:
            return super().regularization_loss(params)
        return jax.vmap(self.block.regularization_loss)(params[name]).sum()

    def constrain(self, params):
        name = self.block.scope_name
        if name not in params:
            return params
        return {**params, name: jax.vmap(self.block.constrain)(params[name])}
