"""SimpleRNN, LSTM and GRU: their cells and the layers that scan them."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

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
    use_cudnn_field,
)
from kerax.layers.recurrent._fused_cell import (
    _DenseCell,
    gate_matmul,
    lstm_update,
)
from kerax.layers.recurrent.rnn import CellRNN


@document_args(ARG_DOCS)
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

    units: int = units_field()
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


@document_args(ARG_DOCS)
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

    units: int = units_field()
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
    use_cudnn: bool | str = use_cudnn_field()
    zero_output_for_mask: bool = False

    cell_class = LSTMCell
    cell_name = "lstm_cell"
    input_ndim = 3
