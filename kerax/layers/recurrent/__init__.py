"""Keras recurrent layers: RNN, SimpleRNN, LSTM, GRU, their cells, ConvLSTM, wrappers.

Everything runs on `lax.scan` over the time axis (moved to the front with
`jnp.swapaxes`, never indexed), so the layers jit, differentiate, vmap and
export with a symbolic batch. Variable names and layouts are Keras's, and so
is the nesting: an LSTM's params are `params["lstm_cell"]["kernel"]`, the
Keras variable `lstm/lstm_cell/kernel`, so Keras weights import by path.

Differences from Keras, by design: `stateful=True` is refused (kerax layers
keep no hidden state: call with `return_state=True` and pass the states back
as `initial_state=`); dropout needs an explicit `key` in training (`seed` is
accepted and ignored); `use_cudnn` is accepted and ignored (XLA chooses).

The cell protocol
-----------------
`RNN(cell)` runs any cell: a kerax `Layer` with

- `state_size`: an int (one state of shape `(batch, size)`) or a tuple of
  ints (one per state). A cell whose states are not `(batch, size)` (e.g.
  convolutional) also defines `get_initial_state(spec) -> tuple` returning
  its zero states for a step input described by `spec`.
- optionally `output_size` (an int), for documentation and stacking.
- `build(key, spec)`: `spec` describes ONE step's input, `(batch, ...)`.
- `call(params, state, inputs, *, states, key, training)
  -> ((output, new_states), state)`: one step. `states` is always a tuple
  with one array per state (`(h,)` for a single state), and `new_states`
  must have the same structure and shapes. Like every kerax layer, `call`
  returns `(y, state)`; for a cell `y` is the pair `(output, new_states)`,
  Keras's `return output, new_states`, and `state` the cell's non-trainable
  variables (usually `{}`; carried through the scan).

The RNN calls the cell with the SAME `key` at every step, so a cell that
draws dropout masks from `key` uses one mask per sequence, as Keras does.

Example of a user cell:

    class MinimalRNNCell(kerax.Layer):
        units: int = 4

        @property
        def state_size(self):
            return self.units

        def build(self, key, spec):
            k1, k2 = jax.random.split(key)
            return {
                "kernel": kerax.initializers.get("glorot_uniform")(k1, (spec.shape[-1], self.units)),
                "recurrent_kernel": kerax.initializers.get("orthogonal")(k2, (self.units, self.units)),
            }, {}

        def call(self, params, state, inputs, *, states, key, training):
            (prev,) = states
            h = inputs @ params["kernel"] + prev @ params["recurrent_kernel"]
            return (h, (h,)), state

    layer = kerax.layers.RNN(MinimalRNNCell(4), return_sequences=True)

Register a user cell (`kerax.register(MinimalRNNCell)`) to save and load
configs that contain it; with a Keras class of the same name and config,
`kerax.interop.layer_from_keras` then imports Keras's `RNN(MinimalRNNCell)`
(weights by path: `rnn/minimal_rnn_cell/kernel`).

A list of cells (or `StackedRNNCells`) stacks them; their `states` is a
tuple with one entry per cell. The built-in cells also accept `states=None`
(zero states) when called on their own.
"""

from kerax.layers.recurrent.bidirectional import Bidirectional
from kerax.layers.recurrent.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from kerax.layers.recurrent.gru import GRU, GRUCell
from kerax.layers.recurrent.lstm import LSTM, LSTMCell
from kerax.layers.recurrent.rnn import RNN
from kerax.layers.recurrent.simple_rnn import SimpleRNN, SimpleRNNCell
from kerax.layers.recurrent.stacked_rnn_cells import StackedRNNCells
from kerax.layers.recurrent.time_distributed import TimeDistributed

__all__ = [
    "RNN",
    "StackedRNNCells",
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "Bidirectional",
    "TimeDistributed",
]
