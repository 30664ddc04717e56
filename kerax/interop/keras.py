"""Keras 3 -> kerax: architecture from the Keras config, weights by variable path.

Layers convert by class name through `kerax.interop.converters` (the table
of Keras configs that differ from kerax's fields lives there). A kerax layer
whose weights do not mirror Keras's variable paths may define
`keras_weights(self, keras_layer) -> (params, state)`.

By default the weights of a Keras layer become nested dicts keyed by the
variable path relative to the layer (`query/kernel` ->
`params["query"]["kernel"]`); trainable variables go to `params`,
non-trainable ones to `state`.
"""

from __future__ import annotations

import jax
import numpy as np

from kerax.core import registry
from kerax.core.node import InputLayer, Node
from kerax.interop.applications import LayerScale
from kerax.interop.converters import (
    IGNORED_KEYS,
    construct_from_keras,
    layer_from_keras,
)
from kerax.models import Model, Sequential
from kerax.ops import _symbolic as kerax_symbolic

__all__ = [
    "IGNORED_KEYS",
    "LayerScale",
    "check_structure",
    "construct_from_keras",
    "default_weights",
    "from_keras",
    "layer_from_keras",
    "layer_weights",
    "model_from_keras_config",
    "model_weights",
]


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
    created_trainable = _created_trainable(keras_layer)
    for v in keras_layer.weights:
        if id(v) in seen or "seed_generator" in v.path:
            continue  # Keras keeps RNG state in variables; kerax takes keys.
        seen.add(id(v))
        _nest(
            params if id(v) in created_trainable else state,
            _relative_path(v, keras_layer),
            np.asarray(v.numpy()),
        )
    return params, state


def _created_trainable(keras_layer) -> set[int]:
    """Ids of the variables that are weights (kerax params), not statistics.

    Not only `v.trainable`: `layer.trainable = False` (freezing a backbone)
    turns that off for the layer's weights, which stay kerax params, frozen
    by the imported layer's own `trainable=False`. LoRA turns it off for the
    base weights it adapts, which kerax keeps in state.
    """
    layers = getattr(keras_layer, "_flatten_layers", None)
    if layers is None:
        return {id(v) for v in keras_layer.weights if v.trainable}
    ids = set()
    for layer in layers(include_self=True):
        frozen = not layer.trainable
        lora = getattr(layer, "lora_enabled", False)
        for v in getattr(layer, "_trainable_variables", ()):
            lora_base = lora and not v.name.startswith("lora_")
            if v.trainable or (frozen and not lora_base):
                ids.add(id(v))
    return ids


def layer_weights(keras_layer, kerax_layer, spec=None) -> tuple[dict, dict]:
    """The Keras layer's weights as kerax `(params, state)` for `kerax_layer`.

    If `spec` is given, the result is checked against `kerax_layer.init`'s
    structure and shapes, and a mismatch is a clear error.
    """
    hook = getattr(kerax_layer, "keras_weights", None)
    params, state = (
        hook(keras_layer) if hook is not None else default_weights(keras_layer)
    )
    params = jax.tree.map(
        lambda a: (
            np.asarray(a, dtype=np.float32)
            if np.issubdtype(np.asarray(a).dtype, np.floating)
            else np.asarray(a)
        ),
        params,
    )
    if spec is not None:
        want = jax.eval_shape(lambda: kerax_layer.init(jax.random.key(0), *spec))
        check_structure(kerax_layer, (params, state), want)
    return params, state


