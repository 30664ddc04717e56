"""SimpleRNN, LSTM and GRU: their cells and the layers that scan them."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from kerax import activations
from kerax.layers._rnn_base import RNNBase
from kerax.layers._rnn_fused import (
    FusedCell,
    broadcast_lead,
    gate_matmul,
    lstm_update,
)


def _check_units(layer) -> None:
    if (
        not isinstance(layer.units, int)
        or isinstance(layer.units, bool)
        or layer.units <= 0
    ):
        raise ValueError(
            f"{layer.describe()}: `units` must be a positive int, got {layer.units!r}."
        )


class _DenseCell(FusedCell):
    """Shared parts of the three dense cells: params, projection, checks."""

    def __post_init__(self):
        super().__post_init__()
        _check_units(self)
        self._clamp_dropout()

    @property
    def output_size(self) -> int:
        return self.units

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)

    def _bias(self, key):
        shape = (self.gates * self.units,)
        return self.bias_initializer(key, shape, jnp.float32)

    def build(self, key, spec):
        k_kernel, k_rec, k_bias = jax.random.split(key, 3)
        units = self.gates * self.units
        params = {
            "kernel": self.kernel_initializer(
                k_kernel, (spec.shape[-1], units), jnp.float32
            ),
            "recurrent_kernel": self.recurrent_initializer(
                k_rec, (self.units, units), jnp.float32
            ),
        }
        if self.use_bias:
            params["bias"] = self._bias(k_bias)
        return params, {}

    def _input_bias(self, params):
        return params["bias"]

    def project_inputs(self, params, x, masks):
        z = gate_matmul(x, params["kernel"], masks["input"], self.gates)
        if self.use_bias:
            z = z + broadcast_lead(self._input_bias(params), z.ndim)
        return z

    def axes(self):
        return {
            "kernel": ("embed", "mlp"),
            "recurrent_kernel": (None, "mlp"),
            "bias": ("mlp",),
        }


class SimpleRNNCell(_DenseCell):
    """One step of a fully connected RNN, like `keras.layers.SimpleRNNCell`.

    `h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)`; the output
    is the new state. Call: `((output, (h,)), state) = cell.apply(params,
    state, x_t, states=(h_prev,))` (zero states when `states` is omitted).

    Example:
        >>> cell = kerax.layers.SimpleRNNCell(4)
        >>> params, state = cell.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> (y, (h,)), _ = cell.apply(params, state, jnp.ones((2, 3)))
        >>> y.shape
        (2, 4)
    """

    units: int = None
    activation: Any = "tanh"
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    recurrent_regularizer: Any = None
    bias_regularizer: Any = None
    kernel_constraint: Any = None
    recurrent_constraint: Any = None
    bias_constraint: Any = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    seed: int | None = None

    gates: ClassVar[int] = 1

    @property
    def state_size(self) -> int:
        return self.units

    @staticmethod
    def _applies(rate) -> bool:
        return (
            rate > 0.0
        )  # Keras's SimpleRNNCell drops for any positive rate, 1.0 included.

    def recur(self, params, x_proj, states, masks):
        (h,) = states
        y = x_proj + gate_matmul(h, params["recurrent_kernel"], masks["recurrent"], 1)
        y = activations.get(self.activation)(y)
        return y, (y,)


class LSTMCell(_DenseCell):
    """One step of a long short-term memory, like `keras.layers.LSTMCell`.

    Gates in Keras's order `i, f, c, o` along the last axis of `kernel`
    `(features, 4 * units)`, `recurrent_kernel` `(units, 4 * units)` and
    `bias` `(4 * units,)`. States are `(h, c)`; the output is `h`.
    `unit_forget_bias` adds 1 to the forget gate's bias at initialization.

    Example:
        >>> cell = kerax.layers.LSTMCell(4)
        >>> params, state = cell.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> (y, (h, c)), _ = cell.apply(params, state, jnp.ones((2, 3)))
        >>> params["kernel"].shape
        (3, 16)
    """

    units: int = None
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

    @property
    def state_size(self) -> tuple:
        return (self.units, self.units)

    def mask_count(self):
        # Keras switches to per-gate masks ("implementation 1") with recurrent dropout.
        return self.gates if self.recurrent_dropout != 0.0 else None

    def _bias(self, key):
        if not self.unit_forget_bias:
            return super()._bias(key)
        k1, k2 = jax.random.split(key)
        u = self.units
        return jnp.concatenate(
            [
                self.bias_initializer(k1, (u,), jnp.float32),
                jnp.ones((u,), jnp.float32),
                self.bias_initializer(k2, (2 * u,), jnp.float32),
            ]
        )

    def recur(self, params, x_proj, states, masks):
        h, c = states
        z = x_proj + gate_matmul(h, params["recurrent_kernel"], masks["recurrent"], 4)
        h, c = lstm_update(self, z, c)
        return h, (h, c)


class GRUCell(_DenseCell):
    """One step of a gated recurrent unit, like `keras.layers.GRUCell`.

    Gates in Keras's order `z, r, h`: `kernel` `(features, 3 * units)`,
    `recurrent_kernel` `(units, 3 * units)`. With `reset_after=True` (the
    default, cuDNN-compatible) the reset gate applies after the recurrent
    matmul and `bias` is `(2, 3 * units)`: input bias and recurrent bias.
    With `reset_after=False` it applies before, and `bias` is `(3 * units,)`.

    Example:
        >>> cell = kerax.layers.GRUCell(4)
        >>> params, _ = cell.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> params["bias"].shape
        (2, 12)
    """

    units: int = None
    activation: Any = "tanh"
    recurrent_activation: Any = "sigmoid"
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    recurrent_regularizer: Any = None
    bias_regularizer: Any = None
    kernel_constraint: Any = None
    recurrent_constraint: Any = None
    bias_constraint: Any = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    reset_after: bool = True
    seed: int | None = None

    gates: ClassVar[int] = 3

    @property
    def state_size(self) -> int:
        return self.units

    def mask_count(self):
        return self.gates if self.recurrent_dropout != 0.0 else None

    def _bias(self, key):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return self.bias_initializer(key, shape, jnp.float32)

    def _input_bias(self, params):
        return params["bias"][0] if self.reset_after else params["bias"]

    def recur(self, params, x_proj, states, masks):
        (h,) = states
        rec_mask = masks["recurrent"]  # None or one mask per gate.
        kernel = params["recurrent_kernel"]
        x_z, x_r, x_h = jnp.split(x_proj, 3, axis=-1)
        act, rec_act = (
            activations.get(self.activation),
            activations.get(self.recurrent_activation),
        )
        if self.reset_after:
            inner = gate_matmul(h, kernel, rec_mask, 3)
            if self.use_bias:
                inner = inner + broadcast_lead(params["bias"][1], inner.ndim)
            r_z, r_r, r_h = jnp.split(inner, 3, axis=-1)
            z, r = rec_act(x_z + r_z), rec_act(x_r + r_r)
            hh = act(x_h + r * r_h)
        else:
            k_zr, k_h = kernel[:, : 2 * self.units], kernel[:, 2 * self.units :]
            inner = gate_matmul(h, k_zr, None if rec_mask is None else rec_mask[:2], 2)
            r_z, r_r = jnp.split(inner, 2, axis=-1)
            z, r = rec_act(x_z + r_z), rec_act(x_r + r_r)
            h_h = h if rec_mask is None else h * rec_mask[2]
            hh = act(x_h + jnp.matmul(r * h_h, k_h))
        h = z * h + (1 - z) * hh
        return h, (h,)

    def axes(self):
        return {
            **super().axes(),
            "bias": (None, "mlp") if self.reset_after else ("mlp",),
        }


class CellRNN(RNNBase):
    """An RNN layer whose cell is built from its own fields (SimpleRNN, LSTM, GRU, ConvLSTM).

    The cell gets Keras's fixed name (`lstm_cell`, ...), so params nest as
    Keras's variables do: `params["lstm_cell"]["kernel"]` is
    `lstm/lstm_cell/kernel`.
    """

    cell_class: ClassVar[type] = None
    cell_name: ClassVar[str] = None

    def __post_init__(self):
        super().__post_init__()
        self._check_rnn_config()
        use_cudnn = getattr(self, "use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                f"{self.describe()}: `use_cudnn` must be 'auto', True or False, got {use_cudnn!r}."
            )
        mine = {f.name for f in dataclasses.fields(self)}
        kwargs = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self.cell_class)
            if f.name in mine and f.name != "name"
        }
        kwargs.update(self._cell_kwargs())
        try:
            cell = self.cell_class(**kwargs, name=self.cell_name)
        except ValueError as e:
            raise ValueError(
                str(e).replace(
                    f"{self.cell_class.__name__} '{self.cell_name}'", self.describe()
                )
            ) from None
        object.__setattr__(self, "_cell", cell)
        # Keras reports the cell's clamped dropout rates in the layer's config.
        object.__setattr__(self, "dropout", cell.dropout)
        object.__setattr__(self, "recurrent_dropout", cell.recurrent_dropout)

    def _cell_kwargs(self) -> dict:
        """Cell arguments that are not fields of the layer."""
        return {}

    @property
    def cell(self):
        return self._cell


class SimpleRNN(CellRNN):
    """A fully connected RNN, like `keras.layers.SimpleRNN`.

    Params: `params["simple_rnn_cell"]` with `kernel`, `recurrent_kernel`,
    `bias` (Keras's `simple_rnn/simple_rnn_cell/...`). `dropout` and
    `recurrent_dropout` need a `key` in training; their masks are drawn once
    per sequence, as in Keras. `seed` is accepted for Keras compatibility:
    kerax's randomness comes from `key`. `stateful=True` is refused: pass
    `initial_state=` instead.

    Example:
        >>> rnn = kerax.layers.SimpleRNN(4, return_sequences=True)
        >>> params, state = rnn.init(jax.random.key(0), kerax.spec((None, 5, 3)))
        >>> rnn.apply(params, state, jnp.ones((2, 5, 3)))[0].shape
        (2, 5, 4)
    """

    units: int = None
    activation: Any = "tanh"
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    recurrent_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    kernel_constraint: Any = None
    recurrent_constraint: Any = None
    bias_constraint: Any = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    seed: int | None = None
    zero_output_for_mask: bool = False

    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"
    input_ndim = 3


class LSTM(CellRNN):
    """Long short-term memory, like `keras.layers.LSTM` (Hochreiter 1997).

    Params: `params["lstm_cell"]` with `kernel` `(features, 4 * units)`,
    `recurrent_kernel` `(units, 4 * units)`, `bias` `(4 * units,)`, gates
    `i, f, c, o` (Keras's `lstm/lstm_cell/...`). With `return_state=True` the
    output is `(output, h, c)`. The input projection of the whole sequence is
    one matmul; the scan carries only the recurrent part. `use_cudnn` is
    accepted for Keras compatibility (XLA picks the kernels); `seed` likewise
    (randomness comes from `key`).

    Example:
        >>> lstm = kerax.layers.LSTM(4, return_state=True)
        >>> params, state = lstm.init(jax.random.key(0), kerax.spec((None, 5, 3)))
        >>> (y, h, c), _ = lstm.apply(params, state, jnp.ones((2, 5, 3)))
        >>> params["lstm_cell"]["kernel"].shape
        (3, 16)
    """

    units: int = None
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
    use_cudnn: Any = "auto"
    zero_output_for_mask: bool = False

    cell_class = LSTMCell
    cell_name = "lstm_cell"
    input_ndim = 3


class GRU(CellRNN):
    """Gated recurrent unit, like `keras.layers.GRU` (Cho et al. 2014).

    Params: `params["gru_cell"]` with `kernel` `(features, 3 * units)`,
    `recurrent_kernel` `(units, 3 * units)` and `bias`: `(2, 3 * units)` with
    `reset_after=True` (default), `(3 * units,)` without; gates `z, r, h`.
    `use_cudnn` and `seed` are accepted for Keras compatibility.

    Example:
        >>> gru = kerax.layers.GRU(4, reset_after=False)
        >>> params, state = gru.init(jax.random.key(0), kerax.spec((None, 5, 3)))
        >>> gru.apply(params, state, jnp.ones((2, 5, 3)))[0].shape
        (2, 4)
    """

    units: int = None
    activation: Any = "tanh"
    recurrent_activation: Any = "sigmoid"
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
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
    reset_after: bool = True
    use_cudnn: Any = "auto"
    zero_output_for_mask: bool = False

    cell_class = GRUCell
    cell_name = "gru_cell"
    input_ndim = 3
