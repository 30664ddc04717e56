"""`TrainState`: everything a training run carries from step to step.

A `TrainState` is a NamedTuple of arrays, so it is a pytree: `jax.jit` takes
and donates it, orbax saves it, `jax.sharding` places it. Nothing about a run
lives anywhere else, so a run restored from a saved `TrainState` continues
exactly as the uninterrupted one would have (same steps, same dropout masks).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from kerax.core.layer import RUN_ONCE_COMPILER_OPTIONS

__all__ = ["TrainState", "init_train_state", "as_key_data", "step_key"]


class TrainState(NamedTuple):
    """The whole state of a training run, as a pytree of arrays.

    Attributes:
        params: trainable weights, nested dicts (`params["dense"]["kernel"]`).
        state: non-trainable weights (BatchNormalization moving statistics).
        opt_state: the optax optimizer state (learning rate included for
            kerax optimizers: `kerax.optimizers.get_learning_rate`).
        step: int32 scalar, training steps taken so far.
        metric_states: the running state of the compiled metrics and loss
            trackers, or None until the first step fills it (it is reset at
            the start of every epoch, as Keras resets its metrics).
        base_key: uint32 key data; step `i` draws its randomness from
            `fold_in(base_key, i)`, so a resumed run draws the same keys.
        loss_scale: a `kerax.optimizers.LossScaleState` when training uses
            dynamic loss scaling (float16), else None.

    Example:
        >>> import jax, optax, kerax
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> ts = init_train_state(model, optax.sgd(0.1), jax.random.key(0))
        >>> int(ts.step)
        0
    """

    params: Any
    state: Any
    opt_state: Any
    step: jax.Array
    metric_states: Any = None
    base_key: jax.Array | None = None
    loss_scale: Any = None


def as_key_data(key) -> jax.Array:
    """Raw uint32 key data of a PRNG key (typed keys are unwrapped).

    The TrainState keeps raw key data: plain arrays checkpoint and shard like
    any other leaf.
    """
    key = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def step_key(base_key, step) -> jax.Array:
    """The key of training step `step`: `fold_in(base_key, step)` (typed)."""
    return jax.random.fold_in(jax.random.wrap_key_data(base_key), step)


def _base_key_from(key) -> jax.Array:
    # Params come from `key` itself (so they equal `model.init(key, spec)`);
    # training randomness from a separate stream derived from it.
    return as_key_data(jax.random.fold_in(key, 0x6B657261))  # "kera"


def _init_optimizer(tx, params):
    """`tx.init(params)`, as one program when called eagerly (as `Layer.init`:
    op by op, each new shape of zeros compiled a program of its own)."""
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(params)):
        return tx.init(params)
    try:
        program = _optimizer_init_program(tx)
    except TypeError:  # An unhashable transformation: op by op.
        return tx.init(params)
    return program(params)


@functools.lru_cache(maxsize=64)
def _optimizer_init_program(tx):
    # The last 64 transformations' programs, as `Layer.init`'s.
    return jax.jit(tx.init, compiler_options=RUN_ONCE_COMPILER_OPTIONS)


def init_train_state(model, tx, key, spec=None, *, loss_scale=None) -> TrainState:
    """A fresh `TrainState`: `model.init(key, spec)` and `tx.init(params)`.

    Args:
        model: a kerax layer or model.
        tx: an optax `GradientTransformation` (for a Keras name, see
            `kerax.optimizers.get`).
        key: a PRNG key (`jax.random.key(seed)`); the params equal
            `model.init(key, spec)`.
        spec: the input spec; defaults to the model's `kerax.Input`.
        loss_scale: a `kerax.optimizers.DynamicLossScale` to start its state,
            or None.
    """
    if isinstance(key, int):
        key = jax.random.key(key)
    if not jnp.issubdtype(getattr(key, "dtype", jnp.uint32), jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(key)
    params, state = model.init(key, spec) if spec is not None else model.init(key)
    return TrainState(
        params=params,
        state=state,
        opt_state=_init_optimizer(tx, params),
        step=jnp.zeros((), jnp.int32),
        metric_states=None,
        base_key=_base_key_from(key),
        loss_scale=loss_scale.init() if loss_scale is not None else None,
    )
