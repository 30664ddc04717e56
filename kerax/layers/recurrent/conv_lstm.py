"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D and their cell."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core.fields import field
from kerax.layers import _args
from kerax.layers._args import (
    ActivationArg,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    activation_field,
    constraint_field,
    data_format_field,
    initializer_field,
    int_tuple,
    is_int,
    positive_int,
    regularizer_field,
)
from kerax.layers._docs import document_args
from kerax.layers.recurrent._fields import (
    ARG_DOCS,
    rate_field,
    seed_field,
)
from kerax.layers.recurrent._fused_cell import FusedCell, broadcast_lead, lstm_update
from kerax.layers.recurrent.rnn import CellRNN

_SPATIAL = "DHW"


def _spatial_tuple(value) -> tuple[int, ...]:
    """The cell's per-axis ints, already normalized by its layer to `rank` ints."""
    if not isinstance(value, tuple | list) or not all(
        is_int(v) and v >= 0 for v in value
    ):
        raise ValueError(
            f"expected a tuple of non-negative ints (one per spatial axis), got {value!r}."
        )
    return tuple(int(v) for v in value)


def _spatial_field(rank: int, default=dataclasses.MISSING, *, allow_zero=False):
    return field(default, converter=int_tuple(rank, allow_zero=allow_zero))


