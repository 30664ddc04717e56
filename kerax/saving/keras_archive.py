"""Keras 3's `.keras` archive and `.weights.h5` file, written and read without Keras.

A `.keras` file is a zip archive with three members, as Keras writes them:

```
config.json         # {"module", "class_name", "config", "registered_name", "build_config"}
metadata.json       # {"keras_version", "date_saved", ...}
model.weights.h5    # layers/<name>/vars/0..n, in Keras's variable order
```

`save_keras` writes Keras's config shape from kerax's configs (kerax layers
carry Keras's class names and arguments) and Keras's HDF5 layout from the
params and state, so `keras.saving.load_model` loads the file on any backend.
`load_keras` reads such a file (written by kerax or by Keras) with kerax's
allowlisted deserializer and h5py: Keras is never imported, no module named
in the file is imported, and nothing from the file runs.

Reading is defensive, because a model file comes from anywhere:

- zip members are only the three above (plus Keras's `assets/`), without
  `..`, absolute paths or links; JSON members are size- and depth-limited;
- every `module` named in the config must be one of Keras's own public
  modules, or name a class the user registered or passed as `custom_objects`;
- every HDF5 dataset is a plain dataset in the file (no external links, no
  external storage, no virtual datasets), with the shape and a numeric dtype
  the architecture expects, and with stored bytes that cover its declared
  size, all checked before any array is read.

Variable order: Keras stores a layer's own variables as `vars/0..n`,
trainable ones first, each group in the order the layer creates them.
`kerax.saving._keras_layout.LAYOUTS` holds that order for every built-in
layer, with Keras's attribute names for sublayers that kerax keeps as plain
dicts (MultiHeadAttention's `query_dense`, ...), LoRA (Keras writes the
merged weight) and SpectralNormalization's aliased kernel. A variable outside
its layer's layout is a clear error rather than a guess that could swap two
equally shaped arrays. Sublayers nest under Keras's attribute names
(`lstm/cell/vars`, `bidirectional/forward_layer/...`, `rnn/cell/cells/gru_cell`).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import stat
import uuid
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import h5py
import jax
import numpy as np

from kerax._version import __version__
from kerax.core import authoring, registry, serialization
from kerax.core.layer import Layer
from kerax.core.naming import to_snake_case
from kerax.core.node import InputLayer, Node
from kerax.core.spec import keras_shape
from kerax.core.spec import spec as make_spec
from kerax.interop.keras import model_from_keras_config
from kerax.models import Model, Sequential
from kerax.saving._keras_layout import GENERIC_ORDER, layout_of
from kerax.saving.errors import ModelFileError

# The Keras version whose format kerax writes (metadata.json); Keras 3 reads
# archives of any 3.x version.
KERAS_VERSION = "3.15.1"

# A user's layer (no entry in `_keras_layout.LAYOUTS`) stores its variables
# in this order; built-in layers follow their own table entry.
KERAS_VARIABLE_ORDER = GENERIC_ORDER

# Keras's attribute names for sublayers that kerax keeps under other names.
_SUBLAYER_ATTRIBUTES = {"_forward": "forward_layer", "_backward": "backward_layer"}

# Modules a Keras config may name: Keras's public modules and what Keras
# writes for functional models and keras.ops nodes. Nothing is imported from
# them; a module outside this list means a class kerax cannot know.
ALLOWED_MODULES = (
    "keras",
    "keras.layers",
    "keras.models",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.activations",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.losses",
    "keras.metrics",
    "keras.src.models.functional",
    "keras.src.models.sequential",
    "keras.src.models.model",
    "keras.src.ops.numpy",
    "keras.src.ops.core",
    "keras.src.ops.nn",
    "keras.src.ops.math",
    "keras.src.ops.linalg",
    "keras.src.ops.image",
    "keras.src.ops.einops",
)

_TRAINING_GROUP = "kerax_training/vars"
_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
_MAX_JSON_BYTES = 64 << 20
_MAX_JSON_DEPTH = 64


# --------------------------------------------------------------------- layout
def _keras_name(layer, name):
    return name or layer.scope_name


def _rank(layer, name: str, order: tuple, known: bool) -> int:
    try:
        return order.index(name)
    except ValueError:
        what = (
            f"Keras's {type(layer).__name__} has no variable {name!r}"
            if known
            else f"kerax does not know where Keras stores its variable {name!r}"
        )
        raise ModelFileError(
            f"{layer.describe()}: {what}, so it cannot write or read this layer in Keras's "
            "weights layout. Save a model directory instead (a path without the .keras suffix)."
        ) from None


def _sublayer_attribute(layer, child) -> str:
    """The Keras attribute holding `child` (`cell`, `layer`, `forward_layer`)."""
    found = []
    for attr in dir(layer):
        if attr.startswith("__"):
            continue
        try:
            value = getattr(layer, attr)
        except Exception:  # A property that cannot be computed holds no sublayer.
            continue
        if value is child:
            found.append(attr)
    if not found:
        raise ModelFileError(
            f"{layer.describe()}: cannot find the attribute holding its sublayer "
            f"{child.describe()}, so its Keras weights path is unknown."
        )
    public = [a for a in found if not a.startswith("_")]
    attr = public[0] if public else found[0]
    return _SUBLAYER_ATTRIBUTES.get(attr, attr.lstrip("_"))


def _list_paths(layer, attribute: str) -> dict:
    """`{id(sublayer): "<attribute>/<snake_case class>[_n]"}` for a list attribute.

    Keras's `_save_container_state` names list items by class, not by name.
    """
    items = getattr(layer, attribute, None)
    if not isinstance(items, (list, tuple)):
        raise ModelFileError(
            f"{layer.describe()}: Keras keeps its sublayers in the list {attribute!r}, "
            "which this layer does not have; its Keras weights path is unknown."
        )
    used = {}
    return {
        id(c): _join(attribute, _unique(to_snake_case(type(c).__name__), used))
        for c in items
    }


def _keras_class_name(layer) -> str:
    return "Functional" if type(layer) is Model else type(layer).__name__


def _unique(base: str, used: dict) -> str:
    """Keras's `_get_unique_name`: `dense`, `dense_1`, ... per container."""
    if base not in used:
        used[base] = 0
        return base
    used[base] += 1
    return f"{base}_{used[base]}"


