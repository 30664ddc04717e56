"""Shared pieces of the convolution layers (see `kerax.layers.convolutional`).

Argument normalization as Keras does it, Keras kernel layouts for
`lax.conv_general_dilated`, Keras's transposed-conv padding arithmetic, and
`_BaseConv`: what every convolution layer shares (checks and epilogue).
"""

from __future__ import annotations

from typing import ClassVar

from kerax import activations
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers.convolutional._ops import (
    _DATA_FORMATS,
    channel_axis,
    full_rank,
    spatial_axes,
)
from kerax.layers.core import add_activity_loss


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
