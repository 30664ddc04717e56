"""The keras-io guide ports run as written (see each port's docstring).

Each port is a script: it runs here in a fresh working directory (it writes
model files and pictures), with matplotlib drawing off-screen. Where Keras
computes the same thing cheaply, the test compares with Keras.
"""

import os
import runpy

import jax
import keras
import numpy as np

import kerax

HERE = os.path.dirname(__file__)


def run_port(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return runpy.run_path(os.path.join(HERE, f"{name}.py"), run_name="__guide__")


def _keras_toy_resnet():
    layers = keras.layers
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1 = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, padding="same")(block_1)
    block_2 = layers.add([layers.Conv2D(64, 3, padding="same")(x), block_1])
    x = layers.Conv2D(64, 3, padding="same")(block_2)
    block_3 = layers.add([layers.Conv2D(64, 3, padding="same")(x), block_2])
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(64, 3)(block_3))
    return keras.Model(inputs, layers.Dense(10)(layers.Dense(256)(x)))


def test_functional_api(tmp_path, monkeypatch):
    scope = run_port("functional_api", tmp_path, monkeypatch)
    assert (tmp_path / "my_model.keras").is_file()
    assert (tmp_path / "mini_resnet.png").read_bytes()[:4] == b"\x89PNG"
    assert len(scope["extracted_features"]) == len(scope["vgg19"].layers)
    assert type(scope["new_model"].layers[-1]).__name__ == "CustomDense"
    # The toy ResNet's train state (the last `ts`) has Keras's param count.
    count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(scope["ts"].params))
    assert count == _keras_toy_resnet().count_params()


def test_writing_a_custom_training_loop_in_jax(tmp_path, monkeypatch):
    scope = run_port("writing_a_custom_training_loop_in_jax", tmp_path, monkeypatch)
    # The eval loop ran over all validation batches with the trained params.
    trainable, non_trainable, metric_state = scope["state"]
    assert float(metric_state["count"]) == len(scope["x_val"])
    # The last section's loss adds the activity loss, as Keras's would.
    model = scope["model"]
    params, state = model.init(jax.random.key(1))
    x, y = scope["x_val"][:4], scope["y_val"][:4]
    metric = scope["train_acc_metric"]
    loss, _, _ = scope["compute_loss_and_updates"](params, state, metric.init(), x, y)
    y_pred, _ = model.apply(params, state, x)
    hidden, _ = model.layers[1].apply(params["dense"], {}, x)  # The first Dense.
    expected = scope["loss_fn"](y, y_pred) + 1e-2 * np.sum(np.asarray(hidden))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_custom_train_step_in_jax(tmp_path, monkeypatch):
    # The first section's step is compared with Keras number for number in
    # tests/training/test_keras_ports.py.
    scope = run_port("custom_train_step_in_jax", tmp_path, monkeypatch)
    loss, mae = scope["test_logs"]  # Keras's evaluate: [loss, mae].
    assert np.isfinite(loss) and np.isfinite(mae)
    assert scope["history"].history["mae"][-1] < scope["history"].history["mae"][0]


def test_serialization_and_saving(tmp_path, monkeypatch):
    # The guide clears every registration (`get_custom_objects().clear()`):
    # other tests' registrations come back afterwards.
    registered = dict(kerax.saving.get_custom_objects())
    try:
        scope = run_port("serialization_and_saving", tmp_path, monkeypatch)
    finally:
        table = kerax.saving.get_custom_objects()
        table.clear()
        table.update(registered)
    assert (tmp_path / "custom_model.keras").is_file()
    # The registered names are the guide's, and the custom layer's config
    # names them as Keras's does.
    config = scope["config"]
    assert config["registered_name"] == "MyLayers>KernelMult"
    assert config["config"]["kernel_regularizer"]["class_name"] == "L1L2"
    # Keras reads the archive with the custom objects registered in Keras.
    keras_registered = dict(keras.saving.get_custom_objects())

    @keras.saving.register_keras_serializable(package="MyLayers")
    class CustomLayer(keras.layers.Layer):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    @keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
    def custom_fn(x):
        return x**2

    try:
        keras_model = keras.saving.load_model(tmp_path / "custom_model.keras")
        x = scope["test_input"].astype("float32")
        want = scope["trainer"].predict(scope["ts"], x, verbose=0)  # The saved model.
        np.testing.assert_allclose(keras_model.predict(x, verbose=0), want, rtol=1e-5)
    finally:
        table = keras.saving.get_custom_objects()
        table.clear()
        table.update(keras_registered)


def test_training_with_built_in_methods(tmp_path, monkeypatch):
    scope = run_port("training_with_built_in_methods", tmp_path, monkeypatch)
    # Keras's log names (the EarlyStopping section's fit).
    names = {"loss", "sparse_categorical_accuracy"}
    assert names | {f"val_{n}" for n in names} <= set(scope["history"].history)
    # The first section's evaluate gives Keras's [loss, accuracy]; checkpoints written.
    loss, accuracy = scope["results"]
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    assert (tmp_path / "mymodel_1.keras").is_file()
    assert any(name.startswith("model-loss=") for name in os.listdir(tmp_path / "ckpt"))
