"""Dynamic loss scaling for float16 training, as Keras's `LossScaleOptimizer`.

The loss is multiplied by a scale before differentiation so that small float16
gradients do not flush to zero; gradients are divided by it again before the
optimizer sees them. A step with non-finite gradients is skipped and the
scale halved; after `dynamic_growth_steps` finite steps in a row it doubles.

Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from kerax.optimizers import SGD, DynamicLossScale
    >>> loss_scale, tx = DynamicLossScale(), SGD(0.1)
    >>> params = {"w": jnp.ones(2)}
    >>> opt_state, ls_state = tx.init(params), loss_scale.init()
    >>> def loss_fn(p, ls):
    ...     return loss_scale.scale(jnp.sum(p["w"] ** 2), ls)
    >>> grads = loss_scale.unscale(jax.grad(loss_fn)(params, ls_state), ls_state)
    >>> finite = DynamicLossScale.all_finite(grads)
    >>> updates, new_opt_state = tx.update(grads, opt_state, params)
    >>> params, opt_state = DynamicLossScale.select(
    ...     finite,
    ...     (optax.apply_updates(params, updates), new_opt_state),
    ...     (params, opt_state),
    ... )
    >>> ls_state = loss_scale.adjust(ls_state, finite)
    >>> [round(w, 4) for w in params["w"].tolist()], int(ls_state.step_counter)
    ([0.8, 0.8], 1)
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["DynamicLossScale", "LossScaleState"]


class LossScaleState(NamedTuple):
    """`scale`: float32 current loss scale; `step_counter`: int32 finite steps
    since the last change (Keras's `dynamic_scale` and `step_counter`)."""

    scale: jax.Array
    step_counter: jax.Array


@dataclasses.dataclass(frozen=True)
class DynamicLossScale:
    """Keras's dynamic loss scaling, as pure functions of a `LossScaleState`.

    Args:
        initial_scale: the starting loss scale.
        dynamic_growth_steps: finite steps in a row after which the scale
            doubles.
    """

    initial_scale: float = 2.0**15
    dynamic_growth_steps: int = 2000

    def init(self) -> LossScaleState:
        return LossScaleState(
            scale=jnp.asarray(self.initial_scale, jnp.float32),
            step_counter=jnp.zeros([], jnp.int32),
        )

    def scale(self, loss: jax.Array, ls_state: LossScaleState) -> jax.Array:
        """`loss * scale`, in the loss's dtype."""
        return loss * ls_state.scale.astype(jnp.result_type(loss))

    def unscale(self, grads: Any, ls_state: LossScaleState) -> Any:
        """`grads / scale`, leaf by leaf, each in its own dtype."""
        return jax.tree.map(lambda g: g / ls_state.scale.astype(g.dtype), grads)

    def adjust(
        self, ls_state: LossScaleState, grads_finite: jax.typing.ArrayLike
    ) -> LossScaleState:
        """The next state: halve on non-finite grads, double after
        `dynamic_growth_steps` finite steps in a row."""
        grow = ls_state.step_counter == self.dynamic_growth_steps - 1
        finite_scale = jnp.where(grow, ls_state.scale * 2.0, ls_state.scale)
        finite_counter = jnp.where(grow, 0, ls_state.step_counter + 1)
        return LossScaleState(
            scale=jnp.where(grads_finite, finite_scale, ls_state.scale * 0.5),
            step_counter=jnp.where(grads_finite, finite_counter, 0).astype(jnp.int32),
        )

    @staticmethod
    def all_finite(grads: Any) -> jax.Array:
        """True when no gradient has an inf or a NaN."""
        leaves = jax.tree.leaves(grads)
        return jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in leaves]))

    @staticmethod
    def select(pred: jax.typing.ArrayLike, on_true: Any, on_false: Any) -> Any:
        """Leaf-wise `where(pred, on_true, on_false)`: keep a step's results only
        when its gradients were finite."""
        return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)

    def get_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
