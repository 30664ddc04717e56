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

Compilation: one train step per batch shape, one eval step shared by
validation and `evaluate`, one predict step. The last, smaller batch of an
epoch runs at its own shape: compiled once (as long as the first compile)
and reused every epoch, as Keras does. It is not padded: padding rows would
enter BatchNormalization's batch statistics and each loss's normalization,
and results would no longer match Keras's. Prediction, where rows are
independent, pads the last batch to `batch_size`, so any number of samples
reuses one program. JAX's persistent compilation cache is on
(`kerax.training.compile_cache`): a rerun compiles nothing.

`steps_per_execution=K` runs K steps per dispatch, fused with `lax.scan`,
only where that is faster: on CPU a model with convolutions is never fused
(weight-gradient convolutions inside a scan body were measured 5.5x slower
on XLA:CPU); otherwise the first executions time K fused steps against K
single dispatches (3 each, alternating, all of them real training) and fuse
only if that is at least 10% faster (`fuse_steps=True`/`False` forces it;
`trainer.fusion` tells the choice). Measured on a 2-core CPU: a tiny MLP runs
3-5x faster fused, a 784-512-512-10 MLP about 8% slower, a CNN 5x slower.
"""

from __future__ import annotations

import collections.abc
import time

import jax
import numpy as np

from kerax.core.spec import spec as make_spec
from kerax.training import compile_cache
from kerax.training.callbacks import CallbackList
from kerax.training.data import (
    ArrayAdapter,
    IterableAdapter,
    get_adapter,
    is_array_data,
    prefetch_to_device,
    train_validation_split,
    warn_out_of_data,
)
from kerax.training.objectives import Objectives, unpack_batch
from kerax.training.steps import make_eval_step, make_predict_step, make_train_step
from kerax.training.train_state import TrainState

__all__ = ["Trainer", "has_conv_layers"]


def has_conv_layers(layer) -> bool:
    """True when the model contains a convolution (`Conv*`, `*Conv*` layers)."""
    if "Conv" in type(layer).__name__:
        return True
    return any(has_conv_layers(child) for _, child in layer.children())


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
    from kerax.distribute import pad_batch

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

    Both variants run real training chunks (nothing is wasted), alternately,
    after one untimed run each (compilation). Fusion must never make training
    slower, so it wins only when its best time beats the single steps' best
    by `MARGIN`; on a noisy machine a near tie goes to single steps.
    """

    ROUNDS = 3
    MARGIN = 0.9

    def __init__(self, mode):
        self.mode = {"auto": None, True: "scan", False: "loop"}.get(mode, mode)
        self.times = {"scan": [], "loop": []}
        self.warm = {"scan": False, "loop": False}

    def next_variant(self) -> str:
        for v in ("scan", "loop"):
            if not self.warm[v]:
                return v
        return "scan" if len(self.times["scan"]) <= len(self.times["loop"]) else "loop"

    def record(self, variant: str, seconds: float) -> None:
        if not self.warm[variant]:
            self.warm[variant] = True  # The first run compiles: not timed.
            return
        self.times[variant].append(seconds)
        if all(len(t) >= self.ROUNDS for t in self.times.values()):
            self.mode = (
                "scan"
                if min(self.times["scan"]) < self.MARGIN * min(self.times["loop"])
                else "loop"
            )


