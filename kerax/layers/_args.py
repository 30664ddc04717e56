"""Layer argument normalization shared by every layer family (Keras's rules).

Each helper here is a field converter: it takes the value a user (or a
saved config) gave and returns the normalized value, or raises a
`ValueError` saying what was wrong. `Layer.__post_init__` runs converters
declared with `kerax.field(converter=...)` and adds the layer's name and
the argument's name to the message, so the helpers speak only of the value:

    class UpSampling2D(kerax.Layer):
        size: tuple[int, int] = kerax.field((2, 2), converter=int_tuple(2))
        data_format: str = data_format_field()

The `*_field` factories declare the fields that many layers share with one
meaning (initializers, regularizers, constraints, activations, data
formats), and the type aliases name what those fields hold.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import jax

from kerax import activations, config, constraints, initializers, regularizers
from kerax.core.fields import field

# What the shared fields accept and hold. A name or a Keras-serialized dict
# is converted when the layer is made (an activation is kept as given, so a
# config saves the name), a callable is kept as is.
ActivationArg = str | Callable[..., jax.Array] | None
InitializerArg = str | dict | Callable[..., jax.Array]
RegularizerArg = str | dict | Callable[[jax.Array], jax.Array] | None
ConstraintArg = str | dict | Callable[[jax.Array], jax.Array] | None
Axis = int | tuple[int, ...]

DATA_FORMATS = ("channels_last", "channels_first")


def is_int(value) -> bool:
    """True for a Python or NumPy integer; False for a bool, which Keras refuses as a size."""
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return not hasattr(value, "shape") or value.shape == ()


# ------------------------------------------------------------- converters
def positive_int(value) -> int:
    """An int > 0 (`units`, `filters`, `n`, ...)."""
    if not is_int(value) or operator.index(value) <= 0:
        raise ValueError(f"expected a positive integer, got {value!r}.")
    return operator.index(value)


def optional(convert: Callable[[object], object]) -> Callable[[object], object]:
    """`convert`, letting None through (`strides=None`, ...).

    Example:
        >>> optional(int_tuple(2))(None), optional(int_tuple(2))(3)
        (None, (3, 3))
    """
    return lambda value: None if value is None else convert(value)


def optional_positive_int(value) -> int | None:
    """None, or an int > 0 (`lora_rank`, ...)."""
    return None if value is None else positive_int(value)


def integer(value) -> int:
    """An int, not a bool (a single `axis`, ...)."""
    if not is_int(value):
        raise ValueError(f"expected an integer, got {value!r}.")
    return operator.index(value)


def optional_int(value) -> int | None:
    """None or an int (`seed`, ...)."""
    if value is not None and not is_int(value):
        raise ValueError(f"expected an integer or None, got {value!r}.")
    return None if value is None else operator.index(value)


def number(value) -> float | int:
    """A real number, not a bool (`mask_value`, `negative_slope`, ...)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}.")
    return value


