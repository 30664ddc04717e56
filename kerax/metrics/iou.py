"""Intersection-over-union metrics, from an accumulated confusion matrix."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from kerax.losses import EPSILON, compute_dtype, squeeze_or_expand_to_same_rank
from kerax.metrics.base import Metric, State, hashable


def confusion_matrix(
    labels: jax.Array,
    predictions: jax.Array,
    num_classes: int,
    weights: jax.Array | None = None,
    dtype: Any = jnp.int32,
) -> jax.Array:
    """`(num_classes, num_classes)` matrix of (weighted) label/prediction pairs."""
    labels = jnp.asarray(labels).astype(dtype)
    predictions = jnp.asarray(predictions).astype(dtype)
    labels, predictions = squeeze_or_expand_to_same_rank(labels, predictions)
    values = jnp.ones_like(predictions) if weights is None else weights
    values = jnp.asarray(values).astype(dtype)
    matrix = jnp.zeros((num_classes, num_classes), dtype)
    return matrix.at[labels.astype(jnp.int32), predictions.astype(jnp.int32)].add(
        values
    )


class _IoUBase(Metric):
    """Shared confusion-matrix accumulation (Keras's `_IoUBase`).

    The state dtype defaults to int32, as in Keras: float sample weights are
    truncated to integers.
    """

    _direction = "up"

    def __post_init__(self) -> None:
        ids = hashable(self.target_class_ids) or tuple(range(self.num_classes))
        ids = ids if isinstance(ids, tuple) else (ids,)
        object.__setattr__(self, "target_class_ids", ids)
        if max(ids) >= self.num_classes:
            raise ValueError(
                f"{type(self).__name__}: target class id {max(ids)} is out of "
                f"range, which is [0, {self.num_classes})."
            )
        super().__post_init__()

    @property
    def compute_dtype(self) -> jnp.dtype:
        return compute_dtype(self.dtype or "int32")

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # Sized by num_classes.
        n = self.num_classes
        return {"total_confusion_matrix": self._zeros((n, n))}

    def _prepare(self, y_true, y_pred):
        return y_true, y_pred

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's IoU metrics ignore masks.
        y_true, y_pred = self._prepare(jnp.asarray(y_true), jnp.asarray(y_pred))
        dtype = self.compute_dtype
        if not self.sparse_y_true:
            y_true = jnp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(y_pred, axis=self.axis)
        y_true = jnp.reshape(y_true.astype(dtype), (-1,))
        y_pred = jnp.reshape(y_pred.astype(dtype), (-1,))
        if sample_weight is None:
            sample_weight = 1
        sample_weight = jnp.asarray(sample_weight).astype(dtype)
        if sample_weight.ndim > 1:
            sample_weight = jnp.reshape(sample_weight, (-1,))
        sample_weight = jnp.broadcast_to(sample_weight, y_true.shape)
        n = self.num_classes
        in_bounds = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            in_bounds &= y_true != self.ignore_class
        y_true = jnp.where(in_bounds, y_true, 0)
        y_pred = jnp.where(in_bounds, y_pred, 0)
        sample_weight = jnp.where(in_bounds, sample_weight, 0).astype(dtype)
        current = confusion_matrix(y_true, y_pred, n, sample_weight, dtype)
        return {"total_confusion_matrix": state["total_confusion_matrix"] + current}

    def result(self, state) -> jax.Array:
        cm = state["total_confusion_matrix"]
        sum_over_row = jnp.sum(cm, axis=0).astype(jnp.float32)
        sum_over_col = jnp.sum(cm, axis=1).astype(jnp.float32)
        true_positives = jnp.diag(cm).astype(jnp.float32)
        denominator = sum_over_row + sum_over_col - true_positives
        ids = jnp.asarray(self.target_class_ids, jnp.int32)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        num_valid = jnp.sum(valid.astype(jnp.float32))
        iou = jnp.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return jnp.sum(iou, axis=self.axis) / (num_valid + EPSILON)


# Each class derives from `_IoUBase` directly (not from each other, as in
# Keras) so that the dataclass fields keep Keras's positional order.


@dataclasses.dataclass(frozen=True)
class IoU(_IoUBase):
    """Mean IoU over `target_class_ids`: `TP / (TP + FP + FN)` per class.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> round(float(m.compute([0, 0, 1, 1], [0, 1, 0, 1])), 4)
        0.3333
    """

    num_classes: int
    target_class_ids: tuple[int, ...]
    name: str | None = None
    dtype: Any = None
    ignore_class: int | None = None
    sparse_y_true: bool = True
    sparse_y_pred: bool = True
    axis: int = -1


@dataclasses.dataclass(frozen=True)
class BinaryIoU(_IoUBase):
    """IoU for binary labels, with predictions thresholded at `threshold`."""

    target_class_ids: tuple[int, ...] = (0, 1)
    threshold: float = 0.5
    name: str | None = None
    dtype: Any = None
    num_classes: int = dataclasses.field(default=2, init=False)
    ignore_class: int | None = dataclasses.field(default=None, init=False)
    sparse_y_true: bool = dataclasses.field(default=True, init=False)
    sparse_y_pred: bool = dataclasses.field(default=True, init=False)
    axis: int = dataclasses.field(default=-1, init=False)

    def _prepare(self, y_true, y_pred):
        y_pred = y_pred.astype(jnp.float32) >= self.threshold
        return y_true.astype(self.compute_dtype), y_pred.astype(self.compute_dtype)


@dataclasses.dataclass(frozen=True)
class MeanIoU(_IoUBase):
    """IoU averaged over all `num_classes` classes."""

    num_classes: int
    name: str | None = None
    dtype: Any = None
    ignore_class: int | None = None
    sparse_y_true: bool = True
    sparse_y_pred: bool = True
    axis: int = -1
    target_class_ids: tuple[int, ...] = dataclasses.field(default=(), init=False)


@dataclasses.dataclass(frozen=True)
class OneHotIoU(_IoUBase):
    """IoU over `target_class_ids` for one-hot labels (argmax of both)."""

    num_classes: int
    target_class_ids: tuple[int, ...]
    name: str | None = None
    dtype: Any = None
    ignore_class: int | None = None
    sparse_y_pred: bool = False
    axis: int = -1
    sparse_y_true: bool = dataclasses.field(default=False, init=False)


@dataclasses.dataclass(frozen=True)
class OneHotMeanIoU(_IoUBase):
    """Mean IoU over all classes for one-hot labels (argmax of both)."""

    num_classes: int
    name: str | None = None
    dtype: Any = None
    ignore_class: int | None = None
    sparse_y_pred: bool = False
    axis: int = -1
    sparse_y_true: bool = dataclasses.field(default=False, init=False)
    target_class_ids: tuple[int, ...] = dataclasses.field(default=(), init=False)