def _container_paths(model) -> dict:
    """`{kerax child name: Keras path segment}` for a Sequential or functional model."""
    names = dict((id(c), n) for n, c in model.children())
    if isinstance(model, Sequential):
        layers = [c for _, c in model.children() if not isinstance(c, InputLayer)]
    else:
        layers = model.operations  # Keras orders its weights file by these.
    used, out = {}, {}
    for layer in layers:
        segment = _unique(to_snake_case(_keras_class_name(layer)), used)
        if id(layer) in names:
            out[names[id(layer)]] = segment
    return out


def weight_layout(layer, params, state, path: str = "") -> list:
    """`[(h5_group, [("params" | "state", key_path), ...]), ...]` in Keras's order.

    `params`/`state` may hold arrays or `ShapeDtypeStruct`s: only their
    structure is used. `key_path` is a tuple of dict keys from the root.
    """
    groups = []
    _layout(layer, params or {}, state or {}, path, (), groups)
    return groups


def _layout(layer, params, state, path, prefix, groups) -> None:
    if isinstance(layer, (Sequential, Model)):
        groups.append((path, []))
        segments = _container_paths(layer)
        for name, child in layer.children():
            if isinstance(child, InputLayer) or getattr(child, "_keras_op", False):
                continue
            _layout(
                child,
                params.get(name, {}),
                state.get(name, {}),
                _join(path, "layers", segments[name]),
                prefix + (name,),
                groups,
            )
        return
    layout, known = layout_of(layer)
    where = {}
    for kind, tree in (("params", params), ("state", state)):
        for k, v in tree.items():
            if not isinstance(v, dict):
                where[k] = kind
    factors = {}  # LoRA factor name -> the weight it merges into.
    for w, (fa, fb) in layout.lora.items():
        if fa in where or fb in where:
            if not (w in where and fa in where and fb in where):
                raise ModelFileError(
                    f"{layer.describe()}: LoRA weights {w!r}, {fa!r}, {fb!r} must come together."
                )
            factors[fa] = factors[fb] = w
    own = []
    alias = _alias_item(layer, layout, params, prefix)
    if alias is not None:
        own.append(alias)
    order = layout.variables
    names = [k for k in where if k not in factors]
    for k in sorted(names, key=lambda k: _rank(layer, k, order, known)):
        if k in layout.lora and k in factors.values():
            fa, fb = layout.lora[k]
            alpha = getattr(layer, "lora_alpha", None)
            rank = layer.lora_rank
            scale = (alpha if alpha is not None else rank) / rank
            own.append(
                (
                    "lora",
                    (
                        (where[k], prefix + (k,)),
                        (where[fa], prefix + (fa,)),
                        (where[fb], prefix + (fb,)),
                        scale,
                    ),
                )
            )
        else:
            own.append((where[k], prefix + (k,)))
    groups.append((path, own))
    children = dict(layer.children())
    listed = _list_paths(layer, layout.list_attribute) if layout.list_attribute else {}
    nested = sorted(
        {k for tree in (params, state) for k, v in tree.items() if isinstance(v, dict)}
    )
    for name in nested:
        child = children.get(name)
        if child is None and name in layout.nested:
            _plain_subtree(
                layer,
                layout,
                params.get(name, {}),
                state.get(name, {}),
                _join(path, layout.nested[name]),
                prefix + (name,),
                groups,
            )
            continue
        if child is None:
            raise ModelFileError(
                f"{layer.describe()}: its weights nest under {name!r}, which is none of its "
                f"sublayers {sorted(children)}; kerax cannot map them to Keras's layout."
            )
        if layout.list_attribute:
            if id(child) not in listed:
                raise ModelFileError(
                    f"{layer.describe()}: its sublayer {child.describe()} is not in its "
                    f"{layout.list_attribute!r} list, so its Keras weights path is unknown."
                )
            segment = listed[id(child)]
        else:
            segment = _sublayer_attribute(layer, child)
        _layout(
            child,
            params.get(name, {}),
            state.get(name, {}),
            _join(path, segment),
            prefix + (name,),
            groups,
        )


