"""Confusion-matrix metrics: counts, precision/recall, the "at" metrics, AUC.

All of them accumulate weighted true/false positive/negative counts at a set
of thresholds, computed exactly as Keras's `update_confusion_matrix_variables`
(including its bucketed fast path for evenly spaced thresholds), so results
match Keras to float32 round-off.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.losses import EPSILON, divide_no_nan, squeeze_or_expand_to_same_rank
from kerax.metrics.base import Metric, State, hashable

NEG_INF = -1e10
TP, FP, TN, FN = (
    "true_positives",
    "false_positives",
    "true_negatives",
    "false_negatives",
)


def _to_list(x: Any) -> list:
    return list(x) if isinstance(x, list | tuple) else [x]


def parse_init_thresholds(thresholds: Any, default_threshold: float = 0.5) -> list:
    """The thresholds as a list, checked to lie in [0, 1] when user-given."""
    if thresholds is not None:
        invalid = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds: Any) -> bool:
    """True for `[0, 1/(n-1), ..., 1]` (n >= 3), which allows the fast path."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _filter_top_k(x: jax.Array, k: int) -> jax.Array:
    _, top_k_idx = jax.lax.top_k(x, k)
    top_k_mask = jnp.sum(jax.nn.one_hot(top_k_idx, x.shape[-1]), axis=-2)
    return x * top_k_mask + NEG_INF * (1 - top_k_mask)


