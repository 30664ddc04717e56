"""The cell protocol's helpers and the scan over time that every recurrent layer runs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core import aux_losses
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str


# ----------------------------------------------------------------- cell helpers
def _step_spec(spec):
    """The spec of one time step of a `(batch, time, ...)` sequence.

    Nested sequences (a tuple or dict of them, as Keras's nested-input cells
    take) give the same structure of step specs.
    """
    return jax.tree.map(
        lambda s: jax.ShapeDtypeStruct((s.shape[0], *s.shape[2:]), s.dtype), spec
    )


def _freeze_states(value):
    if isinstance(value, (list, tuple)):
        return tuple(_freeze_states(v) for v in value)
    return value


def check_cell(cell, owner: str) -> None:
    """Raises unless `cell` follows the kerax cell protocol."""
    if not isinstance(cell, Layer):
        raise TypeError(
            f"{owner}: a cell must be a kerax Layer with a `state_size` and "
            f"`call(params, state, inputs, *, states, key, training)`, got {cell!r}."
        )
    size = getattr(cell, "state_size", None)
    if not isinstance(size, (int, tuple, list)):
        raise ValueError(
            f"{owner}: the cell {cell.describe()} needs a `state_size` attribute: an int (one state) "
            f"or a tuple of ints (one per state), got {size!r}."
        )


def num_states(cell) -> int:
    """How many entries the cell's `states` tuple has."""
    size = cell.state_size
    return 1 if isinstance(size, int) else len(size)


