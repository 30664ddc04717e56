"""Keras metrics as pure, stateless JAX: `init`, `update`, `result`, `merge`.

Each metric is a frozen, hashable dataclass with the Keras name and
arguments; its state is a dict of arrays that the caller carries (in a
`TrainState`, through `jax.jit`, across devices with `merge`).

Example:
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from kerax import metrics
    >>> auc = metrics.AUC()
    >>> update = jax.jit(auc.update)
    >>> state = auc.init()
    >>> state = update(state, jnp.array([0, 0, 1, 1]), jnp.array([0.1, 0.4, 0.35, 0.8]))
    >>> round(float(auc.result(state)), 4)
    0.75
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from kerax import losses as _losses
from kerax.core import registry
from kerax.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    to_snake_case,
)
from kerax.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kerax.metrics.base import (
    Mean,
    MeanFunctionMetric,
    MeanMetricWrapper,
    Metric,
    State,
    Sum,
)
from kerax.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from kerax.metrics.correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from kerax.metrics.f_score import F1Score, FBetaScore
from kerax.metrics.hinge import CategoricalHinge, Hinge, SquaredHinge
from kerax.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from kerax.metrics.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from kerax.metrics.regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    cosine_similarity,
)

METRIC_CLASSES: tuple[type[Metric], ...] = (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    Precision,
    Recall,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TruePositives,
    TrueNegatives,
    FalsePositives,
    FalseNegatives,
    F1Score,
    FBetaScore,
    IoU,
    BinaryIoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    LogCoshError,
    CosineSimilarity,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    R2Score,
    PearsonCorrelation,
    ConcordanceCorrelation,
    Mean,
    Sum,
    MeanMetricWrapper,
)

METRIC_FUNCTIONS = (
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    cosine_similarity,
    pearson_correlation,
    concordance_correlation,
)

_CLASSES: dict[str, type[Metric]] = {
    **{cls.__name__: cls for cls in (Metric, *METRIC_CLASSES)},
    **{to_snake_case(cls.__name__): cls for cls in (Metric, *METRIC_CLASSES)},
    "acc": Accuracy,
    "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    "kld": KLDivergence,
    "KLD": KLDivergence,
    "logcosh": LogCoshError,
    "rmse": RootMeanSquaredError,
}

# Per-sample functions by name (the metric functions, then every loss name),
# for MeanMetricWrapper configs and for names that are only functions.
_FUNCTIONS: dict[str, Any] = {
    **{k: v for k, v in _losses.ALL_OBJECTS.items() if not inspect.isclass(v)},
    **{fn.__name__: fn for fn in METRIC_FUNCTIONS},
}


registry.set_base("metrics", Metric)
registry.add_all("metrics", _CLASSES)
registry.add_all("metric_functions", _FUNCTIONS)


def _unknown(name: Any) -> ValueError:
    valid = sorted(
        set(registry.family("metrics").objects)
        | set(registry.family("metric_functions").objects)
    )
    return ValueError(
        f"Unknown metric {name!r}. Valid names are: {', '.join(valid)}, or a name "
        "registered with `kerax.register`."
    )


def deserialize_function(config: dict[str, Any] | str) -> Any:
    """The per-sample function named by `config` (a name or Keras function dict).

    Example:
        >>> deserialize_function("binary_accuracy") is binary_accuracy
        True
    """
    return registry.deserialize("metric_functions", config)


def _plain(value: Any) -> Any:
    """Keras writes arrays in configs as `{"class_name": "__tensor__", ...}`."""
    if isinstance(value, dict) and value.get("class_name") in (
        "__tensor__",
        "__numpy__",
    ):
        return value["config"]["value"]
    return value


def deserialize(config: dict[str, Any] | str) -> Metric:
    """Rebuilds a metric from `serialize` output (kerax or Keras format).

    Example:
        >>> deserialize({"class_name": "function", "config": "mse"}).name
        'mean_squared_error'
    """
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and config.get("class_name") == "function":
        fn = deserialize_function(config)
        return MeanMetricWrapper(fn, name=fn.__name__)
    if isinstance(config, dict) and isinstance(config.get("config"), dict):
        config = {
            **config,
            "config": {k: _plain(v) for k, v in config["config"].items()},
        }
    return registry.deserialize("metrics", config)


def serialize(metric: Any) -> dict[str, Any]:
    """A JSON-friendly description in the Keras serialized format.

    Metrics give `{"module", "class_name", "config", "registered_name"}`,
    readable by `keras.metrics.deserialize`; functions give Keras's
    `{"class_name": "function", "config": name, ...}`.

    Example:
        >>> serialize(AUC())["class_name"]
        'AUC'
    """
    if isinstance(metric, Metric) or isinstance(metric, type):
        return registry.serialize("metrics", metric)
    return registry.serialize("metric_functions", metric)


def get(identifier: Any) -> Metric | None:
    """A metric instance from a name, config dict, class, instance or function.

    Names are Keras's (class names, their snake-case forms, and the aliases
    "acc", "mse", "mae", "mape", "msle", "bce", "kld", "logcosh"); names of
    per-sample functions such as "huber" and plain callables
    `fn(y_true, y_pred)` are wrapped in a `MeanMetricWrapper`. "accuracy"
    gives `Accuracy` as in `keras.metrics.get`; use `resolve` for the
    shape-dependent choice that `compile` makes.

    Example:
        >>> get("auc")
        AUC(num_thresholds=200, curve='ROC', summation_method='interpolation', \
name='auc', dtype=None, thresholds=None, multi_label=False, num_labels=None, \
label_weights=None, from_logits=False)
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = registry.lookup_custom(identifier)
        if obj is None:
            obj = registry.family("metrics").objects.get(identifier)
        if obj is None:
            obj = registry.family("metric_functions").objects.get(identifier)
        if obj is None:
            raise _unknown(identifier)
        if not inspect.isclass(obj) and not isinstance(obj, Metric):
            return MeanMetricWrapper(obj, name=identifier)
        identifier = obj
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, Metric):
        return identifier
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


