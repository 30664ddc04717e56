"""SimpleRNNCell and SimpleRNN."""

from __future__ import annotations

from typing import ClassVar

from kerax import activations
from kerax.layers._args import (
    ActivationArg,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    activation_field,
    constraint_field,
    initializer_field,
    regularizer_field,
)
from kerax.layers._docs import document_args
from kerax.layers.recurrent._fields import (
    ARG_DOCS,
    rate_field,
    seed_field,
    units_field,
)
from kerax.layers.recurrent._fused_cell import (
    _DenseCell,
    gate_matmul,
)
from kerax.layers.recurrent.rnn import CellRNN


@document_args(ARG_DOCS)
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

    units: int = units_field()
    activation: ActivationArg = activation_field("tanh")
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    recurrent_initializer: InitializerArg = initializer_field("orthogonal")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    recurrent_regularizer: RegularizerArg = regularizer_field("recurrent_kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    recurrent_constraint: ConstraintArg = constraint_field("recurrent_kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
    dropout: float = rate_field()
    recurrent_dropout: float = rate_field()
    seed: int | None = seed_field()

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


@document_args(ARG_DOCS)
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

    units: int = units_field()
    activation: ActivationArg = activation_field("tanh")
    use_bias: bool = True
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    recurrent_initializer: InitializerArg = initializer_field("orthogonal")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    recurrent_regularizer: RegularizerArg = regularizer_field("recurrent_kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    activity_regularizer: RegularizerArg = regularizer_field(None)
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    recurrent_constraint: ConstraintArg = constraint_field("recurrent_kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
    dropout: float = rate_field()
    recurrent_dropout: float = rate_field()
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    seed: int | None = seed_field()
    zero_output_for_mask: bool = False

    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"
    input_ndim = 3
