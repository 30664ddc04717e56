"""Pure train, eval and predict steps: what `Trainer.fit` runs, and what a
functional training script uses directly.

    step = make_train_step(model, "sparse_categorical_crossentropy", "adam",
                           metrics=["accuracy"])
    ts = step.init(jax.random.key(0))
    for x, y in batches:
        ts, logs = step(ts, (x, y))

Everything is resolved when the step is made: the loss and metrics (an
immutable `Objectives`, from the model's output spec and, when given, the
target spec), the optax transformation (frozen layers masked), the dynamic
loss scale, and the jitted function (donation, and the distribution
strategy's shardings: `compile_step` is the one place that jits). `init`
returns a complete `TrainState` (metric states and loss-scale state
included), so calling the step is the jitted call and nothing else.

A step is `(TrainState, batch) -> (TrainState, logs)`. `batch` is `(x, y)`
or `(x, y, sample_weight)` as in Keras. The compiled program is lean: it
takes the TrainState and the batch and returns the TrainState, nothing
else (no logs): the step's key is `fold_in(base_key, step)` inside,
the base key comes back as it went in (XLA aliases the donated buffer:
measured, the pass-through is no slower than rebuilding the TrainState
around a smaller output in Python), and `logs` are computed
from the returned accumulators only when read (`Logs`): a loop that never
reads them moves no logs off the device.

What a step does, in order: the key `fold_in(base_key, step)`; the forward
pass with `training=True` collecting auxiliary losses (weight regularizers and
activity losses) into the loss; the compiled per-output losses with
`loss_weights` and sample weights; dynamic loss scaling under float16 and the
optimizer's declared `loss_scale_factor`; the optimizer update with frozen
layers masked (`model.trainable_mask`); Keras constraints
(`model.constrain`); the loss trackers and metrics.

`make_train_step(..., steps=K)` is the same step over K stacked batches
(leaves shaped `(K, batch, ...)`), fused into one dispatch with `lax.scan`.
`step.fn` is the pure function over whole TrainStates (for one's own `jit`,
`scan` or sharding).
"""

from __future__ import annotations

import collections.abc
import concurrent.futures
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.extend import core as jax_core

from kerax import optimizers
from kerax.core import aux_losses
from kerax.core.mutation import ModelWatch
from kerax.core.spec import to_spec
from kerax.optimizers import DynamicLossScale
from kerax.optimizers import base as optimizer_base
from kerax.optimizers.wrappers import unwrap_loss_scale
from kerax.training.objectives import Objectives, unpack_batch
from kerax.training.train_state import TrainState, init_train_state, step_key

