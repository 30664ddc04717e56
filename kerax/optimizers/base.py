"""The Keras optimizer contract as one optax `GradientTransformation`.

`keras_optimizer(rule, ...)` wraps an algorithm's update rule (Adam, SGD, ...)
with everything Keras's `BaseOptimizer` (JAX backend) does around it, in
Keras's order:

1. divide the gradients by `loss_scale_factor`;
2. gradient accumulation: every `gradient_accumulation_steps`-th call applies
   the mean of the accumulated gradients; the other calls return zero updates
   and leave the algorithm's state alone;
3. clip (`clipnorm` per tensor, or `global_clipnorm`, or `clipvalue`);
4. decoupled weight decay on the variable, `var -= var * weight_decay * lr`,
   before the algorithm's update (so Adam + weight_decay is AdamW);
5. the algorithm's update, which sees the decayed variable;
6. EMA of the new variables, optionally written back into them every
   `ema_overwrite_frequency` steps.

As in Keras: schedules are evaluated at the call count, while the algorithm's
own step (bias corrections), the EMA's first-step rule and the overwrite
period count applied updates (calls // gradient_accumulation_steps); the EMA
is updated on every call, accumulating ones included. Keras assigns
`var - delta`; an optax update is added to the params, so results agree to
float32 rounding (~1 ulp) rather than bit for bit when weight decay or EMA
overwrite combine two changes into one update.

The learning rate lives in the state (`KerasOptimizerState.learning_rate`), so
it can be read and changed between steps without rebuilding anything:
`get_learning_rate`, `set_learning_rate`. A schedule is kept in the state's
static tree data; the array field is then a multiplier on it (1.0 at start).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from kerax.optimizers import schedules

__all__ = [
    "KerasOptimizer",
    "KerasOptimizerState",
    "Rule",
    "keras_optimizer",
    "get_learning_rate",
    "set_learning_rate",
    "ema_params",
    "scale_loss",
    "freeze",
    "Capabilities",
    "capabilities",
]

Schedule = Callable[[jax.typing.ArrayLike], jax.Array]


class Rule(NamedTuple):
    """An algorithm's core, as Keras's `build` + `update_step`.

    `init(params) -> slots`; `update(grads, slots, params, lr, iterations) ->
    (deltas, slots)`, where `params` are the variables after weight decay,
    `lr` the float32 learning rate of this step, `iterations` Keras's
    `optimizer.iterations` (applied updates so far) and `deltas` what is added
    to the variables.
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]
    needs_params: bool = False


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=[
        "iterations",
        "learning_rate",
        "slots",
        "accumulated_gradients",
        "average",
    ],
    meta_fields=["schedule", "loss_scale_factor"],
)
@dataclasses.dataclass(frozen=True)
class KerasOptimizerState:
    """State of a kerax optimizer; a pytree.

    Attributes:
        iterations: int32, calls to `update` so far (Keras `_iterations`).
        learning_rate: float32. Without a schedule, the learning rate; with
            one, a multiplier on it (1.0 until `set_learning_rate`).
        slots: the algorithm's variables (moments, accumulators, ...).
        accumulated_gradients: gradient sums when
            `gradient_accumulation_steps` is set, else None.
        average: EMA of the params when `use_ema=True`, else None.
        schedule: static; the learning-rate schedule or None.
        loss_scale_factor: static; Keras's `loss_scale_factor` or None.
    """

    iterations: jax.Array
    learning_rate: jax.Array
    slots: Any
    accumulated_gradients: Any = None
    average: Any = None
    schedule: Schedule | None = None
    loss_scale_factor: float | None = None

    def replace(self, **changes) -> KerasOptimizerState:
        return dataclasses.replace(self, **changes)


class KerasOptimizer(optax.GradientTransformation):
    """An optax `GradientTransformation` that remembers its Keras name and config.

    It is an ordinary `(init, update)` NamedTuple for optax and JAX; the extra
    attributes only serve `get_config` / `kerax.optimizers.serialize`.
    """

    class_name: str = ""
    config: dict[str, Any] = {}

    def get_config(self) -> dict[str, Any]:
        return dict(self.config)


def _named(tx: optax.GradientTransformation, class_name: str, config: dict) -> Any:
    out = KerasOptimizer(tx.init, tx.update)
    out.class_name = class_name
    out.config = config
    return out


# ----------------------------------------------------------------- clipping --


