"""ModelCheckpoint and BackupAndRestore inside Trainer.fit."""

import jax
import pytest

import kerax
from kerax import layers


def setup():
    x, y = kerax.datasets.synthetic.classification(n=96, features=6, classes=3, seed=0)
    model = kerax.Sequential(
        [
            kerax.Input((6,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model, trainer, x, y


def test_model_checkpoint_best_only(tmp_path):
    model, trainer, x, y = setup()
    cb = kerax.callbacks.ModelCheckpoint(
        str(tmp_path / "best-{epoch:02d}"), monitor="val_loss", save_best_only=True
    )
    ts, history = trainer.fit(
        trainer.init(),
        x,
        y,
        epochs=4,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        callbacks=[cb],
    )
    losses = history.history["val_loss"]
    improved = [i for i in range(len(losses)) if losses[i] <= min(losses[: i + 1])]
    assert [p.name for p in cb.saved] == [f"best-{i + 1:02d}" for i in improved]
    m, p, s = kerax.load_model(cb.saved[-1])
    assert jax.tree.structure(p) == jax.tree.structure(ts.params)


def test_model_checkpoint_weights_only_every_n_batches(tmp_path):
    model, trainer, x, y = setup()
    cb = kerax.callbacks.ModelCheckpoint(
        str(tmp_path / "w-{epoch}-{batch}"), save_weights_only=True, save_freq=3
    )
    trainer.fit(
        trainer.init(), x, y, epochs=1, batch_size=16, verbose=0, callbacks=[cb]
    )
    assert [p.name for p in cb.saved] == ["w-1-2", "w-1-5"]
    assert (cb.saved[0] / "weights").is_dir()


class Boom(kerax.callbacks.Callback):
    def on_epoch_end(self, ts, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("crash")


def test_backup_and_restore_epoch_level(tmp_path):
    model, trainer, x, y = setup()
    backup = kerax.callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="crash"):
        trainer.fit(
            trainer.init(),
            x,
            y,
            epochs=3,
            batch_size=16,
            verbose=0,
            callbacks=[backup, Boom()],
        )
    model, trainer, x, y = setup()
    ts, history = trainer.fit(
        trainer.init(),
        x,
        y,
        epochs=3,
        batch_size=16,
        verbose=0,
        callbacks=[kerax.callbacks.BackupAndRestore(tmp_path / "backup")],
    )
    assert history.epoch == [
        2
    ]  # Epochs 0 and 1 were done (epoch 1 saved before the crash callback).
    assert int(ts.step) == 3 * 6
    assert not (tmp_path / "backup").exists()  # delete_checkpoint=True after success.


def test_bad_save_freq():
    with pytest.raises(ValueError, match="save_freq"):
        kerax.callbacks.BackupAndRestore("x", save_freq=0)
    with pytest.raises(ValueError, match="save_freq"):
        kerax.callbacks.ModelCheckpoint("x", save_freq="batch")
