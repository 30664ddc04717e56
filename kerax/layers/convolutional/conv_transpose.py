"""Conv1DTranspose, Conv2DTranspose and Conv3DTranspose."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import (
    ActivationArg,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    activation_field,
    constraint_field,
    data_format_field,
    initializer_field,
    positive_int,
    regularizer_field,
)
from kerax.layers._docs import document_args
from kerax.layers.convolutional._ops import conv_transpose
from kerax.layers.convolutional.base_conv import (
    ARG_DOCS,
    BaseConv,
    optional_spatial_field,
    padding_field,
    spatial_field,
)


class _BaseConvTranspose(BaseConv):
    """Code of the transposed convolutions (fields are declared per class)."""

    def __post_init__(self):
        super().__post_init__()
        op = self.output_padding
        if op is not None:
            for i, (p, s) in enumerate(zip(op, self.strides)):
                if p >= s:
                    raise ValueError(
                        f"{self.describe()}: `output_padding` must be smaller than `strides` in every dimension; "
                        f"at dimension {i} got output_padding={op} and strides={self.strides}."
                    )

    def build(self, key, spec):
        k_kernel, k_bias = jax.random.split(key)
        shape = (*self.kernel_size, self.filters, self.in_channels(spec))
        params = {"kernel": self.kernel_initializer(k_kernel, shape, jnp.float32)}
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.filters,), jnp.float32)
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        y = conv_transpose(
            x,
            params["kernel"],
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return self.finish(params, y), state

    def axes(self):
        return {
            "kernel": (None,) * self.rank + ("conv_out", "conv_in"),
            "bias": ("conv_out",),
        }


class _ConvTranspose(_BaseConvTranspose):
    """Fields of `Conv1DTranspose` and `Conv2DTranspose`, in Keras's order."""

    filters: int = field(converter=positive_int)
    kernel_size: tuple[int, ...] = field()
    strides: tuple[int, ...] = field(1)
    padding: str = padding_field("valid", "same")
    output_padding: tuple[int, ...] | None = None
    data_format: str = data_format_field()
    dilation_rate: tuple[int, ...] = field(1)
    activation: ActivationArg = activation_field()
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")


@document_args(ARG_DOCS)
class Conv1DTranspose(_ConvTranspose):
    """1D transposed convolution, like `keras.layers.Conv1DTranspose`.

    Example:
        >>> conv = kerax.layers.Conv1DTranspose(4, 3, strides=2, padding="same")
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 3)))
        >>> conv.apply(params, state, jnp.ones((2, 8, 3)))[0].shape
        (2, 16, 4)
    """

    rank = 1
    kernel_size: tuple[int] = spatial_field(1)
    strides: tuple[int] = spatial_field(1, 1)
    output_padding: tuple[int] | None = optional_spatial_field(1)
    dilation_rate: tuple[int] = spatial_field(1, 1)


@document_args(ARG_DOCS)
class Conv2DTranspose(_ConvTranspose):
    """2D transposed convolution, like `keras.layers.Conv2DTranspose`.

    The kernel is `(kh, kw, filters, in_channels)`, as in Keras.

    Example:
        >>> conv = kerax.layers.Conv2DTranspose(4, 3, strides=2)
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 8, 8, 3)))
        >>> params["kernel"].shape
        (3, 3, 4, 3)
        >>> conv.apply(params, state, jnp.ones((2, 8, 8, 3)))[0].shape
        (2, 17, 17, 4)
    """

    rank = 2
    kernel_size: tuple[int, int] = spatial_field(2)
    strides: tuple[int, int] = spatial_field(2, 1)
    output_padding: tuple[int, int] | None = optional_spatial_field(2)
    dilation_rate: tuple[int, int] = spatial_field(2, 1)


@document_args(ARG_DOCS)
class Conv3DTranspose(_BaseConvTranspose):
    """3D transposed convolution, like `keras.layers.Conv3DTranspose`.

    Keras puts `data_format` before `output_padding` here (unlike 1D/2D);
    the positional order follows it.

    Example:
        >>> conv = kerax.layers.Conv3DTranspose(2, 2, strides=2)
        >>> params, state = conv.init(jax.random.key(0), kerax.spec((None, 4, 4, 4, 3)))
        >>> conv.apply(params, state, jnp.ones((1, 4, 4, 4, 3)))[0].shape
        (1, 8, 8, 8, 2)
    """

    rank = 3

    filters: int = field(converter=positive_int)
    kernel_size: tuple[int, int, int] = spatial_field(3)
    strides: tuple[int, int, int] = spatial_field(3, 1)
    padding: str = padding_field("valid", "same")
    data_format: str = data_format_field()
    output_padding: tuple[int, int, int] | None = optional_spatial_field(3)
    dilation_rate: tuple[int, int, int] = spatial_field(3, 1)
    activation: ActivationArg = activation_field()
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