__all__ = [
    "Logs",
    "EvalStep",
    "PredictStep",
    "TrainStep",
    "compile_step",
    "contains_primitive",
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
        if loss_scale is True or model.policy.compute_dtype == jnp.float16:
            return DynamicLossScale()
        return None
    return loss_scale


def resolve_objectives(
    model, loss, loss_weights, metrics, weighted_metrics, *, x_spec=None, y_spec=None
) -> Objectives:
    """`loss` itself when it is resolved `Objectives`, else `Objectives.resolve(...)`."""
    if isinstance(loss, Objectives):
        if not loss.built:
            raise ValueError(
                "make_train_step got unresolved Objectives: make them with Objectives.resolve(model, loss, ...)."
            )
        if any(a is not None for a in (loss_weights, metrics, weighted_metrics)):
            raise ValueError(
                "Pass metrics, loss_weights and weighted_metrics to Objectives.resolve, not next to resolved "
                "Objectives."
            )
        return loss
    return Objectives.resolve(
        model,
        loss,
        loss_weights,
        metrics,
        weighted_metrics,
        x_spec=x_spec,
        y_spec=y_spec,
    )


def compile_step(fn, model=None, *, donate: bool, distribution=None):
    """The one place a step is jitted: donation of the first argument, and
    the distribution strategy's shardings when there is one.

    Args:
        fn: `(state, *args) -> outputs`.
        model: the model (a strategy places the TrainState by its axes).
        donate: donate the first argument's buffers.
        distribution: a `kerax.distribute` strategy: its `jit_step` pins the
            output TrainState to the strategy's shardings.
    """
    if distribution is not None:
        return distribution.jit_step(fn, model, donate=donate)
    return jax.jit(fn, donate_argnums=(0,) if donate else ())


def contains_primitive(jaxpr, name: str) -> bool:
    """True when a (closed) jaxpr, or any jaxpr nested in it, applies `name`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> contains_primitive(jax.make_jaxpr(jnp.sin)(1.0), "sin")
        True
    """
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == name:
            return True
        for sub in jax_core.jaxprs_in_params(eqn.params):
            if contains_primitive(sub, name):
                return True
    return False


def _batch_size(x) -> int:
    for leaf in jax.tree.leaves(x):
        if getattr(leaf, "ndim", 0) > 0:
            return int(leaf.shape[0])
    raise ValueError(
        "Cannot tell the batch size: the inputs x hold no arrays with a batch dimension."
    )


def reset_metrics(ts: TrainState) -> TrainState:
    """The TrainState with its metrics cleared: the next step starts them afresh.

    A step fills cleared metrics with fresh ones (`step.reset_metrics(ts)`
    does that at once).
    """
    return ts._replace(metric_states=None)


def _forward(model, params, state, x, *, key, training):
    """`(y_pred, state, mask, aux_loss)`: the forward pass with auxiliary losses."""
    with aux_losses.collect() as extra:
        y_pred, state, mask = model.apply_masked(
            params, state, x, key=key, training=training
        )
    aux = aux_losses.total(extra) + model.regularization_loss(params)
    return y_pred, state, mask, aux


def _unstacked_spec(tree):
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape[1:], s.dtype), tree)


class Logs(collections.abc.Mapping):
    """Logs computed on first read from what a step returned.

    Values are JAX scalars; reading one waits for the step. A loop that never
    reads its logs moves nothing off the device and computes nothing extra.
    """

    __slots__ = ("_fn", "_args", "_values")

    def __init__(self, fn, *args):
        self._fn, self._args, self._values = fn, args, None

    def _computed(self) -> dict:
        if self._values is None:
            self._values = dict(self._fn(*self._args))
        return self._values

    def __getitem__(self, key):
        return self._computed()[key]

    def __iter__(self):
        return iter(self._computed())

    def __len__(self):
        return len(self._computed())

    def __repr__(self):
        return f"Logs({self._computed()!r})"


@functools.cache
def _compiler() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kerax-compile")


class _LogsProgram:
    """A step's logs program, `jax.jit(fn)`, which `fit` compiles ahead.

    XLA takes ~40 ms to compile even this small program, and `fit` reads
    the logs after its first epoch. `ahead(*args)` compiles it on a
    background thread meanwhile: started before the first step, it runs
    while the main thread waits on the step's own, longer compile (XLA
    releases the GIL), so it costs no wall time. A call waits for it (or
    compiles itself if nothing was started); an error shows at the call.
    """

    def __init__(self, fn):
        self.jitted = jax.jit(fn)
        self._ahead = None

    def ahead(self, *args) -> None:
        if self._ahead is not None:
            return
        # Shapes and dtypes only (weak types kept): the arrays are donated
        # to the step next.
        specs = jax.eval_shape(lambda *a: a, *args)
        self._ahead = _compiler().submit(
            lambda: self.jitted.trace(*specs).lower().compile()
        )

    def __call__(self, *args):
        if self._ahead is not None and not self._ahead.done():
            concurrent.futures.wait([self._ahead])
        return self.jitted(*args)


# -------------------------------------------------------------- train step


class _Carry(NamedTuple):
    """What one step changes: the TrainState less its base key."""

    params: Any
    state: Any
    opt_state: Any
    step: jax.Array
    metric_states: Any
    loss_scale: Any


