"""Architecture as JSON, Keras-style `{"class_name", "config"}`, loaded safely.

Loading never imports a module or runs code named by the file: a class name
is looked up in the registry (`kerax.core.registry`: kerax's own public
layers, what the user passed to `kerax.register`, and the `custom_objects`
given to the loader), and config values are plain JSON turned into objects
only through the same tables (initializers, regularizers, constraints,
activations by name).

Example:
    >>> config = kerax.serialize(kerax.layers.Dense(2, activation="relu"))
    >>> config["class_name"], config["config"]["activation"]
    ('Dense', 'relu')
    >>> kerax.from_config(config).units
    2
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from kerax.core import registry
from kerax.core.registry import custom_object_scope, register, registered_name

__all__ = [
    "construct",
    "custom_object_scope",
    "deserialize_value",
    "from_config",
    "lookup_class",
    "lookup_function",
    "register",
    "registered_name",
    "serialize",
    "serialize_value",
    "to_json",
]

# The `module` a serialized value carries names its family: Keras's own
# ("keras.initializers") and the one older kerax files wrote
# ("kerax.initializers").
_FAMILY_OF_MODULE = {
    module: fam.name
    for fam in reversed(
        registry.FAMILIES.values()
    )  # The first family of a module wins.
    for module in (fam.module, f"kerax.{fam.name}")
}


def _layer_base() -> type:
    base = registry.family("layers").base
    if base is None:
        raise ValueError("kerax.core.layer is not loaded: `import kerax` first.")
    return base


def lookup_function(name: str, custom_objects: Mapping[str, Any] | None = None):
    """A function registered with `kerax.register` (or given in `custom_objects`)."""
    fn = registry.lookup_custom(name, custom_objects)
    if fn is None or isinstance(fn, type):
        raise ValueError(
            f"The function {name!r} in this config is not registered. Register it before loading: "
            f"`kerax.register(fn, name={name!r})`, or pass it in `custom_objects`."
        )
    return fn


def lookup_class(class_name: str, custom_objects: Mapping[str, Any] | None = None):
    """The layer class a config names: the user's classes first, then kerax's public ones."""
    base = _layer_base()
    cls = registry.lookup_custom(class_name, custom_objects)
    if cls is None:
        cls = registry.family("layers").objects.get(class_name)
    if isinstance(cls, type) and issubclass(cls, base):
        return cls
    if isinstance(class_name, str) and class_name.startswith("_"):
        raise ValueError(
            f"Unknown layer class {class_name!r} in config: private kerax classes are not "
            "loadable from a config; name a public layer instead."
        )
    hint = ""
    if not registry.family("layers").objects:
        hint = " No kerax layers are loaded yet: `import kerax` first."
    raise ValueError(
        f"Unknown layer class {class_name!r} in config. It is neither a kerax layer nor registered: "
        f"if it is your own layer, call `kerax.register({class_name})` before loading, or pass "
        f"it in `custom_objects`.{hint}"
    )


def _is_dtype(value) -> bool:
    # `jnp.float32` is a callable class: catch dtypes before callables.
    if isinstance(value, np.dtype) or type(value).__name__ == "_ScalarMeta":
        return True
    return isinstance(value, type) and issubclass(value, np.generic)


def serialize_value(value, where: str = "config"):
    """A config value as JSON-safe data.

    Layers become `{"class_name", "config"}`; family objects (initializers,
    regularizers, constraints, ...) Keras's serialized dicts; built-in
    activations their names; functions registered with `kerax.register`
    `{"module": "registered", "name": ...}`.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [serialize_value(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): serialize_value(v, where) for k, v in value.items()}
    if isinstance(value, _layer_base()):
        return serialize(value)
    if _is_dtype(value):
        return np.dtype(value).name
    if not isinstance(value, type) and not hasattr(value, "get_config"):
        reg = registered_name(value)
        if reg is not None:
            return {"module": "registered", "name": reg}
    family = registry.family_of(value)
    reg = registered_name(type(value))
    if family is None and reg is not None and hasattr(value, "get_config"):
        # A registered class of no kerax family (e.g. a plain callable class
        # used as a regularizer): Keras's layout, with its registered name.
        return {
            "module": type(value).__module__,
            "class_name": type(value).__name__,
            "config": serialize_value(value.get_config(), where),
            "registered_name": reg,
        }
    if family is not None:
        try:
            return registry.serialize(family, value)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    if callable(value):
        raise ValueError(
            f"{where}: cannot serialize the function {value!r}. Register it with "
            "`kerax.register(fn, name=...)` so a config can name it."
        )
    raise TypeError(
        f"{where}: cannot serialize value {value!r} of type {type(value).__name__} to JSON."
    )


