"""Keras's neural-network ops (`keras.ops.nn`) over `jax.nn` and `jax.lax`.

Same names, arguments and defaults as Keras (`leaky_relu(x,
negative_slope=0.2)`, `gelu(x, approximate=True)`, `conv(inputs, kernel,
strides=1, padding="valid", data_format=None, dilation_rate=1)`, ...). Images
are channels-last unless `data_format="channels_first"`, as in Keras. The
crossentropies clip probabilities to `[1e-7, 1 - 1e-7]` like Keras.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.relu(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
    >>> ops.one_hot(jnp.array([0, 2]), 3)
    Array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax
from jax import lax

from kerax import config
from kerax.ops import _conv
from kerax.ops._pooling import adaptive_reduce
from kerax.ops._variables import accept_variables as _accept_variables

# Keras's `backend.epsilon()`: the clip of probabilities in crossentropies.
EPSILON = 1e-7

relu = jax.nn.relu
relu6 = jax.nn.relu6
sigmoid = jax.nn.sigmoid
sparse_sigmoid = jax.nn.sparse_sigmoid
softplus = jax.nn.softplus
softsign = jax.nn.soft_sign
sparse_plus = jax.nn.sparse_plus
silu = jax.nn.silu
swish = jax.nn.silu
log_sigmoid = jax.nn.log_sigmoid
hard_sigmoid = jax.nn.hard_sigmoid
hard_silu = jax.nn.hard_silu
hard_swish = jax.nn.hard_silu
selu = jax.nn.selu
hard_tanh = jax.nn.hard_tanh


def squareplus(x, b=4):
    return jax.nn.squareplus(x, b=b)


def leaky_relu(x, negative_slope=0.2):
    return jax.nn.leaky_relu(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return jax.nn.elu(x, alpha=alpha)


def celu(x, alpha=1.0):
    return jax.nn.celu(x, alpha=alpha)


def gelu(x, approximate=True):
    return jax.nn.gelu(x, approximate)


def glu(x, axis=-1):
    return jax.nn.glu(x, axis=axis)


def softmax(x, axis=-1):
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return jax.nn.log_softmax(x, axis=axis)


def tanh_shrink(x):
    return x - jnp.tanh(x)


def soft_shrink(x, threshold=0.5):
    return jnp.where(
        x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0)
    )


def hard_shrink(x, threshold=0.5):
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def threshold(x, threshold, default_value):
    return jnp.where(x > threshold, x, default_value)


def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection of `x`
    onto the probability simplex, so small logits get exactly zero.

    `tau` is `(cumsum_k - 1) / k` over the `k` largest logits in the support.
    (Keras 3.15's JAX sparsemax sums the cumulative sums instead, so its
    outputs need not sum to 1; kerax follows the paper.)
    """
    x = jnp.asarray(x)
    z = -jnp.sort(-x, axis=axis)
    cumsum = jnp.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = z - (cumsum - 1) / k > 0
    k_z = jnp.sum(support, axis=axis, keepdims=True)
    cumsum_k = jnp.take_along_axis(cumsum, k_z - 1, axis=axis)
    return jnp.maximum(x - (cumsum_k - 1) / k_z.astype(x.dtype), 0.0)


def _channels_last(data_format) -> bool:
    if data_format is None:
        data_format = config.image_data_format()
    if data_format == "channels_last":
        return True
    if data_format == "channels_first":
        return False
    raise ValueError(
        f"data_format must be 'channels_last' or 'channels_first'; got {data_format!r}."
    )