def canonical_states(cell, value, owner: str):
    """`value` as the cell's `states` tuple: one entry per `state_size` entry.

    A single-state cell also takes a bare array; lists become tuples.
    """
    # A stack (`StackedRNNCells`, found by its `cells` so that this module
    # need not import it): one states entry per cell.
    if isinstance(getattr(cell, "cells", None), tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(cell.cells):
            raise ValueError(
                f"{owner}: states for {cell.describe()} must be a list with one entry per cell "
                f"({len(cell.cells)}), got {_describe_tree(value)}."
            )
        return tuple(canonical_states(c, v, owner) for c, v in zip(cell.cells, value))
    value = _freeze_states(value)
    if not isinstance(value, tuple):
        value = (value,)
    if len(value) != num_states(cell):
        raise ValueError(
            f"{owner}: {cell.describe()} has {num_states(cell)} state(s) (state_size={cell.state_size!r}), "
            f"got {len(value)}: {_describe_tree(value)}."
        )
    return value


def _describe_tree(value) -> str:
    return str(
        jax.tree.map(
            lambda a: shape_str(a.shape) if hasattr(a, "shape") else repr(a), value
        )
    )


def initial_states(cell, spec):
    """The cell's zero states for one step input described by `spec`.

    Uses `cell.get_initial_state(spec)` when the cell defines it, else zeros
    of shape `(batch, size)` for each entry of `state_size` (an entry that is
    a shape, such as `(units_2, units_3)`, gives `(batch, units_2, units_3)`).
    """
    fn = getattr(cell, "get_initial_state", None)
    if fn is not None:
        return canonical_states(cell, fn(spec), cell.describe())
    spec = jax.tree.leaves(spec)[0]  # Nested inputs: the batch and dtype of the first.
    dtype = (
        spec.dtype
        if jnp.issubdtype(spec.dtype, jnp.floating)
        else cell.policy.compute_dtype
    )
    sizes = (
        (cell.state_size,)
        if isinstance(cell.state_size, int)
        else tuple(cell.state_size)
    )
    return tuple(jnp.zeros((spec.shape[0], *_state_shape(d)), dtype) for d in sizes)


def _state_shape(size) -> tuple[int, ...]:
    """One `state_size` entry as a shape: an int, or a shape (a tuple, a TensorShape)."""
    if isinstance(size, int):
        return (size,)
    return tuple(int(d) for d in size)


def cell_output_spec(cell, spec):
    """The spec of the cell's per-step output for step input `spec`."""
    states = jax.eval_shape(lambda: initial_states(cell, spec))
    return cell.output_spec(spec, states=states)[0]


def _first_state(states):
    """Keras's guess at the previous output: the first state (of the last cell if stacked)."""
    first = states[0]
    if isinstance(first, tuple):
        first = states[-1][0]
    return first


def _where_step(keep, new, old):
    """`new` where the step is kept (`keep`: `(batch,)`), else `old`."""
    keep = lax.expand_dims(keep, tuple(range(1, new.ndim)))
    return jnp.where(keep, new, old)


# --------------------------------------------------------------- the time loop
def run_rnn(
    step,
    xs,
    states,
    cell_state,
    *,
    mask,
    go_backwards: bool,
    unroll: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
    output_is_first_state: bool = False,
    collect_losses: bool = True,
):
    """Runs `step` over the leading (time) axis of `xs` with `lax.scan`.

    `step(x_t, states, cell_state) -> (y_t, new_states, cell_state)`.
    `xs` is time-major `(time, batch, ...)`, `mask` `(time, batch)` or None.
    Returns `(outputs, final_states, cell_state)`: `outputs` is the time-major
    sequence (in processing order, like Keras) if `return_sequences`, else the
    last output.

    Masked steps keep the previous states; their output is, as in Keras's JAX
    backend, zeros if `zero_output_for_mask`, else the first state (the
    previous output for the standard cells). Keras's unrolled loop instead
    repeats the previous *output* (zeros before the first) whatever
    `zero_output_for_mask` says; `unroll=True` reproduces that too.

    `output_is_first_state` (the built-in cells) lets an unmasked loop take
    the last output from the final states instead of carrying it;
    `collect_losses=False` (cells that add no losses) drops the per-step
    auxiliary-loss output.
    """
    masked = mask is not None
    if masked:
        carry_output = not return_sequences or unroll
    else:
        carry_output = not return_sequences and not output_is_first_state
    if carry_output:
        x_spec = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape[1:], x.dtype), xs)
        y_spec = jax.eval_shape(
            lambda x, s, c: step(x, s, c)[0], x_spec, states, cell_state
        )
        y0 = jax.tree.map(lambda y: jnp.zeros(y.shape, y.dtype), y_spec)
    else:
        y0 = None

    def body(carry, inputs):
        states, cell_state, y_prev = carry
        x_t, keep = inputs
        with aux_losses.collect() as losses:
            y, new_states, cell_state = step(x_t, states, cell_state)
        if keep is not None:
            if unroll:
                fallback = y_prev
            elif zero_output_for_mask:
                fallback = jax.tree.map(jnp.zeros_like, y)
            else:
                fallback = _first_state(states)
            y = jax.tree.map(lambda n, o: _where_step(keep, n, o), y, fallback)
            new_states = jax.tree.map(
                lambda n, o: _where_step(keep, n, o), new_states, states
            )
        carry = (new_states, cell_state, y if carry_output else None)
        extra = aux_losses.total(losses) if collect_losses else None
        return carry, (y if return_sequences else None, extra)

    length = jax.tree.leaves(xs)[0].shape[0]
    if unroll and is_symbolic(length):
        raise ValueError("unroll=True needs a fixed number of time steps.")
    (states, cell_state, last), (ys, extra) = lax.scan(
        body,
        (states, cell_state, y0),
        (xs, mask if masked else None),
        reverse=go_backwards,
        unroll=bool(unroll),
    )
    if collect_losses:
        aux_losses.add_loss(jnp.sum(extra))
    if return_sequences:
        # Keras returns the sequence in processing order.
        if go_backwards:
            ys = jax.tree.map(lambda y: jnp.flip(y, 0), ys)
        return ys, states, cell_state
    if not carry_output:
        last = _first_state(states)
    return last, states, cell_state
