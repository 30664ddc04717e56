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
    """A Keras 3 model as kerax `(model, params, state)` with identical outputs.

    Takes a live Keras model (Sequential, functional, nested models, shared
    layers) or a path to a `.keras` file (loaded with Keras's safe mode).
    The architecture comes from the Keras config; weights come by variable
    path, so `"/".join(path)` of every kerax param is the Keras `variable.path`.

    Example:
        >>> model, params, state = kerax.interop.from_keras(keras_model)
        >>> y, _ = model.apply(params, state, x)
    """
    if isinstance(keras_model, (str, bytes)) or hasattr(keras_model, "__fspath__"):
        import keras

        keras_model = keras.saving.load_model(keras_model, compile=False, safe_mode=True)
    model = model_from_keras_config({"class_name": _class_name(keras_model), "config": keras_model.get_config()})
    params, state = model_weights(keras_model, model)
    if getattr(keras_model, "inputs", None) is not None or _input_spec(model) is not None:
        spec = _input_spec(model)
        if spec is not None:
            want = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
            check_structure(model, (params, state), want)
    return model, params, state


def _class_name(keras_model) -> str:
    name = type(keras_model).__name__
    return "Functional" if name in ("Functional", "Model") else name


def _input_spec(model):
    return getattr(model, "input_spec", None)


def model_from_keras_config(entry: dict):
    """A kerax layer or model from a Keras `{"class_name", "config"}` entry."""
    from kerax.core.node import InputLayer
    from kerax.models import Sequential

    class_name, config = entry["class_name"], entry["config"]
    if class_name == "Sequential":
        layers = tuple(model_from_keras_config(e) for e in config["layers"])
        return Sequential(layers, name=config.get("name"), trainable=config.get("trainable", True))
    if class_name in ("Functional", "Model") and "layers" in config:
        return _functional_from_keras(config)
    if class_name == "InputLayer":
        batch_shape = config.get("batch_shape") or [None, *config.get("shape", [])]
        return InputLayer(
            shape=tuple(batch_shape[1:]), batch_size=batch_shape[0], input_dtype=config.get("dtype", "float32"), name=config.get("name")
        )
    return layer_from_keras(entry)


def _functional_from_keras(config: dict):
    from kerax.core.node import InputLayer, Node
    from kerax.models import Model

    entries = config["layers"]
    layers = {e["name"]: model_from_keras_config(e) for e in entries}
    outputs: dict[tuple[str, int], object] = {}
    for e in entries:
        layer = layers[e["name"]]
        if isinstance(layer, InputLayer):
            outputs[(e["name"], 0)] = Node(layer.input_spec, op=layer)

    def tensor(history):
        name, node_index, tensor_index = history
        out = outputs[(name, node_index)]
        if isinstance(out, Node) and isinstance(out.spec, jax.ShapeDtypeStruct):
            if tensor_index != 0:
                raise ValueError(f"Keras config refers to output {tensor_index} of single-output layer {name!r}.")
            return out
        return out[tensor_index]

    def ready(tree) -> bool:
        if isinstance(tree, dict):
            if tree.get("class_name") == "__keras_tensor__":
                name, node_index, _ = tree["config"]["keras_history"]
                return (name, node_index) in outputs
            return all(ready(v) for v in tree.values())
        if isinstance(tree, (list, tuple)):
            return all(ready(v) for v in tree)
        return True

    def resolve(tree):
        if isinstance(tree, dict):
            if tree.get("class_name") == "__keras_tensor__":
                return tensor(tree["config"]["keras_history"])
            return {k: resolve(v) for k, v in tree.items()}
        if isinstance(tree, (list, tuple)):
            return [resolve(v) for v in tree]
        return tree

    pending = [(e["name"], i, node) for e in entries for i, node in enumerate(e.get("inbound_nodes", []))]
    while pending:
        progressed = False
        rest = []
        for name, i, node in pending:
            if not ready(node):
                rest.append((name, i, node))
                continue
            layer = layers[name]
            args = resolve(node.get("args", []))
            kwargs = {k: v for k, v in resolve(node.get("kwargs", {})).items() if not (k == "mask" and v is None)}
            hook = getattr(layer, "keras_call_args", None)
            if hook is not None:
                args, kwargs = hook(args, kwargs)
            outputs[(name, i)] = layer(*args, **kwargs)
            progressed = True
        if not progressed:
            names = sorted({n for n, _, _ in rest})
            raise ValueError(f"Cannot order the Keras graph: layers {names} wait on inputs that are never produced.")
        pending = rest

    def refs(tree):
        if isinstance(tree, dict):
            return {k: refs(v) for k, v in tree.items()}
        if isinstance(tree, (list, tuple)) and len(tree) == 3 and isinstance(tree[0], str) and isinstance(tree[1], int):
            return tensor(tree)
        if isinstance(tree, (list, tuple)):
            return [refs(v) for v in tree]
        raise ValueError(f"Unexpected entry in Keras input/output layers: {tree!r}.")

    return Model(refs(config["input_layers"]), refs(config["output_layers"]), name=config.get("name"), trainable=config.get("trainable", True))


def model_weights(keras_layer, kerax_layer) -> tuple[dict, dict]:
    """Weights of a (possibly nested) Keras model as kerax `(params, state)`."""
    from kerax.models import Model, Sequential

    if isinstance(kerax_layer, (Model, Sequential)):
        params, state = {}, {}
        for name, child in kerax_layer.children():
            p, s = model_weights(keras_layer.get_layer(name), child)
            if jax.tree.leaves(p):
                params[name] = p
            if jax.tree.leaves(s):
                state[name] = s
        return params, state
    return layer_weights(keras_layer, kerax_layer)
