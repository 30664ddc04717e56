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

import functools

import jax
import jax.numpy as jnp
import numpy as np

from kerax import layers as kerax_layers
from kerax.core import registry
from kerax.core.node import InputLayer, Node
from kerax.interop.applications import LayerScale
from kerax.interop.converters import (
    IGNORED_KEYS,
    construct_from_keras,
    layer_from_keras,
)
from kerax.models import Model, Sequential

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
        return _KerasOp(class_name, config)
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
# They become kerax layers: a merging layer when the op is one (two tensors
# of one rank, no constants), otherwise a Lambda with NumPy semantics (which
# are keras.ops's) and the constants baked in.


def _unary(fn):
    return lambda cfg, x: fn(x)


def _binary(fn):
    return lambda cfg, a, b: fn(a, b)


def _ops_table():
    def axis(cfg):
        a = cfg.get("axis")
        return tuple(a) if isinstance(a, list) else a

    return {
        "Add": _binary(jnp.add),
        "Subtract": _binary(jnp.subtract),
        "Multiply": _binary(jnp.multiply),
        "Divide": _binary(jnp.divide),
        "TrueDivide": _binary(jnp.true_divide),
        "FloorDivide": _binary(jnp.floor_divide),
        "Power": _binary(jnp.power),
        "Maximum": _binary(jnp.maximum),
        "Minimum": _binary(jnp.minimum),
        "Matmul": _binary(jnp.matmul),
        "Negative": _unary(jnp.negative),
        "Equal": _binary(jnp.equal),
        "NotEqual": _binary(jnp.not_equal),
        "Greater": _binary(jnp.greater),
        "GreaterEqual": _binary(jnp.greater_equal),
        "Less": _binary(jnp.less),
        "LessEqual": _binary(jnp.less_equal),
        "LogicalAnd": _binary(jnp.logical_and),
        "LogicalOr": _binary(jnp.logical_or),
        "LogicalNot": _unary(jnp.logical_not),
        "Abs": _unary(jnp.abs),
        "Absolute": _unary(jnp.abs),
        "Sqrt": _unary(jnp.sqrt),
        "Square": _unary(jnp.square),
        "Exp": _unary(jnp.exp),
        "Log": _unary(jnp.log),
        "Tanh": _unary(jnp.tanh),
        "Sigmoid": _unary(jax.nn.sigmoid),
        "Relu": _unary(jax.nn.relu),
        "Mean": lambda cfg, x: jnp.mean(
            x, axis=axis(cfg), keepdims=cfg.get("keepdims", False)
        ),
        "Sum": lambda cfg, x: jnp.sum(
            x, axis=axis(cfg), keepdims=cfg.get("keepdims", False)
        ),
        "Max": lambda cfg, x: jnp.max(
            x, axis=axis(cfg), keepdims=cfg.get("keepdims", False)
        ),
        "Min": lambda cfg, x: jnp.min(
            x, axis=axis(cfg), keepdims=cfg.get("keepdims", False)
        ),
        "Reshape": lambda cfg, x: jnp.reshape(x, tuple(cfg["newshape"])),
        "Transpose": lambda cfg, x: jnp.transpose(
            x, None if cfg.get("axes") is None else tuple(cfg["axes"])
        ),
        "ExpandDims": lambda cfg, x: jnp.expand_dims(x, axis(cfg)),
        "Squeeze": lambda cfg, x: jnp.squeeze(x, axis(cfg)),
        "GetItem": lambda cfg, x, key: x[key],
    }


_MERGE_OPS = {"Add", "Subtract", "Multiply", "Maximum", "Minimum"}


def _op_constant(value):
    """A Keras-serialized constant argument as a hashable Python value."""
    if isinstance(value, dict) and value.get("class_name") == "__slice__":
        c = value["config"]
        return slice(c.get("start"), c.get("stop"), c.get("step"))
    if isinstance(value, dict) and value.get("class_name") == "__ellipsis__":
        return Ellipsis
    if isinstance(value, dict):
        raise ValueError(f"Unsupported constant {value!r} in a keras.ops operation.")
    if isinstance(value, (list, tuple)):
        return tuple(_op_constant(v) for v in value)
    return value


def _freeze_cfg(cfg: dict) -> tuple:
    return tuple(
        sorted(
            (k, tuple(v) if isinstance(v, list) else v)
            for k, v in cfg.items()
            if k != "name"
        )
    )


def _run_op(op, cfg, template, xs):
    """`op` on `template` (constants, with `("__tensor__", i)` at the i-th tensor) filled from `xs`."""
    xs = xs if isinstance(xs, (list, tuple)) else [xs]

    def fill(t):
        if isinstance(t, tuple) and len(t) == 2 and t[0] == "__tensor__":
            return xs[t[1]]
        return t

    return _ops_table()[op](dict(cfg), *[fill(t) for t in template])


class _KerasOp:
    """Placeholder for a keras.ops operation in a Keras functional config."""

    def __init__(self, class_name: str, config: dict):
        if class_name not in _ops_table():
            raise ValueError(
                f"Keras functional graph uses the keras.ops operation {class_name!r} "
                f"({config.get('name')!r}), which kerax.interop cannot translate yet; supported: {sorted(_ops_table())}."
            )
        self.class_name, self.config = class_name, config
        self.layer, self.template, self.merge = None, None, False

    def call_on(self, args, kwargs):
        if kwargs:
            raise ValueError(
                f"keras.ops {self.class_name} {self.config.get('name')!r}: keyword arguments {sorted(kwargs)} are not supported."
            )
        tensors, template = [], []
        for a in args:
            if isinstance(a, Node):
                template.append(("__tensor__", len(tensors)))
                tensors.append(a)
            else:
                template.append(_op_constant(a))
        template = tuple(template)
        name = self.config.get("name")
        if self.layer is None:
            if (
                self.class_name in _MERGE_OPS
                and len(tensors) == 2
                and len(template) == 2
                and len(tensors[0].spec.shape) == len(tensors[1].spec.shape)
            ):
                self.layer = getattr(kerax_layers, self.class_name)(name=name)
                self.merge = True
            else:
                fn = functools.partial(
                    _run_op, self.class_name, _freeze_cfg(self.config), template
                )
                self.layer = kerax_layers.Lambda(fn, name=name)
            object.__setattr__(self.layer, "_keras_op", True)
            self.template = template
        elif template != self.template:
            raise ValueError(
                f"keras.ops {self.class_name} {name!r} is called with different constants at different nodes; kerax cannot share it."
            )
        if self.merge:
            return self.layer(tensors)
        return self.layer(tensors if len(tensors) != 1 else tensors[0])


# `kerax.models.model_from_json` reads Keras's JSON through this.
registry.provide("keras_config", model_from_keras_config)