def _spatial(value, n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def _dimension_numbers(n: int, channels_last: bool) -> lax.ConvDimensionNumbers:
    spatial = "DHW"[3 - n :] if n <= 3 else None
    if spatial is None:
        raise ValueError(f"conv supports 1 to 3 spatial dimensions; got {n}.")
    lhs = f"N{spatial}C" if channels_last else f"NC{spatial}"
    return lax.ConvDimensionNumbers(
        *lax.conv_dimension_numbers(
            (1,) * (n + 2), (1,) * (n + 2), (lhs, f"{spatial}IO", lhs)
        )
    )


def _padding(padding: str) -> str:
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}.")
    return padding.upper()


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution; `kernel` is `(*window, in_channels // groups, filters)`."""
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    n = inputs.ndim - 2
    channels_last = _channels_last(data_format)
    channels = inputs.shape[-1] if channels_last else inputs.shape[1]
    if channels % kernel.shape[-2]:
        raise ValueError(
            f"conv: input channels {channels} are not divisible by the kernel's "
            f"in_channels {kernel.shape[-2]} (kernel shape {kernel.shape})."
        )
    return lax.conv_general_dilated(
        inputs.astype(kernel.dtype),
        kernel,
        _spatial(strides, n),
        _padding(padding),
        rhs_dilation=_spatial(dilation_rate, n),
        dimension_numbers=_dimension_numbers(n, channels_last),
        feature_group_count=channels // kernel.shape[-2],
    )


def depthwise_conv(
    inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution; `kernel` is `(*window, in_channels, multiplier)`."""
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    n = inputs.ndim - 2
    channels_last = _channels_last(data_format)
    groups = inputs.shape[-1] if channels_last else inputs.shape[1]
    if kernel.shape[-2] != groups:
        raise ValueError(
            f"depthwise_conv: kernel in_channels {kernel.shape[-2]} must equal "
            f"the input channels {groups}."
        )
    kernel = jnp.reshape(kernel, kernel.shape[:-2] + (1, groups * kernel.shape[-1]))
    return lax.conv_general_dilated(
        inputs,
        kernel,
        _spatial(strides, n),
        _padding(padding),
        rhs_dilation=_spatial(dilation_rate, n),
        dimension_numbers=_dimension_numbers(n, channels_last),
        feature_group_count=groups,
    )


def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    y = depthwise_conv(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv(
        y, pointwise_kernel, 1, "valid", data_format, dilation_rate=dilation_rate
    )


def _pool(inputs, init, reduce_fn, pool_size, strides, padding, data_format):
    n = inputs.ndim - 2
    window = _spatial(pool_size, n)
    strides = window if strides is None else _spatial(strides, n)
    if _channels_last(data_format):
        window, strides = (1, *window, 1), (1, *strides, 1)
    else:
        window, strides = (1, 1, *window), (1, 1, *strides)
    pooled = lax.reduce_window(
        inputs, init, reduce_fn, window, strides, _padding(padding)
    )
    return pooled, window, strides


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over the spatial axes (`strides` defaults to `pool_size`)."""
    inputs = jnp.asarray(inputs)
    return _pool(inputs, -jnp.inf, lax.max, pool_size, strides, padding, data_format)[0]


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling; with "same" padding only the valid entries count."""
    inputs = jnp.asarray(inputs)
    pooled, window, strides = _pool(
        inputs, 0.0, lax.add, pool_size, strides, padding, data_format
    )
    if padding == "valid":
        return pooled / math.prod(window)
    ones = jnp.ones(
        [d if w != 1 else 1 for d, w in zip(inputs.shape, window)], inputs.dtype
    )
    counts = lax.reduce_window(ones, 0.0, lax.add, window, strides, "SAME")
    return pooled / counts


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding; negative or out-of-range indices give all zeros."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by kerax.")
    return jax.nn.one_hot(x, num_classes, axis=axis, dtype=dtype or jnp.float32)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: the max of the one-hot codes along the sample axis."""
    if sparse:
        raise ValueError("multi_hot: sparse=True is not supported by kerax.")
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None or kwargs:
        raise ValueError(
            "multi_hot: pass `num_classes` (Keras's old name `num_tokens` "
            f"also works); got unexpected arguments {sorted(kwargs)}."
        )
    x = jnp.asarray(inputs, jnp.int32)
    reduction_axis = 1 if x.ndim > 1 else 0
    return jnp.max(one_hot(x, num_classes, axis=axis, dtype=dtype), reduction_axis)


def _check_same_shape(target, output):
    if target.shape != output.shape:
        raise ValueError(
            "`target` and `output` must have the same shape; got "
            f"target.shape={target.shape}, output.shape={output.shape}."
        )


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary crossentropy (no reduction), as `keras.ops`."""
    target, output = jnp.asarray(target), jnp.asarray(output)
    _check_same_shape(target, output)
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * (
            jax.nn.log_sigmoid(-output)
        )
    output = jnp.clip(output, EPSILON, 1.0 - EPSILON)
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


