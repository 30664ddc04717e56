"""Keras's `keras.models` saving names: `model_from_json`, `load_model`, `save_model`.

`load_model` and `save_model` are `kerax.saving`'s (kerax's file formats
live on the saving floor, above models); `kerax.saving` provides them here
when it is imported, which `import kerax` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kerax.core import registry, serialization

__all__ = ["load_model", "model_from_json", "save_model"]


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None):
    """Rebuilds a model (or layer) from `model.to_json()` text, with fresh weights.

    Args:
        json_string: What `model.to_json()` returns, kerax's or Keras's (a
            Keras model's layers must have kerax counterparts, or be registered).
        custom_objects: `{name: class or function}` loadable for this call
            only, as Keras's `custom_objects=`.

    Raises:
        ValueError: the text is not JSON, or it names a class that is neither
            a kerax layer, registered, nor in `custom_objects`.

    Example:
        >>> model = kerax.Sequential([kerax.Input((32,)), kerax.layers.Dense(1)])
        >>> new_model = kerax.models.model_from_json(model.to_json())
        >>> params, state = new_model.init(jax.random.key(0))
        >>> params["dense"]["kernel"].shape
        (32, 1)
    """
    if not isinstance(json_string, (str, bytes)):
        raise ValueError(
            "kerax.models.model_from_json expects the JSON text of model.to_json(), "
            f"got {type(json_string).__name__}. For a config dict use kerax.from_config."
        )
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"kerax.models.model_from_json: json_string is not valid JSON ({e}); pass "
            "what model.to_json() returns."
        ) from None
    if isinstance(config, dict) and str(config.get("module") or "").startswith("keras"):
        # Keras's `model.to_json()`: its classes and values through the Keras
        # converters (interop provides them; this floor cannot import it).
        with registry.custom_object_scope(custom_objects):
            return registry.provided("keras_config")(config)
    return serialization.from_config(config, custom_objects)


def load_model(path, *, custom_objects=None):
    """`kerax.saving.load_model`: `(model, params, state)` from a file.

    Example:
        >>> kerax.models.load_model.__doc__.splitlines()[0]
        '`kerax.saving.load_model`: `(model, params, state)` from a file.'
    """
    return registry.provided("load_model")(path, custom_objects=custom_objects)


def save_model(path, model, params, state=None, **kwargs):
    """`kerax.saving.save_model`: writes `model` with `params` and `state` to `path`.

    Example:
        >>> import os, tempfile
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> kerax.models.save_model(path, model, params, state).name
        'm.keras'
    """
    return registry.provided("save_model")(path, model, params, state, **kwargs)