class TrainStep:
    """`make_train_step`'s result: `step(ts, batch) -> (ts, logs)`.

    Attributes:
        model, tx, objectives, loss_scale: what the step was resolved with.
        steps: batches per call (K > 1: stacked batches, fused with `lax.scan`).
        fn: the pure step over whole TrainStates, `(ts, batch) -> (ts, logs)`.
        jitted: the compiled lean program (see the module doc).
    """

    def __init__(
        self,
        model,
        tx,
        objectives: Objectives,
        *,
        loss_scale=None,
        steps: int = 1,
        donate: bool = True,
        distribution=None,
        _logs_program=None,
    ):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"`steps` must be a positive int, got {steps!r}.")
        self.model, self.tx, self.objectives = model, tx, objectives
        self._watch = ModelWatch(model, "train step")
        self.loss_scale, self.steps = loss_scale, steps
        self.donate, self.distribution = donate, distribution
        self.__name__ = "train_step" if steps == 1 else f"train_step_x{steps}"
        # Shared with `with_steps` variants: one compile for all of them.
        self._results = _logs_program or _LogsProgram(self._logs)
        if distribution is not None:
            # A strategy pins whole TrainStates to its shardings.
            self.jitted = compile_step(
                self.fn, model, donate=donate, distribution=distribution
            )
        else:
            self.jitted = compile_step(self._lean, donate=donate)

    # ---------------------------------------------------------- the program
    def _update(self, carry: _Carry, batch, base_key) -> _Carry:
        model, objectives, scaler = self.model, self.objectives, self.loss_scale
        x, y, sample_weight = unpack_batch(batch)
        key = step_key(base_key, carry.step)
        # Read from the state's types and static fields: no array, no probing.
        factor = optimizer_base.capabilities(carry.opt_state).loss_scale_factor

        def loss_fn(params):
            y_pred, state, mask, aux = _forward(
                model, params, carry.state, x, key=key, training=True
            )
            task_loss, per_output = objectives.compute_loss(
                y, y_pred, sample_weight, mask
            )
            total = task_loss + aux
            scaled = total
            if scaler is not None:
                scaled = scaler.scale(scaled, carry.loss_scale)
            if factor is not None:
                scaled = scaled * factor
            return scaled, (total, per_output, y_pred, state, mask)

        grads, (total, per_output, y_pred, state, mask) = jax.grad(
            loss_fn, has_aux=True
        )(carry.params)
        loss_scale = carry.loss_scale
        if scaler is not None:
            grads = scaler.unscale(grads, carry.loss_scale)
            finite = scaler.all_finite(grads)
        updates, opt_state = self.tx.update(grads, carry.opt_state, carry.params)
        params = model.constrain(optax.apply_updates(carry.params, updates))
        if scaler is not None:
            # A step with inf/NaN gradients changes nothing but the scale.
            params, opt_state, state = scaler.select(
                finite,
                (params, opt_state, state),
                (carry.params, carry.opt_state, carry.state),
            )
            loss_scale = scaler.adjust(carry.loss_scale, finite)
        metric_states = objectives.update_metrics(
            carry.metric_states,
            total,
            per_output,
            y,
            y_pred,
            sample_weight,
            _batch_size(x),
            mask,
        )
        return _Carry(
            params, state, opt_state, carry.step + 1, metric_states, loss_scale
        )

    def _check(self, carry: _Carry) -> None:
        # Runs while tracing: a TrainState made elsewhere must be complete.
        if carry.metric_states is None:
            raise ValueError(
                "This TrainState has no metric states: make it with step.init(key) or fill it with "
                "step.reset_metrics(ts)."
            )
        if self.loss_scale is not None and carry.loss_scale is None:
            raise ValueError(
                "This step scales the loss (float16) but the TrainState has no loss-scale state: make it with "
                "step.init(key), or ts._replace(loss_scale=step.loss_scale.init())."
            )

    def _run(self, carry: _Carry, batch, base_key) -> _Carry:
        self._check(carry)
        if self.steps == 1:
            return self._update(carry, batch, base_key)

        def body(carry, batch):
            return self._update(carry, batch, base_key), None

        return jax.lax.scan(body, carry, batch)[0]

    def _lean(self, ts: TrainState, batch) -> TrainState:
        return _train_state(self._run(_carry_of(ts), batch, ts.base_key), ts.base_key)

    def _logs(self, metric_states, opt_state) -> dict:
        logs = self.objectives.results(metric_states)
        if optimizer_base.capabilities(opt_state).learning_rate:
            logs["learning_rate"] = optimizer_base.get_learning_rate(opt_state)
        return logs

    def fn(self, ts: TrainState, batch):
        """The pure step over whole TrainStates: `(ts, batch) -> (ts, logs)`."""
        carry = self._run(_carry_of(ts), batch, ts.base_key)
        return _train_state(carry, ts.base_key), self._logs(
            carry.metric_states, carry.opt_state
        )

    # -------------------------------------------------------------- calling
    def __call__(self, ts: TrainState, batch):
        # Kept lean: on a dispatch-bound model every microsecond here shows.
        self._watch.check()  # One integer comparison unless a model changed.
        if ts.metric_states is None:  # After `reset_metrics(ts)`.
            ts = self.reset_metrics(ts)
        if self.distribution is not None:
            return self.jitted(ts, batch)
        ts = self.jitted(ts, batch)
        return ts, Logs(self._results, ts.metric_states, ts.opt_state)

    def compile_logs_ahead(self, ts: TrainState) -> None:
        """Compiles the logs program on a background thread (see
        `_LogsProgram`); `fit` calls this before its first step."""
        if self.distribution is None:  # A strategy's step returns its logs.
            self._results.ahead(ts.metric_states, ts.opt_state)

    def trace(self, ts: TrainState, batch):
        """`jax.stages.Traced` of the compiled program for these arguments.

        Tracing is cached: calling the step with arguments of the same
        shapes afterwards reuses this trace.
        """
        if self.distribution is not None:
            return jax.jit(self.fn).trace(ts, batch)
        return self.jitted.trace(ts, batch)

    def leaf_counts(self, ts: TrainState, batch) -> tuple[int, int]:
        """`(leaves in, leaves out)` of one call of the compiled program."""
        if self.distribution is not None:
            out = jax.eval_shape(self.fn, ts, batch)
            return len(jax.tree.leaves((ts, batch))), len(jax.tree.leaves(out))
        out = jax.eval_shape(self._lean, ts, batch)
        return len(jax.tree.leaves((ts, batch))), len(jax.tree.leaves(out))

    # ---------------------------------------------------------------- state
    def init(self, key, spec=None) -> TrainState:
        """A complete TrainState: params, optimizer state, metric states and
        loss-scale state (the params equal `model.init(key, spec)`)."""
        if spec is None:
            spec = getattr(self.model, "input_spec", None)
        if self.distribution is not None:
            ts = self.distribution.init_train_state(
                self.model, self.tx, key, spec, loss_scale=self.loss_scale
            )
        else:
            ts = init_train_state(
                self.model, self.tx, key, spec, loss_scale=self.loss_scale
            )
        return self.reset_metrics(ts)

    def fresh_metrics(self):
        """Fresh metric states (placed on the strategy's replicated sharding)."""
        fresh = self.objectives.init_metrics()
        if self.distribution is not None:
            fresh = jax.device_put(fresh, self.distribution.replicated())
        return fresh

    def reset_metrics(self, ts: TrainState) -> TrainState:
        """The TrainState with fresh metric states (and loss-scale state, if missing)."""
        ts = ts._replace(metric_states=self.fresh_metrics())
        if self.loss_scale is not None and ts.loss_scale is None:
            ts = ts._replace(loss_scale=self.loss_scale.init())
        return ts

    def prepare(self, ts: TrainState, batch=None) -> TrainState:
        """Fills what a TrainState made elsewhere lacks (metric and
        loss-scale states); a complete one comes back unchanged."""
        del batch  # Everything is resolved already.
        if ts.metric_states is None or (
            self.loss_scale is not None and ts.loss_scale is None
        ):
            metric_states = ts.metric_states
            ts = self.reset_metrics(ts)
            if metric_states is not None:
                ts = ts._replace(metric_states=metric_states)
        return ts

    def with_steps(self, steps: int) -> TrainStep:
        """The same step over `steps` stacked batches per call (`lax.scan`)."""
        step = TrainStep(
            self.model,
            self.tx,
            self.objectives,
            loss_scale=self.loss_scale,
            steps=steps,
            donate=self.donate,
            distribution=self.distribution,
            _logs_program=self._results,
        )
        step._watch = self._watch  # Made for the model as this step was.
        return step


