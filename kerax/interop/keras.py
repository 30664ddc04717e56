"""Keras 3 -> kerax: architecture from the Keras config, weights by variable path.

A layer converts by its class name: `kerax.layers.<KerasClassName>` built
from the Keras config's keys that are kerax fields. A kerax layer class can
override either step with two optional hooks in its own module:

- `from_keras_config(cls, config: dict) -> Layer` (classmethod), for configs
  whose keys or values differ from kerax's fields;
- `keras_weights(self, keras_layer) -> (params, state)`, for weights whose
  Keras variable paths do not mirror kerax's param dicts.

By default the weights of a Keras layer become nested dicts keyed by the
variable path relative to the layer (`query/kernel` ->
`params["query"]["kernel"]`); trainable variables go to `params`,
non-trainable ones to `state`.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

# Keras config keys with no kerax counterpart that are safe to drop: they do
# not change what the layer computes.
IGNORED_KEYS = {"batch_input_shape", "input_shape", "batch_shape", "sparse", "ragged", "autocast", "seed", "module", "registered_name", "build_config", "compile_config", "quantization_config"}


def _nest(tree: dict, path: list[str], value) -> None:
    for p in path[:-1]:
        tree = tree.setdefault(p, {})
    tree[path[-1]] = value


def _relative_path(variable, keras_layer) -> list[str]:
    path = variable.path.split("/")
    name = keras_layer.name
    if name in path:
        path = path[path.index(name) + 1 :]
    return path


def default_weights(keras_layer) -> tuple[dict, dict]:
    """Keras variables as nested `(params, state)` dicts, by relative path."""
    params, state = {}, {}
    seen = set()
    for v in keras_layer.weights:
        if id(v) in seen or "seed_generator" in v.path:
            continue  # Keras keeps RNG state in variables; kerax takes keys.
        seen.add(id(v))
        _nest(params if v.trainable else state, _relative_path(v, keras_layer), np.asarray(v.numpy()))
    return params, state


def layer_weights(keras_layer, kerax_layer, spec=None) -> tuple[dict, dict]:
    """The Keras layer's weights as kerax `(params, state)` for `kerax_layer`.

    If `spec` is given, the result is checked against `kerax_layer.init`'s
    structure and shapes, and a mismatch is a clear error.
    """
    hook = getattr(kerax_layer, "keras_weights", None)
    params, state = hook(keras_layer) if hook is not None else default_weights(keras_layer)
    params = jax.tree.map(lambda a: np.asarray(a, dtype=np.float32) if np.issubdtype(np.asarray(a).dtype, np.floating) else np.asarray(a), params)
    if spec is not None:
        want = jax.eval_shape(lambda: kerax_layer.init(jax.random.key(0), *spec))
        check_structure(kerax_layer, (params, state), want)
    return params, state


def check_structure(kerax_layer, got, want) -> None:
    names = ("params", "state")
    for name, g, w in zip(names, got, want):
        g_paths = {jax.tree_util.keystr(p): x.shape for p, x in jax.tree_util.tree_flatten_with_path(g)[0]}
        w_paths = {jax.tree_util.keystr(p): x.shape for p, x in jax.tree_util.tree_flatten_with_path(w)[0]}
        if set(g_paths) != set(w_paths):
            raise ValueError(
                f"{kerax_layer.describe()}: Keras weights do not match kerax {name}: "
                f"missing {sorted(set(w_paths) - set(g_paths))}, unexpected {sorted(set(g_paths) - set(w_paths))}."
            )
        for p, shape in w_paths.items():
            if tuple(g_paths[p]) != tuple(shape):
                raise ValueError(f"{kerax_layer.describe()}: Keras weight {name}{p} has shape {g_paths[p]}, kerax expects {shape}.")


def _plain_config(value):
    """Keras-serialized values (initializers, dtype policies) as kerax accepts them."""
    if isinstance(value, dict) and "class_name" in value:
        cls = value["class_name"]
        cfg = value.get("config") or {}
        if cls in ("DTypePolicy", "FloatDTypePolicy"):
            return cfg.get("name")
        return {"class_name": cls, "config": {k: v for k, v in cfg.items()}}
    if isinstance(value, list):
        return tuple(_plain_config(v) for v in value)
    return value


def layer_from_keras(keras_layer_or_config):
    """One Keras layer (object or `{"class_name", "config"}`) as a kerax layer."""
    from kerax.core import serialization

    if isinstance(keras_layer_or_config, dict):
        class_name, config = keras_layer_or_config["class_name"], dict(keras_layer_or_config["config"])
    else:
        class_name, config = type(keras_layer_or_config).__name__, dict(keras_layer_or_config.get_config())
    try:
        cls = serialization.lookup_class(class_name)
    except ValueError:
        raise ValueError(
            f"Keras layer class {class_name!r} has no kerax counterpart yet; kerax cannot import this model."
        ) from None
    hook = getattr(cls, "from_keras_config", None)
    if hook is not None:
        return hook(config)
    return construct_from_keras(cls, config)


def construct_from_keras(cls, config: dict, **overrides):
    """`cls(**config)` keeping kerax fields, translating Keras values, refusing unknown keys."""
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in config.items():
        if k in overrides:
            continue
        if k in fields:
            kwargs[k] = _plain_config(v)
        elif k not in IGNORED_KEYS:
            raise ValueError(f"Keras {cls.__name__} option {k}={v!r} is not supported by kerax.layers.{cls.__name__}.")
    kwargs.update(overrides)
    if kwargs.get("dtype") == "float32":
        kwargs["dtype"] = None  # Keras's default: follow kerax's global policy.
    from kerax.core.serialization import deserialize_value

    kwargs = {k: _to_kerax_value(k, v, deserialize_value) for k, v in kwargs.items()}
    return cls(**kwargs)


def _to_kerax_value(key, value, deserialize_value):
    if isinstance(value, dict) and "class_name" in value:
        return value  # Resolved by the layer's own field handling (initializers, ...).
    return deserialize_value(value) if isinstance(value, (list, dict)) else value


def from_keras(keras_model):
    """A live Keras 3 model (or a path to a `.keras` file) as kerax `(model, params, state)`."""
    raise NotImplementedError  # Filled in with the functional/Sequential converter.
