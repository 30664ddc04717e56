"""Auxiliary losses added during a forward pass (activity regularization).

Layers call `add_loss(value)` inside `call`; `Layer.apply_with_losses` opens a
collector around the forward pass and returns the total. The collector lives
only for one trace, so it is pure from JAX's point of view: values are
tracers of the same function that computes the training loss. Containers that
run children inside `lax.scan` collect inside the body and re-add the sum
outside (see `collected`), so no tracer leaks out of a scan.
"""

from __future__ import annotations

import contextlib
import threading

import jax
import jax.numpy as jnp

_local = threading.local()


def _stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


@contextlib.contextmanager
def collect():
    """Collects the losses added inside the block into the yielded list."""
    losses: list = []
    _stack().append(losses)
    try:
        yield losses
    finally:
        _stack().pop()


def add_loss(value) -> None:
    """Adds an auxiliary loss; ignored when nobody collects (inference)."""
    stack = _stack()
    if stack:
        stack[-1].append(jnp.asarray(value, jnp.float32))


def is_collecting() -> bool:
    return bool(_stack())


def total(losses) -> jnp.ndarray:
    return sum(losses, jnp.zeros((), jnp.float32))


def add_activity_loss(regularizer, outputs) -> None:
    """Adds `regularizer(y) / batch_size` for each output `y`, as Keras does.

    Keras's `Layer.__call__` divides every activity penalty by the output's
    batch size (`divide_no_nan`, so an empty batch adds 0) so that the
    regularization strength does not depend on the batch size. Every layer
    with an `activity_regularizer` reports its penalty through this function.
    """
    if regularizer is None or not is_collecting():
        return  # Nobody trains on it: skip the computation.
    for y in jax.tree.leaves(outputs):
        loss = jnp.asarray(regularizer(y), jnp.float32)
        if y.ndim > 0:
            batch = jnp.asarray(y.shape[0], jnp.float32)
            safe = jnp.where(batch == 0, 1.0, batch)
            loss = jnp.where(batch == 0, 0.0, loss / safe)
        add_loss(loss)
