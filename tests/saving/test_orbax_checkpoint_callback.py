"""kerax.callbacks.OrbaxCheckpoint against keras.callbacks.OrbaxCheckpoint."""

import inspect

import jax
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.checkpoint import CheckpointManager
from kerax.training.callbacks import Callback

keras = pytest.importorskip("keras")


def setup():
    x, y = kerax.datasets.synthetic.classification(n=32, features=4, classes=3, seed=0)
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3, activation="softmax")])
    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return trainer, x, y


class Recorder(Callback):
    """Copies of the TrainState after every batch, by `ts.step`."""

    def __init__(self):
        super().__init__()
        self.by_step = {}

    def on_train_batch_end(self, ts, batch, logs=None):
        self.by_step[int(ts.step)] = jax.tree.map(np.asarray, ts)


def assert_bit_identical(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for u, v in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def test_epoch_saves_max_to_keep_and_bit_identical_restore(tmp_path):
    trainer, x, y = setup()
    cb = kerax.callbacks.OrbaxCheckpoint(tmp_path, monitor="loss", max_to_keep=2)
    ts, _ = trainer.fit(
        trainer.init(), x, y, epochs=4, batch_size=8, verbose=0, callbacks=[cb]
    )
    ckpt = CheckpointManager(tmp_path)
    assert ckpt.all_steps() == [2, 3]  # step = epoch index, as Keras; newest 2 kept
    restored, position = ckpt.restore(target=ts)
    assert position == {"epoch": 4, "batch": 0}
    assert_bit_identical(restored, ts)


@pytest.mark.filterwarnings("ignore:steps_per_execution")
def test_every_n_batches_bit_identical_to_train_state_at_save(tmp_path):
    trainer, x, y = setup()
    rec = Recorder()
    cb = kerax.callbacks.OrbaxCheckpoint(
        tmp_path, save_freq=3, max_to_keep=None, save_on_background=False
    )
    trainer.fit(
        trainer.init(), x, y, epochs=2, batch_size=8, verbose=0, callbacks=[rec, cb]
    )
    ckpt = CheckpointManager(tmp_path)
    # 4 batches per epoch, 8 in all: Keras saves at global batches 3 and 6.
    assert ckpt.all_steps() == [3, 6]
    for step in (3, 6):
        restored, position = ckpt.restore(step, target=rec.by_step[step])
        assert_bit_identical(restored, rec.by_step[step])
        assert int(restored.step) == step
    assert ckpt.restore(6, target=rec.by_step[6])[1] == {"epoch": 1, "batch": 2}


def keras_saved_steps(logs_seq, **kwargs):
    """The epochs Keras's OrbaxCheckpoint decides to save for these logs."""
    import tempfile

    cb = keras.callbacks.OrbaxCheckpoint(tempfile.mkdtemp(), **kwargs)
    saved = []
    cb._save_checkpoint = lambda step, logs=None: saved.append(step)
    for epoch, logs in enumerate(logs_seq):
        cb.on_epoch_end(epoch, logs)
    return saved


def test_save_best_only_min_matches_keras(tmp_path):
    trainer, x, y = setup()
    cb = kerax.callbacks.OrbaxCheckpoint(
        tmp_path, monitor="val_loss", mode="min", save_best_only=True, max_to_keep=None
    )
    _, history = trainer.fit(
        trainer.init(),
        x,
        y,
        epochs=4,
        batch_size=8,
        validation_split=0.25,
        verbose=0,
        callbacks=[cb],
    )
    logs = [{"val_loss": v} for v in history.history["val_loss"]]
    want = keras_saved_steps(
        logs, monitor="val_loss", mode="min", save_best_only=True, max_to_keep=None
    )
    assert CheckpointManager(tmp_path).all_steps() == want


@pytest.mark.parametrize(
    "mode, values, threshold",
    [
        ("max", [0.5, 0.7, 0.6, 0.8, 0.8, 0.9], 0.6),
        ("min", [0.5, 0.7, 0.4, 0.4, 0.1, 0.3], 0.45),
    ],
)
def test_save_best_only_with_threshold_matches_keras(tmp_path, mode, values, threshold):
    trainer, x, y = setup()
    ts = trainer.init()
    cb = kerax.callbacks.OrbaxCheckpoint(
        tmp_path,
        monitor="val_accuracy",
        mode=mode,
        save_best_only=True,
        initial_value_threshold=threshold,
        max_to_keep=None,
    )
    cb.on_train_begin(ts)
    for epoch, v in enumerate(values):
        cb.on_epoch_end(ts, epoch, {"val_accuracy": np.float32(v)})
    cb.on_train_end(ts)
    want = keras_saved_steps(
        [{"val_accuracy": v} for v in values],
        monitor="val_accuracy",
        mode=mode,
        save_best_only=True,
        initial_value_threshold=threshold,
        max_to_keep=None,
    )
    assert want == ([1, 3, 5] if mode == "max" else [2, 4])
    assert CheckpointManager(tmp_path).all_steps() == want
    assert cb.best == pytest.approx(values[want[-1]])


def test_save_best_only_missing_monitor_warns_and_skips(tmp_path):
    trainer, _, _ = setup()
    ts = trainer.init()
    cb = kerax.callbacks.OrbaxCheckpoint(
        tmp_path, monitor="val_auc", save_best_only=True, mode="max"
    )
    cb.on_train_begin(ts)
    with pytest.warns(UserWarning, match="val_auc"):
        cb.on_epoch_end(ts, 0, {"loss": 1.0})
    cb.on_train_end(ts)
    assert CheckpointManager(tmp_path).all_steps() == []


def test_save_weights_only(tmp_path):
    trainer, x, y = setup()
    cb = kerax.callbacks.OrbaxCheckpoint(tmp_path, save_weights_only=True)
    ts, _ = trainer.fit(
        trainer.init(), x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb]
    )
    ckpt = CheckpointManager(tmp_path)
    assert ckpt.all_steps() == [1]
    tree, _ = ckpt.restore(target={"params": ts.params, "state": ts.state})
    assert_bit_identical(tree, {"params": ts.params, "state": ts.state})
    with pytest.raises(ValueError, match="another model or optimizer"):
        ckpt.restore(target=ts)  # no optimizer state in a weights-only checkpoint


