"""Keras's `keras.backend` helpers that mean something for kerax.

`clear_session()` frees what JAX and kerax cache between models (compiled
programs, traced output specs). kerax keeps no global layer-name counters, so
there is nothing else to reset: names are unique per model.

Example:
    >>> kerax.backend.backend()
    'jax'
    >>> kerax.backend.clear_session()
    >>> kerax.backend.standardize_dtype(float), kerax.backend.standardize_dtype(jnp.bfloat16)
    ('float32', 'bfloat16')
    >>> kerax.backend.is_keras_tensor(kerax.Input((3,)))
    True
"""

from __future__ import annotations

import gc

import jax
import jax.numpy as jnp  # noqa: F401 - used by the examples above.
import numpy as np

from kerax.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_floatx,
    set_image_data_format,
)
from kerax.core import layer as _layer
from kerax.core.node import Node

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]

# Keras's `dtypes.ALLOWED_DTYPES` and what its Python types stand for.
_ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
# Keras's JAX backend: Python ints and complexes are 32-bit and complex64.
_PYTHON_DTYPES = {
    bool: "bool",
    int: "int32",
    "int": "int32",
    float: "float32",
    str: "string",
    complex: "complex64",
}


def clear_session(free_memory: bool = True) -> None:
    """Drops JAX's compiled programs and kerax's output-spec cache, as Keras frees its graph."""
    jax.clear_caches()
    _layer.clear_caches()
    if free_memory:
        gc.collect()


def standardize_dtype(dtype) -> str:
    """Keras's `standardize_dtype`: a dtype's name (`"float32"`), from a
    name, a NumPy or JAX dtype, or a Python type; None is `floatx()`."""
    if dtype is None:
        return floatx()
    dtype = (
        _PYTHON_DTYPES.get(dtype, dtype) if isinstance(dtype, (type, str)) else dtype
    )
    if isinstance(dtype, str):
        name = dtype
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = getattr(dtype, "name", getattr(dtype, "__name__", str(dtype)))
    if name not in _ALLOWED_DTYPES:
        raise ValueError(
            f"Invalid dtype: {dtype!r}. Expected one of {', '.join(_ALLOWED_DTYPES)}."
        )
    return name


def is_float_dtype(dtype) -> bool:
    """Whether `dtype` is a float type (bfloat16 included)."""
    name = standardize_dtype(dtype)
    return name.startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    """Whether `dtype` is a signed or unsigned integer type."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def is_keras_tensor(x) -> bool:
    """Whether `x` is a symbolic value of a functional graph (a
    `kerax.Input` or a layer called on one): Keras's KerasTensor."""
    return isinstance(x, Node)
