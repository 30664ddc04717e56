"""`MaxPooling1D`, `MaxPooling2D`, `MaxPooling3D`."""

from __future__ import annotations

from kerax.core.fields import field
from kerax.layers._args import data_format_field, int_tuple, optional, padding
from kerax.layers.pooling.base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Max pooling over steps, like `keras.layers.MaxPooling1D`.

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
        >>> pool = kerax.layers.MaxPooling1D(2)
        >>> pool.apply({}, {}, jnp.arange(8.0).reshape(1, 4, 2))[0]
        Array([[[2., 3.],
                [6., 7.]]], dtype=float32)
    """

    pool_size: tuple[int] = field(2, converter=int_tuple(1))
    strides: tuple[int] | None = field(None, converter=optional(int_tuple(1)))
    padding: str = field("valid", converter=padding("valid", "same"))
    data_format: str = data_format_field()

    rank = 1


class MaxPooling2D(BasePooling):
    """Max pooling over height and width, like `keras.layers.MaxPooling2D`.

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
        >>> pool = kerax.layers.MaxPooling2D(3, strides=2, padding="same")
        >>> pool.output_spec(kerax.spec((None, 8, 8, 4))).shape[1:]
        (4, 4, 4)
    """

    pool_size: tuple[int, int] = field((2, 2), converter=int_tuple(2))
    strides: tuple[int, int] | None = field(None, converter=optional(int_tuple(2)))
    padding: str = field("valid", converter=padding("valid", "same"))
    data_format: str = data_format_field()

    rank = 2


class MaxPooling3D(BasePooling):
    """Max pooling over three spatial axes, like `keras.layers.MaxPooling3D`.

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
        >>> pool = kerax.layers.MaxPooling3D()
        >>> pool.output_spec(kerax.spec((None, 4, 4, 4, 2))).shape[1:]
        (2, 2, 2, 2)
    """

    pool_size: tuple[int, int, int] = field((2, 2, 2), converter=int_tuple(3))
    strides: tuple[int, int, int] | None = field(None, converter=optional(int_tuple(3)))
    padding: str = field("valid", converter=padding("valid", "same"))
    data_format: str = data_format_field()

    rank = 3
