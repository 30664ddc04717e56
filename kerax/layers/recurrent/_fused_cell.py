"""The built-in cells' common part: split into input projection and recurrence.

`FusedCell` lets `RNN` draw dropout masks once per sequence and project the
inputs of a whole sequence at once; the helpers apply Keras's dropout masks
(one per sequence, shared or one per gate).
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from kerax import activations
from kerax.core.layer import Layer


class FusedCell(Layer):
    """Built-in cells: a cell split into an input part and a recurrent part.

    `project_inputs` (the input matmul/conv and bias) works on one step or on
    a whole time-major sequence; `recur` is the step that needs the previous
    states. `RNN` draws the dropout masks once per sequence, may run
    `project_inputs` over the whole sequence before the loop, and scans
    `recur`. `call` (one step, Keras's `cell(inputs, states)`) composes the
    same parts, so a cell gives the same numbers alone or inside an RNN.
    """

    # Gates per cell (kernel columns are `gates * units`).
    gates: ClassVar[int] = 1

    def mask_count(self) -> int | None:
        """How many masks per input (one per gate, or None for one shared mask)."""
        return None

    def uses_dropout(self) -> bool:
        return self._applies(self.dropout) or self._applies(self.recurrent_dropout)

    @staticmethod
    def _applies(rate) -> bool:
        return 0.0 < rate < 1.0

    def dropout_masks(self, key, training, step_spec, states):
        """Per-sequence dropout masks `{"input": ..., "recurrent": ...}` (None when off).

        A mask is one array, or a tuple of one array per gate.
        """
        if not training or not self.uses_dropout():
            return {"input": None, "recurrent": None}
        self.require_key(key)
        k_in, k_rec = jax.random.split(key)
        count = self.mask_count()
        h = states[0]
        inp = (
            _masks(k_in, self.dropout, step_spec.shape, step_spec.dtype, count)
            if self._applies(self.dropout)
            else None
        )
        rec = (
            _masks(k_rec, self.recurrent_dropout, h.shape, h.dtype, count)
            if self._applies(self.recurrent_dropout)
            else None
        )
        return {"input": inp, "recurrent": rec}

    def project_inputs(self, params, x, masks):
        raise NotImplementedError

    def recur(self, params, x_proj, states, masks):
        raise NotImplementedError

    def get_initial_state(self, spec):
        """Zero states `(batch, size)` for a step input described by `spec`."""
        sizes = (
            (self.state_size,) if isinstance(self.state_size, int) else self.state_size
        )
        return tuple(jnp.zeros((spec.shape[0], size), spec.dtype) for size in sizes)

    def call(self, params, state, inputs, *, key, training, states=None):
        if states is None:
            states = self.get_initial_state(inputs)
        states = tuple(states) if isinstance(states, (list, tuple)) else (states,)
        want = 1 if isinstance(self.state_size, int) else len(self.state_size)
        if len(states) != want:
            raise ValueError(
                f"{self.describe()} has {want} state(s), got {len(states)}."
            )
        masks = self.dropout_masks(key, training, inputs, states)
        y, new_states = self.recur(
            params, self.project_inputs(params, inputs, masks), states, masks
        )
        return (y, new_states), state


def _masks(key, rate, shape, dtype, count):
    """Keras's dropout mask of ones: `1 / (1 - rate)` where kept, 0 elsewhere."""
    keep = 1.0 - rate

    def one(k):
        if keep <= 0.0:
            return jnp.zeros(shape, dtype)
        return jax.random.bernoulli(k, keep, shape).astype(dtype) / jnp.asarray(
            keep, dtype
        )

    if count is None:
        return one(key)
    return tuple(one(k) for k in jax.random.split(key, count))


def broadcast_lead(a, ndim):
    """`a` with leading axes of size 1 up to rank `ndim` (explicit: strict rank promotion)."""
    return lax.expand_dims(a, tuple(range(ndim - a.ndim))) if a.ndim < ndim else a


def lstm_update(cell, z, c, axis=-1):
    """`(h, c)` after one LSTM step from the gate pre-activations `z` (Keras's
    gate order `i, f, c, o` along `axis`); shared by LSTM and ConvLSTM cells."""
    z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=axis)
    act = activations.get(cell.activation)
    rec_act = activations.get(cell.recurrent_activation)
    c = rec_act(z_f) * c + rec_act(z_i) * act(z_c)
    return rec_act(z_o) * act(c), c


def gate_matmul(x, kernel, mask, gates):
    """`x @ kernel` with a dropout mask on `x`: none, one, or one per gate.

    `x` may carry a leading time axis that the `(batch, features)` masks lack.
    """
    if mask is None:
        return jnp.matmul(x, kernel)
    if not isinstance(mask, tuple):
        return jnp.matmul(x * broadcast_lead(mask, x.ndim), kernel)
    kernels = jnp.split(kernel, gates, axis=-1)
    return jnp.concatenate(
        [jnp.matmul(x * broadcast_lead(m, x.ndim), k) for m, k in zip(mask, kernels)],
        axis=-1,
    )


class _DenseCell(FusedCell):
    """Shared parts of the three dense cells: params, projection, checks."""

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
