"""SeparableConv1D and SeparableConv2D."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
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
from kerax.layers.convolutional._ops import conv_nd, depthwise_conv
from kerax.layers.convolutional.base_conv import (
    ARG_DOCS,
    BaseConv,
    padding_field,
    spatial_field,
)


class _SeparableConv(BaseConv):
    """Fields and code of `SeparableConv1D` and `SeparableConv2D`."""

    filters: int = field(converter=positive_int)
    kernel_size: tuple[int, ...] = field()
    strides: tuple[int, ...] = field(1)
    padding: str = padding_field("valid", "same")
    data_format: str = data_format_field()
    dilation_rate: tuple[int, ...] = field(1)
    depth_multiplier: int = field(1, converter=positive_int)
    activation: ActivationArg = activation_field()
    use_bias: bool = True
    depthwise_initializer: InitializerArg = initializer_field("glorot_uniform")
    pointwise_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    depthwise_regularizer: RegularizerArg = regularizer_field("depthwise_kernel")
    pointwise_regularizer: RegularizerArg = regularizer_field("pointwise_kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    depthwise_constraint: ConstraintArg = constraint_field("depthwise_kernel")
    pointwise_constraint: ConstraintArg = constraint_field("pointwise_kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")

    strided_dilation = True

    def check_input(self, spec):
        super().check_input(spec)
        self.check_output_size(spec)

    def build(self, key, spec):
        k_depth, k_point, k_bias = jax.random.split(key, 3)
        c, m = self.in_channels(spec), self.depth_multiplier
        params = {
            "depthwise_kernel": self.depthwise_initializer(
                k_depth, (*self.kernel_size, c, m), jnp.float32
            ),
            "pointwise_kernel": self.pointwise_initializer(
                k_point, (*(1,) * self.rank, c * m, self.filters), jnp.float32
            ),
        }
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.filters,), jnp.float32)
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        y = depthwise_conv(
            x,
            params["depthwise_kernel"],
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        ones = (1,) * self.rank
        y = conv_nd(
            y,
            params["pointwise_kernel"],
            strides=ones,
            padding="valid",
            dilation_rate=ones,
            data_format=self.data_format,
        )
        return self.finish(params, y), state

    def axes(self):
        spatial = (None,) * self.rank
        return {
            "depthwise_kernel": spatial + ("conv_in", None),
            "pointwise_kernel": spatial + (None, "conv_out"),
            "bias": ("conv_out",),
        }


@document_args(ARG_DOCS)
class SeparableConv1D(_SeparableConv):
    """1D depthwise separable convolution, like `keras.layers.SeparableConv1D`.

    A depthwise convolution (per channel, `depth_multiplier` filters each)
    followed by a pointwise (1x1) convolution that mixes channels.

    Example:
        >>> conv = kerax.layers.SeparableConv1D(8, 3, padding="same")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 16, 4)))
        >>> sorted(params)
        ['bias', 'depthwise_kernel', 'pointwise_kernel']
    """

    rank = 1
    kernel_size: tuple[int] = spatial_field(1)
    strides: tuple[int] = spatial_field(1, 1)
    dilation_rate: tuple[int] = spatial_field(1, 1)


@document_args(ARG_DOCS)
class SeparableConv2D(_SeparableConv):
    """2D depthwise separable convolution, like `keras.layers.SeparableConv2D`.

    Example:
        >>> conv = kerax.layers.SeparableConv2D(8, 3, depth_multiplier=2)
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 8, 3)))
        >>> params["pointwise_kernel"].shape
        (1, 1, 6, 8)
    """

    rank = 2
    kernel_size: tuple[int, int] = spatial_field(2)
    strides: tuple[int, int] = spatial_field(2, 1)
    dilation_rate: tuple[int, int] = spatial_field(2, 1)
