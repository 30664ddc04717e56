"""Input specs: `jax.ShapeDtypeStruct`s with a symbolic batch dimension.

`None` in a shape becomes a symbolic dimension from ONE shared
`jax.export` scope, so every spec made here can meet every other in a single
computation and the exporters can reuse the same symbol (`batch`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import export

# One scope for every symbol kerax makes: symbols from different scopes cannot
# be combined in one computation.
_SCOPE = export.SymbolicScope()
_SYMBOL_NAMES = ("batch", "d1", "d2", "d3", "d4", "d5", "d6", "d7")
_SYMBOLS = export.symbolic_shape(",".join(_SYMBOL_NAMES), scope=_SCOPE)
BATCH = _SYMBOLS[0]


def spec(shape, dtype: Any = jnp.float32) -> jax.ShapeDtypeStruct:
    """Makes an input spec; each `None` becomes a symbolic dimension.

    The first `None` is the shared `batch` symbol; later ones (e.g. a variable
    sequence length) get their own symbols `d1`, `d2`, ...

    Example:
        >>> kerax.spec((None, 28, 28, 1))
        ShapeDtypeStruct(shape=(batch, 28, 28, 1), dtype=float32)
    """
    dims, k = [], 0
    for d in tuple(shape):
        if d is None:
            if k >= len(_SYMBOLS):
                raise ValueError(
                    f"kerax.spec supports at most {len(_SYMBOLS)} None dimensions, got shape {shape}."
                )
            dims.append(_SYMBOLS[k])
            k += 1
        else:
            dims.append(int(d))
    return jax.ShapeDtypeStruct(tuple(dims), jnp.dtype(dtype))


def to_spec(tree):
    """Turns arrays (or specs) in a pytree into `ShapeDtypeStruct`s."""

    def one(x):
        if x is None:
            return None
        if isinstance(x, jax.ShapeDtypeStruct):
            return jax.ShapeDtypeStruct(x.shape, x.dtype)
        if hasattr(x, "shape") and hasattr(x, "dtype"):
            return jax.ShapeDtypeStruct(tuple(x.shape), x.dtype)
        if isinstance(x, (bool, int, float, complex)):
            return jax.ShapeDtypeStruct((), jnp.asarray(x).dtype)
        if isinstance(x, (list, tuple)) or isinstance(x, np.ndarray):
            a = np.asarray(x)
            return jax.ShapeDtypeStruct(a.shape, a.dtype)
        raise TypeError(
            f"Expected an array or jax.ShapeDtypeStruct, got {type(x).__name__}: {x!r}"
        )

    return jax.tree.map(one, tree, is_leaf=lambda x: x is None)


def is_symbolic(d) -> bool:
    return not isinstance(d, (int, np.integer))


def shape_str(shape) -> str:
    """Keras-style shape text: symbolic dimensions print as `None`."""
    return (
        "("
        + ", ".join("None" if is_symbolic(d) else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def keras_shape(shape) -> tuple:
    """The shape with symbolic dimensions as `None` (Keras's convention)."""
    return tuple(None if is_symbolic(d) else int(d) for d in shape)
