"""DepthwiseConv1D/2D and SeparableConv1D/2D (see `kerax.layers.convolutional`)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers.convolutional._ops import depthwise_conv
from kerax.layers.convolutional.base_conv import _BaseConv


class _DepthwiseConv(_BaseConv):
    """Fields and code of `DepthwiseConv1D` and `DepthwiseConv2D`."""

    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    depth_multiplier: int = 1
    data_format: str | None = None
    dilation_rate: Any = 1
    activation: Any = None
    use_bias: bool = True
    depthwise_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    depthwise_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    depthwise_constraint: Any = None
    bias_constraint: Any = None

    strided_dilation = True
    # Keras names the depthwise layer's kernel `kernel` (not `depthwise_kernel`).
    param_for_prefix = {"depthwise": "kernel"}

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
