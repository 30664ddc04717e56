"""Keras's linear-algebra ops (`keras.ops.linalg`) over `jax.numpy.linalg`.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.solve(jnp.array([[2.0, 0.0], [0.0, 4.0]]), jnp.array([2.0, 2.0]))
    Array([1. , 0.5], dtype=float32)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.ops._variables import accept_variables as _accept_variables

det = jnp.linalg.det
eig = jnp.linalg.eig
inv = jnp.linalg.inv
solve = jnp.linalg.solve
pinv = jnp.linalg.pinv
matrix_rank = jnp.linalg.matrix_rank
slogdet = jnp.linalg.slogdet


def cholesky(x, upper=False):
    out = jnp.linalg.cholesky(x)
    return jnp.swapaxes(out, -1, -2).conj() if upper else out


def cholesky_inverse(x, upper=False):
    """The inverse of `A` from its Cholesky factor `x`."""
    lower = jnp.swapaxes(x, -1, -2).conj() if upper else x
    identity = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    return jax.scipy.linalg.cho_solve((lower, True), identity)


def eigh(x):
    return jnp.linalg.eigh(x)


def lu_factor(x):
    return jax.scipy.linalg.lu_factor(x)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - Keras's name.
    x = jnp.asarray(x)
    return jnp.linalg.norm(
        x.astype(jnp.result_type(x, float)), ord=ord, axis=axis, keepdims=keepdims
    )


def qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete'; got {mode!r}.")
    return jnp.linalg.qr(x, mode=mode)


def solve_triangular(a, b, lower=False):
    return jax.scipy.linalg.solve_triangular(a, b, lower=lower)


def svd(x, full_matrices=True, compute_uv=True):
    return jnp.linalg.svd(x, full_matrices=full_matrices, compute_uv=compute_uv)


def lstsq(a, b, rcond=None):
    """The least-squares solution `x` of `a @ x = b` (Keras returns only `x`)."""
    return jnp.linalg.lstsq(a, b, rcond=rcond)[0]


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and callable(value)
    and name not in ("annotations", "jax", "jnp")
)

# Inside a Keras-style `call`, variables are accepted where arrays are.
_accept_variables(globals(), __all__)

# Keras exports `jvp` from `ops.linalg` (and `ops`); kerax's is in `ops.math`.
from kerax.ops.math import jvp  # noqa: E402, F401

__all__ = sorted([*__all__, "jvp"])
