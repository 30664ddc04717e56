"""Activation functions with the names, arguments and numerics of Keras 3.

Every function is pure `jax.numpy`: jittable, differentiable and vmappable.
Where the Keras JAX backend calls `jax.nn`, so do we, so that values and
gradients agree bit for bit with Keras on the JAX backend. The one deliberate
difference is `sparsemax`, where Keras 3.15.1 has a bug (see there).

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import activations
    >>> activations.get("relu")(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from kerax.core import registry

Activation = Callable[..., jax.Array]


def relu(
    x: jax.Array,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> jax.Array:
    """Rectified linear unit, optionally leaky, capped and thresholded.

    With defaults this is `max(x, 0)`. Values below `threshold` are zeroed
    (or scaled by `negative_slope`), and outputs are clipped to `max_value`.

    Args:
        x: Input array.
        negative_slope: Slope for values below `threshold`.
        max_value: Saturation value (largest output), or None for no cap.
        threshold: Values at or below it are damped or set to zero.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = jnp.asarray(x)
    # Mirrors the branch structure of Keras's `ReLU.static_call` so that the
    # subgradients at the kinks (0, threshold, max_value) agree with Keras.
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return jax.nn.leaky_relu(x, negative_slope=negative_slope)
        if threshold != 0:
            negative_part = jax.nn.relu(-x + threshold)
        else:
            negative_part = jax.nn.relu(-x)
    else:
        negative_part = 1

    clip_max = max_value is not None
    if threshold != 0:
        x = jnp.where(x > jnp.asarray(threshold, x.dtype), x, 0)
    elif max_value == 6:
        x = jax.nn.relu6(x)
        clip_max = False
    else:
        x = jax.nn.relu(x)

    if clip_max:
        x = jnp.clip(x, jnp.asarray(0.0, x.dtype), jnp.asarray(max_value, x.dtype))

    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x: jax.Array, negative_slope: float = 0.2) -> jax.Array:
    """Leaky ReLU: `x` if `x >= 0` else `negative_slope * x`.

    Args:
        x: Input array.
        negative_slope: Slope for negative inputs.
    """
    return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=negative_slope)


def relu6(x: jax.Array) -> jax.Array:
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Args:
        x: Input array.
    """
    return jax.nn.relu6(jnp.asarray(x))


def _warn_if_unit_axis(x: jax.Array, axis: int | tuple[int, ...]) -> None:
    # Same warning as Keras: a softmax over a size-1 axis is constant 1,
    # which almost always means a sigmoid was intended.
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape "
            f"{x.shape}. This axis has size 1. The softmax operation will "
            "always return the value 1, which is likely not what you "
            "intended. Did you mean to use a sigmoid instead?",
            stacklevel=3,
        )


def softmax(x: jax.Array, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """Softmax: `exp(x) / sum(exp(x))` along `axis`.

    Args:
        x: Input array (logits).
        axis: Axis, or tuple of axes, along which the softmax is normalized.
    """
    x = jnp.asarray(x)
    _warn_if_unit_axis(x, axis)
    return jax.nn.softmax(x, axis=axis)


def elu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    Args:
        x: Input array.
        alpha: Scale of the negative part.

    Reference: [Clevert et al., 2016](https://arxiv.org/abs/1511.07289)
    """
    return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def selu(x: jax.Array) -> jax.Array:
    """Scaled ELU with `alpha=1.67326324` and `scale=1.05070098`.

    Use with `LecunNormal` initialization and `AlphaDropout`.

    Args:
        x: Input array.

    Reference: [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """
    return jax.nn.selu(jnp.asarray(x))


def softplus(x: jax.Array) -> jax.Array:
    """Softplus: `log(exp(x) + 1)`.

    Args:
        x: Input array.
    """
    return jax.nn.softplus(jnp.asarray(x))


def softsign(x: jax.Array) -> jax.Array:
    """Softsign: `x / (abs(x) + 1)`.

    Args:
        x: Input array.
    """
    return jax.nn.soft_sign(jnp.asarray(x))


def soft_shrink(x: jax.Array, threshold: float = 0.5) -> jax.Array:
    """Soft shrink: moves `x` towards 0 by `threshold`, zeroing `|x| <= threshold`.

    Args:
        x: Input array.
        threshold: Shrinkage amount.
    """
    x = jnp.asarray(x)
    return jnp.where(
        x > threshold,
        x - threshold,
        jnp.where(x < -threshold, x + threshold, 0.0),
    )


def sparse_plus(x: jax.Array) -> jax.Array:
    """SparsePlus: 0 for `x <= -1`, `(x + 1)**2 / 4` on (-1, 1), `x` for `x >= 1`.

    Args:
        x: Input array.
    """
    return jax.nn.sparse_plus(jnp.asarray(x))


