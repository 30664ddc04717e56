"""`AdaptiveMaxPooling1D`, `AdaptiveMaxPooling2D`, `AdaptiveMaxPooling3D`."""

from __future__ import annotations

from kerax.core.fields import field
from kerax.layers._args import data_format_field, int_tuple
from kerax.layers.pooling.base_adaptive_pooling import BaseAdaptivePooling


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max pooling to a fixed number of steps, like `keras.layers.AdaptiveMaxPooling1D`.

    Output step `i` is the max of inputs `[floor(i n / out), ceil((i + 1) n / out))`.

    Args:
        output_size: Integer or tuple of 1 integer specifying the target
            output size. If an integer, the same value is used for every
            spatial dimension.
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, steps, features)` or `(batch, channels, steps)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AdaptiveMaxPooling1D(2)
        >>> pool.apply({}, {}, jnp.arange(5.0).reshape(1, 5, 1))[0][0, :, 0]
        Array([2., 4.], dtype=float32)
    """

    output_size: tuple[int] = field(converter=int_tuple(1))
    data_format: str = data_format_field()

    rank = 1


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max pooling to a fixed height and width, like `keras.layers.AdaptiveMaxPooling2D`.

    Args:
        output_size: Integer or tuple of 2 integers specifying the target
            output size. If an integer, the same value is used for every
            spatial dimension.
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AdaptiveMaxPooling2D((2, 3))
        >>> pool.output_spec(kerax.spec((None, 7, 8, 4))).shape[1:]
        (2, 3, 4)
    """

    output_size: tuple[int, int] = field(converter=int_tuple(2))
    data_format: str = data_format_field()

    rank = 2


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max pooling to a fixed 3D size, like `keras.layers.AdaptiveMaxPooling3D`.

    Args:
        output_size: Integer or tuple of 3 integers specifying the target
            output size. If an integer, the same value is used for every
            spatial dimension.
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AdaptiveMaxPooling3D(2)
        >>> pool.output_spec(kerax.spec((None, 5, 6, 7, 1))).shape[1:]
        (2, 2, 2, 1)
    """

    output_size: tuple[int, int, int] = field(converter=int_tuple(3))
    data_format: str = data_format_field()

    rank = 3
