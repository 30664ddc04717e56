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

import collections
import functools
import gc

import jax
import jax.numpy as jnp  # noqa: F401 - used by the examples above.

from kerax.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from kerax.core import layer as _layer
from kerax.core.node import Node
from kerax.core.policy import dtype_name

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]


def clear_session(free_memory: bool = True) -> None:
    """Drops JAX's compiled programs and kerax's output-spec cache, as Keras frees its graph."""
    jax.clear_caches()
    _layer.clear_caches()
    _uids.clear()
    if free_memory:
        gc.collect()


def standardize_dtype(dtype) -> str:
    """Keras's `standardize_dtype`: a dtype's name (`"float32"`), from a
    name, a NumPy or JAX dtype, or a Python type; None is `floatx()`."""
    return floatx() if dtype is None else dtype_name(dtype)


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


_uids: collections.defaultdict = collections.defaultdict(int)


def get_uid(prefix: str = "") -> int:
    """Keras's `get_uid`: 1, 2, 3, ... per `prefix` (reset by `clear_session`).

    kerax names layers per model and does not use it; it is here for code
    that makes its own unique names.

    Example:
        >>> kerax.backend.clear_session()
        >>> kerax.backend.get_uid("dense"), kerax.backend.get_uid("dense"), kerax.backend.get_uid("x")
        (1, 2, 1)
    """
    _uids[prefix] += 1
    return _uids[prefix]


# Keras's type promotion (keras/src/backend/common/dtypes.py, JAX's lattice
# with weak Python int/float, 64-bit types made 32-bit as on the JAX backend).
_INTS = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")


def _lattice():
    u1, u2, u4, u8, i1, i2, i4, i8 = _INTS
    return {
        "bool": ["int"],
        u1: [i2, u2],
        u2: [i4, u4],
        u4: [i8, u8],
        u8: ["float"],
        "int": [u1, i1, "complex64"],
        i1: [i2],
        i2: [i4],
        i4: [i8],
        i8: ["float"],
        "float": ["bfloat16", "float16"],
        "bfloat16": ["float32"],
        "float16": ["float32"],
        "float32": ["float64", "complex64"],
        "float64": ["complex128"],
        "complex64": ["complex128"],
        "complex128": [],
    }


def _upper_bounds():
    lattice = _lattice()
    bounds = {n: {n} for n in lattice}
    for n in lattice:
        while True:
            new = set().union(*(lattice[b] for b in bounds[n]))
            if new <= bounds[n]:
                break
            bounds[n] |= new
    return bounds


_UPPER = _upper_bounds()
_TO_32 = {
    "int64": "int32",
    "uint64": "uint32",
    "float64": "float32",
    "complex128": "complex64",
}


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    nodes = set(nodes)
    for n in nodes:
        if n not in _UPPER:
            raise ValueError(
                f"dtype={n!r} is not a valid dtype for Keras type promotion."
            )
    common = set.intersection(*(_UPPER[n] for n in nodes))
    least = (common & nodes) or {c for c in common if common <= _UPPER[c]}
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no available implicit dtype "
            "promotion path. Try explicitly casting inputs to the desired output type."
        )
    return least.pop()


def _weak(dtype: str, weak: bool) -> str:
    if not weak or dtype == "bool":
        return dtype
    return "float" if "float" in dtype else "int" if "int" in dtype else dtype


def result_type(*dtypes) -> str:
    """Keras's `result_type`: the dtype `dtypes` promote to, by Keras's rules.

    Python `int` and `float` are weak (they take the other operand's type),
    None is `floatx()`, no argument gives `floatx()`, and 64-bit results
    are made 32-bit, as Keras on JAX. float8 types never promote.

    Example:
        >>> kerax.backend.result_type("bfloat16", int), kerax.backend.result_type("int32", "float32")
        ('bfloat16', 'float32')
        >>> kerax.backend.result_type("uint8", "int8"), kerax.backend.result_type("float16", "bfloat16")
        ('int16', 'float32')
    """
    if not dtypes:
        return floatx()
    for d in dtypes:
        if isinstance(d, str) and d.startswith("float8"):
            raise ValueError(
                "There is no implicit conversions from float8 dtypes to others. "
                f"You must cast it internally. Received: {dtypes}"
            )
    args = [floatx() if d is None else d for d in dtypes]
    names = [standardize_dtype(d) for d in args]
    weaks = [d is int or d is float for d in args]
    if len(names) == 1:
        out, out_weak = names[0], weaks[0]
    elif len(set(names)) == 1 and not all(weaks):
        out, out_weak = names[0], False
    elif all(weaks):
        out, out_weak = _least_upper_bound(*set(names)), True
    else:
        out = _least_upper_bound(*{_weak(d, w) for d, w in zip(names, weaks)})
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        precision = floatx()[-2:]
        kind = "f" if out == "bfloat16" else out[:1]
        out = {"i": f"int{precision}", "u": f"uint{precision}"}.get(
            kind, f"float{precision}"
        )
    return _TO_32.get(out, out)
