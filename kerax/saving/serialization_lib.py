"""Keras's `keras.saving` serialization names over kerax's registry.

`register_keras_serializable`, `get_custom_objects`, `custom_object_scope`
(`CustomObjectScope`), `serialize_keras_object`, `deserialize_keras_object`,
`get_registered_name` and `get_registered_object` behave as Keras's do,
with kerax's one rule for loading: a config names objects, it never brings
code. A name resolves through kerax's own tables, what was registered, the
`custom_objects` of the call and the custom object scopes around it.

Example:
    >>> @kerax.saving.register_keras_serializable(package="docs")
    ... def squared(x):
    ...     return x**2
    >>> config = kerax.saving.serialize_keras_object(squared)
    >>> config["config"]
    'docs>squared'
    >>> kerax.saving.deserialize_keras_object(config) is squared
    True
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kerax.core import registry, serialization
from kerax.layers._serialize import serialize as _serialize_layer

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
]


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[Any], Any]:
    """Keras's decorator: registers a class or function as `"package>name"`.

    The same registration as `kerax.register(obj, package=package,
    name=name)`, with Keras's default package `"Custom"`; `name` defaults
    to the object's `__name__`. Saved configs carry the registered name, so
    loading finds the object without `custom_objects`.

    Args:
        package: The prefix of the registered name (Keras's default `"Custom"`).
        name: The name after the prefix; the object's `__name__` by default.

    Raises:
        ValueError: `package` contains `">"`, or the name is registered to
            another object.

    Example:
        >>> @kerax.saving.register_keras_serializable(package="docs", name="halve")
        ... def half(x):
        ...     return x / 2
        >>> kerax.saving.get_registered_name(half)
        'docs>halve'
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            f"register_keras_serializable: package={package!r} must be a string "
            "without '>' (the registered name is 'package>name')."
        )

    def decorator(obj):
        return registry.register(obj, name=name, package=package)

    return decorator


def get_custom_objects() -> dict[str, Any]:
    """The live table of registered objects, by registered name, as in Keras.

    `get_custom_objects().clear()` forgets every registration;
    `get_custom_objects()["name"] = obj` makes `obj` loadable under `name`.

    Example:
        >>> @kerax.saving.register_keras_serializable(package="docs")
        ... def cube(x):
        ...     return x**3
        >>> kerax.saving.get_custom_objects()["docs>cube"] is cube
        True
    """
    return registry.custom_objects()


class CustomObjectScope:
    """Makes `{name: object}` loadable inside a `with` block (Keras's scope).

    Loading (`load_model`, `from_config`, `deserialize_keras_object`, ...)
    inside the block finds these objects by name; on exit the scope that was
    active before is back, also when the block raises. Scopes nest (inner
    names win) and belong to the thread (a context variable), so threads do
    not see each other's scopes.

    Args:
        *custom_objects: Dicts `{name: class or function}`, merged in order
            (None is allowed and adds nothing).

    Raises:
        ValueError: an argument is not a dict.

    Example:
        >>> def twice(x):
        ...     return 2 * x
        >>> config = {"module": "builtins", "class_name": "function",
        ...           "config": "twice", "registered_name": "function"}
        >>> with kerax.saving.custom_object_scope({"twice": twice}):
        ...     fn = kerax.saving.deserialize_keras_object(config)
        >>> fn(3)
        6
    """

    def __init__(self, *custom_objects: Mapping[str, Any] | None):
        merged: dict[str, Any] = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, Mapping):
                raise ValueError(
                    "custom_object_scope: each argument must be a dict {name: object}, "
                    f"got {objects!r}."
                )
            merged.update(objects)
        self.custom_objects = merged
        # One entry per active `with` (the same scope may be re-entered).
        self._active: list[contextlib.AbstractContextManager] = []

    def __enter__(self) -> CustomObjectScope:
        scope = registry.custom_object_scope(self.custom_objects)
        scope.__enter__()
        self._active.append(scope)
        return self

    def __exit__(self, *exc_info) -> None:
        self._active.pop().__exit__(*exc_info)


