"""Layers applied one after another: the loop `Sequential` and `Pipeline` share.

Each layer's params and state nest under its name and it draws from its own
key, `naming.child_key(key, name)`; the mask flows along the chain. A layer
object that comes twice (the same name twice) is shared, as in Keras: one set
of params, built at its first place, applied at each; its state carries from
one application to the next, and each application after the first draws
from `fold_in(child_key, k)` for its k-th use.
"""

from __future__ import annotations

from collections.abc import Iterable

import jax

from kerax.core import naming
from kerax.core.layer import Layer, is_empty

NamedLayers = Iterable[tuple[str, Layer]]


def build_chain(named_layers: NamedLayers, key, spec) -> tuple[dict, dict]:
    """`(params, state)` of the layers, each built on the previous one's output spec.

    The mask flows along as when the chain runs: a layer that reads its mask
    in `call` gets it (as a spec) when its output spec is traced.
    """
    params, state = {}, {}
    mask = None
    built = set()
    for name, layer in named_layers:
        if name not in built:  # A shared layer is built at its first place.
            built.add(name)
            p, s = layer.init(naming.child_key(key, name), spec)
            if not is_empty(p):
                params[name] = p
            if not is_empty(s):
                state[name] = s
        spec, mask = layer.output_spec_masked(spec, mask=mask)
    return params, state


def apply_chain(named_layers: NamedLayers, params, state, x, *, key, training, mask):
    """`(y, new_state, mask)`: the layers applied in order."""
    new_state = dict(state)
    uses = {}
    for name, layer in named_layers:
        k = uses[name] = uses.get(name, -1) + 1
        layer_key = naming.child_key(key, name)
        if k and layer_key is not None:  # A shared layer's next use: new draws.
            layer_key = jax.random.fold_in(layer_key, k)
        x, s, mask = layer.apply_masked(
            params.get(name, {}),
            new_state.get(name, {}),
            x,
            key=layer_key,
            training=training,
            mask=mask,
        )
        if not is_empty(s) or name in new_state:
            new_state[name] = s
    return x, new_state, mask