def _log_probs(output, from_logits, axis):
    if from_logits:
        return jax.nn.log_softmax(output, axis=axis)
    output = output / jnp.sum(output, axis, keepdims=True)
    return jnp.log(jnp.clip(output, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy of one-hot (or soft) targets, reduced over `axis`."""
    target, output = jnp.asarray(target), jnp.asarray(output)
    _check_same_shape(target, output)
    return -jnp.sum(target * _log_probs(output, from_logits, axis), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy of integer targets (`output` has one more axis)."""
    target, output = jnp.asarray(target, jnp.int32), jnp.asarray(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "`target` must have the shape of `output` without its last axis; "
            f"got target.shape={target.shape}, output.shape={output.shape}."
        )
    log_prob = _log_probs(output, from_logits, axis)
    return -jnp.sum(
        jax.nn.one_hot(target, output.shape[axis], axis=axis) * log_prob, axis=axis
    )


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance over `axes` (float16/bfloat16 computed in float32)."""
    if synchronized:
        raise ValueError(
            "moments: synchronized=True needs a cross-device reduction; under "
            "jax.jit with sharded inputs the plain call is already global."
        )
    x = jnp.asarray(x)
    low = x.dtype in (jnp.float16, jnp.bfloat16)
    xf = x.astype(jnp.float32) if low else x
    mean = jnp.mean(xf, axes, keepdims=keepdims)
    variance = jnp.var(xf, axes, keepdims=keepdims)
    if low:
        big = jnp.finfo(jnp.float16).max
        mean = jnp.clip(mean, -big, big).astype(x.dtype)
        variance = jnp.clip(variance, -big, big).astype(x.dtype)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset` along `axis`."""
    shape = [1] * x.ndim
    shape[axis] = mean.shape[0]
    inv = lax.rsqrt(jnp.reshape(variance, shape) + epsilon)
    if scale is not None:
        inv = inv * jnp.reshape(scale, shape)
    res = -jnp.reshape(mean, shape) * inv
    if offset is not None:
        res = res + jnp.reshape(offset, shape)
    return x * inv + res


def normalize(x, axis=-1, order=2, epsilon=None):
    """`x` divided by its `order`-norm along `axis` (at least `epsilon`)."""
    epsilon = EPSILON if epsilon is None else epsilon
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, epsilon)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """`x * rsqrt(mean(x**2) + epsilon) * scale` (Keras's RMS normalization)."""
    epsilon = EPSILON if epsilon is None else epsilon
    rrms = lax.rsqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True) + epsilon)
    return x * rrms * (1 if scale is None else scale)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Normalizes over `axis`, then scales by `gamma` and shifts by `beta`."""
    if kwargs:
        raise ValueError(f"layer_normalization: unexpected arguments {sorted(kwargs)}.")
    epsilon = EPSILON if epsilon is None else epsilon
    mean, var = moments(x, axes=axis, keepdims=True)
    y = (x - mean) * lax.rsqrt(var + epsilon)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB."""
    if jnp.shape(x1) != jnp.shape(x2):
        raise ValueError(
            f"psnr: shapes {jnp.shape(x1)} and {jnp.shape(x2)} must match."
        )
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(jnp.asarray(max_val, x2.dtype)) - 10 * jnp.log10(mse)


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention on `(batch, seq, heads, head_dim)` inputs."""
    if flash_attention:
        raise ValueError(
            "dot_product_attention: flash_attention=True needs a GPU/TPU "
            "kernel; leave it None or False."
        )
    if attn_logits_soft_cap is None:
        return jax.nn.dot_product_attention(
            query, key, value, bias=bias, mask=mask, scale=scale, is_causal=is_causal
        )
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    logits = jnp.einsum("BTNH,BSNH->BNTS", query, key) * scale
    logits = jnp.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + bias
    keep = jnp.ones(logits.shape, bool) if mask is None else mask
    if is_causal:
        t, s = logits.shape[-2:]
        keep = keep & jnp.tril(jnp.ones((t, s), bool))
    logits = jnp.where(keep, logits, jnp.finfo(logits.dtype).min)
    probs = jax.nn.softmax(logits, axis=-1)
    return jnp.einsum("BNTS,BSNH->BTNH", probs, value)


def polar(abs_, angle):
    """A complex number from its magnitude and angle."""
    return abs_ * (jnp.cos(angle) + 1j * jnp.sin(angle))


def _adaptive_pool(inputs, output_size, data_format, kind: str, op: str):
    inputs = jnp.asarray(inputs)
    n = inputs.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(
            f"{op}: `inputs` must have rank 3, 4 or 5 (batch, 1 to 3 spatial "
            f"axes, channels); got shape {inputs.shape}."
        )
    sizes = (output_size,) * n if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != n or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes
    ):
        raise ValueError(
            f"{op}: `output_size` must be a positive int or {n} positive ints; "
            f"got {output_size!r}."
        )
    first = 1 if _channels_last(data_format) else 2
    for axis, size in zip(range(first, first + n), sizes):
        inputs = adaptive_reduce(inputs, axis, size, kind)
    return inputs


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed `output_size`: bin `i` of an axis of length
    `n` averages `[floor(i n / out), ceil((i + 1) n / out))`, as Keras (the
    adaptive pooling layers' implementation)."""
    return _adaptive_pool(
        inputs, output_size, data_format, "average", "adaptive_average_pool"
    )


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed `output_size` (Keras's bins, as `adaptive_average_pool`)."""
    return _adaptive_pool(inputs, output_size, data_format, "max", "adaptive_max_pool")


def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """N-D transposed convolution; `kernel` is `(*window, filters, in_channels)`.

    The ConvNDTranspose layers' implementation, so output sizes (with
    `output_padding`) and values are Keras's.
    """
    op = "conv_transpose"
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    n = inputs.ndim - 2
    if n not in (1, 2, 3) or kernel.ndim != n + 2:
        raise ValueError(
            f"{op}: `inputs` must have 1 to 3 spatial axes and `kernel` rank "
            f"inputs.ndim; got inputs {inputs.shape} and kernel {kernel.shape}."
        )
    channels_last = _channels_last(data_format)
    channels = inputs.shape[-1] if channels_last else inputs.shape[1]
    if kernel.shape[-1] != channels:
        raise ValueError(
            f"{op}: the kernel's last axis (its input channels, {kernel.shape[-1]}) "
            f"must equal the inputs' channels ({channels}); kernel shape "
            f"{kernel.shape}, inputs shape {inputs.shape}."
        )
    padding = padding.lower() if isinstance(padding, str) else padding
    _padding(padding)
    if output_padding is not None:
        output_padding = _spatial(output_padding, n)
        if len(output_padding) != n:
            raise ValueError(
                f"{op}: `output_padding` must be an int or {n} ints; got {output_padding!r}."
            )
    dtype = jnp.result_type(inputs, kernel)
    return _conv.conv_transpose(
        inputs.astype(dtype),
        kernel.astype(dtype),
        strides=_spatial(strides, n),
        padding=padding,
        output_padding=output_padding,
        dilation_rate=_spatial(dilation_rate, n),
        data_format="channels_last" if channels_last else "channels_first",
    )


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per sequence: `target` `(batch, max_label_length)` int labels,
    `output` `(batch, time, classes)` logits, the lengths `(batch,)`.

    `optax.ctc_loss` with Keras's `log_epsilon` (-1e5) and `mask_index` as
    the blank: Keras's JAX loss is a copy of it. `kerax.losses.ctc` calls it.
    """
    target = jnp.asarray(target, jnp.int32)
    output = jnp.asarray(output)
    output = output.astype(jnp.result_type(output.dtype, jnp.float32))
    if target.ndim != 2 or output.ndim != 3 or target.shape[0] != output.shape[0]:
        raise ValueError(
            "ctc_loss: `target` must be (batch, max_label_length) and `output` "
            f"(batch, time, classes); got target {target.shape}, output {output.shape}."
        )
    target_length = jnp.asarray(target_length, jnp.int32)
    output_length = jnp.asarray(output_length, jnp.int32)
    for name, length in (
        ("target_length", target_length),
        ("output_length", output_length),
    ):
        if length.shape != (target.shape[0],):
            raise ValueError(
                f"ctc_loss: `{name}` must be (batch,) = ({target.shape[0]},); got "
                f"{length.shape}."
            )

    def paddings(lengths, max_length):
        return (jnp.arange(max_length)[None, :] >= lengths[:, None]).astype(
            output.dtype
        )

    return optax.ctc_loss(
        output,
        paddings(output_length, output.shape[1]),
        target,
        paddings(target_length, target.shape[1]),
        blank_id=mask_index,
        log_epsilon=-1e5,
    )


def _ctc_greedy_decode(inputs, sequence_lengths, merge_repeated, mask_index):
    batch_size, max_length, num_classes = inputs.shape
    if mask_index is None:
        mask_index = num_classes - 1
    indices = jnp.argmax(inputs, axis=-1)
    scores = jnp.max(inputs, axis=-1)
    beyond = jnp.arange(max_length)[None, :] >= sequence_lengths[:, None]
    indices = jnp.where(beyond, mask_index, indices)
    scores = jnp.where(beyond, 0.0, scores)
    if merge_repeated:
        repeat = jnp.pad(indices[:, 1:] == indices[:, :-1], ((0, 0), (1, 0)))
        indices = jnp.where(repeat, mask_index, indices)
    blank = indices == mask_index
    indices = jnp.where(blank, -1, indices)
    # The kept labels first, in order; the -1 (blank) padding after them.
    order = jnp.where(blank, max_length, jnp.arange(max_length)[None, :])
    indices = jnp.take_along_axis(indices, jnp.argsort(order, axis=-1), axis=-1)
    return indices[None], -jnp.sum(scores, axis=1)[:, None]


def _ctc_beam_search_decode(
    inputs, sequence_lengths, beam_width, top_paths, mask_index
):
    """Keras's JAX beam search (prefix merging by `jnp.unique`), step for step."""
    batch_size, max_seq_len, num_classes = inputs.shape
    inputs = jax.nn.log_softmax(inputs)
    seqlen_mask = jnp.arange(max_seq_len)[None, :] >= sequence_lengths[:, None]
    if mask_index is None:
        mask_index = num_classes - 1
    # Keras flips the classes so that ties break as TensorFlow's decoder does
    # (argsort has no tie-break order), and flips them back at the end.
    inputs = jnp.flip(inputs, axis=2)
    mask_index = num_classes - mask_index - 1
    pad = -1
    n_paths = 2 * beam_width

    init_paths = jnp.full((batch_size, n_paths, max_seq_len), pad, dtype=jnp.int32)
    num_init_paths = min(num_classes, beam_width)
    max_classes = jnp.argsort(inputs[:, 0], axis=1)[:, -num_init_paths:]
    init_classes = jnp.where(max_classes == mask_index, pad, max_classes)
    init_paths = init_paths.at[:, :num_init_paths, 0].set(init_classes)
    init_scores = (
        jnp.full((batch_size, n_paths), -jnp.inf, dtype=inputs.dtype)
        .at[:, :num_init_paths]
        .set(jnp.take_along_axis(inputs[:, 0], max_classes, axis=1))
    )
    init_masked = init_paths[:, :, 0] == pad

    def extend_paths(paths, scores, masked, x):
        paths = jnp.repeat(paths, num_classes, axis=0)
        scores = jnp.repeat(scores, num_classes)
        masked = jnp.repeat(masked, num_classes)
        tail_index = jnp.argmax(paths == pad, axis=1)
        rows = jnp.arange(n_paths * num_classes)
        tails = jnp.where(tail_index == 0, pad, paths[rows, tail_index - 1])
        classes = jnp.tile(jnp.arange(num_classes).at[mask_index].set(pad), n_paths)
        prev_masked, masked = masked, classes == pad
        classes = jnp.where(~prev_masked & (tails == classes), pad, classes)
        paths = paths.at[rows, tail_index].set(classes)
        return paths, scores + jnp.tile(x, n_paths), masked

    def merge_scores(unique_inverse, scores):
        top = jnp.max(scores)
        summed = jnp.zeros_like(scores).at[unique_inverse].add(jnp.exp(scores - top))
        return jnp.log(summed) + top

    def unique_paths(paths):
        paths, inverse = jnp.unique(
            paths,
            return_inverse=True,
            size=n_paths * num_classes,
            axis=0,
            fill_value=pad,
        )
        return paths, jnp.reshape(inverse, (-1,))

    def prune_paths(paths, scores, masked):
        paths, inverse = unique_paths(paths)
        emit = merge_scores(inverse, jnp.where(masked, -jnp.inf, scores))
        blank = merge_scores(inverse, jnp.where(masked, scores, -jnp.inf))
        top = jnp.argsort(jnp.logaddexp(emit, blank))[-beam_width:]
        paths = jnp.tile(paths[top], (2, 1))
        scores = jnp.concatenate([emit[top], blank[top]])
        masked = jnp.concatenate(
            [jnp.zeros(beam_width, bool), jnp.ones(beam_width, bool)]
        )
        return paths, scores, masked

    def step(carry, xs):
        x, done = xs

        def decode(paths, scores, masked, x):
            return prune_paths(*extend_paths(paths, scores, masked, x))

        carry = lax.cond(done, lambda p, s, m, x: (p, s, m), decode, *carry, x)
        return carry, None

    def decode_one(paths, scores, masked, x, done):
        (paths, scores, masked), _ = lax.scan(
            step, (paths, scores, masked), (x[1:], done[1:])
        )
        paths, inverse = unique_paths(paths)
        scores = merge_scores(inverse, scores)
        top = jnp.argsort(scores)[-top_paths:][::-1]
        return paths[top], scores[top]

    paths, scores = jax.vmap(decode_one)(
        init_paths, init_scores, init_masked, inputs, seqlen_mask
    )
    paths = jnp.where(paths == pad, pad, num_classes - paths - 1)
    return jnp.transpose(paths, (1, 0, 2)), scores


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decodes CTC logits `(batch, time, classes)`: `(paths, scores)`.

    `paths` is `(top_paths, batch, time)` labels, padded with -1 after each
    decoded sequence (`top_paths` is 1 for "greedy"); `scores` `(batch,
    top_paths)` are the negative sum of the best logits ("greedy") or the
    log-probabilities of the paths ("beam_search"). Keras's algorithms.
    """
    op = "ctc_decode"
    inputs = jnp.asarray(inputs)
    inputs = inputs.astype(jnp.result_type(inputs.dtype, jnp.float32))
    if inputs.ndim != 3:
        raise ValueError(
            f"{op}: `inputs` must be (batch, time, classes); got shape {inputs.shape}."
        )
    sequence_lengths = jnp.asarray(sequence_lengths, jnp.int32)
    if sequence_lengths.shape != inputs.shape[:1]:
        raise ValueError(
            f"{op}: `sequence_lengths` must be (batch,) = {inputs.shape[:1]}; got "
            f"{sequence_lengths.shape}."
        )
    if strategy == "greedy":
        return _ctc_greedy_decode(inputs, sequence_lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        for name, value in (("beam_width", beam_width), ("top_paths", top_paths)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"{op}: `{name}` must be a positive int; got {value!r}."
                )
        if top_paths > beam_width:
            raise ValueError(
                f"{op}: `top_paths` ({top_paths}) must be at most `beam_width` "
                f"({beam_width})."
            )
        return _ctc_beam_search_decode(
            inputs, sequence_lengths, beam_width, top_paths, mask_index
        )
    raise ValueError(
        f"{op}: `strategy` must be 'greedy' or 'beam_search'; got {strategy!r}."
    )


def _block_size(block_size, op: str) -> int:
    if (
        not isinstance(block_size, int)
        or isinstance(block_size, bool)
        or block_size < 2
    ):
        raise ValueError(f"{op}: `block_size` must be an int >= 2; got {block_size!r}.")
    return block_size


def _images4(x, op: str):
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(
            f"{op}: `x` must be a 4-D batch of images; got shape {x.shape}."
        )
    return x


def depth_to_space(x, block_size, data_format="channels_last"):
    """Pixel shuffle: channels `(bh, bw, c)` become `block_size` x `block_size` blocks."""
    op = "depth_to_space"
    b, x = _block_size(block_size, op), _images4(x, op)
    if _channels_last(data_format):
        n, h, w, c = x.shape
        if c % (b * b):
            raise ValueError(
                f"{op}: channels {c} are not divisible by block_size**2 = {b * b}."
            )
        x = jnp.reshape(x, (n, h, w, b, b, c // (b * b)))
        x = jnp.transpose(x, (0, 1, 3, 2, 4, 5))
        return jnp.reshape(x, (n, h * b, w * b, c // (b * b)))
    n, c, h, w = x.shape
    if c % (b * b):
        raise ValueError(
            f"{op}: channels {c} are not divisible by block_size**2 = {b * b}."
        )
    x = jnp.reshape(x, (n, c // (b * b), b, b, h, w))
    x = jnp.transpose(x, (0, 1, 4, 2, 5, 3))
    return jnp.reshape(x, (n, c // (b * b), h * b, w * b))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Pixel unshuffle, the inverse of `depth_to_space`."""
    op = "space_to_depth"
    b, x = _block_size(block_size, op), _images4(x, op)
    channels_last = _channels_last(data_format)
    n, h, w, c = x.shape if channels_last else (x.shape[0], *x.shape[2:], x.shape[1])
    if h % b or w % b:
        raise ValueError(
            f"{op}: height {h} and width {w} must be divisible by block_size = {b}."
        )
    if channels_last:
        x = jnp.reshape(x, (n, h // b, b, w // b, b, c))
        x = jnp.transpose(x, (0, 1, 3, 2, 4, 5))
        return jnp.reshape(x, (n, h // b, w // b, c * b * b))
    x = jnp.reshape(x, (n, c, h // b, b, w // b, b))
    x = jnp.transpose(x, (0, 1, 3, 5, 2, 4))
    return jnp.reshape(x, (n, c * b * b, h // b, w // b))


def _pair(value, name: str, op: str, minimum: int) -> tuple[int, int]:
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in values
    ):
        raise ValueError(
            f"{op}: `{name}` must be an int >= {minimum} or two of them; got {value!r}."
        )
    return values


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's `unfold` (im2col) on NCHW images: `(N, C * kh * kw, L)` blocks."""
    op = "unfold"
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: `x` must be (N, C, H, W); got shape {x.shape}.")
    k = _pair(kernel_size, "kernel_size", op, 1)
    d = _pair(dilation, "dilation", op, 1)
    p = _pair(padding, "padding", op, 0)
    s = _pair(stride, "stride", op, 1)
    patches = lax.conv_general_dilated_patches(
        jnp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))),
        filter_shape=k,
        window_strides=s,
        padding="VALID",
        rhs_dilation=d,
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=lax.Precision.HIGHEST,  # An exact copy, even with TF32.
    )
    return jnp.reshape(patches, (*patches.shape[:2], -1))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's `fold` (col2im), the adjoint of `unfold`: overlapping blocks add up."""
    op = "fold"
    x = jnp.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"{op}: `x` must be (N, C * kh * kw, L); got shape {x.shape}.")
    out_h, out_w = _pair(output_size, "output_size", op, 1)
    kh, kw = _pair(kernel_size, "kernel_size", op, 1)
    dh, dw = _pair(dilation, "dilation", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    sh, sw = _pair(stride, "stride", op, 1)
    n, ckk, length = x.shape
    if ckk % (kh * kw):
        raise ValueError(
            f"{op}: x.shape[1] = {ckk} is not divisible by kh * kw = {kh * kw}."
        )
    nh = (out_h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    nw = (out_w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if nh * nw != length:
        raise ValueError(
            f"{op}: x has {length} blocks but output_size={output_size!r} with these "
            f"kernel_size, dilation, padding and stride makes {nh} x {nw}."
        )
    c = ckk // (kh * kw)
    # Keras's identity kernel through a transposed conv (pre-flipped, as
    # lax.conv_transpose flips nothing here): block (c, i, j) adds to channel
    # c at offset (i, j).
    kernel = jnp.eye(ckk, dtype=x.dtype).reshape(ckk, c, kh, kw).transpose(2, 3, 0, 1)
    out = lax.conv_transpose(
        jnp.reshape(x, (n, ckk, nh, nw)),
        jnp.flip(kernel, axis=(0, 1)),
        strides=(sh, sw),
        padding="VALID",
        rhs_dilation=(dh, dw),
        dimension_numbers=("NCHW", "HWIO", "NCHW"),
        precision=lax.Precision.HIGHEST,
    )
    # Positions no block reaches (when the strides do not tile the padded
    # output exactly) are zeros, so the output is always `output_size`.
    high = [(0, 0), (0, 0)] + [
        (0, max(total - size, 0))
        for total, size in zip((out_h + 2 * ph, out_w + 2 * pw), out.shape[2:])
    ]
    out = jnp.pad(out, high)
    return out[:, :, ph : ph + out_h, pw : pw + out_w]


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and callable(value)
    and name not in ("annotations", "config", "jax", "jnp", "lax", "math", "optax")
)

# Inside a Keras-style `call`, variables are accepted where arrays are.
_accept_variables(globals(), __all__)
