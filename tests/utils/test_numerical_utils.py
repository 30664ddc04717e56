"""to_categorical, normalize, pad_sequences and set_random_seed against Keras."""

import random as py_random

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kerax import utils


@pytest.mark.parametrize(
    "x, num_classes",
    [([0, 2, 1], None), ([[1], [3]], 5), (np.array([[0, 1], [2, 0]]), 3)],
)
def test_to_categorical_matches_keras(x, num_classes):
    ours = utils.to_categorical(x, num_classes)
    theirs = keras.utils.to_categorical(x, num_classes)
    assert isinstance(ours, np.ndarray)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype


def test_to_categorical_of_jax_arrays_stays_on_device():
    out = utils.to_categorical(jnp.array([[1], [0]]), 2)
    assert isinstance(out, jax.Array)
    np.testing.assert_array_equal(out, [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="num_classes"):
        utils.to_categorical(jnp.array([1, 0]))
    with pytest.raises(ValueError, match="num_classes"):
        utils.to_categorical([0, 3], num_classes=2)


@pytest.mark.parametrize("axis, order", [(-1, 2), (-2, 1), (1, 2)])
def test_normalize_matches_keras(axis, order, rng):
    x = rng.normal(size=(3, 4))
    x[0] = 0.0
    np.testing.assert_allclose(
        utils.normalize(x, axis, order), keras.utils.normalize(x, axis, order)
    )
    xj = jnp.asarray(x[1:], jnp.float32)
    np.testing.assert_allclose(
        utils.normalize(xj, axis, order),
        keras.utils.normalize(keras.ops.convert_to_tensor(xj), axis, order),
        rtol=1e-6,
    )


SEQUENCES = [[1, 2, 3, 4], [5], [], [6, 7]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize(
    "kwargs", [{}, {"maxlen": 2}, {"maxlen": 6, "value": -1.0}, {"dtype": "float32"}]
)
def test_pad_sequences_matches_keras(padding, truncating, kwargs):
    ours = utils.pad_sequences(
        SEQUENCES, padding=padding, truncating=truncating, **kwargs
    )
    theirs = keras.utils.pad_sequences(
        SEQUENCES, padding=padding, truncating=truncating, **kwargs
    )
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype


def test_pad_sequences_items_and_strings_match_keras():
    seqs = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(
        utils.pad_sequences(seqs, maxlen=3, dtype="float32"),
        keras.utils.pad_sequences(seqs, maxlen=3, dtype="float32"),
    )
    words = [["a", "bb"], ["c"]]
    np.testing.assert_array_equal(
        utils.pad_sequences(words, dtype=object, value="<pad>"),
        keras.utils.pad_sequences(words, dtype=object, value="<pad>"),
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"padding": "middle"}, "padding"),
        ({"truncating": "both"}, "truncating"),
        ({"value": "x"}, "dtype=object"),
    ],
)
def test_pad_sequences_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.pad_sequences(SEQUENCES, **kwargs)
    with pytest.raises(ValueError, match="shape"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((1, 2))])


def test_set_random_seed_seeds_python_and_numpy_and_returns_the_key():
    key = utils.set_random_seed(7)
    a, b = py_random.random(), np.random.rand()
    key_again = utils.set_random_seed(7)
    assert (py_random.random(), np.random.rand()) == (a, b)
    np.testing.assert_array_equal(
        jax.random.key_data(key), jax.random.key_data(key_again)
    )
    np.testing.assert_array_equal(
        jax.random.key_data(key), jax.random.key_data(jax.random.key(7))
    )
    keras.utils.set_random_seed(7)
    assert (py_random.random(), np.random.rand()) == (a, b)  # Same as Keras.
    with pytest.raises(ValueError, match="seed"):
        utils.set_random_seed(1.5)