def confusion_counts(
    kinds: tuple[str, ...],
    y_true: Any,
    y_pred: Any,
    thresholds: Any,
    top_k: int | None = None,
    class_id: int | None = None,
    sample_weight: Any = None,
    multi_label: bool = False,
    label_weights: Any = None,
    thresholds_distributed_evenly: bool = False,
    dtype: Any = jnp.float32,
) -> dict[str, jax.Array]:
    """Weighted confusion counts of one batch, per threshold (and label).

    A pure port of `keras.src.metrics.metrics_utils.
    update_confusion_matrix_variables`: returns the increments of the counts
    named in `kinds` (`"true_positives"`, ...) instead of assigning them.
    A prediction is positive when it is strictly above the threshold.
    """
    y_true = jnp.asarray(y_true).astype(dtype)
    y_pred = jnp.asarray(y_pred).astype(dtype)
    thresholds_with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    thresholds = jnp.asarray(np.asarray(thresholds), dtype)
    num_thresholds = thresholds.shape[0]
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = jnp.expand_dims(jnp.asarray(sample_weight).astype(dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(
            y_true, sample_weight, expand_rank_1=False
        )
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if label_weights is not None:
        label_weights = jnp.asarray(np.asarray(label_weights), dtype)

    if thresholds_distributed_evenly:
        return _bucketed_counts(
            kinds,
            y_true,
            y_pred,
            num_thresholds,
            multi_label,
            sample_weight,
            label_weights,
            thresholds_with_epsilon,
        )

    if multi_label:
        # (thresholds, samples, labels).
        pred_is_pos = y_pred[None] > thresholds[:, None, None]
        label_is_pos = jnp.broadcast_to(y_true.astype(bool)[None], pred_is_pos.shape)
        flat_shape = (1, *y_pred.shape)
    else:
        # (thresholds, samples * labels).
        flat_shape = (1, math.prod(y_pred.shape))
        pred_is_pos = jnp.reshape(y_pred, flat_shape) > thresholds[:, None]
        label_is_pos = jnp.broadcast_to(
            jnp.reshape(y_true.astype(bool), flat_shape), pred_is_pos.shape
        )
    weights = None
    if sample_weight is not None:
        sample_weight = jnp.broadcast_to(sample_weight.astype(dtype), y_pred.shape)
        weights = jnp.reshape(sample_weight, flat_shape)
    if label_weights is not None and not multi_label:
        label_weights = jnp.broadcast_to(label_weights[None], y_pred.shape)
        label_weights = jnp.reshape(label_weights, flat_shape)
        weights = label_weights if weights is None else weights * label_weights

    def count(label, pred):
        both = label & pred
        if weights is None:
            return jnp.sum(both.astype(dtype), axis=1)
        return jnp.sum(jnp.where(both, weights, 0).astype(dtype), axis=1)

    pred_is_neg, label_is_neg = ~pred_is_pos, ~label_is_pos
    pairs = {
        TP: (label_is_pos, pred_is_pos),
        FP: (label_is_neg, pred_is_pos),
        TN: (label_is_neg, pred_is_neg),
        FN: (label_is_pos, pred_is_neg),
    }
    return {kind: count(*pairs[kind]) for kind in kinds}


def _bucketed_counts(
    kinds,
    y_true,
    y_pred,
    num_thresholds,
    multi_label,
    sample_weights,
    label_weights,
    thresholds_with_epsilon,
) -> dict[str, jax.Array]:
    """Counts for evenly spaced thresholds in O(samples + thresholds).

    Each prediction falls in bucket `ceil(p * (T - 1)) - 1`; a reversed
    cumulative sum over buckets gives the counts above every threshold.
    """
    if sample_weights is None:
        sample_weights = 1.0
    else:
        sample_weights = jnp.broadcast_to(
            sample_weights.astype(y_pred.dtype), y_pred.shape
        )
        if not multi_label:
            sample_weights = jnp.reshape(sample_weights, (-1,))
    if label_weights is None:
        label_weights = 1.0
    else:
        label_weights = jnp.broadcast_to(label_weights[None], y_pred.shape)
        if not multi_label:
            label_weights = jnp.reshape(label_weights, (-1,))
    weights = jnp.asarray(sample_weights * label_weights).astype(y_true.dtype)
    y_pred = jnp.clip(y_pred, 0.0, 1.0)
    y_true = y_true.astype(bool).astype(y_true.dtype)
    if not multi_label:
        y_true = jnp.reshape(y_true, (-1,))
        y_pred = jnp.reshape(y_pred, (-1,))
    true_labels = y_true * weights
    false_labels = (1.0 - y_true) * weights
    bucket_indices = (
        jnp.ceil(y_pred * (jnp.asarray(num_thresholds, y_pred.dtype) - 1)) - 1
    )
    if thresholds_with_epsilon:
        bucket_indices = jax.nn.relu(bucket_indices)
    # Out-of-range buckets (-1: predictions of exactly 0) are dropped.
    bucket_indices = bucket_indices.astype(jnp.int32)

    def reverse_cumsum(x, axis):
        return jnp.flip(jnp.cumsum(jnp.flip(x, axis), axis=axis), axis)

    if multi_label:
        true_labels, false_labels = true_labels.T, false_labels.T
        bucket_indices = bucket_indices.T

        def per_label(labels, buckets):
            return jax.ops.segment_sum(labels, buckets, num_segments=num_thresholds)

        tp = reverse_cumsum(jax.vmap(per_label)(true_labels, bucket_indices), 1).T
        fp = reverse_cumsum(jax.vmap(per_label)(false_labels, bucket_indices), 1).T
        total_true = jnp.sum(true_labels, axis=1)
        total_false = jnp.sum(false_labels, axis=1)
    else:
        tp_buckets = jax.ops.segment_sum(
            true_labels, bucket_indices, num_segments=num_thresholds
        )
        fp_buckets = jax.ops.segment_sum(
            false_labels, bucket_indices, num_segments=num_thresholds
        )
        tp, fp = reverse_cumsum(tp_buckets, 0), reverse_cumsum(fp_buckets, 0)
        total_true, total_false = jnp.sum(true_labels), jnp.sum(false_labels)
    counts = {TP: tp, FP: fp}
    if TN in kinds:
        counts[TN] = total_false - fp
    if FN in kinds:
        counts[FN] = total_true - tp
    return {kind: counts[kind] for kind in kinds}


def _add(state: State, increments: dict[str, jax.Array]) -> State:
    return {k: state[k] + increments[k] for k in state}


# --------------------------------------------------------------------------
# Counts at thresholds.
# --------------------------------------------------------------------------


class _ConfusionMatrixConditionCount(Metric):
    _kind: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", hashable(self.thresholds))
        parse_init_thresholds(self.thresholds)
        super().__post_init__()

    @property
    def _thresholds(self) -> list:
        return parse_init_thresholds(self.thresholds, default_threshold=0.5)

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # One count per threshold.
        return {"accumulator": self._zeros((len(self._thresholds),))}

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's confusion metrics ignore masks.
        thresholds = self._thresholds
        counts = confusion_counts(
            (self._kind,),
            y_true,
            y_pred,
            thresholds,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=is_evenly_distributed_thresholds(thresholds),
            dtype=self.compute_dtype,
        )
        return {"accumulator": state["accumulator"] + counts[self._kind]}

    def result(self, state) -> jax.Array:
        acc = state["accumulator"]
        return acc[0] if len(self._thresholds) == 1 else acc


@dataclasses.dataclass(frozen=True)
class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives (at each of `thresholds`)."""

    _kind = FP
    thresholds: float | tuple[float, ...] | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives (at each of `thresholds`)."""

    _kind = FN
    thresholds: float | tuple[float, ...] | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives (at each of `thresholds`)."""

    _kind = TN
    thresholds: float | tuple[float, ...] | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives (at each of `thresholds`).

    Example:
        >>> m = TruePositives()
        >>> float(m.compute([0, 1, 1, 1], [1, 0, 1, 1]))
        2.0
    """

    _kind = TP
    thresholds: float | tuple[float, ...] | None = None
    name: str | None = None
    dtype: Any = None


class _PrecisionRecall(Metric):
    _kinds: tuple[str, str]
    _direction = "up"

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", hashable(self.thresholds))
        parse_init_thresholds(self.thresholds)
        super().__post_init__()

    @property
    def _thresholds(self) -> list:
        default = 0.5 if self.top_k is None else NEG_INF
        return parse_init_thresholds(self.thresholds, default_threshold=default)

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # One count per threshold.
        n = len(self._thresholds)
        return {kind: self._zeros((n,)) for kind in self._kinds}

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's confusion metrics ignore masks.
        thresholds = self._thresholds
        counts = confusion_counts(
            self._kinds,
            y_true,
            y_pred,
            thresholds,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=is_evenly_distributed_thresholds(thresholds),
            dtype=self.compute_dtype,
        )
        return _add(state, counts)

    def result(self, state) -> jax.Array:
        tp, other = state[TP], state[self._kinds[1]]
        result = divide_no_nan(tp, tp + other)
        return result[0] if len(self._thresholds) == 1 else result


@dataclasses.dataclass(frozen=True)
class Precision(_PrecisionRecall):
    """`TP / (TP + FP)`, at `thresholds`, within the `top_k`, or for `class_id`.

    Example:
        >>> m = Precision()
        >>> round(float(m.compute([0, 1, 1, 1], [1, 0, 1, 1])), 4)
        0.6667
    """

    _kinds = (TP, FP)
    thresholds: float | tuple[float, ...] | None = None
    top_k: int | None = None
    class_id: int | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class Recall(_PrecisionRecall):
    """`TP / (TP + FN)`, at `thresholds`, within the `top_k`, or for `class_id`."""

    _kinds = (TP, FN)
    thresholds: float | tuple[float, ...] | None = None
    top_k: int | None = None
    class_id: int | None = None
    name: str | None = None
    dtype: Any = None


# --------------------------------------------------------------------------
# One rate at a constraint on another.
# --------------------------------------------------------------------------


class _SensitivitySpecificityBase(Metric):
    """The best `_objective` rate at thresholds where the `_value_name` rate
    is at least the given value (Keras's `SensitivitySpecificityBase`)."""

    _direction = "up"
    _value_name: str  # The constrained rate, also the argument's name.
    _objective: str  # The rate maximized.

    def __post_init__(self) -> None:
        value = getattr(self, self._value_name)
        if value < 0 or value > 1:
            raise ValueError(
                f"Argument `{self._value_name}` must be in the range [0, 1]. "
                f"Received: {self._value_name}={value}"
            )
        if self.num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={self.num_thresholds}"
            )
        super().__post_init__()

    @property
    def _thresholds(self) -> list:
        n = self.num_thresholds
        if n == 1:
            return [0.5]
        return [0.0] + [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)] + [1.0]

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # One count per threshold.
        n = len(self._thresholds)
        return {kind: self._zeros((n,)) for kind in (TP, FP, TN, FN)}

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's confusion metrics ignore masks.
        counts = confusion_counts(
            (TP, TN, FP, FN),
            y_true,
            y_pred,
            self._thresholds,
            class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self.num_thresholds > 1,
            dtype=self.compute_dtype,
        )
        return _add(state, counts)

    def _find_max_under_constraint(self, constrained, dependent):
        feasible = constrained >= getattr(self, self._value_name)
        return jnp.max(jnp.where(feasible, dependent, 0), initial=0)

    @staticmethod
    def _rates(state):
        tp, fp, tn, fn = state[TP], state[FP], state[TN], state[FN]
        recall = divide_no_nan(tp, tp + fn)
        return {
            "sensitivity": recall,
            "recall": recall,
            "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp),
        }

    def result(self, state) -> jax.Array:
        rates = self._rates(state)
        return self._find_max_under_constraint(
            rates[self._value_name], rates[self._objective]
        )