class Trainer:
    """Keras's training workflow over an explicit `TrainState`.

    Args:
        model: a kerax model.
        optimizer: Keras name, `kerax.optimizers` optimizer or optax transformation.
        loss, metrics, loss_weights, weighted_metrics: as Keras `compile()`.
        steps_per_execution: steps per dispatch (see the module doc).
        seed: default key for `init` and the shuffling seed of `fit`.
        auto_scale_loss: dynamic loss scaling under float16 policies.
        compilation_cache: True (default dir), False, or a directory.
        fuse_steps: "auto", True (always `lax.scan`) or False (never).
        prefetch: batches put on the device (arrays) or produced by a
            background thread (iterables) ahead of their step; 0 disables.
        distribution: a `kerax.distribute` strategy (DataParallel, FSDP,
            ModelParallel): the TrainState is born sharded, steps keep its
            shardings, batches are split along the data axis. `batch_size`
            must be a multiple of `distribution.data_size`; a last, short
            batch is padded to one with zero sample weights (its padding rows
            then take part in BatchNormalization statistics and count in the
            running loss average: the one place kerax departs from exact
            single-device results).

    Attributes:
        stop_training: set by callbacks to end `fit` after the current batch.
        history: the `History` of the last `fit`.
        objectives: the resolved losses and metrics (`kerax.training.Objectives`).
    """

    def __init__(
        self,
        model,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        steps_per_execution: int = 1,
        seed: int = 0,
        auto_scale_loss: bool = True,
        compilation_cache=True,
        fuse_steps="auto",
        prefetch: int = 2,
        distribution=None,
    ):
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                f"`steps_per_execution` must be a positive int, got {steps_per_execution!r}."
            )
        self.model = model
        self.seed = int(seed)
        self.steps_per_execution = steps_per_execution
        self.prefetch = prefetch
        self.objectives = Objectives(
            model, loss, loss_weights, metrics, weighted_metrics
        )
        self.train_step = make_train_step(
            model,
            loss,
            optimizer,
            metrics,
            loss_weights,
            weighted_metrics=weighted_metrics,
            loss_scale="auto" if auto_scale_loss else None,
            objectives=self.objectives,
        )
        self.eval_step = make_eval_step(model, objectives=self.objectives)
        self.predict_step = make_predict_step(model)
        self.tx = self.train_step.tx
        self.loss_scale = self.train_step.loss_scale
        if (
            fuse_steps == "auto"
            and jax.default_backend() == "cpu"
            and has_conv_layers(model)
        ):
            fuse_steps = False
        self._fusion = _FusionChooser(fuse_steps)
        self.distribution = distribution
        if distribution is not None:
            from kerax.training.steps import _replicate_on

            for step in (self.train_step, self.train_step.fused):
                step.jitted = distribution.jit_step(step.fn, model)
                step.place_metrics = _replicate_on(distribution)
            self.eval_step.distribute(distribution)
        self.stop_training = False
        self.history = None
        self.initial_epoch = 0
        self.compilation_cache_dir = (
            compile_cache.enable(compilation_cache)
            if compilation_cache is not False
            else None
        )

    # ------------------------------------------------------------------ init
    def init(self, key=None, spec=None) -> TrainState:
        """A fresh TrainState; the params equal `model.init(key, spec)`.

        Args:
            key: a PRNG key (default `jax.random.key(seed)`).
            spec: the input spec(s); default: the model's `kerax.Input`. A
                batch of arrays works too (its first dimension is ignored).
        """
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
            return self.distribution.init_train_state(
                self.model, self.tx, key, spec, loss_scale=self.loss_scale
            )
        return self.train_step.init(key, spec)

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
        if ts is None:
            ts = self.init(spec=_batch_spec(unpack_batch(adapter.peek())[0]))
        # Metric state is made from the first batch's shapes; make it before
        # callbacks see `ts`, so a checkpoint restore finds the full structure.
        ts = self.train_step.prepare(ts, adapter.peek())
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
                ts, logs = self._train_epoch(
                    ts, adapter, epoch, steps_per_epoch, cbs, skip=skip
                )
                if logs is None:
                    warn_out_of_data()
                    break
                epoch_logs = _to_python(logs)
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
        fresh = None
        if self.objectives.built:
            fresh = self.objectives.init_metrics()
            if self.train_step.place_metrics is not None:
                fresh = self.train_step.place_metrics(fresh)
        return ts._replace(metric_states=fresh)

    def _chunks(self, adapter, epoch, steps, skip=0):
        k = self.steps_per_execution
        fuse = k if k > 1 and self._fusion.mode != "loop" else 1
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
        if measuring:
            jax.block_until_ready(ts)
            start = time.perf_counter()
        if variant == "scan":
            ts, logs = self.train_step.fused(ts, batch)
        else:
            for i in range(n):
                ts, logs = self.train_step(ts, _unstack(batch, i))
        if measuring:
            jax.block_until_ready((ts, logs))
            chooser.record(variant, time.perf_counter() - start)
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
        # Keras's order: the total loss, the metrics, then per-output losses.
        names = ["loss"] + [e.name for e in self.objectives.metric_entries]
        names += [e.name for e in self.objectives.losses if e.name not in names]
        values = [logs[k] for k in names if k in logs]
        return values[0] if len(values) == 1 else values

    def _evaluate_loop(self, ts, adapter, cbs, steps=None):
        test_ts = cbs.call("on_test_begin", ts, None)
        test_ts = test_ts._replace(metric_states=None)
        begin = cbs.active("on_test_batch_begin")
        end = cbs.active("on_test_batch_end")
        run, make_logs = self.eval_step.run, self.eval_step.logs
        ran = False
        for i, (batch, _) in enumerate(
            self._prefetched(adapter, adapter.chunks(0, steps, 1))
        ):
            if begin:
                test_ts = cbs.call("on_test_batch_begin", test_ts, i, None)
            test_ts = run(test_ts, batch)
            ran = True
            if end:
                cbs.call("on_test_batch_end", test_ts, i, make_logs(test_ts))
        if not ran:
            raise ValueError(
                "Evaluation got no data: the dataset or generator is empty."
            )
        logs = _to_python(make_logs(test_ts))
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
        end = cbs.active("on_predict_batch_end")
        outputs = []
        try:
            for i, (batch, _) in enumerate(adapter.chunks(0, steps, 1)):
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
            from kerax.distribute import to_host

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
            from kerax.training.data import class_weight_to_sample_weight

            sample_weight = class_weight_to_sample_weight(
                y, class_weight, sample_weight
            )
        ts, logs = self.train_step(ts, (x, y, sample_weight))
        logs = _to_python(logs)
        return ts, (logs if return_dict else self._as_list(logs))

    def test_on_batch(self, ts, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of one batch (metrics of this batch alone)."""
        _, logs = self.eval_step(ts._replace(metric_states=None), (x, y, sample_weight))
        logs = _to_python(logs)
        return logs if return_dict else self._as_list(logs)

    def predict_on_batch(self, ts, x):
        """Model outputs for one batch, as NumPy arrays."""
        return jax.device_get(self.predict_step((ts.params, ts.state), x))
