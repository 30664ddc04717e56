"""The one test harness for kerax layers.

- `check_layer(layer, *specs)`: the contract every kerax layer keeps (spec
  agreement, arrays-only init, state in inference, jit with and without
  chex variants, grad, vmap, no retrace, config round trip).
- `keras_parity(keras_layer, *inputs)`: imports a Keras layer with
  `kerax.interop` and compares outputs with Keras's own.
- `check_random_layer(layer, x)`: a random layer's keys: same key, same
  output; another key or `seed`, another draw; a clear error without a key.
- `check_strict_promotion(layer, params, state, *inputs)`: the layer runs
  under `jax.numpy_rank_promotion("raise")` and computes the same values.
- `assert_trees_close`: chex's tree comparison with a message.
"""

from kerax.testing.contract import (
    assert_trees_close,
    check_layer,
    check_random_layer,
    check_strict_promotion,
    random_inputs,
)
from kerax.testing.parity import keras_parity

__all__ = [
    "assert_trees_close",
    "check_layer",
    "check_random_layer",
    "check_strict_promotion",
    "keras_parity",
    "random_inputs",
]
