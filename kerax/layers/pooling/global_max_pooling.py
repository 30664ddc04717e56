"""`GlobalMaxPooling1D`, `GlobalMaxPooling2D`, `GlobalMaxPooling3D`."""

from __future__ import annotations

from kerax.layers.pooling.base_global_pooling import BaseGlobalPooling


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over steps, like `keras.layers.GlobalMaxPooling1D`.

    Args:
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, steps, features)` or `(batch, channels, steps)`.
            `None` means `"channels_last"`.
        keepdims: A boolean, whether to keep the spatial dimensions or not.
            If `keepdims` is `False` (default), the rank of the tensor is
            reduced for spatial dimensions. If `keepdims` is `True`, the
            spatial dimensions are retained with length 1.

    Example:
        >>> pool = kerax.layers.GlobalMaxPooling1D()
        >>> pool.apply({}, {}, jnp.arange(6.0).reshape(1, 3, 2))[0]
        Array([[4., 5.]], dtype=float32)
    """

    rank = 1


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over height and width, like `keras.layers.GlobalMaxPooling2D`.

    Args:
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`.
            `None` means `"channels_last"`.
        keepdims: A boolean, whether to keep the spatial dimensions or not.
            If `keepdims` is `False` (default), the rank of the tensor is
            reduced for spatial dimensions. If `keepdims` is `True`, the
            spatial dimensions are retained with length 1.

    Example:
        >>> pool = kerax.layers.GlobalMaxPooling2D()
        >>> pool.output_spec(kerax.spec((None, 8, 8, 3))).shape[1:]
        (3,)
    """

    rank = 2


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over three spatial axes, like `keras.layers.GlobalMaxPooling3D`.

    Args:
        data_format: string, either `"channels_last"` or `"channels_first"`,
            the ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`.
            `None` means `"channels_last"`.
        keepdims: A boolean, whether to keep the spatial dimensions or not.
            If `keepdims` is `False` (default), the rank of the tensor is
            reduced for spatial dimensions. If `keepdims` is `True`, the
            spatial dimensions are retained with length 1.

    Example:
        >>> pool = kerax.layers.GlobalMaxPooling3D(keepdims=True)
        >>> pool.output_spec(kerax.spec((None, 4, 4, 4, 2))).shape[1:]
        (1, 1, 1, 2)
    """

    rank = 3
