"""Keras pooling layers: Max/Average, GlobalMax/GlobalAverage, Adaptive (1D-3D).

Windows are reduced with static slices, not `lax.reduce_window`, so the
layers export cleanly (DESIGN section 7, R2: ONNX Runtime rejects a
`reduce_window` max pool): non-overlapping windows are a reshape and a
reduction; other windows are the elementwise max (or sum) of the strided
slices, one per offset inside the window, which XLA fuses into one loop.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers.convolutional._ops import spatial_axes
from kerax.layers.convolutional.base_conv import (
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)


# ------------------------------------------------------------------ helpers
def _lowest(dtype):
    return -jnp.inf if jnp.issubdtype(dtype, jnp.floating) else jnp.iinfo(dtype).min


def _reduce(kind: str, x, axes, keepdims=False):
    return (jnp.max if kind == "max" else jnp.sum)(
        x, axis=tuple(axes), keepdims=keepdims
    )


def window_reduce(x, axes, window, strides, pads, kind: str):
    """Max or sum over windows along `axes`, with `(low, high)` padding.

    Padding is `-inf` for max and `0` for sum, as with Keras's
    `reduce_window` pooling.
    """
    if tuple(window) == tuple(strides) and all(p == (0, 0) for p in pads):
        return _blocks_reduce(x, axes, window, kind)
    if any(p != (0, 0) for p in pads):
        config = [(0, 0, 0)] * x.ndim
        for ax, (lo, hi) in zip(axes, pads):
            config[ax] = (lo, hi, 0)
        fill = _lowest(x.dtype) if kind == "max" else 0
        x = lax.pad(x, jnp.asarray(fill, x.dtype), config)
    combine = jnp.maximum if kind == "max" else jnp.add
    out = None
    for offsets in itertools.product(*(range(k) for k in window)):
        start, limit, step = [0] * x.ndim, list(x.shape), [1] * x.ndim
        for ax, o, k, s in zip(axes, offsets, window, strides):
            n_out = (x.shape[ax] - k) // s + 1
            start[ax], limit[ax], step[ax] = o, o + (n_out - 1) * s + 1, s
        piece = lax.slice(x, start, limit, step)
        out = piece if out is None else combine(out, piece)
    return out


def _blocks_reduce(x, axes, window, kind: str):
    """Non-overlapping windows: crop the remainder, reshape, reduce."""
    limit = list(x.shape)
    for ax, k in zip(axes, window):
        limit[ax] = (x.shape[ax] // k) * k
    if limit != list(x.shape):
        x = lax.slice(x, [0] * x.ndim, limit)
    shape, reduce_axes = [], []
    for ax, n in enumerate(x.shape):
        if ax in axes:
            k = window[axes.index(ax)]
            shape += [n // k, k]
            reduce_axes.append(len(shape) - 1)
        else:
            shape.append(n)
    return _reduce(kind, jnp.reshape(x, shape), reduce_axes)


def _same_pads(n, k, s):
    """XLA's (and so Keras's) SAME padding: `(low, high)`, extra on the high side."""
    return lax.padtype_to_pads((n,), (k,), (s,), "SAME")[0]


def _window_counts(n, k, s, pad):
    """How many real (unpadded) elements each window of one axis holds."""
    if is_symbolic(n):
        ones = jnp.ones((n,), jnp.float32)
        return window_reduce(ones, (0,), (k,), (s,), (pad,), "sum")
    padded = np.pad(np.ones(n, np.float32), pad)
    n_out = (len(padded) - k) // s + 1
    return np.array([padded[i * s : i * s + k].sum() for i in range(n_out)], np.float32)


# ------------------------------------------------------------- max/average
class _Pooling(Layer):
    """Shared fields and code of the Max/Average pooling layers."""

    pool_size: Any
    strides: Any = None
    padding: str = "valid"
    data_format: str | None = None

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

    def __post_init__(self):
        super().__post_init__()
        set_ = object.__setattr__
        set_(
            self,
            "pool_size",
            standardize_tuple(self, self.pool_size, self.rank, "pool_size"),
        )
        strides = self.pool_size if self.strides is None else self.strides
        set_(self, "strides", standardize_tuple(self, strides, self.rank, "strides"))
        set_(self, "padding", standardize_padding(self, self.padding))
        set_(self, "data_format", standardize_data_format(self, self.data_format))

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self.rank + 2)
        if self.padding == "valid":
            for ax, k in zip(spatial_axes(self.rank, self.data_format), self.pool_size):
                n = spec.shape[ax]
                if not is_symbolic(n) and n < k:
                    raise ValueError(
                        f"{self.describe()}: inputs {shape_str(spec.shape)} are smaller than pool_size={self.pool_size} "
                        "with padding='valid'; use padding='same' or a smaller pool_size."
                    )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        axes = spatial_axes(self.rank, self.data_format)
        sizes = [x.shape[ax] for ax in axes]
        if self.padding == "same":
            pads = [
                _same_pads(n, k, s)
                for n, k, s in zip(sizes, self.pool_size, self.strides)
            ]
        else:
            pads = [(0, 0)] * self.rank
        kind = "max" if self.kind == "max" else "sum"
        y = window_reduce(x, axes, self.pool_size, self.strides, pads, kind)
        if self.kind == "average":
            if self.padding == "valid" or all(p == (0, 0) for p in pads):
                y = y / math.prod(self.pool_size)
            else:
                # Like Keras: padding does not count, each window averages
                # only its real elements.
                for ax, n, k, s, pad in zip(
                    axes, sizes, self.pool_size, self.strides, pads
                ):
                    shape = [1] * x.ndim
                    shape[ax] = -1
                    y = y / jnp.reshape(
                        jnp.asarray(_window_counts(n, k, s, pad), y.dtype), shape
                    )
        return y, state


class MaxPooling1D(_Pooling):
    """Max pooling over steps, like `keras.layers.MaxPooling1D`.

    Example:
        >>> pool = kerax.layers.MaxPooling1D(2)
        >>> pool.apply({}, {}, jnp.arange(8.0).reshape(1, 4, 2))[0]
        Array([[[2., 3.],
                [6., 7.]]], dtype=float32)
    """

    pool_size: Any = 2
    rank = 1


class MaxPooling2D(_Pooling):
    """Max pooling over height and width, like `keras.layers.MaxPooling2D`.

    Example:
        >>> pool = kerax.layers.MaxPooling2D(3, strides=2, padding="same")
        >>> pool.output_spec(kerax.spec((None, 8, 8, 4))).shape[1:]
        (4, 4, 4)
    """

    pool_size: Any = (2, 2)
    rank = 2


class MaxPooling3D(_Pooling):
    """Max pooling over three spatial axes, like `keras.layers.MaxPooling3D`."""

    pool_size: Any = (2, 2, 2)
    rank = 3


class AveragePooling1D(_Pooling):
    """Average pooling over steps, like `keras.layers.AveragePooling1D`.

    With `padding="same"`, padded positions are left out of each average,
    as in Keras.

    Example:
        >>> pool = kerax.layers.AveragePooling1D(2)
        >>> pool.apply({}, {}, jnp.arange(4.0).reshape(1, 4, 1))[0][0, :, 0]
        Array([0.5, 2.5], dtype=float32)
    """

    rank = 1
    kind = "average"


class AveragePooling2D(_Pooling):
    """Average pooling over height and width, like `keras.layers.AveragePooling2D`.

    Example:
        >>> pool = kerax.layers.AveragePooling2D(2)
        >>> pool.output_spec(kerax.spec((None, 8, 8, 4))).shape[1:]
        (4, 4, 4)
    """

    rank = 2
    kind = "average"


class AveragePooling3D(_Pooling):
    """Average pooling over three spatial axes, like `keras.layers.AveragePooling3D`."""

    rank = 3
    kind = "average"


# ------------------------------------------------------------------ global
class _GlobalPooling(Layer):
    """Shared fields and code of the global pooling layers."""

    data_format: str | None = None
    keepdims: bool = False

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(
            self, "data_format", standardize_data_format(self, self.data_format)
        )

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self.rank + 2)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        axes = spatial_axes(self.rank, self.data_format)
        reduce = jnp.max if self.kind == "max" else jnp.mean
        return reduce(x, axis=axes, keepdims=self.keepdims), state


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over steps, like `keras.layers.GlobalMaxPooling1D`.

    Example:
        >>> pool = kerax.layers.GlobalMaxPooling1D()
        >>> pool.apply({}, {}, jnp.arange(6.0).reshape(1, 3, 2))[0]
        Array([[4., 5.]], dtype=float32)
    """

    rank = 1


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width, like `keras.layers.GlobalMaxPooling2D`."""

    rank = 2


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over three spatial axes, like `keras.layers.GlobalMaxPooling3D`."""

    rank = 3


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over steps, like `keras.layers.GlobalAveragePooling1D`.

    With a `mask` (batch, steps), masked steps are left out of the mean, as
    in Keras; the output carries no mask.

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


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width, like `keras.layers.GlobalAveragePooling2D`.

    Example:
        >>> pool = kerax.layers.GlobalAveragePooling2D(keepdims=True)
        >>> pool.output_spec(kerax.spec((None, 8, 8, 4))).shape[1:]
        (1, 1, 4)
    """

    rank = 2
    kind = "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over three spatial axes, like `keras.layers.GlobalAveragePooling3D`."""

    rank = 3
    kind = "average"


