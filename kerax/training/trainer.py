"""`kerax.Trainer`: Keras's compile/fit/evaluate/predict, with no hidden state.

    trainer = kerax.Trainer(model, optimizer="adam",
                            loss="sparse_categorical_crossentropy",
                            metrics=["accuracy"])
    ts = trainer.init(jax.random.key(0))
    ts, history = trainer.fit(ts, x, y, epochs=5, validation_split=0.1)
    logs = trainer.evaluate(ts, x_test, y_test, return_dict=True)
    probs = trainer.predict(ts, x_test)

The Trainer holds configuration and compiled steps only; everything that
changes during training is in the `TrainState` that goes in and comes out.
`fit` donates the TrainState it is given to the first step: keep using the
one it returns.

`fit` goes down the floors once: the data (an adapter over arrays,
iterables, tf.data or grain; its first batch gives the specs), the
objectives (the loss and metrics resolved from those specs, once per
Trainer, as Keras's `_symbolic_build`), the steps (built once on the
objectives; `kerax.training.compile_step` decides jit, donation and the
strategy's shardings), the callbacks; then the loop calls the compiled step.

Compilation: one train step per batch shape, one eval step shared by
validation and `evaluate`, one predict step. The last, smaller batch of an
epoch runs at its own shape: compiled once and reused every epoch, as Keras
does; it is not padded (padding rows would enter BatchNormalization's batch
statistics and each loss's normalization). Prediction, where rows are
independent, pads the last batch to `batch_size`. The library leaves JAX's
global configuration alone: `kerax.training.enable_compilation_cache()`
turns the persistent compilation cache on when you ask.

`steps_per_execution="auto"` (the default) fuses steps with `lax.scan`
where that is faster and only there: a program with convolutions on CPU is
never fused (weight-gradient convolutions inside a scan body were measured
several times slower on XLA:CPU: docs/performance.md); otherwise the first executions measure the time a
step's dispatch takes against the step's compute and, when dispatch weighs,
time `AUTO_STEPS` fused steps against as many single ones (all of them real
training) and fuse only if that is at least 10% faster (`trainer.fusion`
tells the choice). Callbacks with batch hooks (other than the progress bar)
see every batch: with them "auto" runs one step per dispatch, and says so
once. `steps_per_execution=1` is one step per dispatch, always;
`steps_per_execution=K` runs K steps per execution as Keras does (batch
hooks once per execution), fused where measured faster (`fuse_steps=True`
or `False` forces it).
"""

from __future__ import annotations

import collections.abc
import time
import warnings

import jax
import numpy as np

from kerax import config as _config
from kerax.core import registry
from kerax.core.mutation import ModelWatch
from kerax.core.spec import spec as make_spec
from kerax.distribute import pad_batch, to_host
from kerax.optimizers.wrappers import unwrap_loss_scale
from kerax.training.callbacks import CallbackList
from kerax.training.data import (
    ArrayAdapter,
    IterableAdapter,
    check_sparse_labels,
    class_weight_to_sample_weight,
    get_adapter,
    is_array_data,
    prefetch_to_device,
    train_validation_split,
    warn_out_of_data,
)
from kerax.training.objectives import Objectives, unpack_batch
from kerax.training.steps import (
    EvalStep,
    TrainStep,
    batch_specs,
    compile_step,
    contains_primitive,
    make_predict_step,
    resolve_loss_scale,
    resolve_optimizer,
)
from kerax.training.train_state import TrainState, init_train_state

__all__ = ["Trainer", "AUTO_STEPS"]

# Steps per execution that "auto" tries fused: long enough to hide the
# dispatch of a tiny step (docs/performance.md has the fused figures),
# short enough that the first epoch measures it within a few hundred steps.
AUTO_STEPS = 16


def _to_python(logs) -> dict:
    """Device scalars to Python floats (one transfer for the whole dict)."""
    host = jax.device_get(dict(logs))
    return {
        k: (float(v) if np.ndim(v) == 0 else np.asarray(v)) for k, v in host.items()
    }


def _batch_spec(x):
    """Specs with a symbolic batch dimension, from a batch of arrays."""
    return jax.tree.map(
        lambda a: make_spec(
            (None, *np.shape(a)[1:]),
            np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype,
        ),
        x,
    )


