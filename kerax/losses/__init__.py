"""Keras losses as pure JAX: per-sample functions and frozen loss configs.

Every Keras 3 loss comes in two forms, as in Keras:

* a function `fn(y_true, y_pred, **options)` returning one value per sample
  (the last axis reduced), e.g. `mean_squared_error`, `binary_crossentropy`;
* a frozen, hashable dataclass with the Keras arguments and defaults whose
  `__call__(y_true, y_pred, sample_weight=None)` applies the function, weights
  the per-sample values and reduces them with `reduction` exactly as
  `keras.losses.Loss` does.

Numerical choices follow Keras (JAX backend) so values agree to float32
round-off: probabilities are clipped to `[1e-7, 1 - 1e-7]`, the logits paths
use `log_softmax` / `log_sigmoid`, L2 normalization uses `rsqrt` capped at
`1 / 1e-7`. Everything is `jax.numpy`, so losses jit and differentiate.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import losses
    >>> y_true = jnp.array([[0.0, 1.0], [1.0, 1.0]])
    >>> y_pred = jnp.array([[0.5, 1.0], [1.0, 0.0]])
    >>> losses.mean_squared_error(y_true, y_pred)
    Array([0.125, 0.5  ], dtype=float32)
    >>> loss = losses.MeanSquaredError(reduction="sum")
    >>> float(loss(y_true, y_pred, sample_weight=jnp.array([1.0, 2.0])))
    1.125
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from kerax.core import registry

# The public names of the submodules, importable from `kerax.losses` as well.
from kerax.losses.classes import (
    CTC,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    CategoricalHinge,
    Circle,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
)
from kerax.losses.functions import (  # noqa: F401
    BCE,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    bce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    circle,
    cosine_similarity,
    ctc,
    dice,
    hinge,
    huber,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    tversky,
)
from kerax.losses.reduction import (  # noqa: F401
    EPSILON,
    REDUCTIONS,
    apply_mask,
    compute_dtype,
    divide_no_nan,
    l2_normalize,
    reduce_values,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
    standardize_reduction,
    to_snake_case,
)

LOSS_CLASSES: tuple[type[Loss], ...] = (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    SparseCategoricalCrossentropy,
    CTC,
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    Circle,
    CosineSimilarity,
    Dice,
    Tversky,
    Huber,
    LogCosh,
    KLDivergence,
    Poisson,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
)

LOSS_FUNCTIONS: tuple[Callable[..., jax.Array], ...] = (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    sparse_categorical_crossentropy,
    ctc,
    categorical_hinge,
    hinge,
    squared_hinge,
    circle,
    cosine_similarity,
    dice,
    tversky,
    huber,
    log_cosh,
    kl_divergence,
    poisson,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

_ALIASES = {
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
    "kld": kl_divergence,
    "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
    "logcosh": log_cosh,
}

ALL_OBJECTS: dict[str, Any] = {
    **{cls.__name__: cls for cls in (Loss, LossFunctionWrapper, *LOSS_CLASSES)},
    **{fn.__name__: fn for fn in LOSS_FUNCTIONS},
    **_ALIASES,
}


registry.set_base("losses", Loss)
registry.add_all("losses", ALL_OBJECTS)


def get(identifier: Any) -> Any:
    """Returns a loss function or `Loss` instance from an identifier.

    Args:
        identifier: None; a function or class name ("mse",
            "categorical_crossentropy", "CategoricalCrossentropy"); a dict
            `{"class_name": ..., "config": ...}` (also the Keras serialized
            form); a `Loss` class (instantiated with defaults) or instance;
            a name registered with `kerax.register`; or any callable
            `fn(y_true, y_pred)`.

    Returns:
        A function (for function names, as Keras) or a `Loss` instance.

    Example:
        >>> get("mse") is mean_squared_error
        True
        >>> get({"class_name": "Huber", "config": {"delta": 2.0}})
        Huber(delta=2.0, reduction='sum_over_batch_size', name='huber_loss', dtype=None)
    """
    return registry.get("losses", identifier)


def deserialize(config: dict[str, Any] | str) -> Any:
    """Rebuilds a loss from `serialize` output (kerax or Keras format).

    Example:
        >>> deserialize("mse") is mean_squared_error
        True
    """
    return registry.deserialize("losses", config)


def serialize(loss: Any) -> dict[str, Any]:
    """A JSON-friendly description of a loss, in the Keras serialized format.

    Loss instances give `{"module", "class_name", "config", "registered_name"}`
    (readable by `keras.losses.deserialize`); functions give the Keras
    function form `{"class_name": "function", "config": name, ...}`.

    Example:
        >>> serialize(mean_squared_error)["config"]
        'mean_squared_error'
    """
    return registry.serialize("losses", loss)


registry.set_get("losses", get)


def is_binary_or_sparse_categorical(
    y_true_shape: tuple[int | None, ...], y_pred_shape: tuple[int | None, ...]
) -> tuple[bool, bool]:
    """Keras compile's rule for "accuracy"/"crossentropy": binary? sparse?"""
    is_binary = y_pred_shape[-1] == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        y_true_shape[-1] == 1 and (y_pred_shape[-1] or 0) > 1
    )
    return is_binary, is_sparse


def resolve(
    identifier: Any,
    y_true_shape: tuple[int | None, ...] | None = None,
    y_pred_shape: tuple[int | None, ...] | None = None,
) -> Any:
    """`get`, plus Keras compile's "crossentropy"/"ce": chosen from the shapes.

    Example:
        >>> resolve("ce", (32,), (32, 10)) is sparse_categorical_crossentropy
        True
    """
    if not (
        isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")
    ):
        return get(identifier)
    if y_true_shape is None or y_pred_shape is None:
        raise ValueError(
            f"Loss {identifier!r} is chosen from the target and output shapes; "
            "pass y_true_shape and y_pred_shape, or name the loss explicitly "
            "(e.g. 'binary_crossentropy')."
        )
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    if is_binary:
        return binary_crossentropy
    if is_sparse:
        return sparse_categorical_crossentropy
    return categorical_crossentropy
