"""`GlobalAveragePooling1D`, `GlobalAveragePooling2D`, `GlobalAveragePooling3D`."""

from __future__ import annotations

import jax.numpy as jnp

from kerax.layers.pooling.base_global_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps, like `keras.layers.GlobalAveragePooling1D`.

    With a `mask` (batch, steps), masked steps are left out of the mean, as
    in Keras; the output carries no mask.

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
        >>> pool = kerax.layers.GlobalAveragePooling1D()
        >>> x = jnp.arange(6.0).reshape(1, 3, 2)
        >>> pool.apply({}, {}, x, mask=jnp.array([[True, True, False]]))[0]
        Array([[1., 2.]], dtype=float32)
    """

    rank = 1
    kind = "average"

    def call(self, params, state, x, *, key, training, mask=None):
        if mask is None:
            return super().call(params, state, x, key=key, training=training)
        del params, key, training
        axis = 1 if self.data_format == "channels_last" else 2
        mask = jnp.expand_dims(
            mask.astype(bool), 2 if self.data_format == "channels_last" else 1
        )
        total = jnp.sum(
            jnp.where(mask, x, jnp.zeros((), x.dtype)),
            axis=axis,
            keepdims=self.keepdims,
        )
        count = jnp.sum(mask.astype(x.dtype), axis=axis, keepdims=self.keepdims)
        return total / count, state


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over height and width, like `keras.layers.GlobalAveragePooling2D`.

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
        >>> pool = kerax.layers.GlobalAveragePooling2D(keepdims=True)
        >>> pool.output_spec(kerax.spec((None, 8, 8, 4))).shape[1:]
        (1, 1, 4)
    """

    rank = 2
    kind = "average"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over three spatial axes, like `keras.layers.GlobalAveragePooling3D`.

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
        >>> pool = kerax.layers.GlobalAveragePooling3D()
        >>> pool.output_spec(kerax.spec((None, 4, 4, 4, 2))).shape[1:]
        (2,)
    """

    rank = 3
    kind = "average"