def deserialize_value(value):
    """Inverse of `serialize_value`, through the registry only."""
    if isinstance(value, list):
        return tuple(deserialize_value(v) for v in value)
    if not isinstance(value, dict):
        return value
    module = value.get("module")
    if module == "registered":
        return lookup_function(value["name"])
    if "class_name" not in value:
        return {k: deserialize_value(v) for k, v in value.items()}
    if value["class_name"] == "function":
        family = _FAMILY_OF_MODULE.get(module, "activations")
        return registry.deserialize(family, value)
    family = _FAMILY_OF_MODULE.get(module)
    if family is not None and family != "layers":
        return registry.deserialize(family, value)
    custom = registry.lookup_custom(value.get("registered_name"))
    if isinstance(custom, type) and not issubclass(custom, _layer_base()):
        config = deserialize_value(value.get("config") or {})
        return custom.from_config(dict(config))
    if "config" in value:
        return from_config(value)
    return {k: deserialize_value(v) for k, v in value.items()}


def serialize(layer) -> dict:
    """`{"class_name": ..., "config": {...}}` for a layer or model."""
    cls = type(layer)
    # A class registered under its own name (`kerax.register(C, name="pkg>C")`,
    # as Keras's "package>name") is saved under it, so two user classes that
    # share a Python name can both be saved and loaded.
    name = registered_name(cls) or cls.__name__
    # A `get_config` written Keras's way may return objects (sublayers,
    # initializers): serialized here, as Keras's `serialize_keras_object` does.
    where = f"{cls.__name__}.get_config()"
    return {"class_name": name, "config": serialize_value(layer.get_config(), where)}


def from_config(config: dict | str, custom_objects: Mapping[str, Any] | None = None):
    """Rebuilds a layer or model from `serialize(...)` output (dict or JSON text).

    Args:
        config: A `{"class_name", "config"}` dict, or its JSON text.
        custom_objects: `{name: class or function}` loadable for this call
            only, as Keras's `custom_objects=` (registered names work without).

    Raises:
        ValueError: a malformed config, or a name that is neither a kerax
            layer, registered, nor in `custom_objects`.
    """
    if isinstance(config, str):
        config = json.loads(config)
    if (
        not isinstance(config, dict)
        or "class_name" not in config
        or "config" not in config
    ):
        raise ValueError(
            'A kerax config must be a dict {"class_name": ..., "config": {...}}.'
        )
    with custom_object_scope(custom_objects):
        name = config.get("registered_name") or config["class_name"]
        if registry.lookup_custom(name) is None:
            name = config["class_name"]
        return lookup_class(name).from_config(config["config"])


def construct(cls, config: dict):
    """`cls(**config)` with every value deserialized and unknown keys refused."""
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(config) - fields
    if unknown:
        raise ValueError(
            f"Config for {cls.__name__} has unknown keys {sorted(unknown)}; valid keys: {sorted(fields)}."
        )
    kwargs = {k: deserialize_value(v) for k, v in config.items()}
    return cls(**kwargs)


def to_json(layer, **kwargs) -> str:
    """`serialize(layer)` as JSON text (`kwargs` go to `json.dumps`)."""
    return json.dumps(serialize(layer), **kwargs)
