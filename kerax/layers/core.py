"""Core layers: Dense, EinsumDense, Embedding, Identity, Lambda, Masking."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax import activations, initializers
from kerax.core import aux_losses
from kerax.core.layer import Layer
from kerax.core.spec import shape_str


class Dense(Layer):
    """`activation(x @ kernel + bias)`, like `keras.layers.Dense`.

    Example:
        >>> dense = kerax.layers.Dense(4, activation="relu")
        >>> params, state = dense.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, _ = dense.apply(params, state, jnp.ones((2, 3)))
        >>> y.shape
        (2, 4)
    """

    units: int = None
    activation: Any = None
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    kernel_constraint: Any = None
    bias_constraint: Any = None
    lora_rank: int | None = None
    lora_alpha: float | None = None

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.units, int) or self.units <= 0:
            raise ValueError(f"{self.describe()}: `units` must be a positive int, got {self.units!r}.")

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)

    def build(self, key, spec):
        k_kernel, k_bias = jax.random.split(key)
        shape = (spec.shape[-1], self.units)
        params = {"kernel": self.kernel_initializer(k_kernel, shape, jnp.float32)}
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.units,), jnp.float32)
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = params["kernel"]
        if x.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f"{self.describe()} expected inputs with last dimension {kernel.shape[0]}, got {shape_str(x.shape)}."
            )
        y = jnp.matmul(x, kernel)
        if self.use_bias:
            y = y + params["bias"]
        y = activations.get(self.activation)(y)
        if self.activity_regularizer is not None:
            aux_losses.add_loss(self.activity_regularizer(y))
        return y, state

    def axes(self):
        return {"kernel": ("embed", "mlp"), "bias": ("mlp",)}


class Identity(Layer):
    """Returns its input unchanged (`keras.layers.Identity`)."""

    supports_masking = True

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return x, state


__all__ = ["Dense", "Identity"]
