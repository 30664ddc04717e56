"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D and their cell."""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from kerax.layers.recurrent._fused_cell import FusedCell, broadcast_lead, lstm_update
from kerax.layers.recurrent.rnn import CellRNN

_SPATIAL = "DHW"


def _tuple(layer, name, rank, allow_zero=False):
    value = getattr(layer, name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    ok = (
        isinstance(value, tuple)
        and len(value) == rank
        and all(
            isinstance(v, int) and (v > 0 or (allow_zero and v == 0)) for v in value
        )
    )
    if not ok:
        raise ValueError(
            f"{layer.describe()}: `{name}` must be an int or a tuple of {rank} positive ints, got {value!r}."
        )
    object.__setattr__(layer, name, value)


def _normalize_conv_config(layer, rank):
    _tuple(layer, "kernel_size", rank)
    _tuple(layer, "strides", rank, allow_zero=True)
    _tuple(layer, "dilation_rate", rank)
    padding = layer.padding.lower() if isinstance(layer.padding, str) else layer.padding
    if padding not in ("valid", "same"):
        raise ValueError(
            f"{layer.describe()}: `padding` must be 'valid' or 'same', got {layer.padding!r}."
        )
    object.__setattr__(layer, "padding", padding)
    data_format = "channels_last" if layer.data_format is None else layer.data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer.describe()}: `data_format` must be 'channels_last' or 'channels_first', got {data_format!r}."
        )
    object.__setattr__(layer, "data_format", data_format)
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(
            f"{layer.describe()}: strides > 1 is not compatible with dilation_rate > 1, got "
            f"strides={layer.strides} and dilation_rate={layer.dilation_rate}."
        )
    if (
        not isinstance(layer.filters, int)
        or isinstance(layer.filters, bool)
        or layer.filters <= 0
    ):
        raise ValueError(
            f"{layer.describe()}: `filters` must be a positive int, got {layer.filters!r}."
        )


class ConvLSTMCell(FusedCell):
    """One step of a convolutional LSTM (the cell inside `ConvLSTM1D/2D/3D`).

    Like Keras's: gates `i, f, c, o` along the last axis of `kernel`
    `(*kernel_size, channels, 4 * filters)` and `recurrent_kernel`
    `(*kernel_size, filters, 4 * filters)`; the input convolution uses
    `strides`, `padding` and `dilation_rate`, the recurrent one stride 1 and
    "same" padding. States `(h, c)` have the input convolution's output shape.
    """

    rank: int = 2
    filters: int = None
    kernel_size: Any = None
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    activation: Any = "tanh"
    recurrent_activation: Any = "sigmoid"
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
    unit_forget_bias: bool = True
    kernel_regularizer: Any = None
    recurrent_regularizer: Any = None
    bias_regularizer: Any = None
    kernel_constraint: Any = None
    recurrent_constraint: Any = None
    bias_constraint: Any = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    seed: int | None = None

    gates: ClassVar[int] = 4

    def __post_init__(self):
        super().__post_init__()
        if self.rank not in (1, 2, 3):
            raise ValueError(
                f"{self.describe()}: `rank` must be 1, 2 or 3, got {self.rank!r}."
            )
        _normalize_conv_config(self, self.rank)
        self._clamp_dropout()

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

    filters: int = None
    kernel_size: Any = None
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    activation: Any = "tanh"
    recurrent_activation: Any = "sigmoid"
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
    unit_forget_bias: bool = True
    kernel_regularizer: Any = None
    recurrent_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    kernel_constraint: Any = None
    recurrent_constraint: Any = None
    bias_constraint: Any = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    seed: int | None = None
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

    def __post_init__(self):
        super().__post_init__()
        # The cell normalized the conv arguments (ints -> tuples, data_format): mirror them.
        for f in ("kernel_size", "strides", "dilation_rate", "padding", "data_format"):
            object.__setattr__(self, f, getattr(self.cell, f))

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