class ConvLSTMCell(FusedCell):
    """One step of a convolutional LSTM (the cell inside `ConvLSTM1D/2D/3D`).

    Like Keras's: gates `i, f, c, o` along the last axis of `kernel`
    `(*kernel_size, channels, 4 * filters)` and `recurrent_kernel`
    `(*kernel_size, filters, 4 * filters)`; the input convolution uses
    `strides`, `padding` and `dilation_rate`, the recurrent one stride 1 and
    "same" padding. States `(h, c)` have the input convolution's output shape.
    """

    rank: int = field(converter=positive_int)
    filters: int = field(converter=positive_int)
    kernel_size: tuple[int, ...] = field(converter=_spatial_tuple)
    strides: tuple[int, ...] = field((1,), converter=_spatial_tuple)
    padding: str = field("valid", converter=_args.padding("valid", "same"))
    data_format: str = data_format_field()
    dilation_rate: tuple[int, ...] = field((1,), converter=_spatial_tuple)
    activation: ActivationArg = activation_field("tanh")
    recurrent_activation: ActivationArg = activation_field("sigmoid")
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    recurrent_initializer: InitializerArg = initializer_field("orthogonal")
    bias_initializer: InitializerArg = initializer_field("zeros")
    unit_forget_bias: bool = True
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    recurrent_regularizer: RegularizerArg = regularizer_field("recurrent_kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    recurrent_constraint: ConstraintArg = constraint_field("recurrent_kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
    dropout: float = rate_field()
    recurrent_dropout: float = rate_field()
    seed: int | None = seed_field()

    gates: ClassVar[int] = 4

    def __post_init__(self):
        super().__post_init__()
        if self.rank not in (1, 2, 3):
            raise ValueError(
                f"{self.describe()}: `rank` must be 1, 2 or 3, got {self.rank!r}."
            )
        for name in ("kernel_size", "strides", "dilation_rate"):
            if len(getattr(self, name)) != self.rank:
                raise ValueError(
                    f"{self.describe()}: `{name}` must hold {self.rank} ints (rank={self.rank}), got {getattr(self, name)!r}."
                )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{self.describe()}: strides > 1 is not compatible with dilation_rate > 1, got "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}."
            )

    @property
    def state_size(self) -> tuple:
        return (self.filters, self.filters)

    @property
    def output_size(self) -> int:
        return self.filters

    def mask_count(self):
        return self.gates  # Keras's ConvLSTMCell always draws one mask per gate.

    @property
    def _channel_axis(self) -> int:
        # Counted from the end: the same axis with or without a leading time axis.
        return -1 if self.data_format == "channels_last" else -(self.rank + 1)

    def check_input(self, spec):
        self.expect_ndim(
            spec, ndim=self.rank + 2, what="step inputs (batch, *spatial, channels)"
        )

    def build(self, key, spec):
        k_kernel, k_rec, k_b1, k_b2 = jax.random.split(key, 4)
        channels = spec.shape[self._channel_axis]
        f = self.filters
        params = {
            "kernel": self.kernel_initializer(
                k_kernel, (*self.kernel_size, channels, 4 * f), jnp.float32
            ),
            "recurrent_kernel": self.recurrent_initializer(
                k_rec, (*self.kernel_size, f, 4 * f), jnp.float32
            ),
        }
        if self.use_bias:
            if self.unit_forget_bias:
                params["bias"] = jnp.concatenate(
                    [
                        self.bias_initializer(k_b1, (f,), jnp.float32),
                        jnp.ones((f,), jnp.float32),
                        self.bias_initializer(k_b2, (2 * f,), jnp.float32),
                    ]
                )
            else:
                params["bias"] = self.bias_initializer(k_b1, (4 * f,), jnp.float32)
        return params, {}

    def _dimension_numbers(self):
        spatial = _SPATIAL[3 - self.rank :]
        lhs = (
            "N" + spatial + "C"
            if self.data_format == "channels_last"
            else "NC" + spatial
        )
        return (lhs, spatial + "IO", lhs)

    def _conv(self, x, kernel, strides, padding, dilation):
        """A convolution over any number of leading (time, batch) dims."""
        lead = x.shape[: x.ndim - self.rank - 1]
        flat = x.reshape((-1, *x.shape[x.ndim - self.rank - 1 :]))
        y = lax.conv_general_dilated(
            flat,
            kernel,
            strides,
            padding.upper(),
            rhs_dilation=dilation,
            dimension_numbers=self._dimension_numbers(),
        )
        return y.reshape((*lead, *y.shape[1:]))

    def _gated_conv(self, x, kernel, mask, **conv):
        if not isinstance(mask, tuple):
            return self._conv(
                x if mask is None else x * broadcast_lead(mask, x.ndim), kernel, **conv
            )
        parts = jnp.split(kernel, 4, axis=-1)
        return jnp.concatenate(
            [
                self._conv(x * broadcast_lead(m, x.ndim), k, **conv)
                for m, k in zip(mask, parts)
            ],
            axis=self._channel_axis,
        )

    def _bias_shape(self, ndim):
        shape = [1] * ndim
        shape[self._channel_axis] = -1
        return tuple(shape)

    def project_inputs(self, params, x, masks):
        z = self._gated_conv(
            x,
            params["kernel"],
            masks["input"],
            strides=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
        )
        if self.use_bias:
            z = z + params["bias"].reshape(self._bias_shape(z.ndim))
        return z

    def recur(self, params, x_proj, states, masks):
        h, c = states
        ones = (1,) * self.rank
        z = x_proj + self._gated_conv(
            h,
            params["recurrent_kernel"],
            masks["recurrent"],
            strides=ones,
            padding="same",
            dilation=ones,
        )
        h, c = lstm_update(self, z, c, axis=self._channel_axis)
        return h, (h, c)

    def get_initial_state(self, spec):
        channels = spec.shape[self._channel_axis]
        kernel = jax.ShapeDtypeStruct(
            (*self.kernel_size, channels, self.filters), spec.dtype
        )
        out = jax.eval_shape(
            lambda x, k: self._conv(
                x,
                k,
                strides=self.strides,
                padding=self.padding,
                dilation=self.dilation_rate,
            ),
            jax.ShapeDtypeStruct(spec.shape, spec.dtype),
            kernel,
        )
        zeros = jnp.zeros(out.shape, spec.dtype)
        return (zeros, zeros)

    def axes(self):
        lead = (None,) * self.rank
        return {
            "kernel": (*lead, "conv_in", "conv_out"),
            "recurrent_kernel": (*lead, None, "conv_out"),
            "bias": ("conv_out",),
        }


