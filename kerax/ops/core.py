"""Keras's core ops (`keras.ops.core`): conversion, control flow, scatter.

Keras's control-flow ops are `jax.lax`'s under Keras's argument names. They
are pure here as they are on Keras's JAX backend, so they jit, grad and vmap.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.while_loop(lambda i: i < 3, lambda i: i + 1, 0)
    Array(3, dtype=int32, weak_type=True)
    >>> ops.scatter(jnp.array([[0], [2]]), jnp.array([1.0, 2.0]), (4,))
    Array([1., 0., 2., 0.], dtype=float32)
"""

from __future__ import annotations

import builtins

import jax
import jax.numpy as jnp
import numpy as np

from kerax.ops._variables import accept_variables as _accept_variables

stop_gradient = jax.lax.stop_gradient
custom_gradient = jax.custom_gradient


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """`x` as a JAX array of `dtype` (Keras's sparse and ragged are refused)."""
    if sparse or ragged:
        raise ValueError(
            "convert_to_tensor: kerax has no sparse or ragged tensors; pass "
            "sparse=None and ragged=None (and densify the input first)."
        )
    return jnp.asarray(x, dtype=dtype)


def convert_to_numpy(x):
    """`x` as a NumPy array (copies from the device)."""
    return np.asarray(x)


def is_tensor(x) -> bool:
    """Whether `x` is a JAX array (what Keras's JAX backend calls a tensor)."""
    return isinstance(x, jax.Array)


def cast(x, dtype):
    return jnp.asarray(x).astype(dtype)


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping to the target's range instead of wrapping."""
    x, dtype = jnp.asarray(x), jnp.dtype(dtype)

    def limits(dt):
        return jnp.iinfo(dt) if jnp.issubdtype(dt, jnp.integer) else jnp.finfo(dt)

    if x.dtype != jnp.dtype(bool) and not jnp.issubdtype(x.dtype, jnp.complexfloating):
        if dtype != jnp.dtype(bool) and not jnp.issubdtype(dtype, jnp.complexfloating):
            src, dst = limits(x.dtype), limits(dtype)
            lo = np.asarray(builtins.max(float(src.min), float(dst.min)))
            hi = np.asarray(builtins.min(float(src.max), float(dst.max)))
            x = jnp.clip(x, lo.astype(x.dtype), hi.astype(x.dtype))
    return x.astype(dtype)


def shape(x) -> tuple:
    """The shape of `x` as a tuple (symbolic dimensions stay symbolic)."""
    return tuple(jnp.shape(x))


def cond(pred, true_fn, false_fn):
    return jax.lax.cond(pred, true_fn, false_fn)


def switch(index, branches, *operands):
    return jax.lax.switch(index, branches, *operands)


def fori_loop(lower, upper, body_fun, init_val):
    return jax.lax.fori_loop(lower, upper, body_fun, init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Keras's while loop: `cond(*vars)`/`body(*vars)` on a tuple of loop vars
    (or one var), optionally stopped after `maximum_iterations`."""
    is_tuple = isinstance(loop_vars, tuple | list)
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
    limit = maximum_iterations

    def cond_fn(carry):
        vars_, i = carry
        keep = cond(*vars_)
        return keep if limit is None else jnp.logical_and(keep, i < limit)

    def body_fn(carry):
        vars_, i = carry
        out = body(*vars_)
        return (tuple(out) if is_tuple else (out,)), i + 1

    out, _ = jax.lax.while_loop(cond_fn, body_fn, (loop_vars, 0))
    return out if is_tuple else out[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(
            f"scan: `unroll` must be a bool or an int >= 1; got {unroll!r}."
        )
    return jax.lax.scan(f, init, xs, length=length, reverse=reverse, unroll=unroll)


def associative_scan(f, elems, reverse=False, axis=0):
    return jax.lax.associative_scan(f, elems, reverse=reverse, axis=axis)


def map(f, xs):  # noqa: A001 - Keras's name.
    return jax.lax.map(f, xs)


def vectorized_map(function, elements):
    return jax.vmap(function)(elements)


def scatter(indices, values, shape):
    """A zeros array of `shape` with `values` added at `indices` (last axis
    of `indices` indexes the leading dimensions)."""
    values = jnp.asarray(values)
    key = tuple(jnp.moveaxis(jnp.asarray(indices), -1, 0))
    return jnp.zeros(shape, values.dtype).at[key].add(values)


def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written (or reduced) at `indices`."""
    at = jnp.asarray(inputs).at[tuple(jnp.transpose(jnp.asarray(indices)))]
    ops = {
        None: at.set,
        "add": at.add,
        "max": at.max,
        "min": at.min,
        "mul": at.multiply,
    }
    if reduction not in ops:
        raise ValueError(
            f"scatter_update: `reduction` must be one of {list(ops)}; got {reduction!r}."
        )
    return ops[reduction](updates)


def slice(inputs, start_indices, shape):  # noqa: A001 - Keras's name.
    """A block of `shape` starting at `start_indices` (-1: to the end)."""
    shape = tuple(
        inputs.shape[i] - start_indices[i] if s == -1 else s
        for i, s in enumerate(shape)
    )
    return jax.lax.dynamic_slice(inputs, start_indices, shape)


def slice_update(inputs, start_indices, updates):
    return jax.lax.dynamic_update_slice(inputs, updates, start_indices)


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and callable(value)
    and name not in ("annotations", "builtins", "jax", "jnp", "np")
)

# Inside a Keras-style `call`, variables are accepted where arrays are.
_accept_variables(globals(), __all__)
