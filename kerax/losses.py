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

import dataclasses
import inspect
import re
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax

EPSILON = 1e-7  # keras.backend.epsilon()

REDUCTIONS = (
    "sum_over_batch_size",
    "sum",
    "mean",
    "mean_with_sample_weight",
    "none",
    None,
)


# --------------------------------------------------------------------------
# Helpers shared with kerax.metrics.
# --------------------------------------------------------------------------


def compute_dtype(dtype: Any = None) -> jnp.dtype:
    """The computation dtype for a Keras `dtype` argument (None -> float32).

    Accepts dtype names, numpy dtypes, Keras mixed-precision policy names
    ("mixed_float16", "mixed_bfloat16") and objects with a `compute_dtype`.
    """
    if dtype is None:
        return jnp.dtype("float32")
    if hasattr(dtype, "compute_dtype"):
        dtype = dtype.compute_dtype
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = dtype[len("mixed_") :]
    if dtype == "int":  # Keras spells the IoU default like this.
        dtype = "int32"
    return jnp.dtype(dtype)


def to_snake_case(name: str) -> str:
    """Keras's class-name to default-name rule (`MeanIoU` -> `mean_io_u`)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def divide_no_nan(x1: jax.Array, x2: jax.Array) -> jax.Array:
    """`x1 / x2`, with 0 wherever `x2 == 0` (as `keras.ops.divide_no_nan`)."""
    safe_x2 = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.divide(x1, safe_x2))


def l2_normalize(x: jax.Array, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """`keras.ops.normalize(x, axis, order=2)`: `x * min(rsqrt(sum x^2), 1/eps)`."""
    if x.ndim == 0:
        x = jnp.expand_dims(x, 0)
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    inv_norm = jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / EPSILON)
    return x * inv_norm


def squeeze_or_expand_to_same_rank(
    x1: jax.Array, x2: jax.Array, expand_rank_1: bool = True
) -> tuple[jax.Array, jax.Array]:
    """Squeezes or expands a trailing size-1 axis when the ranks differ by one.

    The Keras rule: a rank-1 array next to a `(batch, 1)` one is expanded
    (unless `expand_rank_1=False`); otherwise the size-1 axis is squeezed.
    """
    x1_rank, x2_rank = x1.ndim, x2.ndim
    if x1_rank == x2_rank:
        return x1, x2
    if x1_rank == x2_rank + 1 and x1.shape[-1] == 1:
        if x2_rank == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if x2_rank == x1_rank + 1 and x2.shape[-1] == 1:
        if x1_rank == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def standardize_reduction(reduction: str | None) -> str | None:
    """Checks `reduction` against the Keras options and returns it."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{list(REDUCTIONS)}. Received: reduction={reduction!r}"
        )
    return reduction


def apply_mask(
    sample_weight: jax.Array | None,
    mask: jax.Array | None,
    dtype: Any,
    reduction: str | None,
) -> jax.Array | None:
    """Folds a mask into the sample weights, as `keras.losses.loss.apply_mask`.

    For the mean reductions, valid entries get weight `total / valid` so that
    dividing by the full batch size afterwards averages over valid entries.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(np.prod(mask.shape), dtype)
        valid = jnp.sum(mask.astype(dtype))  # May be 0.
        mask_weight = divide_no_nan(total, valid)
        float_mask = jnp.where(mask.astype(bool), mask_weight, 0).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = jnp.asarray(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(
        float_mask, sample_weight
    )
    return sample_weight * float_mask


def reduce_values(
    values: jax.Array,
    sample_weight: jax.Array | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> jax.Array:
    """Sums weighted per-sample losses and divides as `reduction` says."""
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = jnp.sum(sample_weight).astype(loss.dtype)
        else:
            divisor = jnp.asarray(np.prod(values.shape), loss.dtype)
        loss = divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(
    values: jax.Array,
    sample_weight: jax.Array | None = None,
    mask: jax.Array | None = None,
    reduction: str | None = "sum_over_batch_size",
    dtype: Any = None,
) -> jax.Array:
    """Applies mask and sample weights to per-sample losses, then reduces.

    The same steps as `keras.losses.loss.reduce_weighted_values`: the mask is
    folded into the weights, the weights are squeezed or expanded to the rank
    of `values` and broadcast against them, then `reduce_values` runs.
    """
    reduction = standardize_reduction(reduction)
    dtype = compute_dtype(dtype)
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
    if mask is not None:
        mask = jnp.asarray(mask, dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def _as_float(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    """Keras's `y_pred = convert(y_pred); y_true = cast(y_true, y_pred.dtype)`."""
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(jnp.float32)
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


