"""StackedRNNCells: cells applied one after another at each step."""

from __future__ import annotations

from kerax.core import naming
from kerax.core.layer import Layer, is_empty
from kerax.layers._docs import document_args
from kerax.layers.recurrent._fields import ARG_DOCS
from kerax.layers.recurrent._ops import (
    canonical_states,
    cell_output_spec,
    check_cell,
    initial_states,
)


@document_args(ARG_DOCS)
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

    cells: tuple[Layer, ...]

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
