"""What Keras users reach for on a model: weights in Keras's order, JSON,
and the kerax lines for Keras's stateful methods.

A kerax model holds no weights: `get_weights`/`set_weights` read and write
the `params`/`state` you pass, `save`/`save_weights` take them and
`load_weights` returns them, and `compile`/`fit`/`predict`/... raise an error
that shows the kerax line to write instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import registry, serialization
from kerax.core.layer import Layer
from kerax.core.node import InputLayer

_TRAINER = (
    "kerax models hold no training state: write "
    "`trainer = kerax.Trainer(model, optimizer=..., loss=...)` then `ts = trainer.init()`; "
)
_INSTEAD = {
    "compile": _TRAINER + "`ts, history = trainer.fit(ts, x, y)`.",
    "fit": _TRAINER
    + "`ts, history = trainer.fit(ts, x, y, epochs=..., batch_size=...)`.",
    "evaluate": _TRAINER + "`logs = trainer.evaluate(ts, x, y)`.",
    "predict": (
        "kerax models hold no weights: write `y = trainer.predict(ts, x)` with a "
        "kerax.Trainer, or `params, state = model.init(key)`; "
        "`y, state = model.apply(params, state, x)`."
    ),
    "train_on_batch": _TRAINER + "`ts, history = trainer.fit(ts, x, y, epochs=1)`, or "
    "step yourself with `kerax.training.make_train_step`.",
    "test_on_batch": _TRAINER + "`logs = trainer.evaluate(ts, x, y)`.",
    "predict_on_batch": "kerax models hold no weights: write "
    "`y, state = model.apply(params, state, x)`.",
}


def _check_writable(model, method: str, filepath, params, overwrite: bool) -> None:
    if params is None:
        raise TypeError(
            f"{model.describe()}.{method}({str(filepath)!r}): a kerax model holds no weights; "
            f"pass them: `model.{method}(path, params, state)` (after training: "
            f"`model.{method}(path, ts.params, ts.state)`)."
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(
            f"{model.describe()}.{method}: {str(filepath)!r} exists and overwrite=False; "
            "nothing was written. Pass overwrite=True or another path."
        )


def _refuse(method: str):
    def refuse(self, *args, **kwargs):
        del args, kwargs
        raise TypeError(f"{self.describe()}.{method}(...): {_INSTEAD[method]}")

    refuse.__name__ = method
    refuse.__doc__ = f"Not in kerax: {_INSTEAD[method]}"
    return refuse


class KerasModelMethods:
    """Keras's model methods that make sense over explicit params and state."""

    compile = _refuse("compile")
    fit = _refuse("fit")
    evaluate = _refuse("evaluate")
    predict = _refuse("predict")
    train_on_batch = _refuse("train_on_batch")
    test_on_batch = _refuse("test_on_batch")
    predict_on_batch = _refuse("predict_on_batch")

    def save(self, filepath, params=None, state=None, *, overwrite=True, **kwargs):
        """Keras's `model.save(filepath)`, with the weights passed in.

        `model.save("m.keras", params, state)` (after training:
        `model.save("m.keras", ts.params, ts.state)`) is
        `kerax.save_model("m.keras", model, params, state)`: Keras's archive
        for a `.keras` path, a kerax model directory otherwise. `kwargs` go
        to `kerax.save_model` (`input_spec=`, `train_state=`, `trainer=`).

        Example:
            >>> import os, tempfile
            >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
            >>> params, state = model.init(jax.random.key(0))
            >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
            >>> model.save(path, params, state).name
            'm.keras'
        """
        _check_writable(self, "save", filepath, params, overwrite)
        return registry.provided("save_model")(filepath, self, params, state, **kwargs)

    def save_weights(self, filepath, params=None, state=None, *, overwrite=True):
        """Keras's `model.save_weights("m.weights.h5")`, with the weights passed in."""
        _check_writable(self, "save_weights", filepath, params, overwrite)
        return registry.provided("save_weights")(filepath, self, params, state)

    def load_weights(self, filepath, *, input_spec=None):
        """Keras's `model.load_weights(filepath)`: returns `(params, state)`.

        A kerax model holds no weights, so they come back:
        `params, state = model.load_weights("m.weights.h5")` (Keras's
        `.weights.h5` file, from Keras or `model.save_weights`).
        """
        return registry.provided("load_weights")(filepath, self, input_spec=input_spec)

    def to_json(self, **kwargs) -> str:
        """The architecture as Keras-style JSON (`kerax.from_config` reads it)."""
        return serialization.to_json(self, **kwargs)

    def get_weights(self, params, state=None, *, spec=None) -> list[np.ndarray]:
        """`params` and `state` as a list of NumPy arrays in Keras's order.

        The order is Keras's `model.get_weights()` order: layers as in
        `model.layers`; in each, the trainable variables then the
        non-trainable ones in the order the layer creates them; then its
        sublayers. `state` is needed when the model has non-trainable
        variables (BatchNormalization's moving statistics); `spec`, the
        input spec the params were made for, when the model has no
        `kerax.Input` (the order is read from a trace of `init`).

        Example:
            >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
            >>> params, state = model.init(jax.random.key(0))
            >>> [w.shape for w in model.get_weights(params)]
            [(3, 2), (2,)]
        """
        order = self._order(spec)
        trees = {
            "params": params,
            "state": _state_for(self, state, "get_weights", order),
        }
        return [np.asarray(_get(trees[kind], path)) for kind, path in order]

    def set_weights(self, params, weights: Sequence, state=None, *, spec=None):
        """New `(params, state)` with the arrays of `weights` (Keras's order).

        `weights` is what `get_weights` returns (or Keras's `get_weights()` on
        the same architecture). Each array must have its variable's shape.
        `spec` as in `get_weights`.

        Example:
            >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
            >>> params, state = model.init(jax.random.key(0))
            >>> params, state = model.set_weights(params, [np.ones((3, 2)), np.zeros(2)])
            >>> float(params["dense"]["kernel"].sum())
            6.0
        """
        order = self._order(spec)
        state = _state_for(self, state, "set_weights", order)
        if len(weights) != len(order):
            raise ValueError(
                f"{self.describe()}.set_weights: expected {len(order)} arrays (the model's "
                f"variables in Keras's order), got {len(weights)}."
            )
        trees = {"params": _copy(params), "state": _copy(state)}
        for (kind, path), w in zip(order, weights):
            old = _get(trees[kind], path)
            w = jnp.asarray(w)
            if tuple(w.shape) != tuple(old.shape):
                raise ValueError(
                    f"{self.describe()}.set_weights: {kind}[{'/'.join(path)}] has shape "
                    f"{tuple(old.shape)}, got an array of shape {tuple(w.shape)}."
                )
            _set(trees[kind], path, w.astype(old.dtype))
        return trees["params"], trees["state"]

    def _order(self, spec=None) -> list[tuple[str, tuple]]:
        if spec is None and getattr(self, "input_spec", None) is None:
            raise ValueError(
                f"{self.describe()}: Keras's weight order needs the model's input; start it "
                "with kerax.Input(shape), or pass the input spec: `spec=kerax.spec((None, ...))`."
            )
        specs = () if spec is None else (spec,)
        captured = {}

        def trace():
            # Inside the trace the dicts keep the order `build` made them in,
            # which is the variables' creation order; eval_shape's output
            # would sort the keys.
            params, state = self.init(jax.random.key(0), *specs)
            captured["params"], captured["state"] = _skeleton(params), _skeleton(state)

        jax.eval_shape(trace)
        return weight_order(self, captured["params"], captured["state"])


