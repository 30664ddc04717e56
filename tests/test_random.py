"""kerax.random: Keras names and distributions, with the seed made explicit."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kerax import random

KEY = jax.random.key(3)


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("normal", ((4000,),), {"mean": 2.0, "stddev": 0.5}),
        ("uniform", ((4000,),), {"minval": -1.0, "maxval": 3.0}),
        ("truncated_normal", ((4000,),), {"mean": 1.0, "stddev": 2.0}),
        ("randint", ((4000,), 2, 7), {}),
        ("gamma", ((4000,), 2.0), {}),
        ("binomial", ((4000,), 10, 0.3), {}),
        ("beta", ((4000,), 2.0, 5.0), {}),
    ],
)
def test_samplers_match_keras_distributions(name, args, kwargs):
    ours = np.asarray(getattr(random, name)(*args, **kwargs, seed=KEY))
    theirs = np.asarray(getattr(keras.random, name)(*args, **kwargs, seed=7))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(
        ours.mean(), theirs.mean(), atol=0.1 * theirs.std() + 1e-3
    )
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.1)
    np.testing.assert_allclose(
        [ours.min(), ours.max()], [theirs.min(), theirs.max()], atol=0.6 * theirs.std()
    )


def test_keys_make_draws_reproducible_and_ints_mean_jax_keys():
    a = random.normal((3,), seed=KEY)
    np.testing.assert_array_equal(a, random.normal((3,), seed=KEY))
    np.testing.assert_array_equal(
        random.uniform((3,), seed=5), random.uniform((3,), seed=jax.random.key(5))
    )
    raw = jax.random.PRNGKey(5)  # Old-style uint32 keys work too.
    np.testing.assert_array_equal(
        random.uniform((3,), seed=raw), jax.random.uniform(raw, (3,))
    )


def test_dropout_and_shuffle_match_keras_semantics():
    x = jnp.ones((200, 8))
    y = random.dropout(x, 0.25, seed=KEY)
    kept = np.asarray(y) != 0
    np.testing.assert_allclose(np.asarray(y)[kept], 1 / 0.75)
    assert 0.65 < kept.mean() < 0.85
    shared = random.dropout(x, 0.5, noise_shape=(None, 1), seed=KEY)
    assert (np.ptp(np.asarray(shared), axis=1) == 0).all()
    np.testing.assert_array_equal(random.dropout(x, 0.0, seed=KEY), x)
    np.testing.assert_array_equal(random.dropout(x, 1.0, seed=KEY), 0 * x)
    perm = random.shuffle(jnp.arange(10), seed=KEY)
    assert sorted(np.asarray(perm).tolist()) == list(range(10))


def test_categorical_shape_and_dtype_match_keras():
    logits = jnp.log(jnp.array([[0.0, 1.0], [1.0, 0.0]]) + 1e-9)
    ours = random.categorical(logits, 5, seed=KEY)
    theirs = keras.random.categorical(np.asarray(logits), 5, seed=1)
    assert ours.shape == theirs.shape == (2, 5) and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, [[1] * 5, [0] * 5])


def test_seed_generator_is_a_pure_key_splitter():
    gen = random.SeedGenerator(1337)
    state = gen.initial_state()
    s1, state1 = gen.next(state)
    s1_again, _ = gen.next(state)
    s2, _ = gen.next(state1)
    np.testing.assert_array_equal(
        jax.random.key_data(s1), jax.random.key_data(s1_again)
    )
    assert not np.array_equal(jax.random.key_data(s1), jax.random.key_data(s2))
    jitted = jax.jit(gen.next)(state)[0]
    np.testing.assert_array_equal(jax.random.key_data(jitted), jax.random.key_data(s1))


@pytest.mark.parametrize(
    "seed, match",
    [
        (None, "seed=jax.random.key"),
        (random.SeedGenerator(1), "generator.next"),
        (1.5, "must be a JAX key"),
    ],
)
def test_missing_or_bad_seed_is_an_error_that_says_what_to_pass(seed, match):
    with pytest.raises(ValueError, match=match):
        random.normal((2,), seed=seed)
