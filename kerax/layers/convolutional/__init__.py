"""Keras convolution layers: Conv, ConvTranspose, DepthwiseConv, SeparableConv.

Every class runs on one shared N-D implementation over
`lax.conv_general_dilated`; the 1D/2D/3D classes differ only in `rank`.
Kernels keep Keras's layouts, so Keras weights import unchanged:

- `Conv{N}D`: `kernel` `(*kernel_size, in_channels // groups, filters)`;
- `Conv{N}DTranspose`: `kernel` `(*kernel_size, filters, in_channels)`;
- `DepthwiseConv{N}D`: `kernel` `(*kernel_size, in_channels, depth_multiplier)`;
- `SeparableConv{N}D`: `depthwise_kernel` as DepthwiseConv's kernel and
  `pointwise_kernel` `(*(1,) * N, in_channels * depth_multiplier, filters)`.

One module per layer group, named as Keras names its files: `conv`,
`conv_transpose`, `depthwise_conv`, `separable_conv`; `base_conv` holds the
base class they share and `_ops` the `lax` calls with Keras layouts.
"""

from kerax.layers.convolutional.conv import Conv1D, Conv2D, Conv3D
from kerax.layers.convolutional.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
)
from kerax.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from kerax.layers.convolutional.separable_conv import SeparableConv1D, SeparableConv2D

# Keras aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Convolution1D",
    "Convolution2D",
    "Convolution3D",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "Convolution3DTranspose",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
]