def _clip_by_norm(g, clipnorm):
    # Keras's two-tap `where` keeps a zero gradient finite (no 0/0).
    l2sum = jnp.sum(jnp.square(g), keepdims=True)
    pred = l2sum > 0
    l2sum_safe = jnp.where(pred, l2sum, jnp.ones_like(l2sum))
    l2norm = jnp.where(pred, jnp.sqrt(l2sum_safe), l2sum)
    return (g * clipnorm) / jnp.maximum(l2norm, clipnorm)


def _clip_by_global_norm(grads, clipnorm):
    leaves = jax.tree.leaves(grads)
    norm = jnp.sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g)) for g in leaves])))
    # `norm - norm` turns the scale into NaN when the norm is not finite, as
    # in Keras, so bad gradients are not silently clipped to finite ones.
    scale = clipnorm * jnp.minimum(1.0 / norm, 1.0 / clipnorm) + (norm - norm)
    return jax.tree.map(lambda g: g * scale, grads)


def _clip(grads, clipnorm, clipvalue, global_clipnorm):
    if clipnorm and clipnorm > 0:
        return jax.tree.map(lambda g: _clip_by_norm(g, clipnorm), grads)
    if global_clipnorm and global_clipnorm > 0:
        return _clip_by_global_norm(grads, global_clipnorm)
    if clipvalue and clipvalue > 0:
        return jax.tree.map(lambda g: jnp.clip(g, -clipvalue, clipvalue), grads)
    return grads


# -------------------------------------------------------- the transformation --


def _split_learning_rate(learning_rate) -> tuple[Schedule | None, float]:
    if callable(learning_rate):
        return learning_rate, 1.0
    if isinstance(learning_rate, dict):
        return schedules.deserialize(learning_rate), 1.0
    try:
        return None, float(learning_rate)
    except (TypeError, ValueError):
        raise ValueError(
            "Argument `learning_rate` should be a float, a schedule from "
            "kerax.optimizers.schedules, or a callable step -> learning rate "
            f"(an optax schedule). Received instead: learning_rate={learning_rate!r}"
        ) from None


def _current_lr(state: KerasOptimizerState, step=None) -> jax.Array:
    if state.schedule is None:
        return state.learning_rate
    step = state.iterations if step is None else step
    return jnp.asarray(state.schedule(step), jnp.float32) * state.learning_rate


