"""Keras's eager metric API on kerax's built-in metrics: `update_state`,
`result()`, `reset_state()` and `metric(y_true, y_pred)`, against Keras."""

import jax
import keras
import numpy as np
import pytest

import kerax


def _batch(name, rng):
    if name == "SparseCategoricalAccuracy":
        return rng.integers(0, 3, 8), rng.random((8, 3)).astype("float32")
    if name == "Mean":
        return (rng.random(8).astype("float32"),)
    y = rng.integers(0, 2, (8, 1)).astype("float32")
    return y, rng.random((8, 1)).astype("float32")


@pytest.mark.parametrize(
    "name",
    ["SparseCategoricalAccuracy", "AUC", "Precision", "MeanSquaredError", "Mean"],
)
def test_eager_api_matches_keras(name):
    rng = np.random.default_rng(0)
    ours, theirs = getattr(kerax.metrics, name)(), getattr(keras.metrics, name)()
    for _ in range(3):
        batch = _batch(name, rng)
        weights = rng.random(8).astype("float32")
        ours.update_state(*batch, sample_weight=weights)
        theirs.update_state(*batch, sample_weight=weights)
        np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-6)
    ours.reset_state()
    theirs.reset_state()
    assert float(ours.result()) == float(theirs.result()) == 0.0
    batch = _batch(name, rng)
    np.testing.assert_allclose(ours(*batch), theirs(*batch), rtol=1e-6)


def test_the_pure_form_is_untouched_and_jit_refuses_the_eager_one():
    m = kerax.metrics.Mean()
    m.update_state([1.0, 3.0])
    state = m.update(m.init(), np.array([10.0]))  # Pure: the eager state is apart.
    assert float(m.result(state)) == 10.0 and float(m.result()) == 2.0

    @jax.jit
    def inside(x):
        m.update_state(x)
        return x

    with pytest.raises(TypeError, match="Use the pure form there"):
        inside(np.ones(2, np.float32))
    assert float(m.result()) == 2.0  # Nothing was stored.