def _alias_item(layer, layout, params, prefix):
    """SpectralNormalization's own first variable: its wrapped layer's kernel."""
    if not layout.alias:
        return None
    inner = getattr(layer, "layer", None)
    names = [n for n, c in layer.children() if c is inner]
    inner_params = params.get(names[0], {}) if names else {}
    for name in layout.alias:
        if name in inner_params and not isinstance(inner_params[name], dict):
            return ("alias", ("params", prefix + (names[0], name)))
    raise ModelFileError(
        f"{layer.describe()}: Keras stores its wrapped layer's trainable "
        f"{' or '.join(layout.alias)} as its own first variable, and the wrapped layer has "
        "none as a trainable param (a frozen or LoRA-enabled kernel); Keras's layout is unknown."
    )


def _plain_subtree(layer, layout, params, state, path, prefix, groups) -> None:
    """A Keras sublayer that kerax keeps as a plain dict of arrays (MultiHeadAttention's)."""
    own = []
    for kind, tree in (("params", params), ("state", state)):
        for k, v in tree.items():
            if isinstance(v, dict) or k not in layout.nested_variables:
                raise ModelFileError(
                    f"{layer.describe()}: {'/'.join(prefix)} holds {k!r}; Keras's sublayer "
                    f"there holds only {list(layout.nested_variables)}."
                )
            own.append((kind, prefix + (k,)))
    own.sort(key=lambda item: layout.nested_variables.index(item[1][-1]))
    groups.append((path, own))


def _join(*parts) -> str:
    return "/".join(p for p in parts if p)


def _get(tree, key_path):
    for k in key_path:
        tree = tree[k]
    return tree


def _set(tree, key_path, value) -> None:
    for k in key_path[:-1]:
        tree = tree.setdefault(k, {})
    tree[key_path[-1]] = value


# ---------------------------------------------------------------- config out
def _keras_value(value, where):
    """A kerax config value in Keras's serialization."""
    if isinstance(value, list):
        return [_keras_value(v, where) for v in value]
    if isinstance(value, dict):
        module = value.get("module")
        if module == "registered":
            # What Keras writes for a function registered with
            # `register_keras_serializable`: Keras (with the function
            # registered) and kerax both load it by that name.
            return {
                "module": "builtins",
                "class_name": "function",
                "config": value.get("name"),
                "registered_name": "function",
            }
        if isinstance(module, str) and module.startswith("kerax."):
            value = dict(value, module="keras." + module[len("kerax.") :])
            value.setdefault("registered_name", None)
        return {k: _keras_value(v, where) for k, v in value.items()}
    return value