def _carry_of(ts: TrainState) -> _Carry:
    return _Carry(
        ts.params, ts.state, ts.opt_state, ts.step, ts.metric_states, ts.loss_scale
    )


def _train_state(carry: _Carry, base_key) -> TrainState:
    return TrainState(
        carry.params,
        carry.state,
        carry.opt_state,
        carry.step,
        carry.metric_states,
        base_key,
        carry.loss_scale,
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
    y_spec=None,
    steps: int = 1,
    donate: bool = True,
    distribution=None,
) -> TrainStep:
    """The training step `(TrainState, batch) -> (TrainState, logs)`, resolved now.

    Args:
        model: a kerax model (any layer).
        loss: resolved `Objectives` (`Objectives.resolve(model, ...)`), or a
            loss as Keras `compile()` takes it (per-output lists or dicts for
            models with several outputs), resolved here.
        optimizer: an optax `GradientTransformation`, a Keras optimizer
            name or a `kerax.optimizers` optimizer.
        metrics, loss_weights, weighted_metrics: as Keras `compile()` (with
            a loss, not with resolved `Objectives`).
        loss_scale: "auto" (dynamic loss scaling when the model computes in
            float16, as Keras's `auto_scale_loss`), a
            `kerax.optimizers.DynamicLossScale`, or None.
        y_spec: the target spec, for names chosen from the target shape
            ("accuracy", "crossentropy"); see `Objectives.resolve`.
        steps: batches per call; K > 1 takes batches stacked `(K, batch,
            ...)` and fuses the K steps into one dispatch with `lax.scan`.
        donate: donate the TrainState's buffers to the step (default).
        distribution: a `kerax.distribute` strategy: `init` makes the
            TrainState in its shardings and the step keeps them.

    Returns:
        A `TrainStep`: call it, or use `.init(key, spec)`, `.fn` (pure),
        `.with_steps(K)` and `.tx`. Its logs hold the running `loss`,
        per-output losses and metrics, and `learning_rate` when the
        optimizer state declares one (kerax optimizers,
        `optax.inject_hyperparams`).

    Example:
        >>> import jax, numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3)])
        >>> step = make_train_step(model, "sparse_categorical_crossentropy", "adam")
        >>> ts = step.init(jax.random.key(0))
        >>> x, y = np.ones((8, 4), "float32"), np.zeros((8,), "int32")
        >>> ts, logs = step(ts, (x, y))
        >>> int(ts.step), sorted(logs)
        (1, ['learning_rate', 'loss'])
    """
    objectives = resolve_objectives(
        model, loss, loss_weights, metrics, weighted_metrics, y_spec=y_spec
    )
    optimizer, loss_scale = unwrap_loss_scale(optimizer, loss_scale)
    return TrainStep(
        model,
        resolve_optimizer(model, optimizer),
        objectives,
        loss_scale=resolve_loss_scale(model, loss_scale),
        steps=steps,
        donate=donate,
        distribution=distribution,
    )


