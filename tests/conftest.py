"""Test setup shared by every kerax test.

Keras runs on its JAX backend so that parity tests compare like with like.
Eight simulated CPU devices are made available for the distribution tests;
single-device code still runs on device 0.
"""

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


@pytest.fixture
def keras_numpy_init():
    """`with keras_numpy_init(): keras_model = ...` builds a large Keras model fast."""
    from kerax.applications._factory import numpy_initial_values

    return numpy_initial_values