def _dtype_entry(dtype):
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": dtype},
        "registered_name": None,
    }


def _leaf_entry(layer, name, input_shape) -> dict:
    entry = serialization.serialize(layer)
    config = dict(entry["config"])
    if not authoring.is_keras_style(type(layer)) or authoring.accepts_argument(
        type(layer), "name"
    ):
        # Keras writes exactly `get_config()`: a layer written Keras's way whose
        # `__init__` takes no `name` gets none (Keras would pass it back).
        config["name"] = name
    if config.get("dtype") is None:
        config.pop("dtype", None)  # Keras's global policy, as in kerax.
    elif isinstance(config["dtype"], str):
        config["dtype"] = _dtype_entry(config["dtype"])
    config = {k: _keras_value(v, layer.describe()) for k, v in config.items()}
    layout = layout_of(layer)[0]
    if not layout.keras_config_has_trainable:
        if config.get("trainable") is False:
            raise ModelFileError(
                f"{layer.describe()}: Keras's {type(layer).__name__} takes no `trainable` "
                "argument, so a frozen one cannot be written to a .keras file."
            )
        config.pop("trainable", None)
    for k in list(config):
        value = getattr(layer, k, None)
        if isinstance(value, Layer):  # Wrapped layers (Bidirectional, TimeDistributed).
            config[k] = keras_config(value, None, value.scope_name)
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, Layer) for v in value)
        ):  # StackedRNNCells's cells.
            names = {id(c): n for n, c in layer.children()}
            config[k] = [
                keras_config(v, None, names.get(id(v), v.scope_name)) for v in value
            ]
    custom = registry.registered_name(type(layer))
    out = {
        "module": None if custom else "keras.layers",
        "class_name": layout.keras_class_name or type(layer).__name__,
        "config": config,
        "registered_name": custom,
    }
    if input_shape is not None and layout.build_arguments:
        # Keras's `build_from_config` calls `build(**shapes_dict)` (attention layers).
        shapes = (
            input_shape
            if isinstance(input_shape, list)
            and input_shape
            and isinstance(input_shape[0], list)
            else [input_shape]
        )
        out["build_config"] = {"shapes_dict": dict(zip(layout.build_arguments, shapes))}
    elif input_shape is not None:
        out["build_config"] = {"input_shape": input_shape}
    return out


def _shape_json(spec):
    return jax.tree.map(lambda s: list(keras_shape(s.shape)), spec)


def _input_entry(spec, name) -> dict:
    return {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {
            "batch_shape": list(keras_shape(spec.shape)),
            "dtype": np.dtype(spec.dtype).name,
            "sparse": False,
            "ragged": False,
            "name": name,
        },
        "registered_name": None,
    }


def keras_config(layer, spec, name=None) -> dict:
    """The Keras 3 config entry (`module`, `class_name`, `config`, ...) of a kerax layer."""
    name = _keras_name(layer, name)
    if isinstance(layer, Sequential):
        return _sequential_entry(layer, spec, name)
    if isinstance(layer, Model):
        return _functional_entry(layer, spec, name)
    if isinstance(layer, InputLayer):
        return _input_entry(layer.input_spec, name)
    return _leaf_entry(layer, name, _shape_json(spec))


def _sequential_entry(model, spec, name) -> dict:
    entries = []
    children = model.children()
    if not children or not isinstance(children[0][1], InputLayer):
        if not isinstance(spec, jax.ShapeDtypeStruct):
            raise ModelFileError(
                f"{model.describe()}: Keras's Sequential takes one input array; "
                "this model's input spec is a structure."
            )
        entries.append(_input_entry(spec, "input_layer"))
    for child_name, child in children:
        entries.append(keras_config(child, spec, child_name))
        if not isinstance(child, InputLayer):
            spec = child.output_spec(spec)
    first = entries[0]["config"]  # The InputLayer, Keras's or the model's own.
    build_shape = first["batch_shape"]
    config = {
        "name": name,
        "trainable": model.trainable,
        "layers": entries,
        "build_input_shape": build_shape,
    }
    if model.dtype is not None:
        config["dtype"] = _dtype_entry(model.dtype)
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": config,
        "registered_name": None,
        "build_config": {"input_shape": build_shape},
    }