@dataclasses.dataclass(frozen=True)
class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """Best sensitivity (recall) at thresholds where specificity >= `specificity`."""

    _value_name = "specificity"
    _objective = "sensitivity"
    specificity: float
    num_thresholds: int = 200
    class_id: int | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """Best specificity at thresholds where sensitivity >= `sensitivity`."""

    _value_name = "sensitivity"
    _objective = "specificity"
    sensitivity: float
    num_thresholds: int = 200
    class_id: int | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class PrecisionAtRecall(_SensitivitySpecificityBase):
    """Best precision at thresholds where recall >= `recall`."""

    _value_name = "recall"
    _objective = "precision"
    recall: float
    num_thresholds: int = 200
    class_id: int | None = None
    name: str | None = None
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class RecallAtPrecision(_SensitivitySpecificityBase):
    """Best recall at thresholds where precision >= `precision`."""

    _value_name = "precision"
    _objective = "recall"
    precision: float
    num_thresholds: int = 200
    class_id: int | None = None
    name: str | None = None
    dtype: Any = None


# --------------------------------------------------------------------------
# Area under the ROC / PR / PR-gain curve.
# --------------------------------------------------------------------------

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation", "majoring", "minoring"}


@dataclasses.dataclass(frozen=True)
class AUC(Metric):
    """Approximate area under the ROC or PR curve, from counts at thresholds.

    Args:
        num_thresholds: Number of evenly spaced thresholds in [0, 1].
        curve: "ROC", "PR" or "PRGAIN".
        summation_method: "interpolation" (trapezoids; for PR, the
            Davis & Goadrich interpolation), "minoring" or "majoring".
        thresholds: Explicit thresholds (then `num_thresholds` is
            `len(thresholds) + 2`).
        multi_label: One curve per label, averaged (weighted by
            `label_weights`), instead of flattening all labels into one.
        num_labels: Number of labels with `multi_label=True`; otherwise taken
            from `init(y_pred_shape)` or the first batch.
        label_weights: Per-label weights.
        from_logits: Apply a sigmoid to `y_pred` first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> float(m.compute([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]))
        0.75
    """

    _direction = "up"
    num_thresholds: int = 200
    curve: str = "ROC"
    summation_method: str = "interpolation"
    name: str | None = None
    dtype: Any = None
    thresholds: tuple[float, ...] | None = None
    multi_label: bool = False
    num_labels: int | None = None
    label_weights: tuple[float, ...] | None = None
    from_logits: bool = False

    def __post_init__(self) -> None:
        curve = _CURVES.get(str(getattr(self.curve, "value", self.curve)).lower())
        if curve is None:
            raise ValueError(
                f'Invalid AUC curve value: "{self.curve}". '
                'Expected values are ["PR", "ROC", "PRGAIN"]'
            )
        summation = str(
            getattr(self.summation_method, "value", self.summation_method)
        ).lower()
        if summation not in _SUMMATIONS:
            raise ValueError(
                f'Invalid AUC summation method value: "{self.summation_method}". '
                'Expected values are ["interpolation", "majoring", "minoring"]'
            )
        object.__setattr__(self, "curve", curve)
        object.__setattr__(self, "summation_method", summation)
        if self.thresholds is not None:
            thresholds = tuple(sorted(float(t) for t in _to_list(self.thresholds)))
            object.__setattr__(self, "thresholds", thresholds)
            object.__setattr__(self, "num_thresholds", len(thresholds) + 2)
        elif self.num_thresholds <= 1:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 1. "
                f"Received: num_thresholds={self.num_thresholds}"
            )
        if self.num_labels and not self.multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        object.__setattr__(self, "label_weights", hashable(self.label_weights))
        super().__post_init__()

    @property
    def _thresholds(self) -> list[float]:
        if self.thresholds is not None:
            inner = list(self.thresholds)
        else:
            n = self.num_thresholds
            inner = [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]
        # Just outside [0, 1], so that predictions of exactly 0 and 1 count.
        return [0.0 - EPSILON] + inner + [1.0 + EPSILON]

    @property
    def _thresholds_distributed_evenly(self) -> bool:
        if self.thresholds is None:
            return True
        return is_evenly_distributed_thresholds([0.0, *self.thresholds, 1.0])

    def init(self, y_pred_shape=None) -> State:
        shape: tuple[int, ...] = (self.num_thresholds,)
        if self.multi_label:
            if self.num_labels:
                shape = (self.num_thresholds, self.num_labels)
            elif y_pred_shape is not None:
                if len(y_pred_shape) != 2:
                    raise ValueError(
                        "`y_pred` must have rank 2 when `multi_label=True`. "
                        f"Found rank {len(y_pred_shape)}. Full shape received "
                        f"for `y_pred`: {tuple(y_pred_shape)}"
                    )
                shape = (self.num_thresholds, y_pred_shape[1])
            else:
                shape = (self.num_thresholds, 1)  # Broadcasts to the labels.
        return {kind: self._zeros(shape) for kind in (TP, FP, TN, FN)}

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's confusion metrics ignore masks.
        y_pred = jnp.asarray(y_pred)
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(
                "`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                f"{y_pred.ndim}. Full shape received for `y_pred`: {y_pred.shape}"
            )
        if self.from_logits:
            y_pred = jax.nn.sigmoid(y_pred)
        counts = confusion_counts(
            (TP, TN, FP, FN),
            y_true,
            y_pred,
            self._thresholds,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            dtype=self.compute_dtype,
        )
        return _add(state, counts)

    def _aggregate(self, by_threshold: jax.Array) -> jax.Array:
        if not self.multi_label:
            return jnp.sum(by_threshold)
        by_label = jnp.sum(by_threshold, axis=0)
        if self.label_weights is None:
            return jnp.mean(by_label)
        label_weights = jnp.asarray(self.label_weights, self.compute_dtype)
        return divide_no_nan(jnp.sum(by_label * label_weights), jnp.sum(label_weights))

    def _interpolate_pr_auc(self, state) -> jax.Array:
        """Davis & Goadrich (2006) interpolation of the PR curve."""
        tp, fp, fn = state[TP], state[FP], state[FN]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, jnp.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = jnp.where(
            (p[:-1] > 0) & (p[1:] > 0),
            divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)),
            jnp.ones_like(p[1:]),
        )
        pr_auc_increment = divide_no_nan(
            prec_slope * (dtp + intercept * jnp.log(safe_p_ratio)),
            jnp.maximum(tp[1:] + fn[1:], 0),
        )
        return self._aggregate(pr_auc_increment)

    def result(self, state) -> jax.Array:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(state)
        tp, fp, tn, fn = state[TP], state[FP], state[TN], state[FN]
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling * divide_no_nan(fp, tp)
            recall_gain = jnp.where(tp == 0.0, 0.0, recall_gain)
            precision_gain = jnp.where(tp == 0.0, 1.0, precision_gain)
            x, y = jnp.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        return self._aggregate((x[:-1] - x[1:]) * heights)