# --------------------------------------------------------------------------
# Loss functions (per-sample values, as the Keras functions).
# --------------------------------------------------------------------------


def _convert_binary_labels_to_hinge(y_true: jax.Array) -> jax.Array:
    # Keras uses `ops.cond`; a select gives the same values and stays cheap.
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(max(1 - y_true * y_pred, 0), axis=-1)`; 0/1 labels become -1/1."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return jnp.mean(jnp.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(max(1 - y_true * y_pred, 0)^2, axis=-1)`; 0/1 labels become -1/1."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """`max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, jnp.zeros((), y_pred.dtype))


def mean_squared_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(square(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)), axis=-1)`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), EPSILON))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)))`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    first_log = jnp.log(jnp.maximum(y_pred, EPSILON) + 1.0)
    second_log = jnp.log(jnp.maximum(y_true, EPSILON) + 1.0)
    return jnp.mean(jnp.square(first_log - second_log), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Negative cosine similarity: `-sum(l2_norm(y_true) * l2_norm(y_pred))`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = l2_normalize(y_pred, axis=axis)
    y_true = l2_normalize(y_true, axis=axis)
    return -jnp.sum(y_true * y_pred, axis=axis)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> jax.Array:
    """Quadratic for `|error| <= delta`, linear beyond; mean over the last axis."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    half = jnp.asarray(0.5, abs_error.dtype)
    return jnp.mean(
        jnp.where(
            abs_error <= delta,
            half * jnp.square(error),
            delta * abs_error - half * jnp.square(delta),
        ),
        axis=-1,
    )


def log_cosh(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed overflow-free."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    log2 = jnp.asarray(np.log(2.0), y_pred.dtype)
    x = y_pred - y_true
    # log(cosh(x)) = x + softplus(-2x) - log(2), finite for large |x|.
    return jnp.mean(x + jax.nn.softplus(x * -2.0) - log2, axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> jax.Array:
    """`sum(y_true * log(y_true / y_pred))`, both clipped to `[eps, 1]`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    y_true = jnp.clip(y_true, EPSILON, 1)
    y_pred = jnp.clip(y_pred, EPSILON, 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(y_pred - y_true * log(y_pred + eps), axis=-1)`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + EPSILON), axis=-1)