def _functional_entry(model, spec, name) -> dict:
    del spec  # A functional model's inputs fix its spec.
    g = model._graph
    history = {}

    def ref(node):
        if node.parent is not None:
            if len(node.path) != 1 or not isinstance(node.path[0], int):
                raise ModelFileError(
                    f"{model.describe()}: an output is indexed by {node.path!r}; Keras "
                    "functional configs only index outputs by position."
                )
            layer_name, call, _ = ref(node.parent)
            return [layer_name, call, node.path[0]]
        return history[id(node)]

    def tensor(node):
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(keras_shape(node.spec.shape)),
                "dtype": np.dtype(node.spec.dtype).name,
                "keras_history": ref(node),
            },
        }

    def encode(tree):
        if isinstance(tree, Node):
            return tensor(tree)
        if isinstance(tree, dict):
            return {str(k): encode(v) for k, v in tree.items()}
        if isinstance(tree, (list, tuple)):
            return [encode(v) for v in tree]
        return tree

    entries, by_layer = [], {}
    for node in g.order:
        if node.parent is not None:
            continue
        layer, layer_name = node.op, g.name_of[id(node.op)]
        if isinstance(layer, InputLayer):
            history[id(node)] = [layer_name, 0, 0]
            entry = _input_entry(layer.input_spec, layer_name)
            entry["name"], entry["inbound_nodes"] = layer_name, []
            entries.append(entry)
            continue
        call = g.call_index[id(node)]
        history[id(node)] = [layer_name, call, 0]
        if hasattr(layer, "keras_operation"):  # A kerax.ops call: Keras's op.
            entry, args = layer.keras_operation(list(node.args))
            entry["config"]["name"] = entry["name"] = layer_name
            entry["inbound_nodes"] = [{"args": encode(args), "kwargs": {}}]
            entries.append(entry)
            continue
        inbound = {"args": encode(list(node.args)), "kwargs": encode(dict(node.kwargs))}
        if id(layer) not in by_layer:
            arg_specs = [a.spec for a in node.args if isinstance(a, Node)]
            if len(node.args) == 1 and isinstance(node.args[0], (list, tuple)):
                arg_specs = [
                    jax.tree.map(
                        lambda n: n.spec,
                        list(node.args[0]),
                        is_leaf=lambda n: isinstance(n, Node),
                    )
                ]
            in_spec = arg_specs[0] if len(arg_specs) == 1 else arg_specs
            entry = keras_config(layer, in_spec, layer_name)
            entry["name"], entry["inbound_nodes"] = layer_name, []
            by_layer[id(layer)] = entry
            entries.append(entry)
        by_layer[id(layer)]["inbound_nodes"].append(inbound)

    def refs(tree):
        if isinstance(tree, Node):
            return ref(tree)
        if isinstance(tree, dict):
            return {str(k): refs(v) for k, v in tree.items()}
        return [refs(v) for v in tree]

    config = {
        "name": name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": refs(model.inputs),
        "output_layers": refs(model.outputs),
    }
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": config,
        "registered_name": "Functional",
        "build_config": {"input_shape": None},
    }


# ------------------------------------------------------------- weights (h5)
def write_h5_weights(h5: h5py.File, layer, params, state) -> None:
    """Writes `params`/`state` into an open HDF5 file in Keras's layout."""
    tree = {"params": params or {}, "state": state or {}}
    for group_path, items in weight_layout(layer, params, state):
        group = h5.require_group(_join(group_path, "vars"))
        if group_path == "" or items:
            group.attrs["name"] = group_path.rsplit("/", 1)[-1] or layer.scope_name
        for i, item in enumerate(items):
            group.create_dataset(str(i), data=_item_value(tree, item))


def _item_value(tree, item):
    kind, ref = item
    if kind == "lora":  # Keras writes the merged weight (`save_own_variables`).
        (wk, wp), (ak, ap), (bk, bp), scale = ref
        w = np.asarray(_get(tree[wk], wp))
        a = np.asarray(_get(tree[ak], ap), np.float32)
        b = np.asarray(_get(tree[bk], bp), np.float32)
        delta = np.matmul(a, b) * np.float32(scale)
        return (w.astype(np.float32) + delta).astype(w.dtype)
    if kind == "alias":
        kind, ref = ref
    return np.asarray(_get(tree[kind], ref))


def _item_target(item):
    """`(kind, key_path)` of the array a stored variable fills."""
    kind, ref = item
    if kind == "lora":
        return ref[0]
    if kind == "alias":
        return ref
    return kind, ref


