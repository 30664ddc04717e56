"""Pure train, eval and predict steps: what `Trainer.fit` runs, and what a
functional training script uses directly.

    step = make_train_step(model, "sparse_categorical_crossentropy", "adam",
                           metrics=["accuracy"])
    ts = step.init(jax.random.key(0))
    for x, y in batches:
        ts, logs = step(ts, (x, y))

A step is `(TrainState, batch) -> (TrainState, logs)`, jitted with the
`TrainState` donated. `batch` is `(x, y)` or `(x, y, sample_weight)` as in
Keras. `logs` hold running values since the metrics were last reset
(`reset_metrics`), like Keras's, as JAX scalars: reading one
(`float(logs["loss"])`) waits for the step.

What a step does, in order: the key `fold_in(base_key, step)`; the forward
pass with `training=True` collecting auxiliary losses (weight regularizers and
activity losses) into the loss; the compiled per-output losses with
`loss_weights` and sample weights; dynamic loss scaling under float16; the
optimizer update with frozen layers masked (`model.trainable_mask`); Keras
constraints (`model.constrain`); the loss trackers and metrics.

`step.fn` is the pure function itself (for one's own `jit`, `scan` or
sharding); it needs a `TrainState` whose `metric_states` (and `loss_scale`,
under float16) are filled, which `step.prepare(ts, batch)` does.
"""

from __future__ import annotations

import collections.abc
from typing import Any

import jax
import jax.numpy as jnp
import optax

from kerax.core import aux_losses
from kerax.core.spec import to_spec
from kerax.training.objectives import Objectives, unpack_batch
from kerax.training.train_state import TrainState, init_train_state, step_key

__all__ = [
    "Logs",
    "Step",
    "EvalStep",
    "PredictStep",
    "TrainStep",
    "make_train_step",
    "make_eval_step",
    "make_predict_step",
    "reset_metrics",
    "resolve_optimizer",
    "resolve_loss_scale",
    "has_frozen_layers",
]


# ------------------------------------------------------------------ helpers


def has_frozen_layers(layer) -> bool:
    """True when the layer or any sublayer has `trainable=False`."""
    if not getattr(layer, "trainable", True):
        return True
    return any(has_frozen_layers(child) for _, child in layer.children())


def resolve_optimizer(model, optimizer) -> optax.GradientTransformation:
    """`kerax.optimizers.get(optimizer)`, masked for frozen layers (Keras `trainable=False`)."""
    from kerax import optimizers

    tx = optimizers.get(optimizer)
    if has_frozen_layers(model):
        tx = optimizers.freeze(tx, model.trainable_mask)
    return tx


def resolve_loss_scale(model, loss_scale):
    """`"auto"`: dynamic loss scaling when the model computes in float16 (Keras's
    `auto_scale_loss`); None or False: none; else a `DynamicLossScale`."""
    if loss_scale is None or loss_scale is False:
        return None
    if isinstance(loss_scale, str) and loss_scale == "auto" or loss_scale is True:
        from kerax.optimizers import DynamicLossScale

        if loss_scale is True or model.policy.compute_dtype == jnp.float16:
            return DynamicLossScale()
        return None
    return loss_scale


def _batch_size(x) -> int:
    for leaf in jax.tree.leaves(x):
        if getattr(leaf, "ndim", 0) > 0:
            return int(leaf.shape[0])
    raise ValueError(
        "Cannot tell the batch size: the inputs x hold no arrays with a batch dimension."
    )


def _optional(fn, *args):
    """`fn(*args)`, or None when the optimizer state does not support it."""
    try:
        return fn(*args)
    except ValueError:
        return None


def reset_metrics(ts: TrainState) -> TrainState:
    """The TrainState with its metrics cleared: the next step starts them afresh."""
    return ts._replace(metric_states=None)


def _forward(model, params, state, x, *, key, training):
    """`(y_pred, state, mask, aux_loss)`: the forward pass with auxiliary losses."""
    with aux_losses.collect() as extra:
        y_pred, state, mask = model.apply_masked(
            params, state, x, key=key, training=training
        )
    aux = aux_losses.total(extra) + model.regularization_loss(params)
    return y_pred, state, mask, aux


# -------------------------------------------------------------------- steps


