"""The Keras-style lookup shared by small object families (regularizers, constraints).

`get`, `serialize` and `deserialize` with Keras's layout
(`{"module", "class_name", "config", "registered_name"}`) and its errors,
written once for every family that is a handful of dataclasses.
"""

from __future__ import annotations

from typing import Any


class KerasRegistry:
    """Names -> classes for one family, e.g. `KerasRegistry("constraint", ...)`."""

    def __init__(
        self, kind: str, module: str, base: type, classes: tuple, aliases: dict
    ):
        self.kind, self.module, self.base, self.classes = kind, module, base, classes
        self.all = {cls.__name__: cls for cls in classes}
        self.all.update(aliases)

    def lookup(self, name: str):
        try:
            return self.all[name]
        except KeyError:
            raise ValueError(
                f"Unknown {self.kind} {name!r}. Use one of {sorted(self.all)}."
            ) from None

    def deserialize(self, config: dict[str, Any]):
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(
                f"A {self.kind} config must be a dict with 'class_name' and 'config' keys. Received: {config!r}"
            )
        cls = self.lookup(config["class_name"])
        try:
            return cls.from_config(dict(config.get("config") or {}))
        except TypeError as e:
            raise ValueError(
                f"Invalid config for {self.kind} {cls.__name__}: {e}"
            ) from None

    def serialize(self, obj) -> dict[str, Any]:
        if type(obj) not in self.classes:
            raise ValueError(
                f"{self.kind.capitalize()} {obj!r} cannot be serialized: it is not a kerax {self.kind}. "
                f"Register custom {self.kind}s with `kerax.register` to save them."
            )
        return {
            "module": self.module,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": None,
        }

    def get(self, identifier: Any):
        if identifier is None:
            return None
        if isinstance(identifier, str):
            return self.lookup(identifier)()
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, type) and issubclass(identifier, self.base):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {identifier!r}. Use a name from {sorted(self.all)}, "
            "a config dict or a callable."
        )
