"""Callbacks: Keras behaviour over a TrainState."""

import csv
import io
import os
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from training_helpers import mlp

from kerax import callbacks, losses, optimizers
from kerax.optimizers import ema_params, get_learning_rate
from kerax.training import Trainer
from kerax.training.event_writer import read_records

XENT = losses.SparseCategoricalCrossentropy(from_logits=True)


def _trainer(**kw):
    kw.setdefault("optimizer", optimizers.SGD(0.05))
    return Trainer(mlp(), loss=XENT, **kw)


def _fit(trainer, data, cbs, **kw):
    x, y = data
    kw.setdefault("epochs", 3)
    kw.setdefault("verbose", 0)
    return trainer.fit(trainer.init(), x, y, batch_size=50, callbacks=cbs, **kw)


def test_history(classification_data):
    trainer = _trainer(metrics=["accuracy"])
    ts, history = _fit(trainer, classification_data, [], validation_split=0.2)
    assert isinstance(history, callbacks.History) and history.epoch == [0, 1, 2]
    assert all(
        len(v) == 3 and all(isinstance(f, float) for f in v)
        for v in history.history.values()
    )


def test_progbar_plain_text_when_not_a_tty(classification_data):
    out = io.StringIO()
    _fit(
        _trainer(metrics=["accuracy"]),
        classification_data,
        [callbacks.ProgbarLogger(stream=out)],
        epochs=2,
        verbose=1,
        validation_split=0.2,
    )
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text  # No redraws, no colours.
    lines = text.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 ━━━━━━━━━━━━━━━━━━━━")
    for part in ("/step", " - accuracy: ", " - loss: ", " - val_loss: "):
        assert part in lines[1]


def test_progbar_redraws_on_a_terminal(classification_data):
    out = io.StringIO()
    bar = callbacks.ProgbarLogger(stream=out)
    trainer = _trainer()
    bar.set_params({"verbose": 1, "epochs": 1, "steps": 4})
    bar.progbar = None
    from kerax.training.progbar import Progbar

    p = Progbar(4, stream=out, dynamic=True, interval=0.0)
    p.update(1, {"loss": jnp.float32(0.5)})
    p.update(4, {"loss": 0.25})
    text = out.getvalue()
    assert (
        text.count("\r") == 2
        and "\x1b[32m" in text
        and "0.5000" in text
        and text.endswith("\n")
    )
    del trainer


def test_verbose_2_prints_one_line_per_epoch(classification_data, capsys):
    _fit(_trainer(), classification_data, [], epochs=2, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert (
        lines[0] == "Epoch 1/2"
        and lines[1].startswith("4/4 - ")
        and "loss:" in lines[1]
    )


def test_early_stopping_restores_best_weights(classification_data):
    kept = {}

    def keep(ts, epoch, logs):
        kept[epoch] = jax.tree.map(np.asarray, ts.params)

    # The loss falls every epoch, so in "max" mode epoch 0 stays the best.
    stop = callbacks.EarlyStopping(
        monitor="loss", mode="max", patience=2, restore_best_weights=True
    )
    ts, history = _fit(
        _trainer(),
        classification_data,
        [callbacks.LambdaCallback(on_epoch_end=keep), stop],
        epochs=10,
    )
    assert (
        history.epoch == [0, 1, 2] and stop.stopped_epoch == 2 and stop.best_epoch == 0
    )
    for got, want in zip(jax.tree.leaves(ts.params), jax.tree.leaves(kept[0])):
        np.testing.assert_array_equal(np.asarray(got), want)


def test_early_stopping_min_delta_baseline_and_start_epoch(classification_data):
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    _, h = _fit(_trainer(), classification_data, [stop], epochs=10)
    assert h.epoch == [0, 1]  # No improvement is ever larger than 10.
    # "max" on a falling loss: only epoch 0 improves. Beating the baseline
    # restarts the patience count; missing it does not (Keras's rule).
    stop = callbacks.EarlyStopping(
        monitor="loss", mode="max", patience=2, baseline=-1.0
    )
    _, h = _fit(_trainer(), classification_data, [stop], epochs=10)
    assert h.epoch == [0, 1, 2]
    stop = callbacks.EarlyStopping(
        monitor="loss", mode="max", patience=2, baseline=100.0
    )
    _, h = _fit(_trainer(), classification_data, [stop], epochs=10)
    assert h.epoch == [0, 1]
    stop = callbacks.EarlyStopping(
        monitor="loss", mode="max", patience=0, start_from_epoch=3
    )
    _, h = _fit(_trainer(), classification_data, [stop], epochs=10)
    assert h.epoch == [0, 1, 2, 3, 4]
    with pytest.warns(UserWarning, match="not available"):
        _fit(
            _trainer(),
            classification_data,
            [callbacks.EarlyStopping(monitor="val_nothing", mode="min")],
            epochs=1,
        )


def test_monitor_direction_from_the_metric(classification_data):
    stop = callbacks.EarlyStopping(monitor="val_accuracy")
    trainer = _trainer(metrics=["accuracy"])
    _fit(trainer, classification_data, [stop], epochs=1, validation_split=0.2)
    assert stop.monitor_op is np.greater


def test_reduce_lr_on_plateau(classification_data):
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", mode="max", factor=0.5, patience=1, min_lr=0.01
    )
    ts, history = _fit(_trainer(), classification_data, [reduce], epochs=5)
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.05, 0.05, 0.025, 0.0125, 0.01], rtol=1e-6
    )
    np.testing.assert_allclose(float(get_learning_rate(ts.opt_state)), 0.01, rtol=1e-6)