class Step:
    """A jitted step `(TrainState, batch) -> (TrainState, logs)`.

    Calling it fills what a fresh `TrainState` may lack (the metric states,
    once the target shapes are known; the loss-scale state), then runs the
    jitted function. `fn` is the pure function; `jitted` its `jax.jit`
    (with the TrainState donated for training steps).
    """

    def __init__(
        self,
        fn,
        *,
        objectives: Objectives | None,
        model,
        loss_scale=None,
        donate: bool = False,
        stacked: bool = False,
        name="step",
    ):
        self.fn = fn
        self.model = model
        self.objectives = objectives
        self.loss_scale = loss_scale
        self.stacked = stacked
        self.jitted = jax.jit(fn, donate_argnums=(0,) if donate else ())
        self.__name__ = name

    def build(self, batch) -> None:
        """Resolves the loss and metrics for this batch's shapes (once)."""
        if self.objectives is None or self.objectives.built:
            return
        x, y, _ = unpack_batch(batch)
        x_spec = to_spec(x)
        if self.stacked:  # Leading axis: the steps of one execution.
            x_spec = jax.tree.map(
                lambda s: jax.ShapeDtypeStruct(s.shape[1:], s.dtype), x_spec
            )
            y = (
                None
                if y is None
                else jax.tree.map(
                    lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), to_spec(y)
                )
            )
        y_pred = self.model.output_spec(x_spec)
        self.objectives.build(y, y_pred)

    # Where fresh metric states go (a distribution strategy sets this to put
    # them on its replicated sharding, so the first step does not compile
    # for other input shardings than the rest).
    place_metrics = None

    def prepare(self, ts: TrainState, batch) -> TrainState:
        """Fills `metric_states` (and `loss_scale`) if the TrainState lacks them."""
        if ts.metric_states is None and self.objectives is not None:
            self.build(batch)
            fresh = self.objectives.init_metrics()
            if self.place_metrics is not None:
                fresh = self.place_metrics(fresh)
            ts = ts._replace(metric_states=fresh)
        if self.loss_scale is not None and ts.loss_scale is None:
            ts = ts._replace(loss_scale=self.loss_scale.init())
        return ts

    def __call__(self, ts: TrainState, batch):
        # Kept lean: on a dispatch-bound model every microsecond here shows.
        if ts.metric_states is None or (
            self.loss_scale is not None and ts.loss_scale is None
        ):
            ts = self.prepare(ts, batch)
        return self.jitted(ts, batch)


class Logs(collections.abc.Mapping):
    """Evaluation logs, computed on first read from the metric states.

    The evaluation loop needs its logs only at the end (or when a callback
    reads them), so its step returns metric states alone. Values are JAX
    scalars; reading one waits for the step.
    """

    __slots__ = ("_fn", "_states", "_values")

    def __init__(self, fn, states):
        self._fn, self._states, self._values = fn, states, None

    def _computed(self) -> dict:
        if self._values is None:
            self._values = dict(self._fn(self._states))
        return self._values

    def __getitem__(self, key):
        return self._computed()[key]

    def __iter__(self):
        return iter(self._computed())

    def __len__(self):
        return len(self._computed())

    def __repr__(self):
        return f"Logs({self._computed()!r})"


class TrainStep(Step):
    """`make_train_step`'s result: a `Step` that also knows its optimizer.

    Attributes:
        tx: the optax transformation the step applies (frozen layers masked).
        fused: the same step over K stacked batches (leaves shaped
            `(K, batch, ...)`), fused into one dispatch with `lax.scan`.
    """

    def __init__(self, fn, scan_fn, *, tx, donate, **kwargs):
        super().__init__(fn, donate=donate, name="train_step", **kwargs)
        self.tx = tx
        self.fused = Step(
            scan_fn, donate=donate, stacked=True, name="fused_train_step", **kwargs
        )

    def init(self, key, spec=None) -> TrainState:
        """A fresh TrainState for this step's model and optimizer."""
        if spec is None:
            spec = getattr(self.model, "input_spec", None)
        return init_train_state(
            self.model, self.tx, key, spec, loss_scale=self.loss_scale
        )