def _state_for(model, state, method, order):
    if state is not None:
        return state
    if any(kind == "state" for kind, _ in order):
        raise ValueError(
            f"{model.describe()}.{method}: the model has non-trainable variables (state); "
            f"pass them too: `model.{method}(params, ..., state=state)`."
        )
    return {}


def weight_order(layer: Layer, params, state, prefix=()) -> list[tuple[str, tuple]]:
    """`[("params" | "state", key_path), ...]` in Keras's `weights` order.

    `params`/`state` are the layer's trees with dicts in creation order.
    """
    children = _children_in_keras_order(layer)
    names = {name for name, _ in children}
    out = []
    for kind, tree in (("params", params), ("state", state)):
        for k, v in tree.items():
            if k not in names:
                out.extend((kind, prefix + p) for p in _leaf_paths(v, (k,)))
    for name, child in children:
        if name in params or name in state:
            out.extend(
                weight_order(
                    child, params.get(name, {}), state.get(name, {}), prefix + (name,)
                )
            )
    return out


def _children_in_keras_order(layer: Layer):
    graph = getattr(layer, "_graph", None)
    if graph is not None:  # A functional model: Keras's `Functional.layers` order.
        return [
            (graph.name_of[id(x)], x)
            for x in graph.keras_order()
            if not isinstance(x, InputLayer)
        ]
    return layer.children()


def _skeleton(tree):
    if isinstance(tree, dict):
        return {k: _skeleton(v) for k, v in tree.items()}
    return None


def _leaf_paths(tree, prefix):
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in _leaf_paths(v, prefix + (k,))]
    return [prefix]


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def _set(tree, path, value) -> None:
    for k in path[:-1]:
        tree = tree[k]
    tree[path[-1]] = value


def _copy(tree):
    if isinstance(tree, dict):
        return {k: _copy(v) for k, v in tree.items()}
    return tree