custom_object_scope = CustomObjectScope


def get_registered_name(obj: Any) -> str:
    """The name `obj` is registered under, or its `__name__` (as Keras).

    Example:
        >>> kerax.saving.get_registered_name(kerax.layers.Dense)
        'Dense'
    """
    return registry.registered_name(obj) or obj.__name__


def get_registered_object(
    name: str,
    custom_objects: Mapping[str, Any] | None = None,
    module_objects: Mapping[str, Any] | None = None,
) -> Any | None:
    """The object registered (or in scope, or in the given dicts) as `name`, or None.

    Example:
        >>> kerax.saving.get_registered_object("nothing>here") is None
        True
    """
    found = registry.lookup_custom(name, custom_objects)
    if found is None and module_objects:
        found = module_objects.get(name)
    return found


def _is_layer(obj: Any) -> bool:
    base = registry.family("layers").base
    return base is not None and isinstance(obj, base)


def serialize_keras_object(obj: Any) -> Any:
    """Keras's serialized form of any kerax or registered object, JSON-safe.

    Layers and models give `kerax.layers.serialize`'s dict; initializers,
    regularizers, constraints, losses, metrics, optimizers and schedules
    give Keras's `{"module", "class_name", "config", "registered_name"}`;
    registered functions give Keras's function dict; None, numbers and
    strings are returned as they are; lists, tuples and dicts are
    serialized item by item.

    Raises:
        ValueError: an object that cannot be named (an unregistered function
            or class); the message says how to register it.

    Example:
        >>> config = kerax.saving.serialize_keras_object(kerax.regularizers.L1(0.005))
        >>> config["module"], config["class_name"], config["config"]
        ('keras.regularizers', 'L1', {'l1': 0.005})
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if _is_layer(obj):
        return _serialize_layer(obj)
    registered = registry.registered_name(obj)
    if registered is not None and not inspect.isclass(obj):
        if not hasattr(obj, "get_config"):
            # Keras's layout for a registered function.
            return {
                "module": "builtins",
                "class_name": "function",
                "config": registered,
                "registered_name": "function",
            }
    return serialization.serialize_value(obj, "serialize_keras_object")


def deserialize_keras_object(
    config: Any,
    custom_objects: Mapping[str, Any] | None = None,
    safe_mode: bool = True,
) -> Any:
    """Rebuilds an object from `serialize_keras_object` output (kerax's or Keras's).

    Args:
        config: A serialized dict, a list of them, a registered name, or a
            plain value (returned as it is).
        custom_objects: `{name: class or function}` loadable for this call
            only, as Keras's `custom_objects=`.
        safe_mode: Accepted for Keras's signature. kerax is always safe: it
            never deserializes Python code (a lambda in a Keras file is
            refused whatever this says), so `False` changes nothing.

    Raises:
        ValueError: a name that is neither kerax's, registered, nor in
            `custom_objects` or a custom object scope.

    Example:
        >>> config = kerax.saving.serialize_keras_object(kerax.regularizers.L1(0.005))
        >>> kerax.saving.deserialize_keras_object(config)
        L1(l1=0.005)
    """
    del safe_mode  # See the docstring: loading never runs code from a config.
    with registry.custom_object_scope(custom_objects):
        if isinstance(config, (list, tuple)):
            return [deserialize_keras_object(item) for item in config]
        if isinstance(config, str):
            found = registry.lookup_custom(config)
            if found is None:
                raise ValueError(
                    f"deserialize_keras_object: {config!r} is not a registered name. "
                    "Register the object (kerax.saving.register_keras_serializable), "
                    "pass it in custom_objects=, or, for a built-in name such as "
                    "'relu', use the family's get (kerax.activations.get('relu'))."
                )
            return found
        if isinstance(config, Mapping):
            return serialization.deserialize_value(dict(config))
        return config
