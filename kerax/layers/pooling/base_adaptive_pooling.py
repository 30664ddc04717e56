"""What the adaptive pooling layers share: Keras's (and PyTorch's) bins, static slices."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from jax import lax

from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._args import spatial_axes
from kerax.layers.pooling.base_pooling import blocks_reduce


def adaptive_bins(n: int, out: int) -> list[tuple[int, int]]:
    """Keras's (and PyTorch's) adaptive bins: `[floor(i n / out), ceil((i + 1) n / out))`."""
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


def adaptive_reduce(x, axis: int, out: int, kind: str):
    """Adaptive max or mean along one axis, with static slices."""
    n = x.shape[axis]
    if n % out == 0:
        y = blocks_reduce(x, (axis,), (n // out,), "max" if kind == "max" else "sum")
        return y if kind == "max" else y / (n // out)
    reduce = jnp.max if kind == "max" else jnp.mean
    pieces = [
        reduce(lax.slice_in_dim(x, lo, hi, axis=axis), axis=axis, keepdims=True)
        for lo, hi in adaptive_bins(n, out)
    ]
    return jnp.concatenate(pieces, axis=axis)


class BaseAdaptivePooling(Layer):
    """Shared code of the adaptive pooling layers (each declares `output_size` and `data_format`)."""

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

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