def test_learning_rate_scheduler(classification_data):
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    ts, history = _fit(_trainer(), classification_data, [sched], epochs=3)
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.05, 0.025, 0.0125], rtol=1e-6
    )
    np.testing.assert_allclose(
        float(get_learning_rate(ts.opt_state)), 0.0125, rtol=1e-6
    )
    sched = callbacks.LearningRateScheduler(
        lambda epoch: 0.1 / (epoch + 1)
    )  # Keras's old one-argument form.
    _, history = _fit(_trainer(), classification_data, [sched], epochs=2)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05], rtol=1e-6)


def test_csv_logger(classification_data, tmp_path):
    path = tmp_path / "log.csv"
    _fit(
        _trainer(metrics=["accuracy"]),
        classification_data,
        [callbacks.CSVLogger(path)],
        epochs=2,
        validation_split=0.2,
    )
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert list(rows[0]) == [
        "epoch",
        "accuracy",
        "learning_rate",
        "loss",
        "val_accuracy",
        "val_loss",
    ]
    _fit(
        _trainer(metrics=["accuracy"]),
        classification_data,
        [callbacks.CSVLogger(path, append=True)],
        epochs=1,
        validation_split=0.2,
    )
    assert len(list(csv.DictReader(open(path)))) == 3
    _fit(
        _trainer(),
        classification_data,
        [callbacks.CSVLogger(path, separator=";")],
        epochs=1,
    )
    assert open(path).readline().strip() == "epoch;learning_rate;loss"


def _events(log_dir):
    from tensorboard.compat.proto import event_pb2

    events = []
    for name in sorted(os.listdir(log_dir)):
        assert ".tfevents." in name
        events += [
            event_pb2.Event.FromString(r)
            for r in read_records(os.path.join(log_dir, name))
        ]
    return events


def test_tensorboard_event_files(classification_data, tmp_path):
    pytest.importorskip("tensorboard")
    tb = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2)
    _fit(
        _trainer(metrics=["accuracy"]),
        classification_data,
        [tb],
        epochs=2,
        validation_split=0.2,
    )
    train = _events(tmp_path / "train")
    assert train[0].file_version == "brain.Event:2"
    scalars = {
        (v.tag, e.step): v.simple_value
        for e in train
        for v in e.summary.value
        if v.WhichOneof("value") == "simple_value"
    }
    assert {
        ("epoch_loss", 0),
        ("epoch_loss", 1),
        ("epoch_accuracy", 1),
        ("epoch_learning_rate", 0),
    } <= set(scalars)
    assert ("batch_loss", 2) in scalars
    histos = {
        v.tag
        for e in train
        for v in e.summary.value
        if v.WhichOneof("value") == "histo"
    }
    assert "dense/kernel/histogram" in histos
    val = _events(tmp_path / "validation")
    assert {v.tag for e in val for v in e.summary.value} == {
        "epoch_loss",
        "epoch_accuracy",
    }


def test_tensorboard_reads_the_files(classification_data, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    # TensorBoard's reader imports TensorFlow when it can; its stub is enough here.
    monkeypatch.setitem(
        sys.modules,
        "tensorboard.compat.notf",
        types.ModuleType("tensorboard.compat.notf"),
    )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _fit(
        _trainer(),
        classification_data,
        [callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1)],
        epochs=2,
        validation_split=0.2,
    )
    acc = EventAccumulator(
        str(tmp_path / "train"), size_guidance={"histograms": 0, "scalars": 0}
    )
    acc.Reload()
    assert [e.step for e in acc.Scalars("epoch_loss")] == [0, 1]
    assert "dense/kernel/histogram" in acc.Tags()["histograms"]
    val = EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    assert len(val.Scalars("epoch_loss")) == 2


def test_terminate_on_nan(classification_data, capsys):
    x, y = classification_data
    x = x.copy()
    x[60] = np.nan  # Second batch of 50.
    ts, history = _fit(
        _trainer(), (x, y), [callbacks.TerminateOnNaN()], epochs=3, shuffle=False
    )
    assert history.epoch == [0] and int(ts.step) == 2
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        _fit(_trainer(), (x, y), [callbacks.TerminateOnNaN(raise_error=True)], epochs=1)


