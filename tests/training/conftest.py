"""Shared setup for the training tests.

The persistent compilation cache stays off here (tests must not write to the
user's cache); `test_compile_cache.py` turns it on in a temporary directory.
"""

import os

os.environ.setdefault("KERAX_COMPILATION_CACHE_DIR", "off")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kerax  # noqa: E402


@pytest.fixture
def classification_data():
    """Three separable classes in 8 features; 200 samples (not a multiple of 32)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0.5).astype(np.int32)
    return x, y


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 8)).astype(np.float32)
    w = rng.normal(size=(8, 2)).astype(np.float32)
    return x, (x @ w).astype(np.float32)


@pytest.fixture
def policy():
    """Restores the global dtype policy after a test that changes it."""
    before = kerax.dtype_policy()
    yield kerax.set_dtype_policy
    kerax.set_dtype_policy(before)