def keras_optimizer(
    rule: Rule,
    *,
    learning_rate,
    class_name: str,
    config: dict[str, Any],
    weight_decay: float | None = None,
    clipnorm: float | None = None,
    clipvalue: float | None = None,
    global_clipnorm: float | None = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: int | None = None,
    loss_scale_factor: float | None = None,
    gradient_accumulation_steps: int | None = None,
) -> KerasOptimizer:
    """Wraps `rule` with Keras's base-optimizer steps; see the module doc."""
    gas = gradient_accumulation_steps
    if gas and not gas >= 2:
        raise ValueError(
            "`gradient_accumulation_steps` must be an integer >= 2. "
            f"Received: gradient_accumulation_steps={gas}"
        )
    if use_ema:
        if ema_momentum > 1 or ema_momentum < 0:
            raise ValueError(
                "`ema_momentum` must be in the range [0, 1]. "
                f"Received: ema_momentum={ema_momentum}"
            )
        if ema_overwrite_frequency and (
            not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
        ):
            raise ValueError(
                "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
            )
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
            f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
            f"global_clipnorm={global_clipnorm}"
        )
    schedule, lr_value = _split_learning_rate(learning_rate)
    needs_params = rule.needs_params or weight_decay is not None or use_ema

    def init_fn(params):
        return KerasOptimizerState(
            iterations=jnp.zeros([], jnp.int32),
            learning_rate=jnp.asarray(lr_value, jnp.float32),
            slots=rule.init(params),
            accumulated_gradients=(
                jax.tree.map(jnp.zeros_like, params) if gas else None
            ),
            # Keras starts the average at zeros, but its first step overwrites
            # it with the variables; starting from a copy makes `ema_params`
            # meaningful before any step too.
            average=jax.tree.map(jnp.array, params) if use_ema else None,
            schedule=schedule,
            loss_scale_factor=loss_scale_factor,
        )

    def apply_step(grads, state, params, lr, iterations):
        grads = _clip(grads, clipnorm, clipvalue, global_clipnorm)
        if weight_decay is not None:
            decay = jax.tree.map(
                lambda p: -(p * weight_decay * lr.astype(p.dtype)), params
            )
            params = jax.tree.map(jnp.add, params, decay)
        deltas, slots = rule.update(grads, state.slots, params, lr, iterations)
        # Keras computes in each variable's dtype; float32 scalars must not
        # promote bfloat16/float16 moments (the state's dtypes stay fixed).
        slots = jax.tree.map(lambda new, old: new.astype(old.dtype), slots, state.slots)
        deltas = jax.tree.map(lambda d, g: d.astype(g.dtype), deltas, grads)
        if weight_decay is not None:
            deltas = jax.tree.map(jnp.add, decay, deltas)
        return deltas, slots

    def update_fn(updates, state, params=None):
        if needs_params and params is None:
            raise ValueError(
                f"{class_name}: `update` needs `params` (for weight decay, EMA or "
                "the algorithm itself). Call `tx.update(grads, opt_state, params)`."
            )
        grads = updates
        if loss_scale_factor is not None:
            grads = jax.tree.map(lambda g: g / loss_scale_factor, grads)
        # Schedules follow the real call count; the algorithm's own step
        # (bias corrections) and EMA follow applied updates, as in Keras.
        lr = _current_lr(state)
        iterations = state.iterations // gas if gas else state.iterations
        if gas:
            is_update_step = (state.iterations + 1) % gas == 0
            acc = state.accumulated_gradients

            def apply_accumulated():
                mean = jax.tree.map(lambda g, a: (g + a) / gas, grads, acc)
                deltas, slots = apply_step(mean, state, params, lr, iterations)
                return deltas, slots, jax.tree.map(jnp.zeros_like, acc)

            def accumulate():
                deltas = jax.tree.map(jnp.zeros_like, grads)
                return deltas, state.slots, jax.tree.map(jnp.add, grads, acc)

            deltas, slots, acc = jax.lax.cond(
                is_update_step, apply_accumulated, accumulate
            )
        else:
            deltas, slots = apply_step(grads, state, params, lr, iterations)
            acc = None
        average = state.average
        if use_ema:
            new_params = optax.apply_updates(params, deltas)
            momentum = (iterations != 0).astype(jnp.float32) * ema_momentum
            average = jax.tree.map(
                lambda a, v: (
                    momentum.astype(v.dtype) * a + (1 - momentum).astype(v.dtype) * v
                ),
                average,
                new_params,
            )
            if ema_overwrite_frequency:
                overwrite = (iterations + 1) % ema_overwrite_frequency == 0
                deltas = jax.tree.map(
                    lambda d, a, p: jnp.where(overwrite, a - p, d),
                    deltas,
                    average,
                    params,
                )
        return deltas, state.replace(
            iterations=state.iterations + 1,
            slots=slots,
            accumulated_gradients=acc,
            average=average,
        )

    config = {
        "name": config.pop("name", None),
        "learning_rate": _config_learning_rate(learning_rate),
        "weight_decay": weight_decay,
        "clipnorm": clipnorm,
        "global_clipnorm": global_clipnorm,
        "clipvalue": clipvalue,
        "use_ema": use_ema,
        "ema_momentum": ema_momentum,
        "ema_overwrite_frequency": ema_overwrite_frequency,
        "loss_scale_factor": loss_scale_factor,
        "gradient_accumulation_steps": gradient_accumulation_steps,
        **config,
    }
    return _named(optax.GradientTransformation(init_fn, update_fn), class_name, config)


def _config_learning_rate(learning_rate):
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        return schedules.serialize(learning_rate)
    if callable(learning_rate) or isinstance(learning_rate, dict):
        return learning_rate
    return float(learning_rate)


# ------------------------------------------------- reading the state back --

_LR_STATES = (
    KerasOptimizerState,
    optax.InjectHyperparamsState,
    optax.InjectStatefulHyperparamsState,
)


def _is_lr_state(x) -> bool:
    if isinstance(x, KerasOptimizerState):
        return True
    return isinstance(x, _LR_STATES) and "learning_rate" in x.hyperparams


def _lr_states(opt_state) -> list:
    found = [
        x for x in jax.tree.leaves(opt_state, is_leaf=_is_lr_state) if _is_lr_state(x)
    ]
    if not found:
        raise ValueError(
            "This optimizer state holds no learning rate. Build the optimizer "
            "with kerax.optimizers (e.g. kerax.optimizers.Adam(...)) or wrap an "
            "optax optimizer in optax.inject_hyperparams."
        )
    return found