def test_lambda_callback_keras_and_kerax_forms(classification_data):
    seen = []
    keras_style = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_end=lambda epoch, logs: seen.append((epoch, round(logs["loss"], 6))),
        on_train_batch_end=lambda batch, logs: seen.append(float(logs["loss"]) > 0),
    )

    def zero_params(ts, epoch, logs):  # The kerax form: may return a new TrainState.
        return ts._replace(params=jax.tree.map(jnp.zeros_like, ts.params))

    ts, _ = _fit(_trainer(), classification_data, [keras_style], epochs=1)
    assert seen[0] == "begin" and seen[1:5] == [True] * 4 and seen[5][0] == 0
    ts, _ = _fit(
        _trainer(),
        classification_data,
        [callbacks.LambdaCallback(on_epoch_end=zero_params)],
        epochs=1,
    )
    assert all(float(jnp.abs(p).sum()) == 0 for p in jax.tree.leaves(ts.params))


def test_batch_hooks_may_replace_the_train_state(classification_data):
    class CountSteps(callbacks.Callback):
        def on_train_batch_end(self, ts, batch, logs=None):
            return ts._replace(step=ts.step + 100)

    ts, _ = _fit(_trainer(), classification_data, [CountSteps()], epochs=1)
    assert int(ts.step) == 404


def test_swap_ema_weights_for_evaluation(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9), XENT)
    ts, _ = trainer.fit(trainer.init(), x, y, batch_size=50, epochs=2, verbose=0)
    ema_ts = ts._replace(params=ema_params(ts.opt_state, ts.params))
    with_ema = trainer.evaluate(
        ts, x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()]
    )
    plain = trainer.evaluate(ts, x, y, verbose=0)
    assert with_ema == trainer.evaluate(ema_ts, x, y, verbose=0) and with_ema != plain
    pred = trainer.predict(ts, x, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(pred, trainer.predict(ema_ts, x, verbose=0), rtol=1e-6)
    # In fit, validation uses the EMA; training continues from its own weights.
    val = []
    swap = callbacks.SwapEMAWeights(swap_on_epoch=True)
    probe = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: val.append(logs["val_loss"])
    )
    ts2, _ = trainer.fit(
        trainer.init(),
        x[:150],
        y[:150],
        batch_size=50,
        epochs=2,
        verbose=0,
        validation_data=(x[150:], y[150:]),
        callbacks=[swap, probe],
    )
    ema_final = ts2  # swap_on_epoch: the last epoch ends with the EMA weights in place.
    np.testing.assert_allclose(
        val[-1], trainer.evaluate(ema_final, x[150:], y[150:], verbose=0), rtol=1e-6
    )


def test_callback_list_skips_hooks_nobody_overrides():
    class OnlyEpochs(callbacks.Callback):
        def on_epoch_end(self, ts, epoch, logs=None):
            pass

    cbs = callbacks.CallbackList([OnlyEpochs()], add_history=True)
    assert cbs.active("on_epoch_end") and not cbs.active("on_train_batch_end")
    with pytest.raises(TypeError, match="Callback"):
        callbacks.CallbackList([object()])


def test_resume_hook_for_checkpoint_callbacks(classification_data):
    """What BackupAndRestore needs: restore ts in on_train_begin, set the epoch."""
    x, y = classification_data
    trainer = _trainer()
    saved = {}

    class Backup(callbacks.Callback):
        def on_epoch_end(self, ts, epoch, logs=None):
            saved["ts"], saved["epoch"] = jax.tree.map(np.asarray, ts), epoch

    class Restore(callbacks.Callback):
        def on_train_begin(self, ts, logs=None):
            self.trainer.initial_epoch = saved["epoch"] + 1
            return jax.tree.map(jnp.asarray, saved["ts"])

    ts, _ = trainer.fit(
        trainer.init(), x, y, batch_size=50, epochs=2, verbose=0, callbacks=[Backup()]
    )
    resumed, history = trainer.fit(
        trainer.init(), x, y, batch_size=50, epochs=4, verbose=0, callbacks=[Restore()]
    )
    assert history.epoch == [2, 3] and int(resumed.step) == 16


def test_progbar_values_follow_keras(capsys):
    """`kerax.utils.Progbar` takes Keras's `(name, value)` lists: averaged
    over steps, stateful names and the final update shown as given."""
    import re

    import keras

    import kerax

    def drive(lib, **kw):
        bar = lib.utils.Progbar(6, verbose=2, stateful_metrics=["lr"], **kw)
        bar.update(1, [("loss", 1.0), ("lr", 0.1)])
        bar.add(2, [("loss", 4.0), ("acc", 0.5), ("lr", 0.2)])
        bar.update(5, [("loss", 0.0005)])
        bar.add(1)  # Finalizes: the averages stand.
        second = lib.utils.Progbar(2, verbose=2, **kw)
        second.update(1, [("loss", 1.0)])
        second.update(2, [("loss", 7.0)])  # The final update's value as given.

    def metrics(text):
        return re.findall(r" - ([a-z]+): (\S+)", text)

    drive(keras)
    expected = capsys.readouterr().out
    out = io.StringIO()
    drive(kerax, stream=out)
    assert metrics(out.getvalue()) == metrics(expected)
    assert metrics(expected)[:3] == [
        ("loss", "1.8002"),
        ("lr", "0.2000"),
        ("acc", "0.5000"),
    ]
