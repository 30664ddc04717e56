"""Architecture as JSON, Keras-style `{"class_name", "config"}`, loaded safely.

Loading never imports a module or runs code named by the file: a class name
is looked up in an allowlist (kerax's own layers, plus what the user passed
to `kerax.register`), and config values are plain JSON turned into objects
only through the same allowlists (initializers, regularizers, constraints,
activations by name).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import numpy as np

_BUILTIN: dict[str, type] = {}
_USER: dict[str, Any] = {}

# Config values that are objects of these kerax modules serialize with a
# "module" tag and come back through that module's own `get`.
_VALUE_MODULES = ("initializers", "regularizers", "constraints")


def register_builtin(cls) -> None:
    _BUILTIN.setdefault(cls.__name__, cls)


def register(obj=None, *, name: str | None = None):
    """Registers a custom layer class (or a function for `Lambda`) for loading.

    Use as a decorator (`@kerax.register`) or call (`kerax.register(MyLayer)`).
    Only registered names can be loaded from a config: a file cannot make the
    loader import or run anything else.
    """

    def do(o):
        key = name or getattr(o, "__name__", None)
        if not key:
            raise ValueError(
                f"kerax.register: cannot find a name for {o!r}; pass name=..."
            )
        existing = _USER.get(key)
        if existing is not None and existing is not o:
            raise ValueError(
                f"kerax.register: the name {key!r} is already registered to {existing!r}. "
                f'Register {o!r} under another name: kerax.register(..., name="package>{key}").'
            )
        _USER[key] = o
        return o

    return do if obj is None else do(obj)


def registered_name(obj) -> str | None:
    for k, v in _USER.items():
        if v is obj:
            return k
    return None


def lookup_function(name: str):
    fn = _USER.get(name)
    if fn is None or isinstance(fn, type):
        raise ValueError(
            f"The function {name!r} in this config is not registered. Register it before loading: "
            f"`kerax.register(fn, name={name!r})`."
        )
    return fn


def lookup_class(class_name: str):
    from kerax.core.layer import Layer

    cls = _USER.get(class_name) or _BUILTIN.get(class_name)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, Layer)):
        _import_builtin_layers()
        cls = _USER.get(class_name) or _BUILTIN.get(class_name)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(
            f"Unknown layer class {class_name!r} in config. It is neither a kerax layer nor registered: "
            f"if it is your own layer, call `kerax.register({class_name})` before loading."
        )
    return cls


def _import_builtin_layers():
    importlib.import_module("kerax.layers")
    importlib.import_module("kerax.models")


def _is_dtype(value) -> bool:
    # `jnp.float32` is a callable class: catch dtypes before callables.
    if isinstance(value, np.dtype) or type(value).__name__ == "_ScalarMeta":
        return True
    return isinstance(value, type) and issubclass(value, np.generic)


def serialize_value(value, where: str = "config"):
    """A config value as JSON-safe data."""
    from kerax.core.layer import Layer

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [serialize_value(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): serialize_value(v, where) for k, v in value.items()}
    if isinstance(value, Layer):
        return serialize(value)
    if _is_dtype(value):
        return np.dtype(value).name
    module = type(value).__module__
    for m in _VALUE_MODULES:
        if module == f"kerax.{m}":
            out = dict(importlib.import_module(module).serialize(value))
            out["module"] = module
            return out
    if callable(value):
        reg = registered_name(value)
        if reg is not None:
            return {"module": "registered", "name": reg}
        from kerax import activations

        try:
            return activations.serialize(value)
        except ValueError:
            raise ValueError(
                f"{where}: cannot serialize the function {value!r}. Register it with "
                "`kerax.register(fn, name=...)` so a config can name it."
            ) from None
    raise TypeError(
        f"{where}: cannot serialize value {value!r} of type {type(value).__name__} to JSON."
    )


def deserialize_value(value):
    """Inverse of `serialize_value`, through allowlists only."""
    if isinstance(value, list):
        return tuple(deserialize_value(v) for v in value)
    if isinstance(value, dict):
        module = value.get("module")
        if module == "registered":
            return lookup_function(value["name"])
        if module in {f"kerax.{m}" for m in _VALUE_MODULES}:
            payload = {k: v for k, v in value.items() if k != "module"}
            return importlib.import_module(module).get(payload)
        if "class_name" in value and "config" in value:
            return from_config(value)
        return {k: deserialize_value(v) for k, v in value.items()}
    return value


def serialize(layer) -> dict:
    """`{"class_name": ..., "config": {...}}` for a layer or model."""
    cls = type(layer)
    # A class registered under its own name (`kerax.register(C, name="pkg>C")`,
    # as Keras's "package>name") is saved under it, so two user classes that
    # share a Python name can both be saved and loaded.
    name = registered_name(cls) or cls.__name__
    return {"class_name": name, "config": layer.get_config()}


def from_config(config: dict | str):
    """Rebuilds a layer or model from `serialize(...)` output (dict or JSON text)."""
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
    return lookup_class(config["class_name"]).from_config(config["config"])


def construct(cls, config: dict):
    """`cls(**config)` with every value deserialized and unknown keys refused."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(config) - fields
    if unknown:
        raise ValueError(
            f"Config for {cls.__name__} has unknown keys {sorted(unknown)}; valid keys: {sorted(fields)}."
        )
    kwargs = {k: deserialize_value(v) for k, v in config.items()}
    return cls(**kwargs)


def to_json(layer, **kwargs) -> str:
    return json.dumps(serialize(layer), **kwargs)
