"""What the max and average pooling layers share.

Windows are reduced with static slices, not `lax.reduce_window`, so the
layers export cleanly (ONNX Runtime rejects a `reduce_window` max pool):
non-overlapping windows are a reshape and a reduction; other windows are
the elementwise max (or sum) of the strided slices, one per offset inside
the window, which XLA fuses into one loop.
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._args import spatial_axes


def lowest(dtype):
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
        return blocks_reduce(x, axes, window, kind)
    if any(p != (0, 0) for p in pads):
        config = [(0, 0, 0)] * x.ndim
        for ax, (lo, hi) in zip(axes, pads):
            config[ax] = (lo, hi, 0)
        fill = lowest(x.dtype) if kind == "max" else 0
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


def blocks_reduce(x, axes, window, kind: str):
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


def same_pads(n, k, s):
    """XLA's (and so Keras's) SAME padding: `(low, high)`, extra on the high side."""
    return lax.padtype_to_pads((n,), (k,), (s,), "SAME")[0]


def window_counts(n, k, s, pad):
    """How many real (unpadded) elements each window of one axis holds."""
    if is_symbolic(n):
        ones = jnp.ones((n,), jnp.float32)
        return window_reduce(ones, (0,), (k,), (s,), (pad,), "sum")
    padded = np.pad(np.ones(n, np.float32), pad)
    n_out = (len(padded) - k) // s + 1
    return np.array([padded[i * s : i * s + k].sum() for i in range(n_out)], np.float32)


class BasePooling(Layer):
    """Shared code of the Max/Average pooling layers (each declares its fields).

    Subclasses declare `pool_size`, `strides`, `padding` and `data_format`
    with converters for their `rank`.
    """

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

    def __post_init__(self):
        super().__post_init__()
        if self.strides is None:
            # Keras's `strides=None` means `pool_size` (and its config says so);
            # a converter sees one field only.
            object.__setattr__(self, "strides", self.pool_size)

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
                same_pads(n, k, s)
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
                        jnp.asarray(window_counts(n, k, s, pad), y.dtype), shape
                    )
        return y, state
