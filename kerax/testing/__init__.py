"""The one test harness for kerax layers.

- `check_layer(layer, *specs)`: the contract every kerax layer keeps (spec
  agreement, arrays-only init, state in inference, jit with and without
  chex variants, grad, vmap, no retrace, config round trip).
- `keras_parity(keras_layer, *inputs)`: imports a Keras layer with
  `kerax.interop` and compares outputs with Keras's own.
- `assert_trees_close`: chex's tree comparison with a message.
"""

from kerax.testing.contract import assert_trees_close, check_layer, random_inputs
from kerax.testing.parity import keras_parity

__all__ = ["assert_trees_close", "check_layer", "keras_parity", "random_inputs"]
