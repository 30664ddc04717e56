"""`AveragePooling1D`, `AveragePooling2D`, `AveragePooling3D`."""

from __future__ import annotations

from kerax.core.fields import field
from kerax.layers._args import data_format_field, int_tuple, optional, padding
from kerax.layers.pooling.base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Average pooling over steps, like `keras.layers.AveragePooling1D`.

    With `padding="same"`, padded positions are left out of each average,
    as in Keras.

    Args:
        pool_size: int or tuple of 1 integer, factors by which to downscale
            (steps). If only one integer is specified, the same window
            length will be used for all dimensions.
        strides: int or tuple of 1 integer, or None. Strides values. If
            None, it will default to `pool_size`.
        padding: string, either `"valid"` or `"same"` (case-insensitive).
            `"valid"` means no padding. `"same"` results in padding evenly
            such that output has the same size as the input (for stride 1).
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, steps, features)` or `(batch, channels, steps)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AveragePooling1D(2)
        >>> pool.apply({}, {}, jnp.arange(4.0).reshape(1, 4, 1))[0][0, :, 0]
        Array([0.5, 2.5], dtype=float32)
    """

    pool_size: tuple[int] = field(converter=int_tuple(1))
    strides: tuple[int] | None = field(None, converter=optional(int_tuple(1)))
    padding: str = field("valid", converter=padding("valid", "same"))
    data_format: str = data_format_field()

    rank = 1
    kind = "average"


class AveragePooling2D(BasePooling):
    """Average pooling over height and width, like `keras.layers.AveragePooling2D`.

    Args:
        pool_size: int or tuple of 2 integers, factors by which to downscale
            (dim1, dim2). If only one integer is specified, the same window
            length will be used for all dimensions.
        strides: int or tuple of 2 integers, or None. Strides values. If
            None, it will default to `pool_size`.
        padding: string, either `"valid"` or `"same"` (case-insensitive).
            `"valid"` means no padding. `"same"` results in padding evenly
            such that output has the same size as the input (for stride 1).
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AveragePooling2D(2)
        >>> pool.output_spec(kerax.spec((None, 8, 8, 4))).shape[1:]
        (4, 4, 4)
    """

    pool_size: tuple[int, int] = field(converter=int_tuple(2))
    strides: tuple[int, int] | None = field(None, converter=optional(int_tuple(2)))
    padding: str = field("valid", converter=padding("valid", "same"))
    data_format: str = data_format_field()

    rank = 2
    kind = "average"


class AveragePooling3D(BasePooling):
    """Average pooling over three spatial axes, like `keras.layers.AveragePooling3D`.

    Args:
        pool_size: int or tuple of 3 integers, factors by which to downscale
            (dim1, dim2, dim3). If only one integer is specified, the same
            window length will be used for all dimensions.
        strides: int or tuple of 3 integers, or None. Strides values. If
            None, it will default to `pool_size`.
        padding: string, either `"valid"` or `"same"` (case-insensitive).
            `"valid"` means no padding. `"same"` results in padding evenly
            such that output has the same size as the input (for stride 1).
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AveragePooling3D(2)
        >>> pool.output_spec(kerax.spec((None, 4, 4, 4, 2))).shape[1:]
        (2, 2, 2, 2)
    """

    pool_size: tuple[int, int, int] = field(converter=int_tuple(3))
    strides: tuple[int, int, int] | None = field(None, converter=optional(int_tuple(3)))
    padding: str = field("valid", converter=padding("valid", "same"))
    data_format: str = data_format_field()

    rank = 3
    kind = "average"