def _plain_dataset(group, key: str, where: str):
    link = group.get(key, getlink=True)
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(
            f"{where}: {group.name}/{key} is a {type(link).__name__}; kerax reads only "
            "datasets stored in the file itself (no external or soft links)."
        )
    ds = group[key]
    if not isinstance(ds, h5py.Dataset):
        raise ModelFileError(
            f"{where}: {ds.name} is a group where a variable should be."
        )
    if ds.is_virtual or ds.external:
        raise ModelFileError(
            f"{where}: {ds.name} is a virtual dataset or uses external storage; "
            "kerax reads only data stored in the file itself."
        )
    return ds


def _check_dataset(ds, want, where: str) -> None:
    shape = tuple(ds.shape or ())
    if shape != tuple(want.shape):
        raise ModelFileError(
            f"{where}: {ds.name} has shape {shape}, but the architecture expects "
            f"{tuple(want.shape)}; the weights are from another model or the file is corrupted."
        )
    if ds.dtype.kind not in "fiub":
        raise ModelFileError(
            f"{where}: {ds.name} has dtype {ds.dtype}, not a numeric array; the file is corrupted."
        )
    # Before reading: stored bytes must cover the declared size, so a file
    # cannot make the loader allocate more than it holds (a "shape bomb").
    stored = ds.id.get_storage_size()
    if ds.compression is None and stored < ds.size * ds.dtype.itemsize:
        raise ModelFileError(
            f"{where}: {ds.name} declares {ds.size * ds.dtype.itemsize} bytes but stores "
            f"{stored}; the file is truncated or corrupted."
        )


def read_h5_weights(h5: h5py.File, layer, abstract, where: str):
    """Reads `(params, state)` shaped like `abstract` (a `(params, state)` of specs)."""
    params_abs, state_abs = abstract
    abstract_tree = {"params": params_abs, "state": state_abs}
    out = {"params": {}, "state": {}}
    for group_path, items in weight_layout(layer, params_abs, state_abs):
        if not items:
            continue
        vars_path = _join(group_path, "vars")
        if vars_path not in h5:
            raise ModelFileError(
                f"{where}: the weights file has no {vars_path!r} for the architecture's "
                f"{len(items)} variables there."
            )
        group = h5[vars_path]
        if len(group) != len(items):
            raise ModelFileError(
                f"{where}: {vars_path} holds {len(group)} variables, the architecture expects {len(items)}."
            )
        for i, item in enumerate(items):
            ds = _plain_dataset(group, str(i), where)
            kind, key_path = _item_target(item)
            want = _get(abstract_tree[kind], key_path)
            _check_dataset(ds, want, where)
        for i, item in enumerate(items):
            if item[0] == "alias":
                # A second copy of the wrapped layer's kernel, read from there.
                continue
            kind, key_path = _item_target(item)
            want = _get(abstract_tree[kind], key_path)
            value = np.asarray(group[str(i)][()]).astype(want.dtype, copy=False)
            _set(out[kind], key_path, value)
            if item[0] == "lora":
                # Keras loads the merged weight and zeroes the factors (`load_own_variables`).
                for fkind, fpath in item[1][1:3]:
                    f = _get(abstract_tree[fkind], fpath)
                    _set(out[fkind], fpath, np.zeros(f.shape, f.dtype))
    return out["params"], out["state"]


def save_weights_h5(path, model, params, state=None) -> Path:
    """Writes Keras's `.weights.h5` for `model` (atomically: a temp file renamed into place)."""
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(
            f"kerax.save_weights: the path must end in .weights.h5 (Keras's name), got {path.name!r}."
        )
    weight_layout(model, params, state)  # Unsupported layers fail before writing.

    def write(f):
        with h5py.File(f, "w") as h5:
            write_h5_weights(h5, model, params, state)

    atomic_file_write(path, write)
    return path


def load_weights_h5(path, model, *, input_spec=None):
    """Reads `(params, state)` for `model` from a Keras `.weights.h5` file."""
    path = Path(path)
    where = f"kerax.load_weights({str(path)!r})"
    spec = input_spec if input_spec is not None else getattr(model, "input_spec", None)
    if spec is None:
        raise ValueError(
            f"{where}: {model.describe()} does not know its input spec; pass input_spec=kerax.spec(...)."
        )
    abstract = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    with _open_h5(path.read_bytes(), where) as h5:
        return read_h5_weights(h5, model, abstract, where)


