"""The recurrent machinery: the cell protocol, `RNN` and `StackedRNNCells`.

See `kerax.layers.recurrent` for the cell protocol. This module holds what
every recurrent layer shares: the `lax.scan` over time (masks, `go_backwards`,
`unroll`, `zero_output_for_mask`, `return_sequences`, `return_state`), the
initial states, and the import hooks for Keras configs that nest layers.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp

from kerax.core import aux_losses, naming
from kerax.core.fields import field
from kerax.core.layer import Layer, is_empty
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._args import RegularizerArg, regularizer_field
from kerax.layers._docs import document_args
from kerax.layers.recurrent._fields import ARG_DOCS
from kerax.layers.recurrent._fused_cell import FusedCell
from kerax.layers.recurrent._ops import (
    _describe_tree,
    _step_spec,
    canonical_states,
    check_cell,
    initial_states,
    num_states,
    run_rnn,
)
from kerax.layers.recurrent.stacked_rnn_cells import StackedRNNCells


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
            return
        # A tuple or dict of sequences: the nested inputs a custom cell takes.
        for leaf in jax.tree.leaves(spec):
            self.expect_ndim(leaf, min_ndim=3, what="inputs (batch, time, features...)")

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
        first = jax.tree.leaves(sequences)[0]  # Nested inputs share the time axis.
        if self.unroll and is_symbolic(first.shape[1]):
            raise ValueError(
                f"{self.describe()}: unroll=True needs a fixed number of time steps, got inputs "
                f"{shape_str(first.shape)}. Give the time dimension in kerax.spec/Input, or use unroll=False."
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
        # Time first, for the scan.
        xs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), sequences)
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


def _stack(cell):
    """A list of cells is stacked, as Keras's `RNN` does."""
    return StackedRNNCells(tuple(cell)) if isinstance(cell, list | tuple) else cell


@document_args(ARG_DOCS)
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

    cell: Layer = field(converter=_stack)
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False
    # Keras takes it as a base-Layer keyword argument.
    activity_regularizer: RegularizerArg = regularizer_field(None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        check_cell(self.cell, self.describe())
        self._check_rnn_config()


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
        # The cell is derived from the fields (not config), built once here.
        object.__setattr__(self, "_cell", cell)

    def _cell_kwargs(self) -> dict:
        """Cell arguments that are not fields of the layer."""
        return {}

    @property
    def cell(self):
        return self._cell
