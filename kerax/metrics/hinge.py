"""Hinge metrics: the mean of the kerax.losses hinge functions."""

from __future__ import annotations

from typing import Any

from kerax import losses
from kerax.metrics.base import MeanFunctionMetric, metric


@metric(losses.hinge, direction="down")
class Hinge(MeanFunctionMetric):
    """Mean `maximum(1 - y_true * y_pred, 0)`; 0/1 labels become -1/1."""

    name: str = "hinge"
    dtype: Any = None


@metric(losses.squared_hinge, direction="down")
class SquaredHinge(MeanFunctionMetric):
    """Mean `square(maximum(1 - y_true * y_pred, 0))`."""

    name: str = "squared_hinge"
    dtype: Any = None


@metric(losses.categorical_hinge, direction="down")
class CategoricalHinge(MeanFunctionMetric):
    """Mean `maximum(neg - pos + 1, 0)` for one-hot labels."""

    name: str = "categorical_hinge"
    dtype: Any = None
