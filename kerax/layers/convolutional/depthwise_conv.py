"""DepthwiseConv1D and DepthwiseConv2D: one filter set per input channel."""

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
from kerax.layers.convolutional._ops import depthwise_conv
from kerax.layers.convolutional.base_conv import (
    ARG_DOCS,
    BaseConv,
    padding_field,
    spatial_field,
)


class _DepthwiseConv(BaseConv):
    """Fields and code of `DepthwiseConv1D` and `DepthwiseConv2D`."""

    kernel_size: tuple[int, ...] = field()
    strides: tuple[int, ...] = field(1)
    padding: str = padding_field("valid", "same")
    depth_multiplier: int = field(1, converter=positive_int)
    data_format: str = data_format_field()
    dilation_rate: tuple[int, ...] = field(1)
    activation: ActivationArg = activation_field()
    use_bias: bool = True
    depthwise_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    # Keras names the depthwise layer's kernel `kernel` (not `depthwise_kernel`).
    depthwise_regularizer: RegularizerArg = regularizer_field("kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    depthwise_constraint: ConstraintArg = constraint_field("kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")

    strided_dilation = True

    def check_input(self, spec):
        super().check_input(spec)
        self.check_output_size(spec)

    def build(self, key, spec):
        k_kernel, k_bias = jax.random.split(key)
        c = self.in_channels(spec)
        params = {
            "kernel": self.depthwise_initializer(
                k_kernel, (*self.kernel_size, c, self.depth_multiplier), jnp.float32
            )
        }
        if self.use_bias:
            params["bias"] = self.bias_initializer(
                k_bias, (c * self.depth_multiplier,), jnp.float32
            )
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        y = depthwise_conv(
            x,
            params["kernel"],
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return self.finish(params, y), state

    def axes(self):
        return {"kernel": (None,) * self.rank + ("conv_in", None), "bias": (None,)}


@document_args(ARG_DOCS)
class DepthwiseConv1D(_DepthwiseConv):
    """1D depthwise convolution, like `keras.layers.DepthwiseConv1D`.

    Each input channel is convolved with its own `depth_multiplier` filters;
    channels are not mixed. Output channel `c * depth_multiplier + m` comes
    from input channel `c` and filter `m`, as in Keras.

    Example:
        >>> conv = kerax.layers.DepthwiseConv1D(3, depth_multiplier=2)
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 4)))
        >>> conv.apply(params, state, jnp.ones((2, 8, 4)))[0].shape
        (2, 6, 8)
    """

    rank = 1
    kernel_size: tuple[int] = spatial_field(1)
    strides: tuple[int] = spatial_field(1, 1)
    dilation_rate: tuple[int] = spatial_field(1, 1)


@document_args(ARG_DOCS)
class DepthwiseConv2D(_DepthwiseConv):
    """2D depthwise convolution, like `keras.layers.DepthwiseConv2D`.

    The kernel is `(kh, kw, in_channels, depth_multiplier)`, named `kernel`
    as in Keras.

    Example:
        >>> conv = kerax.layers.DepthwiseConv2D(3, padding="same")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 8, 4)))
        >>> params["kernel"].shape
        (3, 3, 4, 1)
    """

    rank = 2
    kernel_size: tuple[int, int] = spatial_field(2)
    strides: tuple[int, int] = spatial_field(2, 1)
    dilation_rate: tuple[int, int] = spatial_field(2, 1)