# ---------------------------------------------------------------- adaptive
def adaptive_bins(n: int, out: int) -> list[tuple[int, int]]:
    """Keras's (and PyTorch's) adaptive bins: `[floor(i n / out), ceil((i + 1) n / out))`."""
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


def adaptive_reduce(x, axis: int, out: int, kind: str):
    """Adaptive max or mean along one axis, with static slices."""
    n = x.shape[axis]
    if n % out == 0:
        y = _blocks_reduce(x, (axis,), (n // out,), "max" if kind == "max" else "sum")
        return y if kind == "max" else y / (n // out)
    reduce = jnp.max if kind == "max" else jnp.mean
    pieces = [
        reduce(lax.slice_in_dim(x, lo, hi, axis=axis), axis=axis, keepdims=True)
        for lo, hi in adaptive_bins(n, out)
    ]
    return jnp.concatenate(pieces, axis=axis)


class _AdaptivePooling(Layer):
    """Shared fields and code of the adaptive pooling layers."""

    output_size: Any
    data_format: str | None = None

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(
            self,
            "output_size",
            standardize_tuple(self, self.output_size, self.rank, "output_size"),
        )
        object.__setattr__(
            self, "data_format", standardize_data_format(self, self.data_format)
        )

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self.rank + 2)
        for ax in spatial_axes(self.rank, self.data_format):
            if is_symbolic(spec.shape[ax]):
                raise ValueError(
                    f"{self.describe()} needs static spatial dimensions, got inputs {shape_str(spec.shape)}."
                )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        for ax, out in zip(spatial_axes(self.rank, self.data_format), self.output_size):
            x = adaptive_reduce(x, ax, out, self.kind)
        return x, state


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max pooling to a fixed number of steps, like `keras.layers.AdaptiveMaxPooling1D`.

    Output step `i` is the max of inputs `[floor(i n / out), ceil((i + 1) n / out))`.

    Example:
        >>> pool = kerax.layers.AdaptiveMaxPooling1D(2)
        >>> pool.apply({}, {}, jnp.arange(5.0).reshape(1, 5, 1))[0][0, :, 0]
        Array([2., 4.], dtype=float32)
    """

    rank = 1


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max pooling to a fixed height and width, like `keras.layers.AdaptiveMaxPooling2D`."""

    rank = 2


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max pooling to a fixed 3D size, like `keras.layers.AdaptiveMaxPooling3D`."""

    rank = 3


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Average pooling to a fixed number of steps, like `keras.layers.AdaptiveAveragePooling1D`."""

    rank = 1
    kind = "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Average pooling to a fixed height and width, like `keras.layers.AdaptiveAveragePooling2D`.

    Example:
        >>> pool = kerax.layers.AdaptiveAveragePooling2D((2, 3))
        >>> pool.output_spec(kerax.spec((None, 7, 8, 4))).shape[1:]
        (2, 3, 4)
    """

    rank = 2
    kind = "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Average pooling to a fixed 3D size, like `keras.layers.AdaptiveAveragePooling3D`."""

    rank = 3
    kind = "average"


# Keras aliases.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D

__all__ = [
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
]
