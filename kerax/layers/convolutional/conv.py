"""Conv1D, Conv2D and Conv3D: Keras's convolution, on `lax.conv_general_dilated`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.spec import shape_str
from kerax.layers import _lora
from kerax.layers._args import (
    ActivationArg,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    activation_field,
    constraint_field,
    data_format_field,
    initializer_field,
    positive_int,
    regularizer_field,
)
from kerax.layers._docs import document_args
from kerax.layers.convolutional._ops import conv_nd
from kerax.layers.convolutional.base_conv import (
    ARG_DOCS,
    BaseConv,
    padding_field,
    spatial_field,
)


class _Conv(BaseConv):
    """Keras's `Conv`: the fields and code of `Conv1D`, `Conv2D` and `Conv3D`.

    With `lora_rank` (Keras's LoRA), the kernel is frozen (kept in `state`,
    as Keras marks it non-trainable) and `lora_kernel_a @ lora_kernel_b *
    lora_alpha / lora_rank` is added to it, as in `Dense`. The rank classes
    declare the fields that hold `rank` integers.
    """

    filters: int = field(converter=positive_int)
    kernel_size: tuple[int, ...] = field()
    strides: tuple[int, ...] = field(1)
    padding: str = padding_field("valid", "same")
    data_format: str = data_format_field()
    dilation_rate: tuple[int, ...] = field(1)
    groups: int = field(1, converter=positive_int)
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

    def __post_init__(self):
        super().__post_init__()
        _lora.check_lora(self, self.kernel_constraint, "kernel_constraint")
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
        params, state = _lora.weight_and_lora(self, k_lora, "kernel", kernel)
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.filters,), jnp.float32)
        return params, state

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = _lora.weight(self, params, state, "kernel", x.dtype)
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
        return super().regularization_loss(params) + _lora.regularization(
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


@document_args(
    {
        **ARG_DOCS,
        "padding": ARG_DOCS["padding"]
        + ' `"causal"` results in causal (dilated) convolutions, e.g. `output[t]` '
        "does not depend on `input[t+1:]`. Useful when modeling temporal data "
        "where the model should not violate the temporal order.",
    }
)
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
    kernel_size: tuple[int] = spatial_field(1)
    strides: tuple[int] = spatial_field(1, 1)
    padding: str = padding_field("valid", "same", "causal")
    dilation_rate: tuple[int] = spatial_field(1, 1)


@document_args(ARG_DOCS)
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
    kernel_size: tuple[int, int] = spatial_field(2)
    strides: tuple[int, int] = spatial_field(2, 1)
    dilation_rate: tuple[int, int] = spatial_field(2, 1)


@document_args(ARG_DOCS)
class Conv3D(_Conv):
    """3D convolution (spatial or spatio-temporal), like `keras.layers.Conv3D`.

    Example:
        >>> conv = kerax.layers.Conv3D(4, 3, padding="same")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 4, 4, 4, 2)))
        >>> conv.apply(params, state, jnp.ones((1, 4, 4, 4, 2)))[0].shape
        (1, 4, 4, 4, 4)
    """

    rank = 3
    kernel_size: tuple[int, int, int] = spatial_field(3)
    strides: tuple[int, int, int] = spatial_field(3, 1)
    dilation_rate: tuple[int, int, int] = spatial_field(3, 1)
