"""The test harness itself: each check fails on a layer that breaks what it checks."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax.testing import check_layer, check_strict_promotion, keras_parity


class WrongSpec(kerax.Layer):
    """Declares (via `output_spec`) one shape, returns another in a concrete call."""

    def call(self, params, state, x, *, key, training):
        del params, key, training
        if isinstance(x.shape[0], int):  # Concrete inputs only: the spec disagrees.
            return x[:, :1], state
        return x, state


class CountsInInference(kerax.Layer):
    """Changes its state in an inference call."""

    def build(self, key, spec):
        del key, spec
        return {}, {"count": jnp.zeros(())}

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return x, {"count": state["count"] + 1}


class Promotes(kerax.Layer):
    """Relies on implicit rank promotion."""

    def build(self, key, spec):
        del key
        return {"bias": jnp.ones(spec.shape[-1:])}, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        return x + params["bias"], state


def test_check_layer_passes_a_good_layer():
    params, _, (x,), y = check_layer(kerax.layers.Dense(2), kerax.spec((None, 3)))
    np.testing.assert_allclose(y, x @ params["kernel"] + params["bias"], rtol=1e-6)


def test_check_layer_catches_a_wrong_output_spec():
    with pytest.raises(AssertionError, match="declared"):
        check_layer(WrongSpec(), kerax.spec((None, 3)))


def test_check_layer_catches_state_changed_in_inference():
    with pytest.raises(AssertionError, match="state after an inference call"):
        check_layer(CountsInInference(), kerax.spec((None, 3)))


def test_check_strict_promotion_catches_implicit_broadcasting():
    layer = Promotes()
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
    with pytest.raises(ValueError, match="rank_promotion"):
        check_strict_promotion(layer, params, state, jnp.ones((2, 3)))
    dense = kerax.layers.Dense(3)
    params, state = dense.init(jax.random.key(0), kerax.spec((None, 3)))
    y = check_strict_promotion(dense, params, state, jnp.ones((2, 3)))
    assert y.shape == (2, 3)


def test_keras_parity_catches_a_mismatch(rng):
    x = rng.standard_normal((2, 3), np.float32)
    keras_layer = keras.layers.Dense(4, bias_initializer="ones")
    layer, params, state = keras_parity(keras_layer, x)
    assert params["kernel"].shape == (3, 4) and state == {}
    wrong = {"kernel": params["kernel"], "bias": params["bias"] + 1e-3}
    with pytest.raises(AssertionError, match="vs Keras"):
        keras_parity(keras_layer, x, layer=layer, params=wrong, state={})
    with pytest.raises(AssertionError, match="vs Keras"):
        keras_parity(keras_layer, x, layer=kerax.layers.Dense(4, activation="tanh"))


def test_keras_parity_compares_output_masks(rng):
    x = rng.standard_normal((2, 3, 4), np.float32)
    x[0, 1] = 0.0
    layer, _, _ = keras_parity(keras.layers.Masking(), x, mask=np.ones((2, 3), bool))
    assert isinstance(layer, kerax.layers.Masking)
