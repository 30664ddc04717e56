"""`Dense`: `activation(x @ kernel + bias)`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax import activations
from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers import _lora
from kerax.layers._args import (
    ActivationArg,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    activation_field,
    constraint_field,
    initializer_field,
    positive_int,
    regularizer_field,
)


class Dense(Layer):
    """Just your regular densely-connected NN layer: `activation(x @ kernel + bias)`.

    Inputs of rank > 2 are multiplied along their last axis (a
    `(batch, d0, d1)` input gives `(batch, d0, units)`), as in Keras.

    With `lora_rank`, the kernel is frozen (kept in `state`, as Keras marks
    it non-trainable) and `lora_kernel_a @ lora_kernel_b * lora_alpha /
    lora_rank` is added to it; only the LoRA factors (and the bias) train.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation function to use. If you don't specify
            anything, no activation is applied (ie. "linear" activation:
            `a(x) = x`).
        use_bias: Boolean, whether the layer uses a bias vector.
        kernel_initializer: Initializer for the `kernel` weights matrix.
        bias_initializer: Initializer for the bias vector.
        kernel_regularizer: Regularizer function applied to the `kernel`
            weights matrix.
        bias_regularizer: Regularizer function applied to the bias vector.
        activity_regularizer: Regularizer function applied to the output of
            the layer (its "activation").
        kernel_constraint: Constraint function applied to the `kernel`
            weights matrix.
        bias_constraint: Constraint function applied to the bias vector.
        lora_rank: Optional integer. If set, the layer's forward pass
            implements LoRA (Low-Rank Adaptation) with the provided rank:
            the kernel becomes non-trainable and a delta over it, the
            product of two lower-rank trainable matrices, is trained.
        lora_alpha: Optional number. If set, the LoRA delta is scaled by
            `lora_alpha / lora_rank` (default: `lora_rank`, a scale of 1).

    Example:
        >>> dense = kerax.layers.Dense(4, activation="relu")
        >>> params, state = dense.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, _ = dense.apply(params, state, jnp.ones((2, 3)))
        >>> y.shape
        (2, 4)
    """

    units: int = field(converter=positive_int)
    activation: ActivationArg = activation_field()
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
    lora_rank: int | None = _lora.rank_field()
    lora_alpha: float | None = None

    supports_masking = True  # As in Keras: a timestep mask passes through.

    def __post_init__(self):
        super().__post_init__()
        _lora.check_lora(self, self.kernel_constraint, "kernel_constraint")

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)

    def build(self, key, spec):
        k_kernel, k_bias, k_lora = jax.random.split(key, 3)
        shape = (spec.shape[-1], self.units)
        kernel = self.kernel_initializer(k_kernel, shape, jnp.float32)
        params, state = _lora.weight_and_lora(self, k_lora, "kernel", kernel)
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.units,), jnp.float32)
        return params, state

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = _lora.weight(self, params, state, "kernel", x.dtype)
        if x.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f"{self.describe()} expected inputs with last dimension {kernel.shape[0]}, got {shape_str(x.shape)}."
            )
        y = jnp.matmul(x, kernel)
        if self.use_bias:
            # Explicit broadcast: kerax code runs under strict rank promotion.
            y = y + jnp.reshape(
                params["bias"], (1,) * (y.ndim - 1) + params["bias"].shape
            )
        y = activations.get(self.activation)(y)
        add_activity_loss(self.activity_regularizer, y)
        return y, state

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora.regularization(
            self, params, "kernel", self.kernel_regularizer
        )

    def axes(self):
        return {
            "kernel": ("embed", "mlp"),
            "bias": ("mlp",),
            "lora_kernel_a": ("embed", None),
            "lora_kernel_b": (None, "mlp"),
        }
