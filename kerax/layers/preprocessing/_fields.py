"""The preprocessing family's shared converters and Keras's words for its arguments."""

from __future__ import annotations

import numpy as np

from kerax.layers._args import is_int
from kerax.layers.preprocessing._data_ops import _to_config_value

# A number, or nested tuples of numbers (a per-channel or per-feature value).
Values = float | tuple


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def numbers(value) -> Values:
    """A number or a (nested) sequence of numbers, stored hashable and JSON-safe."""
    value = _to_config_value(value)
    try:
        np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"expected a number or a sequence of numbers, got {value!r}."
        ) from None
    return value


def optional_numbers(value) -> Values | None:
    return None if value is None else numbers(value)


def base_factor(lower: float, upper: float):
    """Keras's `BaseImagePreprocessingLayer._set_factor`: a number or a pair -> `(lower, upper)`.

    A number `f` gives `(max(-|f|, lower), |f|)`; a pair is sorted.
    """

    def convert(factor) -> tuple[float, float]:
        error = (
            "should be a number (or a list of two numbers) in the range "
            f"[{lower}, {upper}]. Received: factor={factor!r}"
        )
        if isinstance(factor, tuple | list):
            if len(factor) != 2 or not all(_is_number(f) for f in factor):
                raise ValueError(error)
            if factor[0] > upper or factor[1] < lower:
                raise ValueError(error)
            return tuple(sorted(factor))
        if _is_number(factor):
            if factor < lower or factor > upper:
                raise ValueError(error)
            return (max(-abs(factor), lower), abs(factor))
        raise ValueError(error)

    return convert


def value_range(*, sort: bool):
    """A `[low, high]` pair of numbers, sorted when `sort` (RandomBrightness)."""

    def convert(value) -> tuple[float, float]:
        if (
            not isinstance(value, tuple | list)
            or len(value) != 2
            or not all(_is_number(v) for v in value)
        ):
            raise ValueError(
                f"should be a list of two numbers. Received: value_range={value!r}"
            )
        return tuple(sorted(value)) if sort else tuple(value)

    return convert


def axis_or_none(value) -> tuple[int, ...]:
    """Normalization's `axis`: an int, a tuple of ints, or None (`()`: one scalar mean)."""
    if value is None:
        return ()
    if is_int(value):
        return (int(value),)
    if isinstance(value, tuple | list) and all(is_int(a) for a in value):
        return tuple(int(a) for a in value)
    raise ValueError(f"expected an int, a tuple of ints or None, got {value!r}.")


def boundaries(value) -> tuple[float, ...] | None:
    """Discretization's `bin_boundaries`: None or a list of numbers, as floats."""
    if value is None:
        return None
    value = _to_config_value(value)
    if not isinstance(value, tuple) or not all(_is_number(b) for b in value):
        raise ValueError(f"expected a list of numbers, got {value!r}.")
    return tuple(float(b) for b in value)


_FILL_MODE = (
    "Points outside the boundaries of the input are filled according to the given "
    'mode. Available methods are `"constant"`, `"nearest"`, `"wrap"` and `"reflect"`. '
    'Defaults to `"{fill_mode}"`. `"reflect"`: `(d c b a | a b c d | d c b a)`, the '
    "input is extended by reflecting about the edge of the last pixel. "
    '`"constant"`: `(k k k k | a b c d | k k k k)`, the input is extended by filling '
    "all values beyond the edge with the same constant value k specified by "
    '`fill_value`. `"wrap"`: `(a b c d | a b c d | a b c d)`, the input is extended '
    'by wrapping around to the opposite edge. `"nearest"`: `(a a a a | a b c d | d d '
    "d d)`, the input is extended by the nearest pixel."
)

# Keras's words for the preprocessing arguments.
ARG_DOCS = {
    "height": "Integer, the height of the output shape.",
    "width": "Integer, the width of the output shape.",
    "interpolation": 'Interpolation mode. Supported values: `"nearest"`, `"bilinear"`.',
    "seed": "Integer. Used to create a random seed; kerax folds it into the call's "
    "`key`.",
    "fill_mode": _FILL_MODE,
    "fill_value": "a float that represents the value to be filled outside the "
    'boundaries when `fill_mode="constant"`.',
    "data_format": 'string, either `"channels_last"` or `"channels_first"`. The '
    'ordering of the dimensions in the inputs. `"channels_last"` corresponds to '
    'inputs with shape `(batch, height, width, channels)` while `"channels_first"` '
    "corresponds to inputs with shape `(batch, channels, height, width)`. `None` "
    '(kerax has no global setting) means `"channels_last"`.',
    "sparse": "Whether to return a sparse tensor; for backends that support sparse "
    "tensors (kerax has none: must be `False`).",
}
