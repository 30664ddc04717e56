"""DepthwiseConv1D/2D and SeparableConv1D/2D (see `kerax.layers.convolutional`)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.layers._conv_base import _BaseConv, conv_nd


# --------------------------------------------- depthwise and separable convs
def depthwise_conv(x, kernel, *, strides, padding, dilation_rate, data_format):
    """Keras's depthwise conv: `(*k, in, m)` as `(*k, 1, in * m)`, in groups."""
    in_channels, multiplier = kernel.shape[-2:]
    kernel = jnp.reshape(kernel, (*kernel.shape[:-2], 1, in_channels * multiplier))
    return conv_nd(
        x,
        kernel,
        strides=strides,
        padding=padding,
        dilation_rate=dilation_rate,
        data_format=data_format,
        groups=in_channels,
    )


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
