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
from jax import lax

from kerax.ops._variables import accept_variables

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
    if data_format in (None, "channels_last"):
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


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and callable(value)
    and name not in ("annotations", "jax", "jnp", "lax", "math")
)

# Inside a Keras-style `call`, variables are accepted where arrays are.
accept_variables(globals(), __all__)
