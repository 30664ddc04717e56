"""The recurrent machinery: the cell protocol, `RNN` and `StackedRNNCells`.

See `kerax.layers.recurrent` for the cell protocol. This module holds what
every recurrent layer shares: the `lax.scan` over time (masks, `go_backwards`,
`unroll`, `zero_output_for_mask`, `return_sequences`, `return_state`), the
initial states, and the import hooks for Keras configs that nest layers.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core import aux_losses, naming
from kerax.core.layer import Layer, is_empty
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._rnn_fused import FusedCell


# ----------------------------------------------------------------- cell helpers
def _step_spec(spec) -> jax.ShapeDtypeStruct:
    """The spec of one time step of a `(batch, time, ...)` sequence."""
    return jax.ShapeDtypeStruct((spec.shape[0], *spec.shape[2:]), spec.dtype)


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
    if isinstance(cell, StackedRNNCells):
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
    of shape `(batch, size)` for each entry of `state_size`.
    """
    fn = getattr(cell, "get_initial_state", None)
    if fn is not None:
        return canonical_states(cell, fn(spec), cell.describe())
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
    return tuple(jnp.zeros((spec.shape[0], int(d)), dtype) for d in sizes)


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
        x_spec = jax.ShapeDtypeStruct(xs.shape[1:], xs.dtype)
        y_spec = jax.eval_shape(
            lambda x, s, c: step(x, s, c)[0], x_spec, states, cell_state
        )
        y0 = jnp.zeros(y_spec.shape, y_spec.dtype)
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
                fallback = jnp.zeros_like(y)
            else:
                fallback = _first_state(states)
            y = _where_step(keep, y, fallback)
            new_states = jax.tree.map(
                lambda n, o: _where_step(keep, n, o), new_states, states
            )
        carry = (new_states, cell_state, y if carry_output else None)
        extra = aux_losses.total(losses) if collect_losses else None
        return carry, (y if return_sequences else None, extra)

    length = xs.shape[0]
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
        return (jnp.flip(ys, 0) if go_backwards else ys), states, cell_state
    if not carry_output:
        last = _first_state(states)
    return last, states, cell_state


