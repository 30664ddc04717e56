"""Doctest namespace for the examples in kerax's docstrings (run by
`scripts/test.sh`): `jax`, `jnp`, `np` and `kerax` are in scope, as in the
examples' usual imports.

Like `tests/conftest.py`, this makes 8 simulated CPU devices available (the
distribution examples use a `(4, 2)` mesh), so the doctests see the same
devices whether they run alone or together with `tests/`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAX_COMPILATION_CACHE_DIR", "off")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import importlib.util  # noqa: E402

import jax  # noqa: E402

jax.config.update("jax_num_cpu_devices", 8)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kerax  # noqa: E402

# Optional extras: examples that need one are not collected without it.
collect_ignore = []
if importlib.util.find_spec("keras") is None:  # the `keras` extra
    collect_ignore.append("kerax/interop/keras.py")


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace.update(jax=jax, jnp=jnp, np=np, kerax=kerax)