def silu(x: jax.Array) -> jax.Array:
    """SiLU (Swish): `x * sigmoid(x)`.

    Args:
        x: Input array.

    Reference: [Ramachandran et al., 2017](https://arxiv.org/abs/1710.05941)
    """
    return jax.nn.silu(jnp.asarray(x))


swish = silu


def squareplus(x: jax.Array, b: float = 4) -> jax.Array:
    """Squareplus: `(x + sqrt(x**2 + b)) / 2`.

    Args:
        x: Input array.
        b: Smoothness parameter.

    Reference: [Barron, 2021](https://arxiv.org/abs/2112.11687)
    """
    return jax.nn.squareplus(jnp.asarray(x), b=b)


def gelu(x: jax.Array, approximate: bool = False) -> jax.Array:
    """Gaussian error linear unit: `x * Phi(x)`.

    Args:
        x: Input array.
        approximate: Use the tanh approximation instead of the exact `erf`.

    Reference: [Hendrycks et al., 2016](https://arxiv.org/abs/1606.08415)
    """
    return jax.nn.gelu(jnp.asarray(x), approximate=approximate)


def celu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """Continuously differentiable ELU: `alpha * (exp(x / alpha) - 1)` for `x < 0`.

    Args:
        x: Input array.
        alpha: Scale of the negative part.

    Reference: [Barron, 2017](https://arxiv.org/abs/1704.07483)
    """
    return jax.nn.celu(jnp.asarray(x), alpha=alpha)


def glu(x: jax.Array, axis: int = -1) -> jax.Array:
    """Gated linear unit: `a * sigmoid(b)`, where `x` splits into halves `a, b`.

    Args:
        x: Input array; its `axis` dimension must be even.
        axis: Axis along which to split.

    Reference: [Dauphin et al., 2017](https://arxiv.org/abs/1612.08083)
    """
    return jax.nn.glu(jnp.asarray(x), axis=axis)


def tanh(x: jax.Array) -> jax.Array:
    """Hyperbolic tangent.

    Args:
        x: Input array.
    """
    return jax.nn.tanh(jnp.asarray(x))


def tanh_shrink(x: jax.Array) -> jax.Array:
    """Tanh shrink: `x - tanh(x)`.

    Args:
        x: Input array.
    """
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def hard_tanh(x: jax.Array) -> jax.Array:
    """Hard tanh: `x` clipped to [-1, 1].

    Args:
        x: Input array.
    """
    return jax.nn.hard_tanh(jnp.asarray(x))


def hard_shrink(x: jax.Array, threshold: float = 0.5) -> jax.Array:
    """Hard shrink: `x` if `|x| > threshold` else 0.

    Args:
        x: Input array.
        threshold: Values with magnitude at or below it become 0.
    """
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def threshold(x: jax.Array, threshold: float, default_value: float) -> jax.Array:
    """Threshold: `x` if `x > threshold` else `default_value`.

    Args:
        x: Input array.
        threshold: Values at or below it are replaced.
        default_value: The replacement value.
    """
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x, default_value)


def sigmoid(x: jax.Array) -> jax.Array:
    """Sigmoid: `1 / (1 + exp(-x))`.

    Args:
        x: Input array.
    """
    return jax.nn.sigmoid(jnp.asarray(x))


def sparse_sigmoid(x: jax.Array) -> jax.Array:
    """Sparse sigmoid: 0 for `x <= -1`, `(x + 1) / 2` on (-1, 1), 1 for `x >= 1`.

    Args:
        x: Input array.

    Reference: [Blondel et al., 2019](https://arxiv.org/abs/1901.02324)
    """
    return jax.nn.sparse_sigmoid(jnp.asarray(x))


def exponential(x: jax.Array) -> jax.Array:
    """Exponential: `exp(x)`.

    Args:
        x: Input array.
    """
    return jnp.exp(jnp.asarray(x))


def hard_sigmoid(x: jax.Array) -> jax.Array:
    """Hard sigmoid: `relu6(x + 3) / 6`, a piecewise linear sigmoid.

    Args:
        x: Input array.
    """
    return jax.nn.hard_sigmoid(jnp.asarray(x))


def hard_silu(x: jax.Array) -> jax.Array:
    """Hard SiLU (Hard Swish): `x * hard_sigmoid(x)`.

    Args:
        x: Input array.

    Reference: [Howard et al., 2019](https://arxiv.org/abs/1905.02244)
    """
    return jax.nn.hard_silu(jnp.asarray(x))


hard_swish = hard_silu


def linear(x: jax.Array) -> jax.Array:
    """Identity: returns `x` unchanged.

    Args:
        x: Input array.
    """
    return x


def mish(x: jax.Array) -> jax.Array:
    """Mish: `x * tanh(softplus(x))`.

    Args:
        x: Input array.

    Reference: [Misra, 2019](https://arxiv.org/abs/1908.08681)
    """
    x = jnp.asarray(x)
    return x * jax.nn.tanh(jax.nn.softplus(x))


