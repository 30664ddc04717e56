"""A model file with training state continues training exactly like an uninterrupted run."""

import jax
import numpy as np
import pytest

import kerax
from kerax import layers as L
from kerax.saving import ModelFileError


def _run(rng):
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = kerax.Sequential(
        [kerax.Input((4,)), L.Dense(8, activation="relu"), L.Dropout(0.2), L.Dense(1)]
    )
    trainer = kerax.Trainer(
        model, optimizer="adam", loss="mse", metrics=["mae"], seed=3
    )
    return model, trainer, x, y


@pytest.mark.parametrize("suffix", [".keras", ""])
def test_continuing_from_a_model_file_equals_an_uninterrupted_run(
    tmp_path, rng, suffix
):
    model, trainer, x, y = _run(rng)
    full, _ = trainer.fit(trainer.init(), x, y, epochs=2, batch_size=8, verbose=0)

    model, trainer, _, _ = _run(np.random.default_rng(0))
    half, _ = trainer.fit(trainer.init(), x, y, epochs=1, batch_size=8, verbose=0)
    path = kerax.save_model(
        tmp_path / f"run{suffix}",
        model,
        half.params,
        half.state,
        train_state=half,
        trainer=trainer,
    )
    trainer2, ts2 = kerax.load_trainer(path)
    assert int(ts2.step) == int(half.step)
    resumed, _ = trainer2.fit(
        ts2, x, y, epochs=2, initial_epoch=1, batch_size=8, verbose=0
    )
    for a, b in zip(jax.tree.leaves(full.params), jax.tree.leaves(resumed.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(
        jax.tree.leaves(full.opt_state), jax.tree.leaves(resumed.opt_state)
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_keras_compiles_a_kerax_file_with_training_state(tmp_path, rng):
    keras = pytest.importorskip("keras")
    model, trainer, x, y = _run(rng)
    ts, _ = trainer.fit(trainer.init(), x, y, epochs=1, batch_size=8, verbose=0)
    path = kerax.save_model(
        tmp_path / "run.keras",
        model,
        ts.params,
        ts.state,
        train_state=ts,
        trainer=trainer,
    )
    km = keras.saving.load_model(path)
    assert type(km.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(
        np.asarray(km(x)), np.asarray(model.apply(ts.params, ts.state, x)[0]), atol=1e-5
    )


def test_training_state_errors(tmp_path, rng):
    model, trainer, x, y = _run(rng)
    ts = trainer.init()
    with pytest.raises(ValueError, match="together"):
        kerax.save_model(
            tmp_path / "a.keras", model, ts.params, ts.state, train_state=ts
        )
    path = kerax.save_model(tmp_path / "b.keras", model, ts.params, ts.state)
    with pytest.raises(ModelFileError, match="no training state"):
        kerax.load_trainer(path)
    import optax

    plain = kerax.Trainer(model, optimizer=optax.sgd(0.1), loss="mse")
    with pytest.raises(ModelFileError, match="optax"):
        kerax.save_model(
            tmp_path / "c.keras",
            model,
            ts.params,
            ts.state,
            train_state=plain.init(),
            trainer=plain,
        )