def get_learning_rate(opt_state, step: jax.typing.ArrayLike | None = None) -> jax.Array:
    """The learning rate the next update will use, as a float32 scalar.

    Args:
        opt_state: state from a kerax optimizer (possibly nested in
            `optax.chain`, `freeze`, ...) or from `optax.inject_hyperparams`.
            With several optimizers inside, the first one's is returned.
        step: evaluate the schedule at this step instead of the state's own
            call count. Ignored without a schedule.

    Example:
        >>> import jax.numpy as jnp, kerax.optimizers as ko
        >>> tx = ko.Adam(learning_rate=0.01)
        >>> state = tx.init({"w": jnp.zeros(3)})
        >>> round(float(ko.get_learning_rate(state)), 6)
        0.01
    """
    state = _lr_states(opt_state)[0]
    if isinstance(state, KerasOptimizerState):
        return _current_lr(state, step)
    return jnp.asarray(state.hyperparams["learning_rate"])


def set_learning_rate(opt_state, value: jax.typing.ArrayLike):
    """Returns `opt_state` with its learning rate set to `value` (pure; jittable).

    Without a schedule, the learning rate becomes `value` (as Keras's
    `optimizer.learning_rate = value`). With a schedule, the schedule is kept
    and scaled: its multiplier becomes `value / schedule(current step)`, so the
    rate is `value` now and follows the schedule's shape, scaled, afterwards
    (what ReduceLROnPlateau needs). Keras itself refuses to set a scheduled
    rate. Every learning rate found in the state is set.

    Example:
        >>> import jax.numpy as jnp, kerax.optimizers as ko
        >>> tx = ko.SGD(learning_rate=0.1)
        >>> state = ko.set_learning_rate(tx.init({"w": jnp.zeros(3)}), 0.05)
        >>> round(float(ko.get_learning_rate(state)), 6)
        0.05
    """
    _lr_states(opt_state)

    def set_one(state):
        if not _is_lr_state(state):
            return state
        if isinstance(state, KerasOptimizerState):
            if state.schedule is None:
                return state.replace(learning_rate=jnp.asarray(value, jnp.float32))
            current = jnp.asarray(state.schedule(state.iterations), jnp.float32)
            try:
                is_zero = bool(current == 0)
            except jax.errors.ConcretizationTypeError:
                is_zero = False
            if is_zero:
                raise ValueError(
                    "Cannot set the learning rate while the schedule's current "
                    "value is 0 (it is kept as a multiplier on the schedule)."
                )
            return state.replace(
                learning_rate=jnp.asarray(value, jnp.float32) / current
            )
        hyperparams = dict(state.hyperparams)
        old = jnp.asarray(hyperparams["learning_rate"])
        hyperparams["learning_rate"] = jnp.asarray(value, old.dtype)
        return state._replace(hyperparams=hyperparams)

    return jax.tree.map(set_one, opt_state, is_leaf=_is_lr_state)


def _keras_state(opt_state) -> KerasOptimizerState:
    for state in _lr_states(opt_state):
        if isinstance(state, KerasOptimizerState):
            return state
    raise ValueError(
        "This optimizer state was not made by a kerax optimizer "
        "(kerax.optimizers.Adam(...), ...)."
    )


def ema_params(opt_state, params=None):
    """The exponential moving average of the params kept by `use_ema=True`.

    Args:
        opt_state: state of a kerax optimizer built with `use_ema=True`.
        params: optional; when given, leaves the optimizer does not track
            (frozen by `freeze`) are filled in from it, so the result has the
            structure of `params` (what a SwapEMAWeights callback needs).

    Raises:
        ValueError: the optimizer was built without `use_ema=True`.
    """
    state = _keras_state(opt_state)
    if state.average is None:
        raise ValueError(
            "This optimizer keeps no moving average of the weights: build it "
            "with `use_ema=True` (e.g. kerax.optimizers.Adam(use_ema=True)) to "
            "use ema_params or SwapEMAWeights."
        )
    if params is None:
        return state.average
    return jax.tree.map(
        lambda p, a: p if isinstance(a, optax.MaskedNode) else a, params, state.average
    )


def scale_loss(opt_state, loss: jax.Array) -> jax.Array:
    """`loss * loss_scale_factor` if the optimizer has one (Keras `scale_loss`)."""
    factor = _keras_state(opt_state).loss_scale_factor
    return loss if factor is None else loss * factor


class Capabilities(NamedTuple):
    """What an optimizer state declares about itself, read once from its structure.

    Attributes:
        learning_rate: the state holds a learning rate `get_learning_rate`
            reads (kerax optimizers, `optax.inject_hyperparams`): training
            logs it as `learning_rate`.
        loss_scale_factor: Keras's `loss_scale_factor` of the first kerax
            optimizer in the state, or None: the loss is multiplied by it
            before differentiation (`scale_loss`).
    """

    learning_rate: bool
    loss_scale_factor: float | None