# ------------------------------------------------------------------ RNN layers
class RNNBase(Layer):
    """What `RNN`, `SimpleRNN`, `LSTM`, `GRU` and `ConvLSTM*` share.

    Subclasses provide `cell` (a field or a property) and the fields
    `return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`,
    `zero_output_for_mask`.
    """

    supports_masking = True
    # Lower bound on the input rank; the named layers fix it exactly.
    input_ndim: ClassVar[int | None] = None

    def _check_rnn_config(self):
        if self.stateful:
            raise ValueError(
                f"{self.describe()}: stateful=True is not supported: kerax layers keep no hidden state "
                "between calls. Call with return_state=True and pass the returned states as "
                "`initial_state=` to the next call instead."
            )
        for f in (
            "return_sequences",
            "return_state",
            "go_backwards",
            "unroll",
            "zero_output_for_mask",
        ):
            if not isinstance(getattr(self, f), bool):
                raise ValueError(
                    f"{self.describe()}: `{f}` must be a bool, got {getattr(self, f)!r}."
                )

    def children(self):
        return [(self.cell.scope_name, self.cell)]

    def check_input(self, spec, *rest):
        del rest
        if self.input_ndim is not None:
            self.expect_ndim(spec, ndim=self.input_ndim)
        else:
            self.expect_ndim(spec, min_ndim=3, what="inputs (batch, time, features...)")

    def build(self, key, spec, *rest):
        del rest  # Params depend on the sequence's step shape only.
        name = self.cell.scope_name
        params, state = self.cell.init(naming.child_key(key, name), _step_spec(spec))
        return ({name: params} if not is_empty(params) else {}), (
            {name: state} if not is_empty(state) else {}
        )

    def get_initial_state(self, spec):
        """The zero initial states for sequences described by `spec` (a `(batch, time, ...)` spec)."""
        return initial_states(self.cell, _step_spec(spec))

    def call(
        self, params, state, sequences, *, key, training, mask=None, initial_state=None
    ):
        collect = aux_losses.is_collecting()
        out, aux = _jitted_forward(
            self, training, collect, params, state, sequences, key, mask, initial_state
        )
        if collect:
            aux_losses.add_loss(aux)
        return out

    def _forward(self, params, state, sequences, key, training, mask, initial_state):
        cell = self.cell
        name = cell.scope_name
        p, cell_state = params.get(name, {}), state.get(name, {})
        if self.unroll and is_symbolic(sequences.shape[1]):
            raise ValueError(
                f"{self.describe()}: unroll=True needs a fixed number of time steps, got inputs "
                f"{shape_str(sequences.shape)}. Give the time dimension in kerax.spec/Input, or use unroll=False."
            )
        step_spec = _step_spec(sequences)
        default = initial_states(cell, step_spec)
        if initial_state is None:
            states = default
        else:
            states = canonical_states(cell, initial_state, self.describe())
            self._check_initial_state(states, default)
            states = jax.tree.map(lambda s, d: jnp.asarray(s, d.dtype), states, default)

        if mask is not None:
            if isinstance(mask, (list, tuple)):
                mask = jax.tree.leaves(mask)[0]
            mask = mask.astype(bool)
            if mask.ndim > 2:  # Per feature: a step counts if any feature does.
                mask = jnp.any(mask, axis=tuple(range(2, mask.ndim)))
            mask = jnp.swapaxes(mask, 0, 1)

        ckey = naming.child_key(key, name)
        xs = jnp.swapaxes(sequences, 0, 1)  # Time first, for the scan.
        loop = functools.partial(
            run_rnn,
            mask=mask,
            go_backwards=self.go_backwards,
            unroll=self.unroll,
            return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        if isinstance(cell, FusedCell):
            # Built-in cells: dropout masks are drawn once per sequence, and the
            # input projection runs as one big matmul/conv over the whole sequence
            # before the loop. (Per-step projection, as Keras does, measured 7%
            # slower on CPU in scripts/bench_layers.py: LSTM 64->128, T=50.)
            if training and cell.uses_dropout():
                self.require_key(key)
            masks = cell.dropout_masks(ckey, training, step_spec, states)

            def fused_loop(hoist, xs, states, cell_state):
                if hoist:
                    xs = cell.project_inputs(p, xs, masks)

                def step(x_t, states, cs):
                    z = x_t if hoist else cell.project_inputs(p, x_t, masks)
                    y, new_states = cell.recur(p, z, states, masks)
                    return y, new_states, cs

                return loop(
                    step,
                    xs,
                    states,
                    cell_state,
                    output_is_first_state=True,
                    collect_losses=False,
                )

            outputs, states, cell_state = fused_loop(True, xs, states, cell_state)
        else:

            def step(x_t, states, cs):
                # The same key at every step: random draws (dropout masks) are per sequence.
                (y, new_states), cs = cell.apply(
                    p, cs, x_t, states=states, key=ckey, training=training
                )
                return y, canonical_states(cell, new_states, cell.describe()), cs

            outputs, states, cell_state = loop(step, xs, states, cell_state)
        if self.return_sequences:
            outputs = jnp.swapaxes(outputs, 0, 1)
        # Keras returns each stacked cell's states as a list: `(output, [h1, c1], [h2])`.
        result = (
            (outputs, *(list(s) if isinstance(s, tuple) else s for s in states))
            if self.return_state
            else outputs
        )
        aux_losses.add_activity_loss(self.activity_regularizer, result)
        new_state = dict(state)
        if not is_empty(cell_state):
            new_state[name] = cell_state
        return result, new_state

    def _check_initial_state(self, states, default):
        got = jax.tree.structure(states)
        want = jax.tree.structure(default)
        ok = got == want and all(
            tuple(a.shape[1:]) == tuple(b.shape[1:])
            for a, b in zip(jax.tree.leaves(states), jax.tree.leaves(default))
        )
        if not ok:
            raise ValueError(
                f"{self.describe()}: initial_state {_describe_tree(states)} does not match the cell's "
                f"states {_describe_tree(default)}."
            )

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = jax.tree.leaves(mask)[0] if jax.tree.leaves(mask) else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return (output_mask, *([None] * num_states(self.cell)))
        return output_mask


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _jitted_forward(
    layer, training, collect, params, state, sequences, key, mask, initial_state
):
    """`layer._forward` as one computation, cached per layer config and shapes.

    Eager calls then reuse the compiled loop instead of compiling a new scan
    (a new closure) every time; under an outer jit/grad/vmap it simply inlines.
    Auxiliary losses leave through the return value, never as leaked tracers.
    """
    args = (params, state, sequences, key, training, mask, initial_state)
    if not collect:
        return layer._forward(*args), jnp.zeros((), jnp.float32)
    with aux_losses.collect() as losses:
        out = layer._forward(*args)
    return out, aux_losses.total(losses)


class RNN(RNNBase):
    """Runs any recurrent cell over a sequence, like `keras.layers.RNN`.

    `cell` is a kerax cell (see `kerax.layers.recurrent` for the protocol) or
    a list of cells, which are stacked (`StackedRNNCells`). The cell's params
    sit under its name: `params["lstm_cell"]["kernel"]`, Keras's variable path
    `rnn/lstm_cell/kernel`.

    Call arguments: `apply(params, state, sequences, *, initial_state=None,
    mask=None, key=None, training=False)`. With `return_state=True` the output
    is the tuple `(output, *final_states)`.

    Example:
        >>> rnn = kerax.layers.RNN(kerax.layers.LSTMCell(4), return_sequences=True)
        >>> params, state = rnn.init(jax.random.key(0), kerax.spec((None, 5, 3)))
        >>> y, _ = rnn.apply(params, state, jnp.ones((2, 5, 3)))
        >>> y.shape
        (2, 5, 4)
    """

    cell: Any = None
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False
    # Keras takes it as a base-Layer keyword argument.
    activity_regularizer: Any = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        if isinstance(self.cell, (list, tuple)):
            object.__setattr__(self, "cell", StackedRNNCells(tuple(self.cell)))
        super().__post_init__()
        check_cell(self.cell, self.describe())
        self._check_rnn_config()

    @classmethod
    def from_keras_config(cls, config: dict):
        from kerax.interop.keras import construct_from_keras, layer_from_keras

        return construct_from_keras(cls, config, cell=layer_from_keras(config["cell"]))


class StackedRNNCells(Layer):
    """Cells applied one after another at each step, like `keras.layers.StackedRNNCells`.

    Each cell's output is the next cell's input. `states` is a tuple with one
    entry per cell (that cell's states tuple). Params nest under each cell's
    name: `params["lstm_cell"]`, `params["lstm_cell_1"]`, ...

    Example:
        >>> cells = kerax.layers.StackedRNNCells([kerax.layers.LSTMCell(4), kerax.layers.GRUCell(3)])
        >>> rnn = kerax.layers.RNN(cells)
        >>> params, _ = rnn.init(jax.random.key(0), kerax.spec((None, 5, 2)))
        >>> sorted(params["stacked_rnn_cells"])
        ['gru_cell', 'lstm_cell']
    """

    cells: tuple = ()

    autocast = False

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.cells, tuple) or not self.cells:
            raise ValueError(
                f"{self.describe()}: `cells` must be a non-empty list of cells, got {self.cells!r}."
            )
        for c in self.cells:
            check_cell(c, self.describe())
        object.__setattr__(
            self,
            "_names",
            tuple(naming.unique_names(self.cells, owner=self.describe())),
        )

    @property
    def state_size(self):
        return tuple(c.state_size for c in self.cells)

    @property
    def output_size(self):
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        if size is not None:
            return size
        return (
            last.state_size if isinstance(last.state_size, int) else last.state_size[0]
        )

    def named_cells(self):
        return list(zip(self._names, self.cells))

    def children(self):
        return self.named_cells()

    def get_initial_state(self, spec):
        out = []
        for cell in self.cells:
            out.append(initial_states(cell, spec))
            spec = cell_output_spec(cell, spec)
        return tuple(out)

    def build(self, key, spec):
        params, state = {}, {}
        for name, cell in self.named_cells():
            p, s = cell.init(naming.child_key(key, name), spec)
            if not is_empty(p):
                params[name] = p
            if not is_empty(s):
                state[name] = s
            spec = cell_output_spec(cell, spec)
        return params, state

    def call(self, params, state, inputs, *, key, training, states=None):
        if states is None:
            states = self.get_initial_state(inputs)
        states = canonical_states(self, states, self.describe())
        new_states, new_state = [], dict(state)
        for (name, cell), cell_states in zip(self.named_cells(), states):
            (inputs, cell_states), s = cell.apply(
                params.get(name, {}),
                state.get(name, {}),
                inputs,
                states=cell_states,
                key=naming.child_key(key, name),
                training=training,
            )
            new_states.append(canonical_states(cell, cell_states, self.describe()))
            if not is_empty(s) or name in new_state:
                new_state[name] = s
        return (inputs, tuple(new_states)), new_state

    @classmethod
    def from_keras_config(cls, config: dict):
        from kerax.interop.keras import construct_from_keras, layer_from_keras

        return construct_from_keras(
            cls, config, cells=tuple(layer_from_keras(c) for c in config["cells"])
        )
