"""Test setup shared by every kerax test.

Keras runs on its JAX backend so that parity tests compare like with like.
Eight simulated CPU devices are made available for the distribution tests;
single-device code still runs on device 0.
"""

import contextlib
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402

jax.config.update("jax_num_cpu_devices", 8)

import pytest  # noqa: E402


@pytest.fixture
def strict_promotion():
    """Strict rank promotion around kerax code (not globally: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        yield


@pytest.fixture
def rng(request):
    """A NumPy generator seeded from the test's own id.

    Each test draws the same inputs whatever runs before it (no shared
    module-level RNG), and different tests draw different inputs.
    """
    import zlib

    import numpy as np

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@contextlib.contextmanager
def _numpy_initial_values(seed=0):
    """Keras's initializers drawing with NumPy instead of JAX, while a model is built.

    On its JAX backend Keras draws each variable's first values with a program
    compiled for that shape (`truncated_normal`: ~0.15 s each, 81 of them in
    EfficientNetB0, 12 of its 14 s to build). NumPy draws from the same
    distributions without compiling. The values are only Keras's starting
    weights: the tests compare kerax with Keras on whatever weights Keras holds.
    """
    import jax.numpy as jnp
    import numpy as np
    from keras.src.backend import random as backend_random

    rng = np.random.default_rng(seed)

    def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        x = rng.standard_normal(shape)
        while (far := np.abs(x) > 2).any():  # Redraw beyond 2 stddev, as Keras.
            x[far] = rng.standard_normal(int(far.sum()))
        return jnp.asarray(x * stddev + mean, dtype or "float32")

    def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return jnp.asarray(rng.normal(mean, stddev, shape), dtype or "float32")

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        return jnp.asarray(rng.uniform(minval, maxval, shape), dtype or "float32")

    replaced = {
        "truncated_normal": truncated_normal,
        "normal": normal,
        "uniform": uniform,
    }
    saved = {name: getattr(backend_random, name) for name in replaced}
    for name, fn in replaced.items():
        setattr(backend_random, name, fn)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(backend_random, name, fn)


@pytest.fixture
def keras_numpy_init():
    """`with keras_numpy_init(): keras_model = ...` builds a large Keras model fast."""
    return _numpy_initial_values