def capabilities(opt_state) -> Capabilities:
    """The `Capabilities` an optimizer state declares (abstract states work too).

    The answer comes from the state's types and static fields alone (no
    array is read), so a training step asks once, when it is built, instead
    of trying features while it is traced.

    Example:
        >>> import jax, jax.numpy as jnp, optax, kerax.optimizers as ko
        >>> params = {"w": jnp.zeros(3)}
        >>> ko.capabilities(ko.Adam(loss_scale_factor=8.0).init(params))
        Capabilities(learning_rate=True, loss_scale_factor=8.0)
        >>> ko.capabilities(jax.eval_shape(optax.adam(1e-3).init, params))
        Capabilities(learning_rate=False, loss_scale_factor=None)
    """
    found = [
        x for x in jax.tree.leaves(opt_state, is_leaf=_is_lr_state) if _is_lr_state(x)
    ]
    keras_states = [x for x in found if isinstance(x, KerasOptimizerState)]
    factor = keras_states[0].loss_scale_factor if keras_states else None
    return Capabilities(learning_rate=bool(found), loss_scale_factor=factor)


def freeze(
    tx: optax.GradientTransformation, trainable_mask
) -> optax.GradientTransformation:
    """Keras `trainable=False` for an optax optimizer.

    Leaves whose mask is False get zero updates and no optimizer state; `tx`
    only ever sees the trainable leaves (so its global norm, EMA, ... ignore
    frozen ones, as Keras ignores non-trainable variables).

    Args:
        tx: any optax transformation.
        trainable_mask: a pytree of Python bools with the structure of the
            params (True: trainable), or a callable `params -> mask`.

    Example:
        >>> import jax.numpy as jnp, optax, kerax.optimizers as ko
        >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
        >>> tx = ko.freeze(ko.SGD(0.1), {"w": True, "b": False})
        >>> updates, _ = tx.update(params, tx.init(params), params)
        >>> optax.apply_updates(params, updates)["b"].tolist()
        [1.0, 1.0]
    """

    def labels(params):
        mask = trainable_mask(params) if callable(trainable_mask) else trainable_mask
        return jax.tree.map(lambda t: "trainable" if t else "frozen", mask)

    return optax.multi_transform(
        {"trainable": tx, "frozen": optax.set_to_zero()}, labels
    )


# ------------------------------------- helpers for the algorithm modules --

_F32 = jnp.float32  # Keras floatx: learning rates, steps, powers.
_COMMON = (
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)


def _build(class_name: str, rule: Rule, args: dict) -> KerasOptimizer:
    args = dict(args)
    learning_rate = args.pop("learning_rate")
    common = {k: args.pop(k) for k in _COMMON}
    return keras_optimizer(
        rule,
        learning_rate=learning_rate,
        class_name=class_name,
        config=args,
        **common,
    )


def _map(fn, n_out: int, *trees):
    """Maps `fn` over the leaves of `trees` (structure of the first); `fn`
    returns `n_out` values, given back as `n_out` trees."""
    treedef = jax.tree.structure(trees[0])
    flat = [treedef.flatten_up_to(t) for t in trees]
    outs = [fn(*xs) for xs in zip(*flat)]
    return tuple(treedef.unflatten([o[i] for o in outs]) for i in range(n_out))


def _zeros(params):
    return jax.tree.map(jnp.zeros_like, params)


def _check_number(
    name, value, *, low=None, high=None, strict=(), allow_none=False, integer=False
):
    """A ValueError naming the argument unless `value` is a number (an int
    with `integer`) in the range; `strict` holds "low"/"high" for open ends."""
    if value is None and allow_none:
        return
    kinds = (int,) if integer else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if "low" in strict else value >= low
    if ok and high is not None:
        ok = value < high if "high" in strict else value <= high
    if not ok:
        bounds = ""
        if low is not None or high is not None:
            lo = "(" if "low" in strict else "["
            hi = ")" if "high" in strict else "]"
            bounds = f" in {lo}{'-inf' if low is None else low}, "
            bounds += f"{'inf' if high is None else high}{hi}"
        what = "an integer" if integer else "a number"
        none = " or None" if allow_none else ""
        raise ValueError(
            f"Argument `{name}` must be {what}{bounds}{none}. Received: {name}={value!r}"
        )


def _step(iterations, offset=1):
    return (iterations + offset).astype(_F32)


def _path(key_path) -> str:
    """`"dense/kernel"` for the tree path of `params["dense"]["kernel"]`: how
    the optimizers that pick per param (Muon, MultiOptimizer) name params."""
    return jax.tree_util.keystr(key_path, simple=True, separator="/")
