"""Probabilistic metrics: mean cross-entropies and divergences.

They average the kerax.losses functions, so values match the losses exactly.
"""

from __future__ import annotations

from typing import Any

from kerax import losses
from kerax.losses.functions import _sparse_categorical_crossentropy_and_mask
from kerax.metrics.base import MeanFunctionMetric, metric


@metric(losses.kl_divergence, direction="down")
class KLDivergence(MeanFunctionMetric):
    """Mean Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`."""

    name: str = "kl_divergence"
    dtype: Any = None


@metric(losses.poisson, direction="down")
class Poisson(MeanFunctionMetric):
    """Mean Poisson loss `y_pred - y_true * log(y_pred)`."""

    name: str = "poisson"
    dtype: Any = None


@metric(losses.binary_crossentropy, "from_logits", "label_smoothing", direction="down")
class BinaryCrossentropy(MeanFunctionMetric):
    """Mean binary cross-entropy.

    Example:
        >>> m = BinaryCrossentropy()
        >>> round(float(m.compute([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])), 4)
        0.8149
    """

    name: str = "binary_crossentropy"
    dtype: Any = None
    from_logits: bool = False
    label_smoothing: float = 0


@metric(
    losses.categorical_crossentropy,
    "from_logits",
    "label_smoothing",
    "axis",
    direction="down",
)
class CategoricalCrossentropy(MeanFunctionMetric):
    """Mean categorical cross-entropy for one-hot labels."""

    name: str = "categorical_crossentropy"
    dtype: Any = None
    from_logits: bool = False
    label_smoothing: float = 0
    axis: int = -1


# The masked variant: Keras attaches the `ignore_class` mask to the values.
@metric(
    _sparse_categorical_crossentropy_and_mask,
    "from_logits",
    "ignore_class",
    "axis",
    direction="down",
)
class SparseCategoricalCrossentropy(MeanFunctionMetric):
    """Mean categorical cross-entropy for integer labels.

    As in Keras, `ignore_class` entries contribute 0 and, when sample weights
    are given, also no weight.
    """

    name: str = "sparse_categorical_crossentropy"
    dtype: Any = None
    from_logits: bool = False
    ignore_class: int | None = None
    axis: int = -1
