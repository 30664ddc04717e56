"""Accuracy metrics: how often predictions equal (or rank) the labels."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.losses import squeeze_or_expand_to_same_rank
from kerax.metrics.base import MeanFunctionMetric, metric


def _float_array(x: Any) -> jax.Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)


def accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where `y_true == y_pred`, else 0.0."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).astype(jnp.float32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> jax.Array:
    """1.0 where `(y_pred > threshold) == y_true`, else 0.0."""
    y_pred, y_true = jnp.asarray(y_pred), jnp.asarray(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == y_pred).astype(jnp.float32)


def categorical_accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where `argmax(y_true) == argmax(y_pred)` (one-hot labels)."""
    y_pred = _float_array(y_pred)
    y_true = jnp.argmax(jnp.asarray(y_true), axis=-1).astype(y_pred.dtype)
    y_true_org_shape = y_true.shape
    reshape_matches = False
    if y_true.ndim == y_pred.ndim:
        y_true = jnp.squeeze(y_true, -1)
        reshape_matches = True
    y_pred = jnp.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = (y_true == y_pred).astype(jnp.float32)
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    return matches


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where `y_true == argmax(y_pred)` (integer labels)."""
    y_pred = _float_array(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    y_true_org_shape = y_true.shape
    reshape_matches = False
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
        reshape_matches = True
    y_pred = jnp.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = (y_true == y_pred).astype(jnp.float32)
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = jnp.squeeze(matches, -1)
    return matches


def _in_top_k(targets: jax.Array, predictions: jax.Array, k: int) -> jax.Array:
    preds_at_label = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    # NaN is not a large probability.
    preds_at_label = jnp.where(jnp.isnan(preds_at_label), -jnp.inf, preds_at_label)
    rank = 1 + jnp.sum(predictions > preds_at_label, axis=-1)
    return rank <= k


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> jax.Array:
    """1.0 where the one-hot label's class is among the `k` top predictions."""
    y_pred = _float_array(y_pred)
    y_true = jnp.argmax(jnp.asarray(y_true).astype(y_pred.dtype), axis=-1)
    y_true_org_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = jnp.reshape(y_pred, (-1, y_pred.shape[-1]))
    reshape_matches = y_true.ndim > 1
    if reshape_matches:
        y_true = jnp.reshape(y_true, (-1,))
    matches = _in_top_k(y_true.astype(jnp.int32), y_pred, k).astype(jnp.float32)
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    return matches


def sparse_top_k_categorical_accuracy(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> jax.Array:
    """1.0 where the integer label is among the `k` top predictions.

    With `from_sorted_ids=True`, `y_pred` holds class ids sorted by score.
    """
    y_pred = _float_array(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype if from_sorted_ids else jnp.int32)
    y_true_org_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = jnp.reshape(y_pred, (-1, y_pred.shape[-1]))
    reshape_matches = y_true.ndim > 1
    if reshape_matches:
        y_true = jnp.reshape(y_true, (-1,))
    if from_sorted_ids:
        matches = jnp.any(y_true[:, None] == y_pred[:, :k], axis=1)
    else:
        matches = _in_top_k(y_true, y_pred, k)
    matches = matches.astype(jnp.float32)
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    return matches


@metric(accuracy, direction="up")
class Accuracy(MeanFunctionMetric):
    """How often predictions equal labels.

    Example:
        >>> m = Accuracy()
        >>> float(m.compute([[1], [2], [3], [4]], [[0], [2], [3], [4]]))
        0.75
    """

    name: str = "accuracy"
    dtype: Any = None


@metric(binary_accuracy, "threshold", direction="up")
class BinaryAccuracy(MeanFunctionMetric):
    """How often `y_pred > threshold` matches the 0/1 label."""

    name: str = "binary_accuracy"
    dtype: Any = None
    threshold: float = 0.5


@metric(categorical_accuracy, direction="up")
class CategoricalAccuracy(MeanFunctionMetric):
    """How often the argmax of `y_pred` matches the one-hot label."""

    name: str = "categorical_accuracy"
    dtype: Any = None


@metric(sparse_categorical_accuracy, direction="up")
class SparseCategoricalAccuracy(MeanFunctionMetric):
    """How often the argmax of `y_pred` matches the integer label."""

    name: str = "sparse_categorical_accuracy"
    dtype: Any = None


@metric(top_k_categorical_accuracy, "k", direction="up")
class TopKCategoricalAccuracy(MeanFunctionMetric):
    """How often the one-hot label is among the top `k` predictions."""

    k: int = 5
    name: str = "top_k_categorical_accuracy"
    dtype: Any = None


@metric(sparse_top_k_categorical_accuracy, "k", "from_sorted_ids", direction="up")
class SparseTopKCategoricalAccuracy(MeanFunctionMetric):
    """How often the integer label is among the top `k` predictions."""

    k: int = 5
    name: str = "sparse_top_k_categorical_accuracy"
    dtype: Any = None
    from_sorted_ids: bool = False