def _categorical_log_prob(y_pred: jax.Array, from_logits: bool, axis: int):
    if from_logits:
        return jax.nn.log_softmax(y_pred, axis=axis)
    y_pred = y_pred / jnp.sum(y_pred, axis, keepdims=True)
    return jnp.log(jnp.clip(y_pred, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Cross-entropy between one-hot (or soft) labels and predictions.

    Probabilities are renormalized along `axis` and clipped to
    `[1e-7, 1 - 1e-7]`; logits go through `log_softmax`.
    """
    if isinstance(axis, bool):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    y_true, y_pred = _as_float(y_true, y_pred)
    if label_smoothing:
        num_classes = jnp.asarray(y_true.shape[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "categorical_crossentropy expects `y_true` and `y_pred` with the same "
            f"shape, got {y_true.shape} and {y_pred.shape}. For integer labels "
            "use sparse_categorical_crossentropy."
        )
    return -jnp.sum(y_true * _categorical_log_prob(y_pred, from_logits, axis), axis)


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Focal loss: categorical cross-entropy scaled by `alpha * (1 - p)^gamma`."""
    if isinstance(axis, bool):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    y_true, y_pred = _as_float(y_true, y_pred)
    if label_smoothing:
        num_classes = jnp.asarray(y_true.shape[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    output = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    output = jnp.clip(output, EPSILON, 1.0 - EPSILON)
    cce = -y_true * jnp.log(output)
    focal = jnp.power(1.0 - output, gamma) * alpha * cce
    return jnp.sum(focal, axis=axis)


def _sparse_categorical_crossentropy_and_mask(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> tuple[jax.Array, jax.Array | None]:
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = jnp.squeeze(y_true, axis)
    valid_mask = None
    if ignore_class is not None:
        class_axis = axis % y_pred.ndim
        res_shape = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
        valid_mask = y_true != jnp.asarray(ignore_class, y_pred.dtype)
        y_true = jnp.where(valid_mask, y_true, 0)
        y_pred = jnp.where(jnp.expand_dims(valid_mask, axis), y_pred, 0)
    target = y_true.astype(jnp.int32)
    if target.ndim == y_pred.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if target.shape != y_pred.shape[:-1]:
        raise ValueError(
            "sparse_categorical_crossentropy expects `y_true` with the shape of "
            "`y_pred` minus its last (class) axis, got "
            f"y_true.shape={target.shape}, y_pred.shape={y_pred.shape}."
        )
    log_prob = _categorical_log_prob(y_pred, from_logits, axis)
    one_hot = jax.nn.one_hot(target, y_pred.shape[axis], axis=axis, dtype=y_pred.dtype)
    res = -jnp.sum(one_hot * log_prob, axis=axis)
    if valid_mask is not None:
        valid_mask = jnp.reshape(valid_mask, res_shape)
        res = jnp.where(valid_mask, res, 0.0)
    return res, valid_mask


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> jax.Array:
    """Cross-entropy with integer labels; `ignore_class` entries give 0."""
    return _sparse_categorical_crossentropy_and_mask(
        y_true, y_pred, from_logits, ignore_class, axis
    )[0]


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Mean binary cross-entropy along `axis`.

    Probabilities are clipped to `[1e-7, 1 - 1e-7]`; logits use `log_sigmoid`.
    """
    y_true, y_pred = _as_float(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(_elementwise_bce(y_true, y_pred, from_logits), axis=axis)


def _elementwise_bce(target: jax.Array, output: jax.Array, from_logits: bool):
    if target.shape != output.shape:
        raise ValueError(
            "binary_crossentropy expects `y_true` and `y_pred` with the same "
            f"shape, got {target.shape} and {output.shape}."
        )
    if from_logits:
        log_logits = jax.nn.log_sigmoid(output)
        log_neg_logits = jax.nn.log_sigmoid(-output)
        return -1.0 * target * log_logits - (1.0 - target) * log_neg_logits
    output = jnp.clip(output, EPSILON, 1.0 - EPSILON)
    bce = target * jnp.log(output)
    bce += (1.0 - target) * jnp.log(1.0 - output)
    return -bce


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Binary cross-entropy scaled by `(1 - p_t)^gamma` (and `alpha` if balanced)."""
    y_true, y_pred = _as_float(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    bce = _elementwise_bce(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        weight = y_true * alpha + (1 - y_true) * (1 - alpha)
        focal_bce = weight * focal_bce
    return jnp.mean(focal_bce, axis=axis)


def ctc(y_true: Any, y_pred: Any) -> jax.Array:
    """Connectionist temporal classification loss per sequence.

    `y_true` is `(batch, max_label_length)` integer labels padded with 0 (the
    blank class); `y_pred` is `(batch, time, num_classes)` logits.
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_true.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape "
            "`(batch_size, max_length)` in integer format. "
            f"Received: y_true.shape={y_true.shape}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape "
            "`(batch_size, max_length, num_classes)`. "
            f"Received: y_pred.shape={y_pred.shape}"
        )
    y_pred = y_pred.astype(jnp.result_type(y_pred.dtype, jnp.float32))
    labels = y_true.astype(jnp.int32)
    # Keras counts non-blank labels and treats the first `count` as the label.
    label_length = jnp.sum(labels != 0, axis=-1)
    positions = jnp.arange(labels.shape[1])[None, :]
    label_paddings = (positions >= label_length[:, None]).astype(y_pred.dtype)
    logit_paddings = jnp.zeros(y_pred.shape[:2], y_pred.dtype)
    return optax.ctc_loss(
        y_pred, logit_paddings, labels, label_paddings, blank_id=0, log_epsilon=-1e5
    )


def dice(y_true: Any, y_pred: Any, axis: int | tuple[int, ...] | None = None):
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`."""
    y_true, y_pred = _as_float(y_true, y_pred)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    union = jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis)
    return 1 - jnp.divide(2.0 * intersection, union + EPSILON)


def tversky(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: int | tuple[int, ...] | None = None,
) -> jax.Array:
    """`1 - TP / (TP + alpha * FP + beta * FN + eps)` with soft counts."""
    y_true, y_pred = _as_float(y_true, y_pred)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum((1 - y_pred) * y_true, axis=axis)
    fn = jnp.sum(y_pred * (1 - y_true), axis=axis)
    return 1 - jnp.divide(intersection, intersection + fp * alpha + fn * beta + EPSILON)


def _circle_and_mask(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(jnp.int32)
    ref_embeddings = y_pred if ref_embeddings is None else jnp.asarray(ref_embeddings)
    ref_labels = y_true if ref_labels is None else jnp.asarray(ref_labels, jnp.int32)
    optim_pos, optim_neg = margin, 1 + margin
    delta_pos, delta_neg = margin, 1 - margin
    distances = jnp.maximum(1 - jnp.matmul(y_pred, ref_embeddings.T), 0.0)
    query = jnp.reshape(y_true, (-1, 1)) if y_true.ndim == 1 else y_true
    keys = jnp.reshape(ref_labels, (-1, 1)) if ref_labels.ndim == 1 else ref_labels
    positive_mask = query == keys.T
    negative_mask = ~positive_mask
    if remove_diagonal:
        eye = jnp.eye(query.size, keys.size, dtype=bool)
        positive_mask = positive_mask & ~eye
    pos_weights = jnp.maximum((optim_pos + distances) * positive_mask, 0.0)
    neg_weights = jnp.maximum((optim_neg - distances) * negative_mask, 0.0)
    pos_wdists = -1 * gamma * pos_weights * (delta_pos - distances)
    neg_wdists = gamma * neg_weights * (delta_neg - distances)
    p_loss = jax.nn.logsumexp(jnp.where(positive_mask, pos_wdists, -jnp.inf), axis=1)
    n_loss = jax.nn.logsumexp(jnp.where(negative_mask, neg_wdists, -jnp.inf), axis=1)
    loss = jax.nn.softplus(p_loss + n_loss)
    return loss, loss > 0


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> jax.Array:
    """Circle loss (Sun et al., 2020) over L2-normalized embeddings `y_pred`.

    `y_true` holds integer class labels; pairs are formed against
    `ref_embeddings` / `ref_labels` (the batch itself by default).
    """
    return _circle_and_mask(
        y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin
    )[0]


def categorical_generalized_cross_entropy(
    y_true: Any, y_pred: Any, q: float
) -> jax.Array:
    """Generalized cross-entropy (Zhang & Sabuncu, 2018): `(1 - p^q) / q`.

    `y_true` holds integer labels, `y_pred` probabilities.
    """
    y_pred = jnp.asarray(y_pred)
    one_hot = jax.nn.one_hot(
        jnp.asarray(y_true).astype(jnp.int32), y_pred.shape[-1], dtype=y_pred.dtype
    )
    p = jnp.sum(y_pred * one_hot, axis=-1)
    return (1 - jnp.power(p, q)) / q


# Keras aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


# --------------------------------------------------------------------------
# Loss classes.
# --------------------------------------------------------------------------


class Loss:
    """Base of the loss classes: weighting and reduction as `keras.Loss`.

    A subclass is a frozen dataclass with its options plus `reduction`,
    `name` and `dtype` fields, and a `call(y_true, y_pred)` that returns
    per-sample values. `__call__` converts both inputs to `dtype` (float32 by
    default), runs `call`, folds any mask into the sample weights and reduces.

    Example:
        >>> import dataclasses
        >>> import jax.numpy as jnp
        >>> @dataclasses.dataclass(frozen=True)
        ... class ScaledMSE(Loss):
        ...     scale: float = 2.0
        ...     reduction: str | None = "sum_over_batch_size"
        ...     name: str = "scaled_mse"
        ...
        ...     def call(self, y_true, y_pred):
        ...         return self.scale * jnp.mean((y_true - y_pred) ** 2, axis=-1)
        >>> float(ScaledMSE()(jnp.zeros((2, 3)), jnp.ones((2, 3))))
        2.0
    """

    reduction: str | None = "sum_over_batch_size"
    name: str | None = None
    dtype: Any = None

    def __post_init__(self) -> None:
        standardize_reduction(self.reduction)
        if getattr(self, "name", None) is None and _is_dataclass(self):
            object.__setattr__(self, "name", to_snake_case(type(self).__name__))

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample loss values. Subclasses override this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `call(y_true, y_pred)`."
        )

    def call_with_mask(
        self, y_true: jax.Array, y_pred: jax.Array
    ) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample values and the mask Keras attaches to them (or None)."""
        return self.call(y_true, y_pred), None

    def __call__(
        self,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        *,
        mask: Any = None,
    ) -> jax.Array:
        """The reduced loss.

        Args:
            y_true: Targets.
            y_pred: Predictions.
            sample_weight: Optional weights, broadcast against the per-sample
                losses the Keras way (a trailing size-1 axis is squeezed or
                added when the ranks differ by one).
            mask: Optional boolean mask over the per-sample losses (what Keras
                reads from `y_pred._keras_mask`). Masked-out entries get zero
                weight; the mean reductions average over the valid ones.

        Returns:
            A scalar, or the weighted per-sample values for reduction "none".
        """
        dtype = compute_dtype(self.dtype)
        y_pred = jax.tree.map(lambda x: jnp.asarray(x, dtype), y_pred)
        y_true = jax.tree.map(lambda x: jnp.asarray(x, dtype), y_true)
        values, out_mask = self.call_with_mask(y_true, y_pred)
        if mask is not None and out_mask is not None:
            mask = jnp.asarray(mask, bool) & out_mask
        elif out_mask is not None:
            mask = out_mask
        return reduce_weighted_values(
            values,
            sample_weight=sample_weight,
            mask=mask,
            reduction=self.reduction,
            dtype=dtype,
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a JSON-friendly dict."""
        if _is_dataclass(self):
            return {
                f.name: _jsonable(getattr(self, f.name))
                for f in dataclasses.fields(self)
                if f.init
            }
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuilds the loss from `get_config()` output (or a Keras config)."""
        return cls(**config)


def _is_dataclass(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, jnp.dtype | np.dtype):
        return str(value)
    return value


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, np.ndarray | jax.Array):
        return tuple(np.asarray(value).tolist())
    return value


class _FunctionLoss(Loss):
    """A loss class that applies one of the functions above (LossFunctionWrapper).

    Like Keras's `LossFunctionWrapper`, a trailing size-1 axis of `y_true` or
    `y_pred` is squeezed or expanded first when their ranks differ by one.
    """

    fn: ClassVar[Callable[..., Any]]
    fn_options: ClassVar[tuple[str, ...]] = ()

    def call_with_mask(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        options = {k: getattr(self, k) for k in self.fn_options}
        out = type(self).fn(y_true, y_pred, **options)
        return out if isinstance(out, tuple) else (out, None)

    def call(self, y_true, y_pred):
        return self.call_with_mask(y_true, y_pred)[0]


def _loss(fn: Callable[..., Any], *options: str):
    """Class decorator: a frozen dataclass applying `fn` with `options`."""

    def wrap(cls):
        cls.fn = staticmethod(fn)
        cls.fn_options = options
        return dataclasses.dataclass(frozen=True)(cls)

    return wrap


@_loss(mean_squared_error)
class MeanSquaredError(_FunctionLoss):
    """Mean of squares of errors: `loss = mean(square(y_true - y_pred))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_squared_error"
    dtype: Any = None


@_loss(mean_absolute_error)
class MeanAbsoluteError(_FunctionLoss):
    """Mean of absolute errors: `loss = mean(abs(y_true - y_pred))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_absolute_error"
    dtype: Any = None


@_loss(mean_absolute_percentage_error)
class MeanAbsolutePercentageError(_FunctionLoss):
    """`loss = 100 * mean(abs((y_true - y_pred) / y_true))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_absolute_percentage_error"
    dtype: Any = None


@_loss(mean_squared_logarithmic_error)
class MeanSquaredLogarithmicError(_FunctionLoss):
    """`loss = mean(square(log(y_true + 1) - log(y_pred + 1)))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_squared_logarithmic_error"
    dtype: Any = None


@_loss(cosine_similarity, "axis")
class CosineSimilarity(_FunctionLoss):
    """Negative cosine similarity along `axis` (-1 is best, 1 worst)."""

    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "cosine_similarity"
    dtype: Any = None


@_loss(huber, "delta")
class Huber(_FunctionLoss):
    """Huber loss: quadratic below `delta`, linear above."""

    delta: float = 1.0
    reduction: str | None = "sum_over_batch_size"
    name: str = "huber_loss"
    dtype: Any = None


@_loss(log_cosh)
class LogCosh(_FunctionLoss):
    """Logarithm of the hyperbolic cosine of the prediction error."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "log_cosh"
    dtype: Any = None


@_loss(hinge)
class Hinge(_FunctionLoss):
    """`loss = maximum(1 - y_true * y_pred, 0)`, labels in {-1, 1} or {0, 1}."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "hinge"
    dtype: Any = None


@_loss(squared_hinge)
class SquaredHinge(_FunctionLoss):
    """`loss = square(maximum(1 - y_true * y_pred, 0))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "squared_hinge"
    dtype: Any = None


@_loss(categorical_hinge)
class CategoricalHinge(_FunctionLoss):
    """`loss = maximum(neg - pos + 1, 0)` for one-hot labels."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_hinge"
    dtype: Any = None


@_loss(kl_divergence)
class KLDivergence(_FunctionLoss):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "kl_divergence"
    dtype: Any = None


@_loss(poisson)
class Poisson(_FunctionLoss):
    """Poisson loss `y_pred - y_true * log(y_pred)`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "poisson"
    dtype: Any = None


@_loss(binary_crossentropy, "from_logits", "label_smoothing", "axis")
class BinaryCrossentropy(_FunctionLoss):
    """Binary cross-entropy for 0/1 labels and probabilities (or logits).

    Example:
        >>> import jax.numpy as jnp
        >>> bce = BinaryCrossentropy(from_logits=True)
        >>> round(float(bce(jnp.array([[0.0, 1.0]]), jnp.array([[-2.0, 3.0]]))), 4)
        0.0878
    """

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "binary_crossentropy"
    dtype: Any = None


@_loss(
    binary_focal_crossentropy,
    "apply_class_balancing",
    "alpha",
    "gamma",
    "from_logits",
    "label_smoothing",
    "axis",
)
class BinaryFocalCrossentropy(_FunctionLoss):
    """Binary focal cross-entropy (Lin et al., 2017)."""

    apply_class_balancing: bool = False
    alpha: float = 0.25
    gamma: float = 2.0
    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "binary_focal_crossentropy"
    dtype: Any = None


@_loss(categorical_crossentropy, "from_logits", "label_smoothing", "axis")
class CategoricalCrossentropy(_FunctionLoss):
    """Cross-entropy for one-hot labels and class probabilities (or logits)."""

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_crossentropy"
    dtype: Any = None


@_loss(
    categorical_focal_crossentropy,
    "alpha",
    "gamma",
    "from_logits",
    "label_smoothing",
    "axis",
)
class CategoricalFocalCrossentropy(_FunctionLoss):
    """Categorical focal cross-entropy (Lin et al., 2017)."""

    alpha: float = 0.25
    gamma: float = 2.0
    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_focal_crossentropy"
    dtype: Any = None


@_loss(_sparse_categorical_crossentropy_and_mask, "from_logits", "ignore_class", "axis")
class SparseCategoricalCrossentropy(_FunctionLoss):
    """Cross-entropy for integer labels.

    With `ignore_class`, those entries are masked out: the mean reductions
    average over the remaining entries only, as in Keras.
    """

    from_logits: bool = False
    ignore_class: int | None = None
    reduction: str | None = "sum_over_batch_size"
    axis: int = -1
    name: str = "sparse_categorical_crossentropy"
    dtype: Any = None


@_loss(ctc)
class CTC(_FunctionLoss):
    """Connectionist temporal classification loss (labels padded with 0)."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "ctc"
    dtype: Any = None


@_loss(dice, "axis")
class Dice(_FunctionLoss):
    """Dice loss `1 - 2|A∩B| / (|A| + |B|)`; `axis=None` reduces everything."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "dice"
    axis: int | tuple[int, ...] | None = None
    dtype: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", _hashable(self.axis))
        super().__post_init__()


@_loss(tversky, "alpha", "beta", "axis")
class Tversky(_FunctionLoss):
    """Tversky loss; `alpha` weighs false positives, `beta` false negatives."""

    alpha: float = 0.5
    beta: float = 0.5
    reduction: str | None = "sum_over_batch_size"
    name: str = "tversky"
    axis: int | tuple[int, ...] | None = None
    dtype: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", _hashable(self.axis))
        super().__post_init__()


@_loss(_circle_and_mask, "gamma", "margin", "remove_diagonal")
class Circle(_FunctionLoss):
    """Circle loss for metric learning; zero-loss samples are masked out."""

    gamma: float = 80.0
    margin: float = 0.4
    remove_diagonal: bool = True
    reduction: str | None = "sum_over_batch_size"
    name: str = "circle"
    dtype: Any = None


@_loss(categorical_generalized_cross_entropy, "q")
class CategoricalGeneralizedCrossEntropy(_FunctionLoss):
    """Generalized cross-entropy, robust to noisy labels; `0 < q < 1`."""

    q: float = 0.5
    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_generalized_cross_entropy"
    dtype: Any = None

    def __post_init__(self) -> None:
        if not 0 < self.q < 1:
            raise ValueError(
                "CategoricalGeneralizedCrossEntropy: q must be in the interval "
                f"(0, 1). Received: q={self.q}"
            )
        super().__post_init__()


@dataclasses.dataclass(frozen=True, init=False)
class LossFunctionWrapper(Loss):
    """Turns any per-sample function `fn(y_true, y_pred, **kwargs)` into a Loss.

    Example:
        >>> import jax.numpy as jnp
        >>> loss = LossFunctionWrapper(huber, delta=2.0)
        >>> float(loss(jnp.zeros((1, 2)), jnp.full((1, 2), 3.0)))
        4.0
    """

    fn: Callable[..., Any]
    reduction: str | None
    name: str | None
    dtype: Any
    fn_kwargs: tuple[tuple[str, Any], ...]

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "reduction", reduction)
        object.__setattr__(self, "name", name or getattr(fn, "__name__", None))
        object.__setattr__(self, "dtype", dtype)
        kwargs = {k: _hashable(v) for k, v in kwargs.items()}
        object.__setattr__(self, "fn_kwargs", tuple(sorted(kwargs.items())))
        self.__post_init__()

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **dict(self.fn_kwargs))

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "reduction": self.reduction}
        config["fn"] = serialize(self.fn)
        config.update({k: _jsonable(v) for k, v in self.fn_kwargs})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossFunctionWrapper:
        config = dict(config)
        fn = config.pop("fn")
        if not callable(fn):
            fn = get(fn)
        return cls(fn, **config)


# --------------------------------------------------------------------------
# Lookup and serialization.
# --------------------------------------------------------------------------

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


def _lookup(name: str) -> Any:
    try:
        return ALL_OBJECTS[name]
    except KeyError:
        raise ValueError(
            f"Unknown loss {name!r}. Valid names are: {', '.join(sorted(ALL_OBJECTS))}."
        ) from None


def get(identifier: Any) -> Any:
    """Returns a loss function or `Loss` instance from an identifier.

    Args:
        identifier: None; a function or class name ("mse",
            "categorical_crossentropy", "CategoricalCrossentropy"); a dict
            `{"class_name": ..., "config": ...}` (also the Keras serialized
            form); a `Loss` class (instantiated with defaults) or instance;
            or any callable `fn(y_true, y_pred)`.

    Returns:
        A function (for function names, as Keras) or a `Loss` instance.

    Example:
        >>> get("mse") is mean_squared_error
        True
        >>> get({"class_name": "Huber", "config": {"delta": 2.0}})
        Huber(delta=2.0, reduction='sum_over_batch_size', name='huber_loss', dtype=None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _lookup(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
    return obj


def deserialize(config: dict[str, Any] | str) -> Any:
    """Rebuilds a loss from `serialize` output (kerax or Keras format)."""
    if isinstance(config, str):
        return _lookup(config)
    class_name = config.get("class_name")
    inner = config.get("config")
    if class_name == "function":
        return _lookup(inner)
    cls = _lookup(class_name)
    if not inspect.isclass(cls):
        return cls
    inner = dict(inner or {})
    if cls is not LossFunctionWrapper:
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(inner) - names)
        if unknown:
            raise ValueError(
                f"{class_name} got unknown config keys {unknown}; "
                f"expected some of {sorted(names)}."
            )
    return cls.from_config(inner)


def serialize(loss: Any) -> dict[str, Any] | str:
    """A JSON-friendly description of a loss, in the Keras serialized format.

    Loss instances give `{"module", "class_name", "config", "registered_name"}`
    (readable by `keras.losses.deserialize`); the built-in functions give the
    Keras function form `{"class_name": "function", "config": name, ...}`.
    """
    if isinstance(loss, Loss):
        return {
            "module": "keras.losses",
            "class_name": type(loss).__name__,
            "config": loss.get_config(),
            "registered_name": None,
        }
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize loss {loss!r}: it has no name.")
    return {
        "module": "builtins",
        "class_name": "function",
        "config": name,
        "registered_name": "function",
    }


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
