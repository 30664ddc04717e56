"""Shared pieces of the convolution layers (see `kerax.layers.convolutional`).

Argument normalization as Keras does it, Keras kernel layouts for
`lax.conv_general_dilated`, Keras's transposed-conv padding arithmetic, and
`_BaseConv`: what every convolution layer shares (checks and epilogue).
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from jax import lax

from kerax import activations
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers.core import add_activity_loss

_DATA_FORMATS = ("channels_last", "channels_first")


# ------------------------------------------------------------- shared helpers
def standardize_tuple(
    layer: Layer, value, n: int, name: str, *, allow_zero: bool = False
) -> tuple:
    """Keras's int-or-tuple argument as a tuple of `n` ints, validated."""
    values = (
        (value,) * n
        if isinstance(value, int) and not isinstance(value, bool)
        else value
    )
    try:
        values = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"{layer.describe()}: `{name}` must be an int or a tuple of {n} ints, got {value!r}."
        ) from None
    if len(values) != n:
        raise ValueError(
            f"{layer.describe()}: `{name}` must be an int or a tuple of {n} ints, got {value!r}."
        )
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{layer.describe()}: every value of `{name}` must be {bound}, got {value!r}."
        )
    return values


def standardize_data_format(layer: Layer, value) -> str:
    """`None` is Keras's default image data format, `"channels_last"`."""
    data_format = "channels_last" if value is None else str(value).lower()
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"{layer.describe()}: `data_format` must be 'channels_last' or 'channels_first', got {value!r}."
        )
    return data_format


def standardize_padding(layer: Layer, value, allowed=("valid", "same")) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(
            f"{layer.describe()}: `padding` must be one of {list(allowed)}, got {value!r}."
        )
    return padding


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


# ----------------------------------------------------------------- base class
class _BaseConv(Layer):
    """What every convolution shares: argument checks, input checks, epilogue."""

    rank: ClassVar[int] = 0
    paddings: ClassVar[tuple] = ("valid", "same")
    # Keras refuses strides > 1 together with dilation > 1 for (transposed)
    # convolutions, but not for depthwise and separable ones.
    strided_dilation: ClassVar[bool] = False

    def __post_init__(self):
        super().__post_init__()
        n = self.rank
        set_ = object.__setattr__
        set_(
            self,
            "kernel_size",
            standardize_tuple(self, self.kernel_size, n, "kernel_size"),
        )
        set_(self, "strides", standardize_tuple(self, self.strides, n, "strides"))
        set_(
            self,
            "dilation_rate",
            standardize_tuple(self, self.dilation_rate, n, "dilation_rate"),
        )
        set_(self, "padding", standardize_padding(self, self.padding, self.paddings))
        set_(self, "data_format", standardize_data_format(self, self.data_format))
        for name in ("filters", "depth_multiplier", "groups"):
            value = getattr(self, name, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"{self.describe()}: `{name}` must be a positive int, got {value!r}."
                )
        if (
            not self.strided_dilation
            and max(self.strides) > 1
            and max(self.dilation_rate) > 1
        ):
            raise ValueError(
                f"{self.describe()}: `strides > 1` is not supported together with `dilation_rate > 1`, "
                f"got strides={self.strides} and dilation_rate={self.dilation_rate}."
            )

    def in_channels(self, spec) -> int:
        c = spec.shape[channel_axis(self.rank, self.data_format)]
        if is_symbolic(c):
            raise ValueError(
                f"{self.describe()}: the channel dimension of the inputs must be known, got {shape_str(spec.shape)}."
            )
        return int(c)

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self.rank + 2)
        self.in_channels(spec)

    def check_output_size(self, spec):
        """Keras's error for a `valid` convolution with an empty output."""
        if self.padding != "valid":
            return
        for ax, k, s, d in zip(
            spatial_axes(self.rank, self.data_format),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
        ):
            n = spec.shape[ax]
            if not is_symbolic(n) and (n - d * (k - 1) - 1) // s + 1 <= 0:
                raise ValueError(
                    f"{self.describe()}: the output would be empty for inputs {shape_str(spec.shape)} with "
                    f"kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate} and padding='valid'."
                )

    def finish(self, params, y):
        """Bias, activation and activity regularization, as Keras does them."""
        if self.use_bias:
            y = y + full_rank(params["bias"], self.rank, self.data_format)
        y = activations.get(self.activation)(y)
        add_activity_loss(self.activity_regularizer, y)
        return y