# --------------------------------------------------------------- eval step


class EvalStep:
    """`make_eval_step`'s result: `step(ts, batch) -> (ts, logs)`.

    Only the metric states change. The compiled program takes the params, the
    state and the metric states (not the optimizer state, which evaluation
    neither needs nor should pay dispatch time for) and returns new metric
    states; logs are computed from them when read (`Logs`).
    """

    def __init__(self, model, objectives: Objectives, *, distribution=None):
        self.model, self.objectives, self.distribution = model, objectives, distribution
        self._watch = ModelWatch(model, "eval step", trainable=False)
        self.__name__ = "eval_step"
        self._results = jax.jit(objectives.results)
        if distribution is not None:
            self.jitted = compile_step(
                self.fn, model, donate=False, distribution=distribution
            )
        else:
            self.jitted = compile_step(self._lean, donate=False)

    def _metrics_after(self, params, state, metric_states, batch):
        objectives = self.objectives
        x, y, sample_weight = unpack_batch(batch)
        y_pred, _, mask, aux = _forward(
            self.model, params, state, x, key=None, training=False
        )
        task_loss, per_output = objectives.compute_loss(y, y_pred, sample_weight, mask)
        return objectives.update_metrics(
            metric_states,
            task_loss + aux,
            per_output,
            y,
            y_pred,
            sample_weight,
            _batch_size(x),
            mask,
        )

    def _lean(self, weights, metric_states, batch):
        return self._metrics_after(*weights, metric_states, batch)

    def fn(self, ts: TrainState, batch):
        """The pure step over whole TrainStates: `(ts, batch) -> (ts, logs)`."""
        metric_states = self._metrics_after(
            ts.params, ts.state, ts.metric_states, batch
        )
        return ts._replace(metric_states=metric_states), self.objectives.results(
            metric_states
        )

    def fresh_metrics(self):
        fresh = self.objectives.init_metrics()
        if self.distribution is not None:
            fresh = jax.device_put(fresh, self.distribution.replicated())
        return fresh

    def run(self, ts: TrainState, batch) -> TrainState:
        """The TrainState with its metric states updated by `batch` (no logs)."""
        self._watch.check()
        if ts.metric_states is None:
            ts = ts._replace(metric_states=self.fresh_metrics())
        if self.distribution is not None:
            return self.jitted(ts, batch)[0]
        return ts._replace(
            metric_states=self.jitted((ts.params, ts.state), ts.metric_states, batch)
        )

    def logs(self, ts: TrainState) -> Logs:
        return Logs(self._results, ts.metric_states)

    def __call__(self, ts: TrainState, batch):
        ts = self.run(ts, batch)
        return ts, self.logs(ts)


