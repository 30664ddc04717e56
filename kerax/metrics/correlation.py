"""Correlation metrics: mean per-sample Pearson and concordance correlation."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.losses import EPSILON, squeeze_or_expand_to_same_rank
from kerax.metrics.base import MeanFunctionMetric, metric


def _as_float(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(jnp.float32)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Pearson correlation of `y_true` and `y_pred` along `axis`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true_norm = y_true - jnp.mean(y_true, axis=axis, keepdims=True)
    y_pred_norm = y_pred - jnp.mean(y_pred, axis=axis, keepdims=True)
    y_true_norm = y_true_norm / jnp.std(y_true_norm, axis=axis, keepdims=True)
    y_pred_norm = y_pred_norm / jnp.std(y_pred_norm, axis=axis, keepdims=True)
    return jnp.mean(y_true_norm * y_pred_norm, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Lin's concordance correlation coefficient along `axis`, Keras's formula.

    Keras centres `y_true` on the mean of `y_pred` in the covariance term; kept
    as is for parity.
    """
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true_mean = jnp.mean(y_true, axis=axis, keepdims=True)
    y_pred_mean = jnp.mean(y_pred, axis=axis, keepdims=True)
    y_true_var = jnp.var(y_true - y_true_mean, axis=axis, keepdims=True)
    y_pred_var = jnp.var(y_pred - y_pred_mean, axis=axis, keepdims=True)
    covar = (y_true - y_pred_mean) * (y_pred - y_pred_mean)
    norm = y_true_var + y_pred_var + jnp.square(y_true_mean - y_pred_mean)
    return jnp.mean(2 * covar / (norm + EPSILON), axis=axis)


@metric(pearson_correlation, "axis", direction="up")
class PearsonCorrelation(MeanFunctionMetric):
    """Mean Pearson correlation, computed per sample along `axis`."""

    name: str = "pearson_correlation"
    dtype: Any = None
    axis: int = -1


@metric(concordance_correlation, "axis", direction="up")
class ConcordanceCorrelation(MeanFunctionMetric):
    """Mean concordance correlation, computed per sample along `axis`."""

    name: str = "concordance_correlation"
    dtype: Any = None
    axis: int = -1