def log_sigmoid(x: jax.Array) -> jax.Array:
    """Log-sigmoid: `-softplus(-x)`, stable for large `|x|`.

    Args:
        x: Input array.
    """
    return jax.nn.log_sigmoid(jnp.asarray(x))


def log_softmax(x: jax.Array, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """Log-softmax: `x - logsumexp(x)` along `axis`.

    Args:
        x: Input array (logits).
        axis: Axis, or tuple of axes, along which to normalize.
    """
    return jax.nn.log_softmax(jnp.asarray(x), axis=axis)


def sparsemax(x: jax.Array, axis: int = -1) -> jax.Array:
    """Sparsemax: Euclidean projection of `x` onto the probability simplex.

    Unlike softmax, it can output exact zeros.

    Args:
        x: Input array (logits).
        axis: Axis along which the projection is taken.

    Reference: [Martins et al., 2016](https://arxiv.org/abs/1602.02068)
    """
    logits = jnp.asarray(x)
    logits_sorted = -1.0 * jnp.sort(logits * -1.0, axis=axis)
    logits_cumsum = jnp.cumsum(logits_sorted, axis=axis)
    r_shape = [1] * logits.ndim
    r_shape[axis] = -1
    r = jnp.arange(1, logits.shape[axis] + 1).reshape(r_shape)
    support = logits_sorted - (logits_cumsum - 1) / r > 0
    k = jnp.sum(support, axis=axis, keepdims=True)
    # Deliberate deviation from Keras 3.15.1: tau is (cumsum[k] - 1) / k, the
    # sum of the sorted logits over the support. Keras sums the *cumulative*
    # sums over the support, which is wrong whenever k > 1 (the output does
    # not sum to 1; keras-team/keras#23425, fixed upstream by #23469). The two
    # agree when k == 1.
    support_sum = jnp.sum(
        jnp.where(support, logits_sorted, 0.0), axis=axis, keepdims=True
    )
    tau = (support_sum - 1) / k
    return jnp.maximum(logits - tau, 0.0)


# Keras names, in the order of `keras.activations`; the two aliases come last
# so that `serialize` reports the canonical name, as Keras does.
ALL: dict[str, Activation] = {
    fn.__name__: fn
    for fn in (
        celu,
        elu,
        exponential,
        gelu,
        glu,
        hard_shrink,
        hard_sigmoid,
        hard_silu,
        hard_tanh,
        leaky_relu,
        linear,
        log_sigmoid,
        log_softmax,
        mish,
        relu,
        relu6,
        selu,
        sigmoid,
        silu,
        soft_shrink,
        softmax,
        softplus,
        softsign,
        sparse_plus,
        sparse_sigmoid,
        sparsemax,
        squareplus,
        tanh,
        tanh_shrink,
        threshold,
    )
}
ALL["swish"] = silu
ALL["hard_swish"] = hard_silu

registry.add_all("activations", ALL)


def get(identifier: str | dict | Activation | None) -> Activation:
    """Returns the activation function for a Keras identifier.

    Args:
        identifier: None (linear), a Keras name such as `"relu"` or
            `"swish"`, a Keras-serialized dict (`{"class_name": "function",
            "config": "relu"}`), the name of a function registered with
            `kerax.register`, or a callable, returned as is.

    Returns:
        The activation function.

    Raises:
        ValueError: If the identifier names no known activation.

    Example:
        >>> get("gelu") is gelu
        True
    """
    if identifier is None:
        return linear
    if not isinstance(identifier, (str, dict)) and not callable(identifier):
        raise registry.unknown("activations", identifier)
    return registry.get("activations", identifier)


def serialize(activation: Activation) -> str | dict[str, Any]:
    """Returns the Keras serialized form of an activation function.

    Args:
        activation: A function from this module, or one registered with
            `kerax.register`.

    Returns:
        Its Keras name, e.g. `"relu"` (`"silu"` for `swish`, as in Keras);
        Keras's function dict for a registered function.

    Raises:
        ValueError: If `activation` is neither a kerax activation nor
            registered.

    Example:
        >>> serialize(swish)
        'silu'
    """
    return registry.serialize("activations", activation)


def deserialize(config: str | dict) -> Activation:
    """Returns the activation for a name or a Keras-serialized dict.

    Args:
        config: A Keras name, or a dict as Keras writes it:
            `{"class_name": "function", "config": "relu", ...}` (the
            `module` and `registered_name` keys are ignored).

    Returns:
        The activation function.

    Raises:
        ValueError: If the config names no known activation.

    Example:
        >>> deserialize({"class_name": "function", "config": "relu"}) is relu
        True
    """
    return registry.deserialize("activations", config)


registry.set_get("activations", get)