def check_structure(kerax_layer, got, want) -> None:
    names = ("params", "state")
    for name, g, w in zip(names, got, want):
        g_paths = {
            jax.tree_util.keystr(p): x.shape
            for p, x in jax.tree_util.tree_flatten_with_path(g)[0]
        }
        w_paths = {
            jax.tree_util.keystr(p): x.shape
            for p, x in jax.tree_util.tree_flatten_with_path(w)[0]
        }
        if set(g_paths) != set(w_paths):
            raise ValueError(
                f"{kerax_layer.describe()}: Keras weights do not match kerax {name}: "
                f"missing {sorted(set(w_paths) - set(g_paths))}, unexpected {sorted(set(g_paths) - set(w_paths))}."
            )
        for p, shape in w_paths.items():
            if tuple(g_paths[p]) != tuple(shape):
                raise ValueError(
                    f"{kerax_layer.describe()}: Keras weight {name}{p} has shape {g_paths[p]}, kerax expects {shape}."
                )


def from_keras(keras_model):
    """A Keras 3 model as kerax `(model, params, state)` with identical outputs.

    Takes a live Keras model (Sequential, functional, nested models, shared
    layers) or a path to a `.keras` file (read without Keras: see
    `kerax.saving.keras_archive`).
    The architecture comes from the Keras config; weights come by variable
    path, so `"/".join(path)` of every kerax param is the Keras `variable.path`.

    Example:
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> model, params, state = kerax.interop.from_keras(keras_model)
        >>> x = np.ones((1, 3), "float32")
        >>> y, _ = model.apply(params, state, x)
        >>> bool(np.allclose(y, keras_model(x), atol=1e-6))
        True
    """
    if isinstance(keras_model, (str, bytes)) or hasattr(keras_model, "__fspath__"):
        # A file is read by kerax's own allowlisted reader, never by Keras's
        # loader (which imports modules named in the file). kerax.saving, a
        # floor above, provides it (and uses this module's converters).
        path = keras_model.decode() if isinstance(keras_model, bytes) else keras_model
        model, params, state, _ = registry.provided("load_keras")(path)
        return model, params, state
    model = model_from_keras_config(
        {"class_name": _class_name(keras_model), "config": keras_model.get_config()}
    )
    params, state = model_weights(keras_model, model)
    if (
        getattr(keras_model, "inputs", None) is not None
        or _input_spec(model) is not None
    ):
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
    class_name, config = entry["class_name"], entry["config"]
    if class_name == "Sequential":
        layers = tuple(model_from_keras_config(e) for e in config["layers"])
        return Sequential(
            layers, name=config.get("name"), trainable=config.get("trainable", True)
        )
    if class_name in ("Functional", "Model") and "layers" in config:
        return _functional_from_keras(config)
    if str(entry.get("module") or "").startswith("keras.src.ops"):
        return _KerasOp(class_name, config, entry["module"])
    if class_name == "InputLayer":
        batch_shape = config.get("batch_shape") or [None, *config.get("shape", [])]
        return InputLayer(
            shape=tuple(batch_shape[1:]),
            batch_size=batch_shape[0],
            input_dtype=config.get("dtype", "float32"),
            name=config.get("name"),
        )
    return layer_from_keras(entry)


