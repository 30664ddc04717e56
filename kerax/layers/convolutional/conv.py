"""Conv1D/2D/3D and Conv1DTranspose/2DTranspose/3DTranspose (see `kerax.layers.convolutional`)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.core.spec import shape_str
from kerax.layers.convolutional._ops import conv_nd
from kerax.layers.convolutional.base_conv import _BaseConv
from kerax.layers.core import (
    _check_lora,
    _lora_regularization,
    _weight,
    _weight_and_lora,
)


# -------------------------------------------------------------- convolution
class _Conv(_BaseConv):
    """Shared fields and code of `Conv1D`, `Conv2D` and `Conv3D`.

    With `lora_rank` (Keras's LoRA), the kernel is frozen (kept in `state`,
    as Keras marks it non-trainable) and `lora_kernel_a @ lora_kernel_b *
    lora_alpha / lora_rank` is added to it, as in `Dense`.
    """

    filters: int
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    groups: int = 1
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
        _check_lora(self, self.kernel_constraint, "kernel_constraint")
        if self.filters % self.groups:
            raise ValueError(
                f"{self.describe()}: `filters` must be divisible by `groups`, got filters={self.filters} and groups={self.groups}."
            )

    def check_input(self, spec):
        super().check_input(spec)
        c = self.in_channels(spec)
        if c % self.groups:
            raise ValueError(
                f"{self.describe()}: the number of input channels must be divisible by `groups`={self.groups}, "
                f"got inputs {shape_str(spec.shape)} with {c} channels."
            )
        self.check_output_size(spec)

    def build(self, key, spec):
        k_kernel, k_bias, k_lora = jax.random.split(key, 3)
        shape = (*self.kernel_size, self.in_channels(spec) // self.groups, self.filters)
        kernel = self.kernel_initializer(k_kernel, shape, jnp.float32)
        params, state = _weight_and_lora(self, k_lora, "kernel", kernel)
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.filters,), jnp.float32)
        return params, state

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = _weight(self, params, state, "kernel", x.dtype)
        padding = self.padding
        if padding == "causal":
            # Keras pads the past only, so output[t] never sees x[t + 1:].
            padding = [(self.dilation_rate[0] * (self.kernel_size[0] - 1), 0)]
        y = conv_nd(
            x,
            kernel,
            strides=self.strides,
            padding=padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
            groups=self.groups,
        )
        return self.finish(params, y), state

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora_regularization(
            self, params, "kernel", self.kernel_regularizer
        )

    def axes(self):
        spatial = (None,) * self.rank
        return {
            "kernel": spatial + ("conv_in", "conv_out"),
            "bias": ("conv_out",),
            "lora_kernel_a": spatial + ("conv_in", None),
            "lora_kernel_b": (None, "conv_out"),
        }


class Conv1D(_Conv):
    """1D convolution (temporal), like `keras.layers.Conv1D`.

    `padding="causal"` pads the past only, so `output[t]` depends on
    `input[:t + 1]` (WaveNet-style dilated causal convolutions).

    Example:
        >>> conv = kerax.layers.Conv1D(8, 3, padding="causal")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 16, 4)))
        >>> conv.apply(params, state, jnp.ones((2, 16, 4)))[0].shape
        (2, 16, 8)
    """

    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(_Conv):
    """2D convolution (spatial), like `keras.layers.Conv2D`.

    Example:
        >>> conv = kerax.layers.Conv2D(8, 3, strides=2, padding="same")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 8, 3)))
        >>> params["kernel"].shape
        (3, 3, 3, 8)
        >>> conv.apply(params, state, jnp.ones((2, 8, 8, 3)))[0].shape
        (2, 4, 4, 8)
    """

    rank = 2


class Conv3D(_Conv):
    """3D convolution (spatial or spatio-temporal), like `keras.layers.Conv3D`.

    Example:
        >>> conv = kerax.layers.Conv3D(4, 3, padding="same")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 4, 4, 4, 2)))
        >>> conv.apply(params, state, jnp.ones((1, 4, 4, 4, 2)))[0].shape
        (1, 4, 4, 4, 4)
    """

    rank = 3
