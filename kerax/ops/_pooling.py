"""Adaptive pooling bins, shared by `kerax.ops.adaptive_*_pool` and the
AdaptiveMaxPooling / AdaptiveAveragePooling layers (which import it from
here, as layers sit above ops)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax


def adaptive_bins(n: int, out: int) -> list[tuple[int, int]]:
    """Keras's (and PyTorch's) adaptive bins: `[floor(i n / out), ceil((i + 1) n / out))`."""
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


def adaptive_reduce(x, axis: int, out: int, kind: str):
    """Adaptive max (`kind="max"`) or mean along one axis, with static slices.

    Keras computes the same bins with two strided pools and a gather; the
    means can differ from it in the last float bit.
    """
    n = x.shape[axis]
    if n % out == 0:
        # Equal bins: a reshape and a reduction.
        k = n // out
        blocks = jnp.reshape(x, (*x.shape[:axis], out, k, *x.shape[axis + 1 :]))
        if kind == "max":
            return jnp.max(blocks, axis=axis + 1)
        return jnp.sum(blocks, axis=axis + 1) / k
    reduce = jnp.max if kind == "max" else jnp.mean
    pieces = [
        reduce(lax.slice_in_dim(x, lo, hi, axis=axis), axis=axis, keepdims=True)
        for lo, hi in adaptive_bins(n, out)
    ]
    return jnp.concatenate(pieces, axis=axis)