def rate(value) -> float:
    """Keras's dropout rate check: a float in [0, 1]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= 1
    ):
        raise ValueError(
            f"Expected a float value between 0 and 1. Received: {value!r}."
        )
    return value


def int_tuple(n: int, *, allow_zero: bool = False) -> Callable[[object], tuple]:
    """Keras's `standardize_tuple`: an int or `n` ints -> a tuple of `n` ints.

    Example:
        >>> int_tuple(2)(3)
        (3, 3)
    """

    def convert(value) -> tuple[int, ...]:
        if is_int(value):
            values = (operator.index(value),) * n
        elif isinstance(value, tuple | list) and all(is_int(v) for v in value):
            values = tuple(operator.index(v) for v in value)
        else:
            values = None
        if values is None or len(values) != n:
            raise ValueError(
                f"expected an integer or a tuple of {n} integers, got {value!r}."
            )
        bad = [v for v in values if v < 0 or (v == 0 and not allow_zero)]
        if bad:
            bound = ">= 0" if allow_zero else "> 0"
            raise ValueError(
                f"expected values {bound}, got {value!r} (including {bad[0]})."
            )
        return values

    return convert


_ORDINALS = ("1st", "2nd", "3rd")


def int_pairs(n: int) -> Callable[[object], tuple]:
    """Cropping/padding for `n` spatial dims: an int, `n` ints, or `n` (before, after) pairs.

    Example:
        >>> int_pairs(2)((1, (2, 3)))
        ((1, 1), (2, 3))
    """
    pair = int_tuple(2, allow_zero=True)

    def convert(value) -> tuple[tuple[int, int], ...]:
        if is_int(value):
            if value < 0:
                raise ValueError(f"cannot be negative, got {value!r}.")
            return ((operator.index(value),) * 2,) * n
        if isinstance(value, tuple | list) and len(value) == n:
            out = []
            for i, v in enumerate(value):
                try:
                    out.append(pair(v))
                except ValueError as e:
                    raise ValueError(f"{_ORDINALS[i]} entry: {e}") from None
            return tuple(out)
        raise ValueError(
            f"expected an int, a tuple of {n} ints, or a tuple of {n} tuples of 2 ints "
            f"((before, after) per spatial dimension), got {value!r}."
        )

    return convert


def data_format(value) -> str:
    """Keras's `standardize_data_format`: None is the global format
    (`kerax.config.image_data_format()`, `"channels_last"` unless set).

    The value is stored resolved when the layer is made, as Keras's own
    config stores it: changing the global format later leaves built layers
    as they are.
    """
    resolved = config.image_data_format() if value is None else str(value).lower()
    if resolved not in DATA_FORMATS:
        raise ValueError(
            f"must be one of {{'channels_first', 'channels_last'}}. Received: {value!r}."
        )
    return resolved


def padding(*allowed: str) -> Callable[[object], str]:
    """A padding name, lowercased, from `allowed` (`"valid"`, `"same"`, `"causal"`)."""

    def convert(value) -> str:
        resolved = value.lower() if isinstance(value, str) else value
        if resolved not in allowed:
            raise ValueError(f"must be one of {list(allowed)}, got {value!r}.")
        return resolved

    return convert


def axis(value) -> Axis:
    """An int axis or a tuple of int axes (a list becomes a tuple)."""
    if is_int(value):
        return operator.index(value)
    if isinstance(value, tuple | list) and value and all(is_int(a) for a in value):
        return tuple(operator.index(a) for a in value)
    raise ValueError(f"expected an int or a non-empty tuple of ints, got {value!r}.")


def activation(value) -> ActivationArg:
    """Checks an activation identifier now; a name stays a name (configs save it)."""
    if isinstance(value, dict):
        return activations.get(value)
    activations.get(value)  # Raises for an unknown name.
    return value


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The spatial axes of a rank-`rank + 2` input (batch, channels) in `data_format`.

    Example:
        >>> spatial_axes(2, "channels_first")
        (2, 3)
    """
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def channel_axis(rank: int, data_format: str) -> int:
    """The channel axis of a rank-`rank + 2` input in `data_format`."""
    return rank + 1 if data_format == "channels_last" else 1


# ---------------------------------------------------------- field factories
def activation_field(default: str | None = None, **kwargs) -> ActivationArg:
    """An `activation` field: a Keras name, a callable, or None (linear)."""
    return field(default, converter=activation, **kwargs)


def initializer_field(default: str, **kwargs) -> InitializerArg:
    """A `*_initializer` field, resolved with `kerax.initializers.get`."""
    return field(default, converter=initializers.get, **kwargs)


def regularizer_field(param: str | None, **kwargs) -> RegularizerArg:
    """A `*_regularizer` field acting on the param `param` (None: activity)."""
    return field(None, converter=regularizers.get, regularizes=param, **kwargs)


def constraint_field(param: str, **kwargs) -> ConstraintArg:
    """A `*_constraint` field projecting the param `param` after each update."""
    return field(None, converter=constraints.get, constrains=param, **kwargs)


def data_format_field(**kwargs) -> str:
    """A `data_format` field (None resolves to the global image data format)."""
    return field(None, converter=data_format, **kwargs)