def make_eval_step(
    model,
    loss=None,
    metrics=None,
    loss_weights=None,
    *,
    weighted_metrics=None,
    y_spec=None,
    distribution=None,
) -> EvalStep:
    """The evaluation step `(TrainState, batch) -> (TrainState, logs)`.

    Runs the model in inference mode and updates only `metric_states` (the
    loss trackers and metrics); the TrainState's other fields come back
    unchanged and are not donated. `loss` may be resolved `Objectives`
    (share the train step's: `step.objectives`). Reset the metrics before
    evaluating (`reset_metrics(ts)`) to get this evaluation's values alone.
    """
    objectives = resolve_objectives(
        model, loss, loss_weights, metrics, weighted_metrics, y_spec=y_spec
    )
    return EvalStep(model, objectives, distribution=distribution)


# ------------------------------------------------------------ predict step


def make_predict_step(model) -> PredictStep:
    """The prediction step `(TrainState, x) -> y_pred` (inference mode, jitted).

    Only `ts.params` and `ts.state` are read; a `(params, state)` pair works too.
    """

    def predict_step(ts, x):
        params, state = (ts.params, ts.state) if isinstance(ts, TrainState) else ts
        y_pred, _ = model.apply(params, state, x, training=False)
        return y_pred

    return PredictStep(predict_step, ModelWatch(model, "predict step", trainable=False))


class PredictStep:
    """`make_predict_step`'s result: `step(ts, x) -> y_pred`, jitted."""

    def __init__(self, fn, watch=None):
        self.fn = fn
        self.jitted = jax.jit(fn)
        self.__name__ = "predict_step"
        self._watch = watch

    def __call__(self, ts, x):
        if self._watch is not None:
            self._watch.check()
        return self.jitted(ts, x)


def batch_specs(batch, *, stacked: bool = False):
    """`(x_spec, y_spec)` of a batch (stacked: without its leading steps axis)."""
    x, y, _ = unpack_batch(batch)
    x_spec = to_spec(x)
    y_spec = None if y is None else to_spec(y)
    if stacked:
        x_spec = _unstacked_spec(x_spec)
        y_spec = None if y_spec is None else _unstacked_spec(y_spec)
    return x_spec, y_spec
