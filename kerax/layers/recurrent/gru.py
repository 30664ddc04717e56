"""GRUCell and GRU."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

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
    use_cudnn_field,
)
from kerax.layers.recurrent._fused_cell import (
    _DenseCell,
    broadcast_lead,
    gate_matmul,
)
from kerax.layers.recurrent.rnn import CellRNN


@document_args(ARG_DOCS)
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

    units: int = units_field()
    activation: ActivationArg = activation_field("tanh")
    recurrent_activation: ActivationArg = activation_field("sigmoid")
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
    reset_after: bool = True
    seed: int | None = seed_field()

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


@document_args(ARG_DOCS)
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

    units: int = units_field()
    activation: ActivationArg = activation_field("tanh")
    recurrent_activation: ActivationArg = activation_field("sigmoid")
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
    seed: int | None = seed_field()
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    reset_after: bool = True
    use_cudnn: bool | str = use_cudnn_field()
    zero_output_for_mask: bool = False

    cell_class = GRUCell
    cell_name = "gru_cell"
    input_ndim = 3
