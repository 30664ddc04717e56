"""Regression metrics: mean errors, RMSE, cosine similarity and R^2."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from kerax import losses
from kerax.losses import l2_normalize, squeeze_or_expand_to_same_rank
from kerax.metrics.base import Mean, MeanFunctionMetric, Metric, State, metric


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Cosine similarity along `axis` (the metric: positive, 1 is best)."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


@metric(losses.mean_squared_error, direction="down")
class MeanSquaredError(MeanFunctionMetric):
    """Mean of `square(y_true - y_pred)`."""

    name: str = "mean_squared_error"
    dtype: Any = None


@metric(losses.mean_absolute_error, direction="down")
class MeanAbsoluteError(MeanFunctionMetric):
    """Mean of `abs(y_true - y_pred)`."""

    name: str = "mean_absolute_error"
    dtype: Any = None


@metric(losses.mean_absolute_percentage_error, direction="down")
class MeanAbsolutePercentageError(MeanFunctionMetric):
    """Mean of `100 * abs((y_true - y_pred) / y_true)`."""

    name: str = "mean_absolute_percentage_error"
    dtype: Any = None


@metric(losses.mean_squared_logarithmic_error, direction="down")
class MeanSquaredLogarithmicError(MeanFunctionMetric):
    """Mean of `square(log(y_true + 1) - log(y_pred + 1))`."""

    name: str = "mean_squared_logarithmic_error"
    dtype: Any = None


@metric(cosine_similarity, "axis", direction="up")
class CosineSimilarity(MeanFunctionMetric):
    """Mean cosine similarity between labels and predictions."""

    name: str = "cosine_similarity"
    dtype: Any = None
    axis: int = -1


@metric(losses.log_cosh, direction="down")
class LogCoshError(MeanFunctionMetric):
    """Mean of `log(cosh(y_pred - y_true))`."""

    name: str = "logcosh"
    dtype: Any = None


@dataclasses.dataclass(frozen=True)
class RootMeanSquaredError(Mean):
    """`sqrt(mean(square(y_true - y_pred)))` over everything seen.

    Example:
        >>> m = RootMeanSquaredError()
        >>> round(float(m.compute([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]])), 4)
        0.866
    """

    _direction = "down"
    name: str = "root_mean_squared_error"
    dtype: Any = None

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        y_true = jnp.asarray(y_true, self.compute_dtype)
        y_pred = jnp.asarray(y_pred, self.compute_dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        error_sq = jnp.square(y_pred - y_true)
        return super().update(state, error_sq, sample_weight, mask=mask)

    def result(self, state) -> jax.Array:
        return jnp.sqrt(super().result(state))


@dataclasses.dataclass(frozen=True)
class R2Score(Metric):
    """Coefficient of determination, per output then aggregated.

    Args:
        class_aggregation: "uniform_average" (mean over outputs),
            "variance_weighted_average", or None (one score per output).
        num_regressors: Number of independent regressors, for the adjusted
            R^2; 0 gives the plain R^2.

    Example:
        >>> m = R2Score()
        >>> y_true = [[1.0], [4.0], [3.0]]
        >>> y_pred = [[2.0], [4.0], [4.0]]
        >>> round(float(m.compute(y_true, y_pred)), 5)
        0.57143
    """

    _direction = "up"
    class_aggregation: str | None = "uniform_average"
    num_regressors: int = 0
    name: str = "r2_score"
    dtype: Any = None

    def __post_init__(self) -> None:
        valid = (None, "uniform_average", "variance_weighted_average")
        if self.class_aggregation not in valid:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{valid}. Received: class_aggregation={self.class_aggregation}"
            )
        if self.num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value "
                f">= 0. Received: num_regressors={self.num_regressors}"
            )
        super().__post_init__()

    def init(self, y_pred_shape=None) -> State:
        if y_pred_shape is None:
            shape = ()  # Broadcasts to (num_outputs,) at the first update.
        else:
            if len(y_pred_shape) != 2 or y_pred_shape[-1] is None:
                raise ValueError(
                    "R2Score expects 2D inputs with shape (batch_size, "
                    f"output_dim), got y_pred.shape={tuple(y_pred_shape)}."
                )
            shape = (y_pred_shape[-1],)
        return {
            "num_samples": self._zeros(),
            "squared_sum": self._zeros(shape),
            "sum": self._zeros(shape),
            "residual": self._zeros(shape),
            "count": self._zeros(shape),
        }

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        del mask  # Keras's R2Score ignores masks.
        dtype = self.compute_dtype
        y_true = jnp.asarray(y_true, dtype)
        y_pred = jnp.asarray(y_pred, dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). "
                f"Received: y_pred.shape={y_pred.shape}, y_true.shape={y_true.shape}."
            )
        if sample_weight is None:
            sample_weight = 1
        sample_weight = jnp.asarray(sample_weight, dtype)
        if sample_weight.ndim == 1:
            sample_weight = sample_weight[:, None]
        sample_weight = jnp.broadcast_to(sample_weight, y_true.shape)
        weighted_y_true = y_true * sample_weight
        return {
            "num_samples": state["num_samples"] + y_true.size,
            "squared_sum": state["squared_sum"]
            + jnp.sum(y_true * weighted_y_true, axis=0),
            "sum": state["sum"] + jnp.sum(weighted_y_true, axis=0),
            "residual": state["residual"]
            + jnp.sum((y_true - y_pred) ** 2 * sample_weight, axis=0),
            "count": state["count"] + jnp.sum(sample_weight, axis=0),
        }

    def result(self, state) -> jax.Array:
        mean = state["sum"] / state["count"]
        total = state["squared_sum"] - state["sum"] * mean
        raw_scores = 1 - state["residual"] / total
        raw_scores = jnp.where(jnp.isinf(raw_scores), 0.0, raw_scores)
        if self.class_aggregation == "uniform_average":
            r2 = jnp.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = jnp.sum(total * raw_scores) / jnp.sum(total)
        else:
            r2 = raw_scores
        if self.num_regressors != 0:
            # Keras falls back to the plain R^2 (with a warning) when there are
            # too few samples; a select keeps that jittable.
            n = state["num_samples"].astype(jnp.float32)
            p = jnp.float32(self.num_regressors)
            adjusted = 1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
            r2 = jnp.where(p < n - 1, adjusted, r2)
        return r2
