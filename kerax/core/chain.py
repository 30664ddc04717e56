"""Layers applied one after another: the loop `Sequential` and `Pipeline` share.

Each layer's params and state nest under its name and it draws from its own
key, `naming.child_key(key, name)`; the mask flows along the chain.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    for name, layer in named_layers:
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
    for name, layer in named_layers:
        x, s, mask = layer.apply_masked(
            params.get(name, {}),
            state.get(name, {}),
            x,
            key=naming.child_key(key, name),
            training=training,
            mask=mask,
        )
        if not is_empty(s) or name in new_state:
            new_state[name] = s
    return x, new_state, mask
