"""`adapt(model, state, layer_name, data)`: a model's state with one layer adapted to data."""

from __future__ import annotations

import jax
import numpy as np


def adapt(model, state: dict, layer_name: str, data, **kwargs) -> dict:
    """Adapts the layer `layer_name` of `model` to `data`; returns the model's new state.

    `layer_name` is the layer's name in `model` (`"outer/inner"` for a layer
    of a nested model). `data` must be what that layer receives (for a first
    layer: the model's inputs). Extra keyword arguments go to the layer's
    `adapt` (e.g. `batch_size=`). The result has the shape of the state
    `init` made, so it drops into training unchanged; `state` itself is not
    modified.

    Example:
        >>> model = kerax.Sequential([
        ...     kerax.Input((2,)), kerax.layers.Normalization(), kerax.layers.Dense(1)])
        >>> x_train = np.array([[0.0, 10.0], [2.0, 30.0]], "float32")
        >>> params, state = model.init(jax.random.key(0))
        >>> state = kerax.layers.adapt(model, state, "normalization", x_train)
        >>> state["normalization"]["mean"]
        Array([ 1., 20.], dtype=float32)
    """
    path = layer_name.split("/")
    layer = model
    for i, name in enumerate(path):
        children = dict(layer.children())
        if name not in children:
            where = "/".join(path[:i]) or "the model"
            raise ValueError(
                f"adapt: {where} has no layer named {name!r}; layers: {sorted(children)}."
            )
        layer = children[name]
    if not hasattr(layer, "adapt"):
        raise ValueError(
            f"adapt: {layer.describe()} has no adapt(); only Normalization and Discretization learn from data."
        )
    new = layer.adapt(data, **kwargs)

    def replace(tree, keys):
        if not isinstance(tree, dict) or keys[0] not in tree:
            raise ValueError(
                f"adapt: the state has no entry for {layer_name!r}: pass the state from model.init (a "
                f"{type(layer).__name__} with its statistics fixed in the config has no state to adapt)."
            )
        out = dict(tree)
        if len(keys) == 1:
            old = tree[keys[0]]
            same = jax.tree.structure(old) == jax.tree.structure(new) and all(
                np.shape(a) == np.shape(b)
                for a, b in zip(jax.tree.leaves(old), jax.tree.leaves(new))
            )
            if not same:
                shapes = jax.tree.map(np.shape, old), jax.tree.map(np.shape, new)
                raise ValueError(
                    f"adapt: {layer.describe()} was built for state {shapes[0]}, but the data gives {shapes[1]}."
                )
            out[keys[0]] = new
        else:
            out[keys[0]] = replace(tree[keys[0]], keys[1:])
        return out

    return replace(state, path)
