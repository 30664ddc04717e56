"""Convolution arithmetic with Keras layouts: `kerax.ops._conv`, shared with `kerax.ops`."""

from kerax.ops._conv import (  # noqa: F401
    channel_axis,
    conv_nd,
    conv_transpose,
    conv_transpose_padding,
    depthwise_conv,
    dimension_numbers,
    full_rank,
    spatial_axes,
)
