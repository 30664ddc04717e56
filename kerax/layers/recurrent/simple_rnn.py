"""SimpleRNNCell and SimpleRNN."""

from __future__ import annotations

from typing import Any, ClassVar

from kerax import activations
from kerax.layers.recurrent._fused_cell import (
    _DenseCell,
    gate_matmul,
)
from kerax.layers.recurrent.rnn import CellRNN


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