registry.set_get("metrics", get)


def _family_from_loss(loss: Any) -> str | None:
    """'binary', 'sparse' or 'categorical' as the loss suggests (or None)."""
    if loss is None:
        return None
    if isinstance(loss, str):
        name = loss
    elif isinstance(loss, _losses.Loss):
        name = type(loss).__name__
        if isinstance(loss, _losses.LossFunctionWrapper):
            name = getattr(loss.fn, "__name__", name)
    else:
        name = getattr(loss, "__name__", "")
    name = to_snake_case(name) if name[:1].isupper() else name.lower()
    if "sparse_categorical" in name:
        return "sparse"
    if "binary" in name or name in ("bce", "hinge", "squared_hinge"):
        return "binary"
    if "categorical" in name:
        return "categorical"
    return None


def resolve(
    identifier: Any,
    y_true_shape: tuple[int | None, ...] | None = None,
    y_pred_shape: tuple[int | None, ...] | None = None,
    loss: Any = None,
) -> Metric:
    """The metric `Model.compile(metrics=[identifier])` would build.

    "accuracy"/"acc" (and "crossentropy"/"ce") become the binary, sparse
    categorical or categorical variant by Keras 3's rule on the shapes: binary
    when `y_pred` has a last axis of 1; sparse when `y_true` has lower rank
    than `y_pred` or a last axis of 1. Keras 3 decides from the shapes alone;
    `loss` is only consulted when the shapes are not given. A string
    identifier also becomes the metric's name, as in Keras.

    Example:
        >>> resolve("acc", (32, 1), (32, 10)).__class__.__name__
        'SparseCategoricalAccuracy'
        >>> resolve("accuracy", loss="binary_crossentropy").name
        'accuracy'
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    key = identifier.lower() if isinstance(identifier, str) else None
    if key in ("accuracy", "acc", "crossentropy", "ce"):
        if y_true_shape is not None and y_pred_shape is not None:
            is_binary, is_sparse = _losses.is_binary_or_sparse_categorical(
                tuple(y_true_shape), tuple(y_pred_shape)
            )
            family = "binary" if is_binary else "sparse" if is_sparse else "categorical"
        else:
            family = _family_from_loss(loss)
            if family is None:
                raise ValueError(
                    f"Metric {identifier!r} is chosen from the target and output "
                    "shapes (or a crossentropy/hinge loss); pass y_true_shape and "
                    "y_pred_shape, or name the metric explicitly (e.g. "
                    "'binary_accuracy')."
                )
        accuracy_classes = {
            "binary": BinaryAccuracy,
            "sparse": SparseCategoricalAccuracy,
            "categorical": CategoricalAccuracy,
        }
        crossentropy_classes = {
            "binary": BinaryCrossentropy,
            "sparse": SparseCategoricalCrossentropy,
            "categorical": CategoricalCrossentropy,
        }
        table = accuracy_classes if key in ("accuracy", "acc") else crossentropy_classes
        return table[family](name=identifier)
    metric = get(identifier)
    if isinstance(identifier, str) and metric.name != identifier:
        metric = dataclasses.replace(metric, name=identifier)
    return metric


__all__ = [
    "METRIC_CLASSES",
    "METRIC_FUNCTIONS",
    "MeanFunctionMetric",
    "State",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "deserialize",
    "deserialize_function",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "resolve",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    *(cls.__name__ for cls in METRIC_CLASSES),
    "Metric",
    *(fn.__name__ for fn in METRIC_FUNCTIONS),
]