class _ConvLSTM(CellRNN):
    """Shared by ConvLSTM1D/2D/3D: Keras's fields; the cell gets the class's `rank`."""

    filters: int = field(converter=positive_int)
    kernel_size: tuple[int, ...] = field()
    strides: tuple[int, ...] = field(1)
    padding: str = field("valid", converter=_args.padding("valid", "same"))
    data_format: str = data_format_field()
    dilation_rate: tuple[int, ...] = field(1)
    activation: ActivationArg = activation_field("tanh")
    recurrent_activation: ActivationArg = activation_field("sigmoid")
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    recurrent_initializer: InitializerArg = initializer_field("orthogonal")
    bias_initializer: InitializerArg = initializer_field("zeros")
    unit_forget_bias: bool = True
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    recurrent_regularizer: RegularizerArg = regularizer_field("recurrent_kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    recurrent_constraint: ConstraintArg = constraint_field("recurrent_kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
    dropout: float = rate_field()
    recurrent_dropout: float = rate_field()
    seed: int | None = seed_field()
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False

    rank: ClassVar[int] = 2
    cell_class = ConvLSTMCell
    cell_name = "conv_lstm_cell"

    def _cell_kwargs(self):
        return {"rank": self.rank}

    @property
    def input_ndim(self):
        return self.rank + 3

    def check_input(self, spec, *rest):
        super().check_input(spec, *rest)
        cell = self.cell
        spatial = (
            spec.shape[2:-1] if cell.data_format == "channels_last" else spec.shape[3:]
        )
        if any(not isinstance(d, int) for d in spatial):
            raise ValueError(
                f"{self.describe()}: the spatial dimensions must be static, got inputs {spec.shape}."
            )


@document_args(ARG_DOCS)
class ConvLSTM1D(_ConvLSTM):
    """A 1D convolutional LSTM, like `keras.layers.ConvLSTM1D`.

    Inputs `(batch, time, steps, channels)` (channels_last). Params:
    `params["conv_lstm_cell"]` with `kernel`, `recurrent_kernel`, `bias`.

    Example:
        >>> layer = kerax.layers.ConvLSTM1D(4, 3, padding="same")
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 5, 8, 2)))
        >>> layer.apply(params, state, jnp.ones((2, 5, 8, 2)))[0].shape
        (2, 8, 4)
    """

    rank = 1
    kernel_size: tuple[int] = _spatial_field(1)
    strides: tuple[int] = _spatial_field(1, 1, allow_zero=True)
    dilation_rate: tuple[int] = _spatial_field(1, 1)


@document_args(ARG_DOCS)
class ConvLSTM2D(_ConvLSTM):
    """A 2D convolutional LSTM, like `keras.layers.ConvLSTM2D` (Shi et al. 2015).

    Inputs `(batch, time, rows, cols, channels)` (channels_last) or
    `(batch, time, channels, rows, cols)`. Params: `params["conv_lstm_cell"]`
    with `kernel` `(kh, kw, channels, 4 * filters)`, `recurrent_kernel`
    `(kh, kw, filters, 4 * filters)`, `bias` `(4 * filters,)`.

    Example:
        >>> layer = kerax.layers.ConvLSTM2D(4, 3, return_sequences=True)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3, 6, 6, 2)))
        >>> layer.apply(params, state, jnp.ones((2, 3, 6, 6, 2)))[0].shape
        (2, 3, 4, 4, 4)
    """

    rank = 2
    kernel_size: tuple[int, int] = _spatial_field(2)
    strides: tuple[int, int] = _spatial_field(2, 1, allow_zero=True)
    dilation_rate: tuple[int, int] = _spatial_field(2, 1)


@document_args(ARG_DOCS)
class ConvLSTM3D(_ConvLSTM):
    """A 3D convolutional LSTM, like `keras.layers.ConvLSTM3D`.

    Inputs `(batch, time, d1, d2, d3, channels)` (channels_last).

    Example:
        >>> layer = kerax.layers.ConvLSTM3D(2, 2)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 2, 3, 3, 3, 1)))
        >>> layer.apply(params, state, jnp.ones((1, 2, 3, 3, 3, 1)))[0].shape
        (1, 2, 2, 2, 2)
    """

    rank = 3
    kernel_size: tuple[int, int, int] = _spatial_field(3)
    strides: tuple[int, int, int] = _spatial_field(3, 1, allow_zero=True)
    dilation_rate: tuple[int, int, int] = _spatial_field(3, 1)
