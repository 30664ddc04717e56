"""F-scores: FBetaScore and F1Score over multi-class / multi-label outputs."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from kerax.losses import EPSILON
from kerax.metrics.base import Metric, State


@dataclasses.dataclass(frozen=True)
class FBetaScore(Metric):
    """F-beta score, `(1 + beta^2) * P * R / (beta^2 * P + R)`.

    Args:
        average: None (one score per class), "micro" (global counts),
            "macro" (unweighted mean over classes) or "weighted" (mean
            weighted by each class's number of true instances).
        beta: Weight of recall relative to precision (a float > 0).
        threshold: Predictions above it are positive; None takes the
            per-sample argmax (ties included) as the positive class.

    Example:
        >>> import jax.numpy as jnp
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> y_true = jnp.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
        >>> y_pred = jnp.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(float(v), 4) for v in m.compute(y_true, y_pred)]
        [0.3846, 0.9091, 0.8333]
    """

    _direction = "up"
    average: str | None = None
    beta: float = 1.0
    threshold: float | None = None
    name: str = "fbeta_score"
    dtype: Any = None

    def __post_init__(self) -> None:
        if self.average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                "{None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={self.average}"
            )
        if not isinstance(self.beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={self.beta} of type '{type(self.beta)}'"
            )
        if self.beta <= 0.0:
            raise ValueError(
                f"Invalid `beta` argument value. It should be > 0. Received: beta={self.beta}"
            )
        if self.threshold is not None:
            if not isinstance(self.threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python "
                    f"float. Received: threshold={self.threshold} of type "
                    f"'{type(self.threshold)}'"
                )
            if self.threshold > 1.0 or self.threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify "
                    f"0 < threshold <= 1. Received: threshold={self.threshold}"
                )
        super().__post_init__()

    @property
    def _axis(self) -> int | None:
        return None if self.average == "micro" else 0

    def init(self, y_pred_shape=None) -> State:
        if self.average == "micro" or y_pred_shape is None:
            shape = ()  # Per-class sums broadcast to (num_classes,) on update.
        else:
            if len(y_pred_shape) != 2 or y_pred_shape[-1] is None:
                raise ValueError(
                    f"{type(self).__name__} expects 2D inputs with shape "
                    f"(batch_size, output_dim), got y_pred.shape={tuple(y_pred_shape)}."
                )
            shape = (y_pred_shape[-1],)
        names = (
            "true_positives",
            "false_positives",
            "false_negatives",
            "intermediate_weights",
        )
        return {name: self._zeros(shape) for name in names}

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's F-scores ignore masks.
        dtype = self.compute_dtype
        y_true = jnp.asarray(y_true, dtype)
        y_pred = jnp.asarray(y_pred, dtype)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                f"output_dim). Received input shapes: y_pred.shape={y_pred.shape} "
                f"and y_true.shape={y_true.shape}."
            )
        if self.threshold is None:
            threshold = jnp.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= threshold) & (jnp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(dtype)
        if sample_weight is not None:
            sample_weight = jnp.asarray(sample_weight, dtype)

        def weighted_sum(val):
            if sample_weight is not None:
                val = val * jnp.expand_dims(sample_weight, 1)
            return jnp.sum(val, axis=self._axis)

        return {
            "true_positives": state["true_positives"] + weighted_sum(y_pred * y_true),
            "false_positives": state["false_positives"]
            + weighted_sum(y_pred * (1 - y_true)),
            "false_negatives": state["false_negatives"]
            + weighted_sum((1 - y_pred) * y_true),
            "intermediate_weights": state["intermediate_weights"]
            + weighted_sum(y_true),
        }

    def result(self, state) -> jax.Array:
        tp = state["true_positives"]
        precision = jnp.divide(tp, tp + state["false_positives"] + EPSILON)
        recall = jnp.divide(tp, tp + state["false_negatives"] + EPSILON)
        beta2 = self.beta**2
        mean = jnp.divide(precision * recall, beta2 * precision + recall + EPSILON)
        f_score = mean * (1 + beta2)
        if self.average == "weighted":
            weights = state["intermediate_weights"]
            weights = jnp.divide(weights, jnp.sum(weights) + EPSILON)
            f_score = jnp.sum(f_score * weights)
        elif self.average is not None:
            f_score = jnp.mean(f_score)
        return f_score


@dataclasses.dataclass(frozen=True)
class F1Score(FBetaScore):
    """F1 score, the harmonic mean of precision and recall (FBetaScore, beta=1)."""

    average: str | None = None
    threshold: float | None = None
    name: str = "f1_score"
    dtype: Any = None
    beta: float = dataclasses.field(default=1.0, init=False)
