"""The base class of the convolution layers, and their shared fields and argument docs.

`BaseConv` holds what every convolution shares: input checks, Keras's empty
output error and the epilogue (bias, activation, activity regularization).
The fields themselves are declared per family in Keras's positional order;
the ones whose value depends on the rank (`kernel_size`, `strides`,
`dilation_rate`, `output_padding`) per class, with `spatial_field(rank)`,
so their types say how many integers they hold.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from kerax import activations
from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers import _args
from kerax.layers.convolutional._ops import channel_axis, full_rank, spatial_axes


def spatial_field(rank: int, default=dataclasses.MISSING, *, allow_zero=False):
    """A field holding `rank` ints, given as an int or `rank` ints (Keras's `standardize_tuple`)."""
    return field(default, converter=_args.int_tuple(rank, allow_zero=allow_zero))


def optional_spatial_field(rank: int):
    """`output_padding`: None (inferred) or `rank` ints >= 0."""
    convert = _args.int_tuple(rank, allow_zero=True)
    return field(None, converter=lambda v: None if v is None else convert(v))


def padding_field(*allowed: str):
    """A `padding` field, lowercased, one of `allowed` (default `"valid"`)."""
    return field("valid", converter=_args.padding(*allowed))


# Keras's words for the convolution arguments (`{rank}`: the class's rank).
ARG_DOCS = {
    "filters": "int, the dimension of the output space (the number of filters in the "
    "convolution).",
    "kernel_size": "int or tuple/list of {rank} integers, specifying the size of the "
    "convolution window.",
    "strides": "int or tuple/list of {rank} integers, specifying the stride length of "
    "the convolution. `strides > 1` is incompatible with `dilation_rate > 1`.",
    "padding": 'string, either `"valid"` or `"same"` (case-insensitive). `"valid"` '
    'means no padding. `"same"` results in padding evenly to the left/right or '
    'up/down of the input. When `padding="same"` and `strides=1`, the output has the '
    "same size as the input.",
    "output_padding": "An integer or tuple/list of {rank} integers, specifying the "
    "amount of padding along each spatial dimension of the output tensor. The amount "
    "of output padding along a given dimension must be lower than the stride along "
    "that same dimension. If set to `None` (default), the output shape is inferred.",
    "data_format": 'string, either `"channels_last"` or `"channels_first"`. The '
    'ordering of the dimensions in the inputs. `"channels_last"` corresponds to '
    'inputs with shape `(batch, *spatial, channels)` while `"channels_first"` '
    "corresponds to inputs with shape `(batch, channels, *spatial)`. `None` (kerax "
    'has no global setting) means `"channels_last"`.',
    "dilation_rate": "int or tuple/list of {rank} integers, specifying the dilation "
    "rate to use for dilated convolution.",
    "groups": "A positive int specifying the number of groups in which the input is "
    "split along the channel axis. Each group is convolved separately with "
    "`filters // groups` filters. The output is the concatenation of all the "
    "`groups` results along the channel axis. Input channels and `filters` must "
    "both be divisible by `groups`.",
    "depth_multiplier": "The number of depthwise convolution output channels for each "
    "input channel. The total number of depthwise convolution output channels will "
    "be equal to `input_channel * depth_multiplier`.",
    "activation": "Activation function. If `None`, no activation is applied.",
    "use_bias": "bool, if `True`, bias will be added to the output.",
    "kernel_initializer": "Initializer for the convolution kernel (default "
    '`"glorot_uniform"`).',
    "depthwise_initializer": "Initializer for the depthwise convolution kernel "
    '(default `"glorot_uniform"`).',
    "pointwise_initializer": "Initializer for the pointwise convolution kernel "
    '(default `"glorot_uniform"`).',
    "bias_initializer": 'Initializer for the bias vector (default `"zeros"`).',
    "kernel_regularizer": "Optional regularizer for the convolution kernel.",
    "depthwise_regularizer": "Optional regularizer for the depthwise convolution "
    "kernel.",
    "pointwise_regularizer": "Optional regularizer for the pointwise convolution "
    "kernel.",
    "bias_regularizer": "Optional regularizer for the bias vector.",
    "activity_regularizer": "Optional regularizer function for the output.",
    "kernel_constraint": "Optional projection function to be applied to the kernel "
    "after being updated by an `Optimizer` (e.g. used to implement norm constraints "
    "or value constraints for layer weights). The function must take as input the "
    "unprojected variable and must return the projected variable (which must have "
    "the same shape).",
    "depthwise_constraint": "Optional projection function to be applied to the "
    "depthwise kernel after being updated by an `Optimizer`.",
    "pointwise_constraint": "Optional projection function to be applied to the "
    "pointwise kernel after being updated by an `Optimizer`.",
    "bias_constraint": "Optional projection function to be applied to the bias after "
    "being updated by an `Optimizer`.",
    "lora_rank": "Optional integer. If set, the layer's forward pass implements LoRA "
    "(Low-Rank Adaptation) with the provided rank: the kernel becomes non-trainable "
    "and a delta over it, the product of two lower-rank trainable matrices, is "
    "trained.",
    "lora_alpha": "Optional number. If set, the LoRA delta is scaled by "
    "`lora_alpha / lora_rank` (default: `lora_rank`, a scale of 1).",
}


class BaseConv(Layer):
    """What every convolution shares: argument checks, input checks, epilogue."""

    rank: ClassVar[int] = 0
    # Keras refuses strides > 1 together with dilation > 1 for (transposed)
    # convolutions, but not for depthwise and separable ones.
    strided_dilation: ClassVar[bool] = False

    def __post_init__(self):
        super().__post_init__()
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