@pytest.mark.parametrize("bad", ["batch", 1.5, 0, -2, True])
def test_bad_save_freq(tmp_path, bad):
    with pytest.raises(ValueError, match="save_freq"):
        kerax.callbacks.OrbaxCheckpoint(tmp_path, save_freq=bad)
    if isinstance(bad, (str, float)):  # Keras rejects these too, with this message.
        with pytest.raises(ValueError, match="Unrecognized save_freq"):
            keras.callbacks.OrbaxCheckpoint(str(tmp_path / "k"), save_freq=bad)


@pytest.mark.parametrize("bad", [0, -1, 2.0, "3"])
def test_bad_max_to_keep(tmp_path, bad):
    with pytest.raises(ValueError, match="max_to_keep"):
        kerax.callbacks.OrbaxCheckpoint(tmp_path, max_to_keep=bad)


def test_unknown_mode_warns_like_keras(tmp_path):
    with pytest.warns(UserWarning, match="mode 'bogus' is unknown"):
        k = keras.callbacks.OrbaxCheckpoint(str(tmp_path / "k"), mode="bogus")
    with pytest.warns(UserWarning, match="mode 'bogus' is unknown"):
        c = kerax.callbacks.OrbaxCheckpoint(tmp_path, mode="bogus")
    assert c.mode == k.mode == "auto"


def test_signature_and_attributes_match_keras(tmp_path):
    ks = inspect.signature(keras.callbacks.OrbaxCheckpoint.__init__).parameters
    xs = inspect.signature(kerax.callbacks.OrbaxCheckpoint.__init__).parameters
    assert list(ks) == list(xs)
    assert {n: p.default for n, p in ks.items()} == {
        n: p.default for n, p in xs.items()
    }
    kwargs = dict(
        monitor="val_accuracy",
        verbose=1,
        save_best_only=True,
        mode="max",
        save_freq=5,
        initial_value_threshold=0.3,
        max_to_keep=4,
        save_on_background=False,
        save_weights_only=True,
    )
    k = keras.callbacks.OrbaxCheckpoint(str(tmp_path), **kwargs)
    c = kerax.callbacks.OrbaxCheckpoint(str(tmp_path), **kwargs)
    for name in ["directory", *kwargs]:
        want = k.best if name == "initial_value_threshold" else getattr(k, name)
        got = c.best if name == "initial_value_threshold" else getattr(c, name)
        assert got == want, name


def test_a_run_that_raised_does_not_lock_the_directory(tmp_path):
    # The first fit dies before it saves (its manager stays open); a new callback on
    # the same directory in the same process still saves.
    class Boom(Callback):
        def on_epoch_end(self, ts, epoch, logs=None):
            raise RuntimeError("boom")

    trainer, x, y = setup()
    first = kerax.callbacks.OrbaxCheckpoint(tmp_path, monitor="loss")
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(
            trainer.init(),
            x,
            y,
            epochs=1,
            batch_size=8,
            verbose=0,
            callbacks=[Boom(), first],
        )
    second = kerax.callbacks.OrbaxCheckpoint(tmp_path, monitor="loss")
    trainer.fit(
        trainer.init(), x, y, epochs=2, batch_size=8, verbose=0, callbacks=[second]
    )
    assert CheckpointManager(tmp_path).latest_step() == 1
