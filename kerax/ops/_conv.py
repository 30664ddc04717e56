"""Convolution arithmetic with Keras layouts over `lax.conv_general_dilated`.

Shared by the convolution layers (`kerax.layers.convolutional`) and
`kerax.ops.conv_transpose`: the layers import it from here, as layers sit
above ops.
"""

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


def _crop_or_extend(y, axes, have, want):
    """Turns a conv output made with padding `have` into one made with `want`.

    Less padding is a crop. More padding on the high side only adds windows
    that see no input: zeros (the bias comes after).
    """
    start, limit, extend = [0] * y.ndim, list(y.shape), [(0, 0, 0)] * y.ndim
    for ax, (h_lo, h_hi), (w_lo, w_hi) in zip(axes, have, want):
        start[ax] = h_lo - w_lo
        limit[ax] = y.shape[ax] - max(h_hi - w_hi, 0)
        extend[ax] = (0, max(w_hi - h_hi, 0), 0)
    if start != [0] * y.ndim or limit != list(y.shape):
        y = lax.slice(y, start, limit)
    if any(e != (0, 0, 0) for e in extend):
        y = lax.pad(y, jnp.zeros((), y.dtype), extend)
    return y


def conv_transpose(
    x, kernel, *, strides, padding, output_padding, dilation_rate, data_format
):
    """Keras's transposed convolution; `kernel` is `(*spatial, out, in)`.

    `strides` and `dilation_rate` are per-axis tuples, `output_padding` one
    (entries may be None) or None. Shared by the ConvNDTranspose layers and
    `kerax.ops.conv_transpose`.
    """
    rank = kernel.ndim - 2
    kernel_size = kernel.shape[:rank]
    output_padding = output_padding or (None,) * rank
    pads = [
        conv_transpose_padding(k, s, d, padding, p)
        for k, s, d, p in zip(kernel_size, strides, dilation_rate, output_padding)
    ]
    # A transposed convolution is the convolution of the stride-dilated
    # input with the spatially flipped kernel (as `lax.conv_transpose`
    # with `transpose_kernel=True`, which Keras uses). It runs with the
    # "full" padding (TF's VALID transposed conv), then crops or
    # zero-extends to Keras's padding: the TFLite converter mislowers
    # some asymmetric paddings (e.g. Keras's "same" with an odd kernel
    # and an even stride), and the outputs are equal.
    kernel = jnp.flip(kernel, axis=tuple(range(rank)))
    full = [((k - 1) * d, (k - 1) * d) for k, d in zip(kernel_size, dilation_rate)]
    y = conv_nd(
        x,
        kernel,
        strides=(1,) * rank,
        padding=full,
        dilation_rate=dilation_rate,
        data_format=data_format,
        lhs_dilation=strides,
    )
    return _crop_or_extend(y, spatial_axes(rank, data_format), full, pads)


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
