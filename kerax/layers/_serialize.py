"""Keras's `keras.layers.serialize` and `keras.layers.deserialize` for kerax layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kerax.core import registry, serialization
from kerax.core.layer import Layer

__all__ = ["deserialize", "serialize"]


def serialize(layer: Layer) -> dict[str, Any]:
    """A layer or model as Keras's serialized dict, JSON-safe.

    The dict has Keras's keys: `module` (`"keras.layers"` for kerax's own
    layers, None for a class registered with `kerax.register` or
    `kerax.saving.register_keras_serializable`), `class_name` (the Python
    class name), `config` and `registered_name` (`"package>name"` for a
    registered class). Config values a custom `get_config` returns as
    objects (sublayers, initializers, registered functions) are serialized
    too, as Keras's `serialize_keras_object` does.

    Args:
        layer: A kerax layer or model.

    Raises:
        ValueError: `layer` is not a kerax layer, or its config holds a value
            that cannot be named (an unregistered function).

    Example:
        >>> config = kerax.layers.serialize(kerax.layers.Dense(3, activation="relu"))
        >>> config["module"], config["class_name"], config["config"]["units"]
        ('keras.layers', 'Dense', 3)
        >>> kerax.layers.deserialize(config).activation
        'relu'
    """
    if not isinstance(layer, Layer):
        raise ValueError(
            f"kerax.layers.serialize expects a kerax layer or model, got {layer!r} of "
            f"type {type(layer).__name__}. For other objects (initializers, "
            "regularizers, functions) use kerax.saving.serialize_keras_object."
        )
    custom = registry.registered_name(type(layer))
    where = f"{type(layer).__name__}.get_config()"
    return {
        "module": None if custom else "keras.layers",
        "class_name": type(layer).__name__,
        "config": serialization.serialize_value(layer.get_config(), where),
        "registered_name": custom,
    }


def deserialize(
    config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
) -> Layer:
    """Rebuilds a layer or model from `serialize` output (or `kerax.serialize`'s).

    Args:
        config: A `{"class_name", "config"}` dict (Keras's `module` and
            `registered_name` keys are read when present).
        custom_objects: `{name: class or function}` loadable for this call
            only, as Keras's `custom_objects=` (registered names need none).

    Raises:
        ValueError: `config` is not a layer config, or it names a class that
            is neither a kerax layer, registered, nor in `custom_objects`.

    Example:
        >>> layer = kerax.layers.deserialize({"class_name": "Dropout", "config": {"rate": 0.5}})
        >>> type(layer).__name__, layer.rate
        ('Dropout', 0.5)
    """
    if not isinstance(config, Mapping):
        raise ValueError(
            "kerax.layers.deserialize expects a dict with 'class_name' and 'config' "
            f"(what kerax.layers.serialize returns), got {config!r}."
        )
    return serialization.from_config(dict(config), custom_objects)
