"""`AdaptiveAveragePooling1D`, `AdaptiveAveragePooling2D`, `AdaptiveAveragePooling3D`."""

from __future__ import annotations

from kerax.core.fields import field
from kerax.layers._args import data_format_field, int_tuple
from kerax.layers.pooling.base_adaptive_pooling import BaseAdaptivePooling


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Average pooling to a fixed number of steps, like `keras.layers.AdaptiveAveragePooling1D`.

    Args:
        output_size: Integer or tuple of 1 integer specifying the target
            output size. If an integer, the same value is used for every
            spatial dimension.
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, steps, features)` or `(batch, channels, steps)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AdaptiveAveragePooling1D(3)
        >>> pool.output_spec(kerax.spec((None, 10, 2))).shape[1:]
        (3, 2)
    """

    output_size: tuple[int] = field(converter=int_tuple(1))
    data_format: str = data_format_field()

    rank = 1
    kind = "average"


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Average pooling to a fixed height and width, like `keras.layers.AdaptiveAveragePooling2D`.

    Args:
        output_size: Integer or tuple of 2 integers specifying the target
            output size. If an integer, the same value is used for every
            spatial dimension.
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AdaptiveAveragePooling2D((2, 3))
        >>> pool.output_spec(kerax.spec((None, 7, 8, 4))).shape[1:]
        (2, 3, 4)
    """

    output_size: tuple[int, int] = field(converter=int_tuple(2))
    data_format: str = data_format_field()

    rank = 2
    kind = "average"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Average pooling to a fixed 3D size, like `keras.layers.AdaptiveAveragePooling3D`.

    Args:
        output_size: Integer or tuple of 3 integers specifying the target
            output size. If an integer, the same value is used for every
            spatial dimension.
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`.
            `None` means `"channels_last"`.

    Example:
        >>> pool = kerax.layers.AdaptiveAveragePooling3D(2)
        >>> pool.output_spec(kerax.spec((None, 5, 6, 7, 1))).shape[1:]
        (2, 2, 2, 1)
    """

    output_size: tuple[int, int, int] = field(converter=int_tuple(3))
    data_format: str = data_format_field()

    rank = 3
    kind = "average"


# Keras aliases.
