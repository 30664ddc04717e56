"""Helpers shared by the losses and kerax.metrics: dtypes, masking, reduction.

`reduce_weighted_values` is Keras's loss reduction (mask folded into the
sample weights, weights broadcast, then `reduction`); the rest are the small
numeric and naming helpers both packages use (`EPSILON`, `compute_dtype`,
`divide_no_nan`, `l2_normalize`, `squeeze_or_expand_to_same_rank`,
`to_snake_case`).
"""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

EPSILON = 1e-7  # keras.backend.epsilon()

REDUCTIONS = (
    "sum_over_batch_size",
    "sum",
    "mean",
    "mean_with_sample_weight",
    "none",
    None,
)


def compute_dtype(dtype: Any = None) -> jnp.dtype:
    """The computation dtype for a Keras `dtype` argument (None -> float32).

    Accepts dtype names, numpy dtypes, Keras mixed-precision policy names
    ("mixed_float16", "mixed_bfloat16") and objects with a `compute_dtype`.
    """
    if dtype is None:
        return jnp.dtype("float32")
    if hasattr(dtype, "compute_dtype"):
        dtype = dtype.compute_dtype
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = dtype[len("mixed_") :]
    if dtype == "int":  # Keras spells the IoU default like this.
        dtype = "int32"
    return jnp.dtype(dtype)


def to_snake_case(name: str) -> str:
    """Keras's class-name to default-name rule (`MeanIoU` -> `mean_io_u`)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def divide_no_nan(x1: jax.Array, x2: jax.Array) -> jax.Array:
    """`x1 / x2`, with 0 wherever `x2 == 0` (as `keras.ops.divide_no_nan`)."""
    safe_x2 = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.divide(x1, safe_x2))


def l2_normalize(x: jax.Array, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """`keras.ops.normalize(x, axis, order=2)`: `x * min(rsqrt(sum x^2), 1/eps)`."""
    if x.ndim == 0:
        x = jnp.expand_dims(x, 0)
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    inv_norm = jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / EPSILON)
    return x * inv_norm


def squeeze_or_expand_to_same_rank(
    x1: jax.Array, x2: jax.Array, expand_rank_1: bool = True
) -> tuple[jax.Array, jax.Array]:
    """Squeezes or expands a trailing size-1 axis when the ranks differ by one.

    The Keras rule: a rank-1 array next to a `(batch, 1)` one is expanded
    (unless `expand_rank_1=False`); otherwise the size-1 axis is squeezed.
    """
    x1_rank, x2_rank = x1.ndim, x2.ndim
    if x1_rank == x2_rank:
        return x1, x2
    if x1_rank == x2_rank + 1 and x1.shape[-1] == 1:
        if x2_rank == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if x2_rank == x1_rank + 1 and x2.shape[-1] == 1:
        if x1_rank == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def standardize_reduction(reduction: str | None) -> str | None:
    """Checks `reduction` against the Keras options and returns it."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{list(REDUCTIONS)}. Received: reduction={reduction!r}"
        )
    return reduction


def apply_mask(
    sample_weight: jax.Array | None,
    mask: jax.Array | None,
    dtype: Any,
    reduction: str | None,
) -> jax.Array | None:
    """Folds a mask into the sample weights, as `keras.losses.loss.apply_mask`.

    For the mean reductions, valid entries get weight `total / valid` so that
    dividing by the full batch size afterwards averages over valid entries.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(np.prod(mask.shape), dtype)
        valid = jnp.sum(mask.astype(dtype))  # May be 0.
        mask_weight = divide_no_nan(total, valid)
        float_mask = jnp.where(mask.astype(bool), mask_weight, 0).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = jnp.asarray(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(
        float_mask, sample_weight
    )
    return sample_weight * float_mask


def reduce_values(
    values: jax.Array,
    sample_weight: jax.Array | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> jax.Array:
    """Sums weighted per-sample losses and divides as `reduction` says."""
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = jnp.sum(sample_weight).astype(loss.dtype)
        else:
            divisor = jnp.asarray(np.prod(values.shape), loss.dtype)
        loss = divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(
    values: jax.Array,
    sample_weight: jax.Array | None = None,
    mask: jax.Array | None = None,
    reduction: str | None = "sum_over_batch_size",
    dtype: Any = None,
) -> jax.Array:
    """Applies mask and sample weights to per-sample losses, then reduces.

    The same steps as `keras.losses.loss.reduce_weighted_values`: the mask is
    folded into the weights, the weights are squeezed or expanded to the rank
    of `values` and broadcast against them, then `reduce_values` runs.
    """
    reduction = standardize_reduction(reduction)
    dtype = compute_dtype(dtype)
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
    if mask is not None:
        mask = jnp.asarray(mask, dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def _as_float(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    """Keras's `y_pred = convert(y_pred); y_true = cast(y_true, y_pred.dtype)`."""
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(jnp.float32)
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred
