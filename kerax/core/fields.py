"""Declarative layer fields: `kerax.field(default, converter=...)`.

A layer's fields are its Keras config. Most need no more than a type and a
default; some need their value normalized when the layer is made (an
initializer name becomes an initializer, a list becomes a tuple, an int
becomes a 2-tuple of ints). That normalization is declared on the field, as
Equinox's `field(converter=...)` does, instead of written as a
`__post_init__` with `object.__setattr__`:

    class Dense(kerax.Layer):
        units: int
        kernel_initializer: Initializer = kerax.field(
            "glorot_uniform", converter=initializers.get)
        kernel_regularizer: Regularizer | None = kerax.field(
            None, converter=regularizers.get, regularizes="kernel")

`Layer.__post_init__` runs each converter once, in field order, and names
the layer and the argument when a converter rejects a value. `regularizes`
and `constrains` say which param a regularizer or constraint acts on, so the
base class applies them without guessing from field names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["field", "converter_of", "regularized_param", "constrained_param"]


def field(
    default: Any = dataclasses.MISSING,
    *,
    converter: Callable[[Any], Any] | None = None,
    regularizes: str | None = None,
    constrains: str | None = None,
    kw_only: bool | dataclasses._MISSING_TYPE = dataclasses.MISSING,
) -> Any:
    """A layer field with an optional converter (see the module docstring).

    Args:
        default: The Keras default. Leave it out for an argument that Keras
            requires (`Dense(units)`).
        converter: Called with the given value when the layer is made; its
            result is stored. It also receives the default, so it must
            accept it. A `ValueError`/`TypeError` it raises is re-raised
            naming the layer and the argument.
        regularizes: For a regularizer field, the param it acts on
            (`"kernel"`); the base class adds its penalty to the loss.
        constrains: For a constraint field, the param it projects after
            each optimizer update.
        kw_only: As in `dataclasses.field`.

    Example:
        >>> class Scale(kerax.Layer):
        ...     factor: tuple = kerax.field((1.0,), converter=tuple)
        >>> Scale([2.0, 3.0]).factor
        (2.0, 3.0)
    """
    if isinstance(default, list | dict | set):
        raise TypeError(
            f"kerax.field: a default must be hashable (layers are frozen "
            f"configs); got {type(default).__name__}. Use a tuple."
        )
    metadata = {}
    if converter is not None:
        metadata["converter"] = converter
    if regularizes is not None:
        metadata["regularizes"] = regularizes
    if constrains is not None:
        metadata["constrains"] = constrains
    return dataclasses.field(default=default, kw_only=kw_only, metadata=metadata)


def converter_of(f: dataclasses.Field) -> Callable[[Any], Any] | None:
    return f.metadata.get("converter")


def regularized_param(f: dataclasses.Field) -> str | None:
    return f.metadata.get("regularizes")


def constrained_param(f: dataclasses.Field) -> str | None:
    return f.metadata.get("constrains")