def _device_prefetch_helps() -> bool:
    """Putting array batches on the device ahead pays off on accelerators only."""
    return jax.default_backend() != "cpu"


def _should_validate(epoch: int, validation_freq) -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, collections.abc.Container):
        return (epoch + 1) in validation_freq
    raise ValueError(
        f"`validation_freq` must be an int or a container of epochs, got {validation_freq!r}."
    )


def _unstack(batch, i):
    return jax.tree.map(lambda a: a[i], batch)


def _pad_with_zero_weights(batch, multiple: int):
    """`(x, y, sample_weight)` padded to a multiple of `multiple` rows; the
    padding rows get sample weight 0."""
    x, y, sw = batch
    (x, y), n = pad_batch((x, y), multiple)
    if sw is None:
        target = int(jax.tree.leaves(x)[0].shape[0])
        sw = (np.arange(target) < n).astype(np.float32)
    else:
        sw, _ = pad_batch(sw, multiple)  # Zeros: padding rows weigh nothing.
    return x, y, sw


def _sharded(chunks, strategy, same_on_every_process: bool):
    shard = (
        strategy.shard_global_batch if same_on_every_process else strategy.shard_batch
    )
    size = strategy.data_size
    for batch, n in chunks:
        axis = 0 if n == 1 else 1
        rows = int(jax.tree.leaves(batch)[0].shape[axis])
        if rows % size:
            if n != 1:
                raise ValueError(
                    f"batch_size {rows} must be a multiple of the data-parallel size {size}."
                )
            batch = _pad_with_zero_weights(batch, size)
        yield shard(batch, batch_axis=axis), n


class _FusionChooser:
    """Decides, once per Trainer, whether `lax.scan` fusion beats single steps.

    All runs are real training (nothing is wasted). Single steps come first
    (their compile is the first, as in a hand-written loop): one untimed
    run, then `ROUNDS` timed ones. If, even in the least disturbed of them,
    the calls returned in under `DISPATCH_SHARE` of the time the steps took,
    dispatch cannot weigh enough for fusion to win: single steps, and the
    fused program is never compiled. Else the fused variant runs (one
    untimed run: compilation), then both alternate until each has `ROUNDS`
    timings. Fusion must never make training slower, so it wins only when
    its best time beats the single steps' best by `MARGIN`; on a noisy
    machine a near tie goes to single steps.

    On CPU the times are CPU times (the process's, and the calling thread's
    for the calls): on a shared machine, wall time also counts the time other
    processes ran, which can hide the dispatch cost entirely.
    """

    ROUNDS = 3
    MARGIN = 0.9
    DISPATCH_SHARE = 0.1

    def __init__(self, mode):
        self.mode = {"auto": None, True: "scan", False: "loop"}.get(mode, mode)
        self.times = {"scan": [], "loop": []}
        self.warm = {"scan": False, "loop": False}
        self.dispatch_shares: list[float] = []
        on_cpu = jax.default_backend() == "cpu"
        self.clock = time.process_time if on_cpu else time.perf_counter
        self.call_clock = time.thread_time if on_cpu else time.perf_counter

    def next_variant(self) -> str:
        if not self.warm["loop"] or len(self.times["loop"]) < self.ROUNDS:
            return "loop"
        if not self.warm["scan"]:
            return "scan"
        return "scan" if len(self.times["scan"]) <= len(self.times["loop"]) else "loop"

    def record(self, variant: str, seconds: float, dispatch: float = 0.0) -> None:
        if not self.warm[variant]:
            self.warm[variant] = True  # The first run compiles: not timed.
            return
        self.times[variant].append(seconds)
        if variant == "loop":
            # A block too short for the clock to see counts as all dispatch.
            self.dispatch_shares.append(dispatch / seconds if seconds > 0 else 1.0)
            if (
                len(self.dispatch_shares) == self.ROUNDS
                and max(self.dispatch_shares) < self.DISPATCH_SHARE
            ):
                self.mode = "loop"
                return
        if all(len(t) >= self.ROUNDS for t in self.times.values()):
            self.mode = (
                "scan"
                if min(self.times["scan"]) < self.MARGIN * min(self.times["loop"])
                else "loop"
            )