def _open_h5(data: bytes, where: str) -> h5py.File:
    if not data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ModelFileError(f"{where}: the weights are not an HDF5 file (corrupted).")
    try:
        return h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ModelFileError(
            f"{where}: the HDF5 weights file is corrupted: {e}"
        ) from None


# ------------------------------------------------------------------ archive
def atomic_file_write(path: Path, write) -> None:
    """`write(f)` into a temporary sibling, then one `os.replace`: never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_keras(
    path, model, params, state, *, input_spec, extra_config=None, training=None
) -> Path:
    """Writes Keras 3's `.keras` archive for `model` with `params` and `state`.

    `extra_config` entries (e.g. `compile_config`) go at the top level of
    `config.json`, as Keras writes them. `training` (from
    `kerax.saving.training_state.describe`) adds the training arrays under
    `kerax_training/vars` in the HDF5 file and their description to
    `metadata.json`; Keras ignores both.
    """
    path = Path(path)
    entry = keras_config(model, input_spec)
    if extra_config:
        entry.update(extra_config)
    weight_layout(model, params, state)  # Unsupported layers fail before writing.
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d@%H:%M:%S"),
        "kerax_version": __version__,
    }
    if training is not None:
        metadata["kerax_training"] = training["json"]
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        write_h5_weights(h5, model, params, state)
        if training is not None:
            group = h5.create_group(_TRAINING_GROUP)
            for k, v in training["arrays"].items():
                group.create_dataset(k, data=v)

    def write(f):
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(entry))
            z.writestr("model.weights.h5", weights.getvalue())

    atomic_file_write(path, write)
    return path


def _check_members(z: zipfile.ZipFile, where: str) -> None:
    for info in z.infolist():
        name = info.filename
        parts = PurePosixPath(name).parts
        mode = info.external_attr >> 16
        if name.startswith(("/", "\\")) or ".." in parts or ":" in name or "\\" in name:
            raise ModelFileError(
                f"{where}: refusing archive member {name!r} (an absolute or parent path)."
            )
        if stat.S_ISLNK(mode):
            raise ModelFileError(f"{where}: refusing archive member {name!r} (a link).")
        if name not in _MEMBERS and not name.startswith("assets/"):
            raise ModelFileError(
                f"{where}: unexpected archive member {name!r}; a .keras file holds {list(_MEMBERS)}."
            )
    missing = [m for m in ("config.json", "model.weights.h5") if m not in z.namelist()]
    if missing:
        raise ModelFileError(
            f"{where}: the archive is missing {missing} (corrupted or not a .keras file)."
        )


def _depth(value, limit: int) -> int:
    stack, deepest = [(value, 1)], 1
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > limit:
            return d
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def read_json_member(text: bytes, member: str, where: str):
    """A JSON file from a model, with its size, syntax and nesting checked."""
    if len(text) > _MAX_JSON_BYTES:
        raise ModelFileError(
            f"{where}: {member} is {len(text)} bytes, over the {_MAX_JSON_BYTES} limit."
        )
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFileError(
            f"{where}: {member} is corrupted (not JSON): {e}."
        ) from None
    except RecursionError:
        raise ModelFileError(
            f"{where}: {member} is nested too deeply to be a model config."
        ) from None
    if _depth(value, _MAX_JSON_DEPTH) > _MAX_JSON_DEPTH:
        raise ModelFileError(
            f"{where}: {member} is nested deeper than {_MAX_JSON_DEPTH} levels; not a model config."
        )
    if not isinstance(value, dict):
        raise ModelFileError(
            f"{where}: {member} must hold a JSON object, got {type(value).__name__}."
        )
    return value


def check_modules(config, custom_objects, where: str) -> None:
    """Refuses any `module` outside Keras's own unless its class is the user's."""
    stack = [config]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
            continue
        if not isinstance(v, dict):
            continue
        stack.extend(v.values())
        module = v.get("module")
        if module is None or module in ALLOWED_MODULES:
            continue
        candidates = [v.get("registered_name"), v.get("class_name")]
        if v.get("class_name") == "function":
            # Keras's registered function: `{"module": "builtins", "config": "pkg>fn"}`.
            candidates.append(v.get("config"))
        names = [n for n in candidates if isinstance(n, str)]
        if any(registry.lookup_custom(n, custom_objects) is not None for n in names):
            continue
        raise ModelFileError(
            f"{where}: the config names module {module!r} (class {v.get('class_name')!r}), "
            "which is not part of Keras. kerax never imports modules named in a file: "
            "register the class with kerax.register, or pass it in custom_objects=."
        )


def read_keras_archive(path, custom_objects=None):
    """`(config, metadata, h5_bytes)` of a `.keras` file, checked (see the module docstring)."""
    path = Path(path)
    where = f"kerax.load_model({str(path)!r})"
    if path.is_symlink():
        raise ModelFileError(
            f"{where}: refusing a symbolic link; pass the file itself."
        )
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelFileError(
            f"{where}: not a readable .keras (zip) archive, or corrupted: {e}"
        ) from None
    with z:
        _check_members(z, where)
        try:
            config = read_json_member(z.read("config.json"), "config.json", where)
            metadata = (
                read_json_member(z.read("metadata.json"), "metadata.json", where)
                if "metadata.json" in z.namelist()
                else {}
            )
            weights = z.read("model.weights.h5")
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise ModelFileError(f"{where}: the archive is corrupted: {e}") from None
    check_modules(config, custom_objects, where)
    return config, metadata, weights


def _keras_spec(entry):
    """The input spec that Keras's config records for a model or layer."""
    cfg = entry.get("config") or {}
    if entry.get("class_name") == "Sequential":
        first = (cfg.get("layers") or [{}])[0]
        if first.get("class_name") == "InputLayer":
            c = first.get("config") or {}
            shape = c.get("batch_shape") or [None, *c.get("shape", [])]
            return make_spec(tuple(shape), c.get("dtype") or "float32")
    shape = (entry.get("build_config") or {}).get("input_shape")
    return None if shape is None else make_spec(tuple(shape))


