"""Keras's `keras.backend` helpers that mean something for kerax.

`clear_session()` frees what JAX and kerax cache between models (compiled
programs, traced output specs). kerax keeps no global layer-name counters, so
there is nothing else to reset: names are unique per model.

Example:
    >>> kerax.backend.backend()
    'jax'
    >>> kerax.backend.clear_session()
"""

from __future__ import annotations

import gc

import jax

from kerax.config import backend, epsilon, floatx, image_data_format, set_floatx
from kerax.core import layer as _layer

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "image_data_format",
    "set_floatx",
]


def clear_session(free_memory: bool = True) -> None:
    """Drops JAX's compiled programs and kerax's output-spec cache, as Keras frees its graph."""
    jax.clear_caches()
    _layer.clear_caches()
    if free_memory:
        gc.collect()
