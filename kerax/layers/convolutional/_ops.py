"""Convolution arithmetic with Keras layouts over `lax.conv_general_dilated`."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

_DATA_FORMATS = ("channels_last", "channels_first")


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The spatial axes of a rank-`rank + 2` input in `data_format`."""
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def channel_axis(rank: int, data_format: str) -> int:
    return rank + 1 if data_format == "channels_last" else 1


def dimension_numbers(
    rank: int, data_format: str, *, transposed: bool = False
) -> lax.ConvDimensionNumbers:
    """Keras layouts for `lax`: kernels are `(*spatial, in, out)`.

    A transposed conv's kernel is `(*spatial, out, in)`: swapping the kernel's
    channel axes in the dimension numbers saves a transpose of the kernel.
    """
    io = (rank, rank + 1) if transposed else (rank + 1, rank)
    lhs = (0, channel_axis(rank, data_format), *spatial_axes(rank, data_format))
    return lax.ConvDimensionNumbers(
        lhs_spec=lhs, rhs_spec=(*io, *range(rank)), out_spec=lhs
    )


def conv_nd(
    x,
    kernel,
    *,
    strides,
    padding,
    dilation_rate,
    data_format,
    groups: int = 1,
    lhs_dilation=None,
):
    """`lax.conv_general_dilated` with Keras layouts, padding names and groups.

    `padding` is `"valid"`, `"same"` (as Keras: XLA's SAME on the dilated
    kernel) or explicit `(low, high)` pairs per spatial axis. With
    `lhs_dilation` (a transposed conv) the kernel is `(*spatial, out, in)`.
    """
    rank = kernel.ndim - 2
    if isinstance(padding, str):
        padding = padding.upper()
    return lax.conv_general_dilated(
        x,
        kernel,
        window_strides=strides,
        padding=padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=dilation_rate,
        dimension_numbers=dimension_numbers(
            rank, data_format, transposed=lhs_dilation is not None
        ),
        feature_group_count=groups,
    )


def conv_transpose_padding(
    kernel_size: int,
    stride: int,
    dilation: int,
    padding: str,
    output_padding: int | None,
) -> tuple[int, int]:
    """Keras's `(low, high)` padding of the stride-dilated input, per axis.

    The arithmetic of `keras/src/backend/common/backend_utils.py`
    (`_convert_conv_transpose_padding_args_from_keras_to_jax`), so output
    sizes and alignment equal Keras's, `output_padding` included.
    """
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        output_padding = (
            max(k, stride) - k if output_padding is None else output_padding
        )
        return k - 1, k - 1 + output_padding
    if output_padding is None:
        pad_len = stride + k - 2
    else:
        pad_len = k + k % 2 - 2 + output_padding
    low = min(pad_len // 2 + pad_len % 2, k - 1)
    return low, pad_len - low


def full_rank(v, rank: int, data_format: str):
    """A per-channel vector shaped to broadcast without rank promotion."""
    shape = [1] * (rank + 2)
    shape[channel_axis(rank, data_format)] = v.shape[0]
    return jnp.reshape(v, shape)


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