def load_keras(path, custom_objects=None):
    """Reads a `.keras` archive without importing Keras.

    Returns `(model, params, state, training)`; `training` is None unless
    the file was saved with `train_state=` (see `training_state`).
    """
    where = f"kerax.load_model({str(path)!r})"
    config, metadata, weights = read_keras_archive(path, custom_objects)
    for key in ("class_name", "config"):
        if key not in config:
            raise ModelFileError(
                f"{where}: config.json has no {key!r}; the file is corrupted."
            )
    with registry.custom_object_scope(custom_objects):
        try:
            model = model_from_keras_config(config)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
            raise ModelFileError(
                f"{where}: cannot build the architecture in config.json: {e}"
            ) from None
    spec = getattr(model, "input_spec", None)
    if spec is None:
        spec = _keras_spec(config)
    if spec is None:
        raise ModelFileError(
            f"{where}: config.json records no input shape (no InputLayer or build_config)."
        )
    try:
        abstract = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    except (ValueError, TypeError) as e:
        raise ModelFileError(
            f"{where}: the architecture in config.json does not build: {e}"
        ) from None
    with _open_h5(weights, where) as h5:
        params, state = read_h5_weights(h5, model, abstract, where)
        training = _read_training(h5, metadata, where)
    if training is not None:
        training["spec"] = spec
    return model, params, state, training


def _read_training(h5, metadata: dict, where: str):
    info = metadata.get("kerax_training")
    if info is None:
        return None
    n = info.get("num_arrays") if isinstance(info, dict) else None
    if not isinstance(n, int) or n < 0:
        raise ModelFileError(
            f"{where}: metadata.json kerax_training.num_arrays is missing or malformed."
        )
    if _TRAINING_GROUP not in h5 or len(h5[_TRAINING_GROUP]) != n:
        raise ModelFileError(
            f"{where}: the weights file does not hold the {n} training-state arrays "
            "metadata.json lists; the file is corrupted."
        )
    group, arrays = h5[_TRAINING_GROUP], []
    for i in range(n):
        ds = _plain_dataset(group, str(i), where)
        # Optimizer slots mirror params, so none exceeds the largest stored size.
        _check_dataset(ds, jax.ShapeDtypeStruct(ds.shape, ds.dtype), where)
        arrays.append(np.asarray(ds[()]))
    return {**info, "arrays": arrays}


# `kerax.interop.from_keras(path)`, a floor below, reads `.keras` files with this.
registry.provide("load_keras", load_keras)
