"""The port of "Introduction to Keras for engineers" runs, and its files are Keras's.

The guide saves its convnet as `final_model.keras` (and a checkpoint per
epoch): kerax reloads the file to the same predictions, and Keras itself
(`keras.saving.load_model`) loads kerax's file, compiled as the guide
compiled it, to the same predictions.
"""

import warnings

import keras
import numpy as np

import kerax
from kerax.saving import training_state
from tests.keras_guides.test_guides import run_port


def test_intro_to_keras_for_engineers(tmp_path, monkeypatch):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scope = run_port("intro_to_keras_for_engineers", tmp_path, monkeypatch)
    # ModelCheckpoint saving per epoch needs no per-batch hook (no notice
    # that steps_per_execution="auto" cannot fuse steps).
    assert not [w for w in caught if "steps_per_execution" in str(w.message)]
    x_test = scope["x_test"]
    assert x_test.shape == (32, 28, 28, 1) and x_test.dtype == np.float32
    # ModelCheckpoint wrote Keras's `.keras` file for the one epoch.
    assert (tmp_path / "model_at_epoch_1.keras").is_file()
    # The guide's predictions come from the reloaded (trainer, train state).
    predictions = scope["predictions"]
    assert predictions.shape == (32, 10)
    np.testing.assert_allclose(predictions.sum(axis=-1), 1.0, rtol=1e-5)  # Softmax.
    path = tmp_path / "final_model.keras"

    # kerax reloads the model file to the same predictions.
    model, params, state = kerax.saving.load_model(path)
    y, _ = model.apply(params, state, x_test)
    np.testing.assert_allclose(np.asarray(y), predictions, rtol=1e-5, atol=1e-6)

    # Keras loads kerax's file, compiled with the guide's loss and metric
    # objects, to the same predictions.
    keras_model = keras.saving.load_model(path)
    np.testing.assert_allclose(
        keras_model.predict(x_test, verbose=0), predictions, rtol=1e-4, atol=1e-6
    )
    assert type(keras_model.loss).__name__ == "SparseCategoricalCrossentropy"
    # ... and Keras's evaluate of it equals the guide's `score`, taken before
    # saving: the file holds the trained weights.
    keras_score = keras_model.evaluate(x_test, scope["y_test"], verbose=0)
    np.testing.assert_allclose(keras_score, scope["score"], rtol=1e-4)
    assert type(keras_model.optimizer).__name__ == "Adam"
    # The checkpoint holds the same weights as the final model (one epoch).
    checkpoint = keras.saving.load_model(tmp_path / "model_at_epoch_1.keras")
    np.testing.assert_allclose(
        checkpoint.predict(x_test, verbose=0), predictions, rtol=1e-4, atol=1e-6
    )

    # The custom layers and model trained (three fits, finite losses), and the
    # last one on tf.data batches.
    history = scope["history"].history
    assert set(history) >= {"loss", "acc", "val_loss", "val_acc"}
    assert all(np.isfinite(v).all() for v in history.values())
    assert type(scope["model"]).__name__ == "MyModel"
    # MyDense is the guide's Dense: kernel (GlorotNormal) and bias (zeros).
    ts = scope["ts"]
    dense = ts.params["my_dense"]
    assert dense["kernel"].shape == (128, 10) and dense["bias"].shape == (10,)


def test_a_keras_compile_config_with_loss_and_metric_objects(tmp_path):
    # The guide compiles with objects, not names; Keras's `compile_config`
    # then holds them serialized, and kerax's Trainer is rebuilt from it.
    keras_model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, activation="softmax")]
    )
    keras_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    compile_config = keras_model.get_compile_config()
    model, _, _ = kerax.saving.load_model(_saved(keras_model, tmp_path))
    trainer = training_state.make_trainer(
        model, {"compile_config": compile_config}, "test"
    )
    loss, _, metrics, _ = trainer._compile_args
    assert isinstance(loss, kerax.losses.SparseCategoricalCrossentropy)
    assert [type(m).__name__ for m in metrics] == ["SparseCategoricalAccuracy"]
    assert metrics[0].name == "acc"
    x, y = np.ones((4, 3), "float32"), np.zeros((4,), "int32")
    _, history = trainer.fit(trainer.init(), x, y, verbose=0)
    assert set(history.history) >= {"loss", "acc"}


def _saved(keras_model, tmp_path):
    path = tmp_path / "compiled.keras"
    keras_model.save(path)
    return path