def _custom_fused(fn):
    """A custom `(ts, batch) -> (ts, logs)` step over stacked batches; the
    logs are the last step's."""

    def fused(ts, batches):
        ts, logs = jax.lax.scan(fn, ts, batches)
        return ts, jax.tree.map(lambda a: a[-1], logs)

    return fused


def _as_keras_data(batch):
    """`(x, y, None)` -> `(x, y)` and `(x, None, None)` -> `(x,)`: the `data`
    a Keras `train_step` receives."""
    if isinstance(batch, tuple):
        while len(batch) > 1 and batch[-1] is None:
            batch = batch[:-1]
    return batch


class _CustomStep:
    """A user's pure `(ts, batch) -> (ts, logs)` step, compiled like kerax's own.

    It receives Keras's `data`: `(x, y)`, `(x, y, sample_weight)` or `(x,)`.
    """

    def __init__(self, fn, model, *, donate, distribution, steps=1):
        self.fn, self.model, self.donate = fn, model, donate
        self.distribution, self.steps = distribution, steps
        pure = fn if steps == 1 else _custom_fused(fn)
        self.jitted = compile_step(
            pure, model, donate=donate, distribution=distribution
        )

    def __call__(self, ts, batch):
        return self.jitted(ts, _as_keras_data(batch))

    def trace(self, ts, batch):
        return jax.jit(self.fn).trace(ts, _as_keras_data(batch))

    def compile_logs_ahead(self, ts):
        del ts  # The user's step returns its logs itself.

    def with_steps(self, steps):
        return _CustomStep(
            self.fn,
            self.model,
            donate=self.donate,
            distribution=self.distribution,
            steps=steps,
        )

    def run(self, ts, batch):
        return self(ts, batch)