def make_train_step(
    model,
    loss=None,
    optimizer: Any = "rmsprop",
    metrics=None,
    loss_weights=None,
    *,
    weighted_metrics=None,
    loss_scale="auto",
    objectives: Objectives | None = None,
    donate: bool = True,
) -> TrainStep:
    """The training step `(TrainState, batch) -> (TrainState, logs)`.

    Args:
        model: a kerax model (any layer).
        loss, loss_weights, metrics, weighted_metrics: as Keras `compile()`;
            per-output lists or dicts for models with several outputs.
        optimizer: a Keras optimizer name, a `kerax.optimizers` optimizer or
            any optax `GradientTransformation`.
        loss_scale: "auto" (dynamic loss scaling when the model computes in
            float16, as Keras's `auto_scale_loss`), a
            `kerax.optimizers.DynamicLossScale`, or None.
        objectives: share an `Objectives` with an eval step (else one is made).
        donate: donate the TrainState's buffers to the step (default).

    Returns:
        A `TrainStep`: call it, or use `.fn` (pure) and `.fused` (K steps per
        dispatch), `.tx` and `.init(key, spec)`. Its logs hold the running
        `loss`, per-output losses and metrics, and `learning_rate` when the
        optimizer state has one (kerax optimizers, `optax.inject_hyperparams`).
    """
    tx = resolve_optimizer(model, optimizer)
    scaler = resolve_loss_scale(model, loss_scale)
    if objectives is None:
        objectives = Objectives(model, loss, loss_weights, metrics, weighted_metrics)

    def update(ts: TrainState, batch) -> TrainState:
        x, y, sample_weight = unpack_batch(batch)
        key = step_key(ts.base_key, ts.step)

        def loss_fn(params):
            y_pred, state, mask, aux = _forward(
                model, params, ts.state, x, key=key, training=True
            )
            task_loss, per_output = objectives.compute_loss(
                y, y_pred, sample_weight, mask
            )
            total = task_loss + aux
            scaled = total
            if scaler is not None:
                scaled = scaler.scale(scaled, ts.loss_scale)
            factor_scaled = _optional(_scale_loss, ts.opt_state, scaled)
            if factor_scaled is not None:
                scaled = factor_scaled
            return scaled, (total, per_output, y_pred, state, mask)

        grads, (total, per_output, y_pred, state, mask) = jax.grad(
            loss_fn, has_aux=True
        )(ts.params)
        loss_scale = ts.loss_scale
        if scaler is not None:
            grads = scaler.unscale(grads, ts.loss_scale)
            finite = scaler.all_finite(grads)
        updates, opt_state = tx.update(grads, ts.opt_state, ts.params)
        params = model.constrain(optax.apply_updates(ts.params, updates))
        if scaler is not None:
            # A step with inf/NaN gradients changes nothing but the scale.
            params, opt_state, state = scaler.select(
                finite, (params, opt_state, state), (ts.params, ts.opt_state, ts.state)
            )
            loss_scale = scaler.adjust(ts.loss_scale, finite)
        metric_states = objectives.update_metrics(
            ts.metric_states,
            total,
            per_output,
            y,
            y_pred,
            sample_weight,
            _batch_size(x),
            mask,
        )
        return ts._replace(
            params=params,
            state=state,
            opt_state=opt_state,
            step=ts.step + 1,
            metric_states=metric_states,
            loss_scale=loss_scale,
        )

    def logs_of(ts: TrainState) -> dict:
        logs = objectives.results(ts.metric_states)
        lr = _optional(_learning_rate, ts.opt_state)
        if lr is not None:
            logs["learning_rate"] = lr
        return logs

    def train_step(ts: TrainState, batch):
        ts = update(ts, batch)
        return ts, logs_of(ts)

    def fused_train_step(ts: TrainState, batches):
        def body(ts, batch):
            return update(ts, batch), None

        ts, _ = jax.lax.scan(body, ts, batches)
        return ts, logs_of(ts)

    return TrainStep(
        train_step,
        fused_train_step,
        tx=tx,
        donate=donate,
        objectives=objectives,
        model=model,
        loss_scale=scaler,
    )


def _scale_loss(opt_state, loss):
    from kerax.optimizers import scale_loss

    return scale_loss(opt_state, loss)


