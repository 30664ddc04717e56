"""SeparableConv1D and SeparableConv2D."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers.convolutional._ops import conv_nd, depthwise_conv
from kerax.layers.convolutional.base_conv import _BaseConv


class _SeparableConv(_BaseConv):
    """Fields and code of `SeparableConv1D` and `SeparableConv2D`."""

    filters: int
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    depth_multiplier: int = 1
    activation: Any = None
    use_bias: bool = True
    depthwise_initializer: Any = "glorot_uniform"
    pointwise_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    depthwise_regularizer: Any = None
    pointwise_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    depthwise_constraint: Any = None
    pointwise_constraint: Any = None
    bias_constraint: Any = None

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


class SeparableConv2D(_SeparableConv):
    """2D depthwise separable convolution, like `keras.layers.SeparableConv2D`.

    Example:
        >>> conv = kerax.layers.SeparableConv2D(8, 3, depth_multiplier=2)
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 8, 3)))
        >>> params["pointwise_kernel"].shape
        (1, 1, 6, 8)
    """

    rank = 2