class Trainer:
    """Keras's training workflow over an explicit `TrainState`.

    Args:
        model: a kerax model.
        optimizer: Keras name, `kerax.optimizers` optimizer or optax transformation.
        loss, metrics, loss_weights, weighted_metrics: as Keras `compile()`;
            resolved from the first batch's specs.
        steps_per_execution: "auto" (default), 1, or K (see the module doc).
        seed: default key for `init` and the shuffling seed of `fit`.
        auto_scale_loss: dynamic loss scaling under float16 policies.
        fuse_steps: "auto", True (always `lax.scan`) or False (never), for
            `steps_per_execution` "auto" or K.
        prefetch: batches put on the device (arrays) or produced by a
            background thread (iterables) ahead of their step; 0 disables.
        distribution: a `kerax.distribute` strategy (DataParallel, FSDP,
            ModelParallel): the TrainState is born sharded, steps keep its
            shardings, batches are split along the data axis. `batch_size`
            must be a multiple of `distribution.data_size`; a last, short
            batch is padded to one with zero sample weights (its padding rows
            then take part in BatchNormalization statistics and count in the
            running loss average: the one place kerax departs from exact
            single-device results). Default: the global distribution set
            with `kerax.distribution.set_distribution` (None: one device).
        train_step: a pure `fn(ts, batch) -> (ts, logs)` that replaces the
            built-in training step (Keras's overridden `train_step`); `fit`
            runs it with callbacks, progress bar, distribution and fusion.
            `ts.metric_states` holds the resolved `loss`/`metrics` states
            (`trainer.objectives`), reset every epoch; the epoch's logs are
            the last step's.
        test_step: likewise for `evaluate` and validation.

    Attributes:
        stop_training: set by callbacks to end `fit` after the current batch.
        history: the `History` of the last `fit`.
        objectives: the resolved losses and metrics (`kerax.training.Objectives`),
            None until the first batch is seen.
        input_spec: the input spec of the first batch seen (batch dimension
            None), None until then.
        train_step, eval_step: the compiled steps, None until then.
        tx: the optax transformation (frozen layers masked).
    """

    def __init__(
        self,
        model,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        steps_per_execution="auto",
        seed: int = 0,
        auto_scale_loss: bool = True,
        fuse_steps="auto",
        prefetch: int = 2,
        distribution=None,
        train_step=None,
        test_step=None,
    ):
        if steps_per_execution != "auto" and (
            not isinstance(steps_per_execution, int) or steps_per_execution < 1
        ):
            raise ValueError(
                f'`steps_per_execution` must be "auto" or a positive int, got {steps_per_execution!r}.'
            )
        if fuse_steps not in ("auto", True, False):
            raise ValueError(
                f'`fuse_steps` must be "auto", True or False, got {fuse_steps!r}.'
            )
        for name, fn in (("train_step", train_step), ("test_step", test_step)):
            if fn is not None and not callable(fn):
                raise ValueError(
                    f"`{name}` must be a function (ts, batch) -> (ts, logs), got {fn!r}."
                )
        self.model = model
        self.seed = int(seed)
        self.steps_per_execution = steps_per_execution
        self.fuse_steps = fuse_steps
        self.prefetch = prefetch
        if distribution is None:  # Keras: `keras.distribution.set_distribution`.
            distribution = registry.provided("global_distribution")()
        self.distribution = distribution
        self._compile_args = (loss, loss_weights, metrics, weighted_metrics)
        self._custom = (train_step, test_step)
        # Keras's LossScaleOptimizer: its inner optimizer, with its loss scaling.
        optimizer, loss_scale = unwrap_loss_scale(
            optimizer, "auto" if auto_scale_loss else None
        )
        self.tx = resolve_optimizer(model, optimizer)
        # The layers and `trainable` flags the optimizer's mask and the steps
        # are made for (Keras: a change takes effect at the next `compile`).
        # A `Sequential.add`/`pop` or a `layer.trainable = ...` after this,
        # even from a callback mid-epoch: the next step says to make a new
        # Trainer, before anything trains with the old mask.
        self._watch = ModelWatch(model, "Trainer")
        # Evaluation and prediction need only the layers: Keras's `evaluate`
        # and `predict` carry on after a `trainable` change.
        self._layers_watch = ModelWatch(model, "Trainer", trainable=False)
        self.loss_scale = resolve_loss_scale(model, loss_scale)
        self.predict_step = make_predict_step(model)
        self.objectives = None
        self.input_spec = None
        self.train_step = None
        self.eval_step = None
        self._fused_step = None
        self._fusion = _FusionChooser(fuse_steps)
        self._metrics_names = None
        self._notice_given = False
        self.stop_training = False
        self.history = None
        self.initial_epoch = 0
        self.initial_batch = 0

    # ----------------------------------------------------------------- build
    def _build(self, batch) -> None:
        """Resolves the objectives from the batch's specs and builds the
        steps on them: once per Trainer (Keras's `_symbolic_build`). Training
        paths check the `trainable` flags too (`fit`, the train step)."""
        self._layers_watch.check()
        if self.objectives is not None:
            return
        x_spec, y_spec = batch_specs(batch)
        self.input_spec = _batch_spec(x_spec)
        loss, loss_weights, metrics, weighted_metrics = self._compile_args
        objectives = Objectives.resolve(
            self.model,
            loss,
            loss_weights,
            metrics,
            weighted_metrics,
            x_spec=x_spec,
            y_spec=y_spec,
            # Keras's custom steps without a loss keep their own trackers.
            track_loss=loss is not None or self._custom[0] is None,
        )
        train_fn, test_fn = self._custom
        if train_fn is not None:
            train_step = _CustomStep(
                train_fn, self.model, donate=True, distribution=self.distribution
            )
        else:
            train_step = TrainStep(
                self.model,
                self.tx,
                objectives,
                loss_scale=self.loss_scale,
                distribution=self.distribution,
            )
        if test_fn is not None:
            eval_step = _CustomStep(
                test_fn, self.model, donate=False, distribution=self.distribution
            )
        else:
            eval_step = EvalStep(self.model, objectives, distribution=self.distribution)
        if isinstance(train_step, TrainStep):
            # The Trainer's watch: a change says to make a new Trainer.
            train_step._watch = self._watch
        self.objectives, self.train_step, self.eval_step = (
            objectives,
            train_step,
            eval_step,
        )

    def _fresh_metrics(self):
        fresh = self.objectives.init_metrics()
        if self.distribution is not None:
            fresh = jax.device_put(fresh, self.distribution.replicated())
        return fresh

    def _complete(self, ts: TrainState) -> TrainState:
        """Fills what a TrainState made before the build lacks (metric and
        loss-scale states): before any callback or step sees it."""
        if ts.metric_states is None:
            ts = ts._replace(metric_states=self._fresh_metrics())
        if self.loss_scale is not None and ts.loss_scale is None:
            ts = ts._replace(loss_scale=self.loss_scale.init())
        return ts

    def get_compile_config(self) -> dict:
        """Keras's `model.get_compile_config()`: the optimizer, loss, metrics,
        ... serialized as a `.keras` file's `compile_config` holds them
        (`kerax.saving.get_compile_config`)."""
        return registry.provided("get_compile_config")(self)

    @classmethod
    def from_compile_config(cls, model, config: dict) -> Trainer:
        """Keras's `model.compile_from_config(config)`: a Trainer for `model`
        from `get_compile_config()` output or Keras's own (registered objects
        only; `kerax.saving.trainer_from_compile_config`)."""
        return registry.provided("trainer_from_compile_config")(model, config)

    @property
    def metrics_names(self) -> list[str]:
        """The names of the logs `fit` and `evaluate` report (Keras's
        `metrics_names`); empty until the first batch was seen."""
        if self._metrics_names is not None:
            return list(self._metrics_names)
        if self.objectives is None:
            return []
        names = ["loss"] + [e.name for e in self.objectives.metric_entries]
        names += [e.name for e in self.objectives.losses if e.name not in names]
        return names

    # ------------------------------------------------------------------ init
    def init(self, key=None, spec=None) -> TrainState:
        """A fresh TrainState; the params equal `model.init(key, spec)`.

        The TrainState is complete (metric and loss-scale states) once the
        Trainer has resolved its loss and metrics (from the first batch it
        was given); before that, `fit` completes it before any step or
        callback sees it.

        Args:
            key: a PRNG key (default `jax.random.key(seed)`).
            spec: the input spec(s); default: the model's `kerax.Input`. A
                batch of arrays works too (its first dimension is ignored).
        """
        self._watch.check()
        if key is None:
            key = jax.random.key(self.seed)
        if spec is None:
            spec = getattr(self.model, "input_spec", None)
            if spec is None:
                raise ValueError(
                    f"{self.model.describe()} has no kerax.Input, so Trainer.init needs the input spec: "
                    "trainer.init(key, spec=kerax.spec((None, features))), or pass ts=None to fit to build "
                    "from the first batch."
                )
        elif any(
            not isinstance(s, jax.ShapeDtypeStruct) for s in jax.tree.leaves(spec)
        ):
            spec = _batch_spec(spec)
        if self.distribution is not None:
            ts = self.distribution.init_train_state(
                self.model, self.tx, key, spec, loss_scale=self.loss_scale
            )
        else:
            ts = init_train_state(
                self.model, self.tx, key, spec, loss_scale=self.loss_scale
            )
        return self._complete(ts) if self.objectives is not None else ts

    # ------------------------------------------------------------------- fit
    def fit(
        self,
        ts: TrainState | None,
        x=None,
        y=None,
        batch_size=None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Trains for `epochs` epochs; returns `(ts, history)`. Keras's arguments.

        `ts=None` initializes from the first batch (with `seed`).
        """
        self._watch.check()
        if validation_split and validation_data is None:
            if not is_array_data(x):
                raise ValueError(
                    "`validation_split` is only supported for arrays (NumPy/JAX), not datasets or generators."
                )
            (x, y, sample_weight), val = train_validation_split(
                (x, y, sample_weight), validation_split
            )
            validation_data = val
        adapter = get_adapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=self.seed,
            class_weight=class_weight,
            prefetch=self.prefetch,
        )
        val_adapter = None
        if validation_data is not None:
            val_adapter = self._validation_adapter(
                validation_data, validation_batch_size or batch_size
            )
        first = adapter.peek()
        self._build(first)
        if is_array_data(x) and isinstance(y, np.ndarray):
            check_sparse_labels(
                self._compile_args[0],
                y,
                self.model.output_spec(_batch_spec(unpack_batch(first)[0])),
            )
        if ts is None:
            ts = self.init(spec=_batch_spec(unpack_batch(first)[0]))
        # Complete before callbacks see `ts`, so a checkpoint restore finds
        # the full structure.
        ts = self._complete(ts)
        # Keras's `config.set_max_epochs` / `set_max_steps_per_epoch` caps.
        if _config.max_epochs() is not None:
            epochs = min(epochs, _config.max_epochs())
        cap = _config.max_steps_per_epoch()
        if cap is not None:
            steps_per_epoch = min(steps_per_epoch or adapter.num_batches or cap, cap)
        steps = steps_per_epoch or adapter.num_batches
        cbs = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            trainer=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
            do_validation=val_adapter is not None,
        )
        self._plan_fusion(ts, first, cbs)
        self.train_step.compile_logs_ahead(ts)
        self.stop_training = False
        self.initial_epoch = initial_epoch
        # Batches of `initial_epoch` already trained (set by BackupAndRestore
        # when resuming mid-epoch): they are skipped, in the same order.
        self.initial_batch = 0
        ts = cbs.call("on_train_begin", ts, None)
        epoch_logs: dict = {}
        try:
            for epoch in range(self.initial_epoch, epochs):
                skip = self.initial_batch if epoch == self.initial_epoch else 0
                if not skip:  # A resumed epoch keeps its restored metric state.
                    ts = self._reset_metrics(ts)
                ts = cbs.call("on_epoch_begin", ts, epoch, None)
                self._watch.check()  # A callback may have changed the model.
                ts, logs = self._train_epoch(
                    ts, adapter, epoch, steps_per_epoch, cbs, skip=skip
                )
                if logs is None:
                    warn_out_of_data()
                    break
                epoch_logs = _to_python(logs)
                if self._custom[0] is not None:
                    self._metrics_names = list(epoch_logs)
                if val_adapter is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_loop(
                        ts, val_adapter, cbs, validation_steps
                    )
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                ts = cbs.call("on_epoch_end", ts, epoch, epoch_logs)
                if self.stop_training:
                    break
                if getattr(adapter, "exhausted", False):
                    warn_out_of_data()
                    break
        finally:
            if isinstance(adapter, IterableAdapter):
                adapter.close()
        ts = cbs.call("on_train_end", ts, epoch_logs)
        self.history = cbs.history
        return ts, cbs.history

    def _validation_adapter(self, validation_data, batch_size):
        if (
            isinstance(validation_data, (tuple, list))
            and 2 <= len(validation_data) <= 3
            and is_array_data(validation_data[0])
        ):
            vx, vy, vsw = unpack_batch(tuple(validation_data))
            return ArrayAdapter(vx, vy, vsw, batch_size=batch_size, shuffle=False)
        return get_adapter(
            validation_data,
            batch_size=batch_size,
            shuffle=False,
            prefetch=self.prefetch,
        )

    def _reset_metrics(self, ts):
        return ts._replace(metric_states=self._fresh_metrics())

    def _plan_fusion(self, ts, batch, cbs) -> None:
        """Steps per execution for this `fit`: the one place fusion is decided."""
        k = self.steps_per_execution
        self._k = 1 if k == "auto" else k
        if k == 1:
            return
        if k == "auto":
            hooks = ("on_train_batch_begin", "on_train_batch_end")
            per_batch = [h for h in hooks if cbs.per_batch(h)]
            if per_batch:
                if not self._notice_given:
                    self._notice_given = True
                    warnings.warn(
                        f'steps_per_execution="auto" runs one step per dispatch: a callback overrides '
                        f"{' and '.join(per_batch)}, which must see every batch.",
                        stacklevel=3,
                    )
                return
            self._k = AUTO_STEPS
        if self._fusion.mode is None and self.fuse_steps == "auto":
            if jax.default_backend() == "cpu" and self._has_convolutions(ts, batch):
                self._fusion.mode = "loop"
        if k == "auto" and self._fusion.mode == "loop":
            self._k = 1
        if self._k > 1 and self._fused_step is None:
            self._fused_step = self.train_step.with_steps(self._k)

    def _has_convolutions(self, ts, batch) -> bool:
        # From the compiled program itself (the trace is cached: the first
        # step reuses it), not from layer names.
        return contains_primitive(
            self.train_step.trace(ts, batch).jaxpr, "conv_general_dilated"
        )

    def _chunks(self, adapter, epoch, steps, skip=0):
        fuse = self._k if self._k > 1 and self._fusion.mode != "loop" else 1
        return self._prefetched(adapter, adapter.chunks(epoch, steps, fuse, skip=skip))

    def _prefetched(self, adapter, chunks):
        if self.distribution is not None:
            # The Trainer's arrays are the same on every process: each device
            # takes its rows of the global batch; an iterable yields this
            # process's rows.
            return _sharded(
                chunks, self.distribution, isinstance(adapter, ArrayAdapter)
            )
        # On CPU a device_put ahead only adds a Python-side tree walk per
        # batch (the jitted call takes NumPy arrays as fast), so array
        # batches are put ahead only on accelerators.
        if (
            self.prefetch
            and isinstance(adapter, ArrayAdapter)
            and _device_prefetch_helps()
        ):
            return prefetch_to_device(chunks, 1)
        return chunks

    def _train_epoch(self, ts, adapter, epoch, steps, cbs, skip=0):
        """Runs one epoch; returns `(ts, logs)` (logs None if there was no data)."""
        step = self.train_step
        begin = cbs.active("on_train_batch_begin")
        end = cbs.active("on_train_batch_end")
        logs = None
        index = skip
        for batch, n in self._chunks(
            adapter, epoch, steps, skip
        ):  # The hot loop: keep it bare.
            if begin:
                ts = cbs.call("on_train_batch_begin", ts, index, None)
            if n == 1:
                ts, logs = step(ts, batch)
            else:
                ts, logs = self._run_fused(ts, batch, n)
            index += n
            if end:
                ts = cbs.call("on_train_batch_end", ts, index - 1, logs)
            if self.stop_training:
                break
        return ts, logs

    def _run_fused(self, ts, batch, n):
        chooser = self._fusion
        variant = chooser.mode or chooser.next_variant()
        measuring = chooser.mode is None
        dispatch = 0.0
        if measuring:
            jax.block_until_ready(ts)
            clock, call_clock = chooser.clock, chooser.call_clock
            start = clock()
        if variant == "scan":
            ts, logs = self._fused_step(ts, batch)
        elif not measuring:
            step = self.train_step
            for i in range(n):
                ts, logs = step(ts, _unstack(batch, i))
        else:
            step = self.train_step
            for i in range(n):
                one = _unstack(batch, i)
                called = call_clock()
                ts, logs = step(ts, one)
                dispatch += call_clock() - called
        if measuring:
            jax.block_until_ready(ts)
            chooser.record(variant, clock() - start, dispatch)
        return ts, logs

    @property
    def fusion(self) -> str | None:
        """How `steps_per_execution` runs: "scan", "loop", or None (not yet measured)."""
        return self._fusion.mode

    # -------------------------------------------------------------- evaluate
    def evaluate(
        self,
        ts,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """Loss and metrics on the data, in inference mode (Keras's return conventions)."""
        adapter = get_adapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=False,
            prefetch=self.prefetch,
        )
        self._build(adapter.peek())
        cbs = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            trainer=self,
            verbose=verbose,
            epochs=1,
            steps=steps or adapter.num_batches,
        )
        try:
            logs = self._evaluate_loop(ts, adapter, cbs, steps)
        finally:
            if isinstance(adapter, IterableAdapter):
                adapter.close()
        return logs if return_dict else self._as_list(logs)

    def _as_list(self, logs):
        # Keras's order: the total loss, the metrics, then per-output losses;
        # a custom step's logs in their own order.
        names = self.metrics_names if self._custom == (None, None) else list(logs)
        values = [logs[k] for k in names if k in logs]
        return values[0] if len(values) == 1 else values

    def _evaluate_loop(self, ts, adapter, cbs, steps=None):
        test_ts = cbs.call("on_test_begin", ts, None)
        test_ts = test_ts._replace(metric_states=self._fresh_metrics())
        begin = cbs.active("on_test_batch_begin")
        end = cbs.active("on_test_batch_end")
        logs = None
        for i, (batch, _) in enumerate(
            self._prefetched(adapter, adapter.chunks(0, steps, 1))
        ):
            if begin:
                test_ts = cbs.call("on_test_batch_begin", test_ts, i, None)
            test_ts, logs = self.eval_step(test_ts, batch)
            if end:
                cbs.call("on_test_batch_end", test_ts, i, logs)
        if logs is None:
            raise ValueError(
                "Evaluation got no data: the dataset or generator is empty."
            )
        logs = _to_python(logs)
        cbs.call("on_test_end", test_ts, logs)
        return logs

    # --------------------------------------------------------------- predict
    def predict(
        self, ts, x, batch_size=None, verbose="auto", steps=None, callbacks=None
    ):
        """Model outputs for `x`, as NumPy arrays (inference mode)."""
        if is_array_data(x):
            adapter = ArrayAdapter(x, batch_size=batch_size, shuffle=False)
            pad_to = adapter.batch_size
        else:
            adapter, pad_to = (
                get_adapter(
                    x, batch_size=batch_size, shuffle=False, prefetch=self.prefetch
                ),
                None,
            )
        cbs = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            trainer=self,
            verbose=verbose,
            epochs=1,
            steps=steps or adapter.num_batches,
        )
        pred_ts = cbs.call("on_predict_begin", ts, None)
        weights = (pred_ts.params, pred_ts.state)
        begin = cbs.active("on_predict_batch_begin")
        end = cbs.active("on_predict_batch_end")
        outputs = []
        try:
            for i, (batch, _) in enumerate(adapter.chunks(0, steps, 1)):
                if begin:
                    cbs.call("on_predict_batch_begin", pred_ts, i, None)
                bx = unpack_batch(batch)[0]
                n = (
                    int(jax.tree.leaves(bx)[0].shape[0])
                    if pad_to is not None
                    else pad_to
                )
                if (
                    n is not None and n < pad_to
                ):  # Pad: one compiled shape for every call.
                    bx = jax.tree.map(
                        lambda a, n=n: np.concatenate(
                            [a, np.zeros((pad_to - n, *a.shape[1:]), a.dtype)]
                        ),
                        bx,
                    )
                if self.distribution is not None:
                    bx = self._shard_inputs(bx, adapter)
                y = self.predict_step(weights, bx)
                if n is not None and n < pad_to:
                    y = jax.tree.map(lambda a, n=n: a[:n], y)
                outputs.append(y)
                if end:
                    cbs.call("on_predict_batch_end", pred_ts, i, {"outputs": y})
        finally:
            if isinstance(adapter, IterableAdapter):
                adapter.close()
        if not outputs:
            raise ValueError("Prediction got no data.")
        if self.distribution is not None:
            outputs = to_host(outputs)
        outputs = jax.device_get(outputs)
        result = jax.tree.map(lambda *a: np.concatenate(a, axis=0), *outputs)
        cbs.call("on_predict_end", pred_ts, None)
        return result

    def _shard_inputs(self, x, adapter):
        size = self.distribution.data_size
        n = int(jax.tree.leaves(x)[0].shape[0])
        if n % size:
            raise ValueError(
                f"Prediction batch of {n} rows is not a multiple of the data-parallel size {size}: pass a batch_size that is."
            )
        if isinstance(adapter, ArrayAdapter):
            return self.distribution.shard_global_batch(x)
        return self.distribution.shard_batch(x)

    # ------------------------------------------------------------ on_batch
    def train_on_batch(
        self, ts, x, y=None, sample_weight=None, class_weight=None, return_dict=False
    ):
        """One training step on one batch: `(ts, logs)`. Metrics keep running
        across calls; `kerax.training.reset_metrics(ts)` clears them."""
        if class_weight is not None:
            sample_weight = class_weight_to_sample_weight(
                y, class_weight, sample_weight
            )
        batch = (x, y, sample_weight)
        self._build(batch)
        ts, logs = self.train_step(self._complete(ts), batch)
        logs = _to_python(logs)
        return ts, (logs if return_dict else self._as_list(logs))

    def test_on_batch(self, ts, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of one batch (metrics of this batch alone)."""
        batch = (x, y, sample_weight)
        self._build(batch)
        _, logs = self.eval_step(
            ts._replace(metric_states=self._fresh_metrics()), batch
        )
        logs = _to_python(logs)
        return logs if return_dict else self._as_list(logs)

    def predict_on_batch(self, ts, x):
        """Model outputs for one batch, as NumPy arrays."""
        return jax.device_get(self.predict_step((ts.params, ts.state), x))
