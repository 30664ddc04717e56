"""The Keras loss functions: `fn(y_true, y_pred, **options)`, one value per sample.

Also their private helpers (`_sparse_categorical_crossentropy_and_mask` and
`_circle_and_mask` return the mask Keras attaches to the values) and the Keras
aliases (`mse`, `MAE`, `bce`, ...).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.losses.reduction import (
    EPSILON,
    _as_float,
    l2_normalize,
    squeeze_or_expand_to_same_rank,
)
from kerax.ops.nn import ctc_loss


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


def _smoothed_categorical(y_true, y_pred, label_smoothing, axis):
    """Float targets and predictions, targets label-smoothed (Keras's checks)."""
    if isinstance(axis, bool):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    y_true, y_pred = _as_float(y_true, y_pred)
    if label_smoothing:
        num_classes = jnp.asarray(y_true.shape[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return y_true, y_pred


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
    y_true, y_pred = _smoothed_categorical(y_true, y_pred, label_smoothing, axis)
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
    y_true, y_pred = _smoothed_categorical(y_true, y_pred, label_smoothing, axis)
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
    # The target's log-probability, gathered. Keras multiplies by a one-hot
    # and sums: the same value for finite inputs, but the gather measured
    # 10-30 us a step faster on CPU (an embedding model, batch 64, 10
    # classes), and an out-of-range label gives NaN instead of a silent 0.
    index = jnp.expand_dims(target, axis)
    if from_logits:
        # logsumexp(logits) - logits[target]: no full log-softmax tensor
        # (optax's form): one XLA kernel fewer forward and backward, 1-2%
        # of a dispatch-bound step (tiny MLP, paired runs).
        picked = jnp.take_along_axis(y_pred, index, axis=axis)
        res = jnp.squeeze(jax.nn.logsumexp(y_pred, axis, keepdims=True) - picked, axis)
    else:
        log_prob = _categorical_log_prob(y_pred, from_logits, axis)
        res = -jnp.squeeze(jnp.take_along_axis(log_prob, index, axis=axis), axis)
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
    # Keras's: the first `count(label != 0)` labels are the label, 0 is the blank.
    batch, time = y_pred.shape[:2]
    label_length = jnp.sum(y_true != 0, axis=-1)
    return ctc_loss(
        y_true, y_pred, label_length, jnp.full((batch,), time), mask_index=0
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
