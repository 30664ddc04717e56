"""Argument normalization shared by the core layer families (Keras's own rules)."""

from __future__ import annotations


def standardize_data_format(layer) -> None:
    """Keras's `standardize_data_format`, on `layer.data_format` in place.

    None means Keras's default image data format, `"channels_last"` (kerax has
    no global setting for it), and is stored resolved, as Keras's config does.
    """
    value = (
        "channels_last" if layer.data_format is None else str(layer.data_format).lower()
    )
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer.describe()}: The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
            f"Received: data_format={layer.data_format!r}"
        )
    object.__setattr__(layer, "data_format", value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def standardize_tuple(
    layer, value, n: int, name: str, allow_zero: bool = False
) -> tuple:
    """Keras's `argument_validation.standardize_tuple`: an int or n ints -> a tuple of n ints."""
    error = f"{layer.describe()}: The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}"
    if _is_int(value):
        values = (value,) * n
    else:
        if (
            not isinstance(value, tuple | list)
            or len(value) != n
            or not all(_is_int(v) for v in value)
        ):
            raise ValueError(error)
        values = tuple(value)
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}
    if bad:
        raise ValueError(
            f"{error}, including values {bad} that do not satisfy `value {'>= 0' if allow_zero else '> 0'}`"
        )
    return values


_ORDINALS = ("1st", "2nd", "3rd")


def standardize_pairs(layer, value, n: int, name: str) -> tuple:
    """Cropping/padding for n spatial dims: an int, n ints, or n (before, after) pairs."""
    if _is_int(value):
        if value < 0:
            raise ValueError(
                f"{layer.describe()}: `{name}` cannot be negative. Received: {name}={value}."
            )
        return ((value, value),) * n
    if isinstance(value, tuple | list):
        if len(value) != n:
            raise ValueError(
                f"{layer.describe()}: `{name}` should have {n} elements. Received: {name}={value!r}."
            )
        return tuple(
            standardize_tuple(
                layer, v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True
            )
            for i, v in enumerate(value)
        )
    raise ValueError(
        f"{layer.describe()}: `{name}` should be either an int, a tuple of {n} ints, or a tuple of {n} tuples of 2 "
        f"ints ((before, after) per spatial dimension). Received: {name}={value!r}."
    )