def _functional_from_keras(config: dict):
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
                raise ValueError(
                    f"Keras config refers to output {tensor_index} of single-output layer {name!r}."
                )
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

    pending = [
        (e["name"], i, node)
        for e in entries
        for i, node in enumerate(e.get("inbound_nodes", []))
    ]
    while pending:
        progressed = False
        rest = []
        for name, i, node in pending:
            if not ready(node):
                rest.append((name, i, node))
                continue
            layer = layers[name]
            args = resolve(node.get("args", []))
            # A recorded `training=True/False` goes to the node as Keras wrote
            # it (kept in files; the mode the model is applied with wins).
            kwargs = {
                k: v
                for k, v in resolve(node.get("kwargs", {})).items()
                if not (k in ("mask", "training") and v is None)
            }
            if isinstance(layer, _KerasOp):
                outputs[(name, i)] = layer.call_on(args, kwargs)
                progressed = True
                continue
            outputs[(name, i)] = layer(*args, **kwargs)
            progressed = True
        if not progressed:
            names = sorted({n for n, _, _ in rest})
            raise ValueError(
                f"Cannot order the Keras graph: layers {names} wait on inputs that are never produced."
            )
        pending = rest

    def refs(tree):
        if isinstance(tree, dict):
            return {k: refs(v) for k, v in tree.items()}
        if (
            isinstance(tree, (list, tuple))
            and len(tree) == 3
            and isinstance(tree[0], str)
            and isinstance(tree[1], int)
        ):
            return tensor(tree)
        if isinstance(tree, (list, tuple)):
            return [refs(v) for v in tree]
        raise ValueError(f"Unexpected entry in Keras input/output layers: {tree!r}.")

    return Model(
        refs(config["input_layers"]),
        refs(config["output_layers"]),
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


def model_weights(keras_layer, kerax_layer) -> tuple[dict, dict]:
    """Weights of a (possibly nested) Keras model as kerax `(params, state)`."""
    if isinstance(kerax_layer, (Model, Sequential)):
        params, state = {}, {}
        for name, child in kerax_layer.children():
            if getattr(child, "_keras_op", False):
                continue  # A keras.ops operation: no weights.
            p, s = model_weights(keras_layer.get_layer(name), child)
            if jax.tree.leaves(p):
                params[name] = p
            if jax.tree.leaves(s):
                state[name] = s
        return params, state
    return layer_weights(keras_layer, kerax_layer)


# ----------------------------------------------------------- keras.ops nodes
# Keras functional graphs may hold `keras.ops` operations (`x + 3.0`,
# `x[:, 0]`, `ops.mean(x, axis=1)`): entries whose module is `keras.src.ops.*`.
# They become kerax op nodes (`kerax.ops` on nodes, an `OpLayer` each), named
# as in Keras.


class _KerasOp:
    """A keras.ops operation in a Keras functional config: `kerax.ops` on nodes.

    Keras's op class (`Concatenate`, `GetItem`, `Resize` in
    `keras.src.ops.image`, ...) is a kerax op (`kerax.ops.image.resize`);
    its config holds the class's `__init__` arguments (the op's options, by
    name) and its node the call's tensors, so the op node is
    `kerax.ops.<op>` of both: an `OpLayer` named as in Keras, saved and
    reloaded as any op node.
    """

    def __init__(
        self, class_name: str, config: dict, module: str = "keras.src.ops.numpy"
    ):
        op = kerax_symbolic.keras_entry_op(module, class_name)
        if op not in kerax_symbolic._FUNCTIONS:
            raise ValueError(
                f"Keras functional graph uses the keras.ops operation {module}.{class_name} "
                f"({config.get('name')!r}), which has no kerax.ops counterpart ({op!r})."
            )
        self.class_name, self.config, self.op = class_name, config, op

    def call_on(self, args, kwargs):
        args = [kerax_symbolic.keras_decode(a) for a in args]
        if self.op == "get_item" and len(args) == 2 and isinstance(args[1], list):
            args[1] = tuple(args[1])  # Keras's GetItem: a list key is a tuple.
        options = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in kerax_symbolic.keras_decode(self.config).items()
            if k != "name"
        }
        kwargs = {k: kerax_symbolic.keras_decode(v) for k, v in kwargs.items()}
        call_args, call_kwargs = kerax_symbolic.keras_call_arguments(
            self.op, {**options, **kwargs}, args
        )
        try:
            out = kerax_symbolic.op_node(
                self.op, call_args, call_kwargs, name=self.config.get("name")
            )
        except TypeError as e:
            raise ValueError(
                f"keras.ops {self.class_name} {self.config.get('name')!r}: kerax.ops.{self.op} "
                f"cannot take its arguments (config {sorted(options)}): {e}"
            ) from e
        object.__setattr__(out.op, "_keras_op", True)
        return out


# `kerax.models.model_from_json` reads Keras's JSON through this.
registry.provide("keras_config", model_from_keras_config)