def _learning_rate(opt_state):
    from kerax.optimizers import get_learning_rate

    return get_learning_rate(opt_state)


def make_eval_step(
    model,
    loss=None,
    metrics=None,
    loss_weights=None,
    *,
    weighted_metrics=None,
    objectives: Objectives | None = None,
) -> EvalStep:
    """The evaluation step `(TrainState, batch) -> (TrainState, logs)`.

    Runs the model in inference mode and updates only `metric_states` (the
    loss trackers and metrics); the TrainState's other fields come back
    unchanged and are not donated. Reset the metrics before evaluating
    (`reset_metrics(ts)`) to get this evaluation's values alone.
    """
    if objectives is None:
        objectives = Objectives(model, loss, loss_weights, metrics, weighted_metrics)

    def metrics_after(ts: TrainState, batch):
        x, y, sample_weight = unpack_batch(batch)
        y_pred, _, mask, aux = _forward(
            model, ts.params, ts.state, x, key=None, training=False
        )
        task_loss, per_output = objectives.compute_loss(y, y_pred, sample_weight, mask)
        total = task_loss + aux
        return objectives.update_metrics(
            ts.metric_states,
            total,
            per_output,
            y,
            y_pred,
            sample_weight,
            _batch_size(x),
            mask,
        )

    def eval_step(ts: TrainState, batch):
        metric_states = metrics_after(ts, batch)
        return ts._replace(metric_states=metric_states), objectives.results(
            metric_states
        )

    def split(weights, metric_states, batch):
        params, state = weights
        ts = TrainState(params, state, None, None, metric_states)
        return metrics_after(ts, batch)

    return EvalStep(eval_step, split, objectives=objectives, model=model)


class EvalStep:
    """`make_eval_step`'s result: `step(ts, batch) -> (ts, logs)`.

    Only the metric states change. The jitted function takes the params, the
    state and the metric states (not the optimizer state, which evaluation
    neither needs nor should pay dispatch time for) and returns new metric
    states; logs are computed from them when read (`Logs`).
    """

    def __init__(self, fn, split_fn, *, objectives: Objectives, model):
        self.fn = fn
        self.model = model
        self.objectives = objectives
        self.loss_scale = None
        self.jitted = jax.jit(split_fn)
        self._results = jax.jit(objectives.results)
        self._sharded = None
        self.__name__ = "eval_step"

    build = Step.build
    prepare = Step.prepare
    place_metrics = None
    stacked = False

    def run(self, ts: TrainState, batch) -> TrainState:
        """The TrainState with its metric states updated by `batch` (no logs)."""
        if ts.metric_states is None:
            ts = self.prepare(ts, batch)
        if self._sharded is not None:
            return self._sharded(ts, batch)[0]
        return ts._replace(
            metric_states=self.jitted((ts.params, ts.state), ts.metric_states, batch)
        )

    def distribute(self, strategy) -> None:
        """Runs under a `kerax.distribute` strategy (its `jit_step` keeps the
        TrainState's shardings)."""
        self._sharded = strategy.jit_step(self.fn, self.model, donate=False)
        self.place_metrics = _replicate_on(strategy)

    def logs(self, ts: TrainState) -> Logs:
        return Logs(self._results, ts.metric_states)

    def __call__(self, ts: TrainState, batch):
        ts = self.run(ts, batch)
        return ts, self.logs(ts)


def _replicate_on(strategy):
    def place(tree):
        return jax.device_put(tree, strategy.replicated())

    return place


def make_predict_step(model) -> PredictStep:
    """The prediction step `(TrainState, x) -> y_pred` (inference mode, jitted).

    Only `ts.params` and `ts.state` are read; a `(params, state)` pair works too.
    """

    def predict_step(ts, x):
        params, state = (ts.params, ts.state) if isinstance(ts, TrainState) else ts
        y_pred, _ = model.apply(params, state, x, training=False)
        return y_pred

    return PredictStep(predict_step)


class PredictStep:
    """`make_predict_step`'s result: `step(ts, x) -> y_pred`, jitted."""

    def __init__(self, fn):
        self.fn = fn
        self.jitted = jax.jit(fn)
        self.__name__ = "predict_step"

    def __call__(self, ts, x):
        return self.jitted(ts, x)
