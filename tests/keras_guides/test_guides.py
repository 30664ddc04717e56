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
    # The guide's subclassed `Model` (Keras's `call(self, inputs)`) has the
    # functional model's weight tree and computes its outputs on its weights.
    x = np.ones((2, 784), "float32")
    sub, _ = scope["subclassed_model"].apply(scope["subclassed_params"], {}, x)
    fun, _ = scope["functional_model"].apply(scope["functional_params"], {}, x)
    np.testing.assert_allclose(sub, fun, rtol=1e-6)
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


def test_making_new_layers_and_models_via_subclassing(tmp_path, monkeypatch):
    scope = run_port(
        "making_new_layers_and_models_via_subclassing", tmp_path, monkeypatch
    )
    # ComputeSum, run as the guide runs it, sums the same as Keras's: [4, 4].
    my_sum = scope["my_sum"]
    params, state = my_sum.init(jax.random.key(0), np.ones((2, 2), "float32"))
    for _ in range(2):
        y, state = my_sum.apply(params, state, np.ones((2, 2), "float32"))
    np.testing.assert_array_equal(y, [4.0, 4.0])
    # The guide's VAE trained with its KL loss added: two epochs, loss going down.
    losses = scope["history"].history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
    vae = scope["vae"]
    assert [layer.name for layer in vae.layers] == ["encoder", "decoder"]
    # The guide's last Linear (build(input_shape) + get_config) against Keras's,
    # with Keras's weights: the same outputs.
    kerax_linear = scope["Linear"](3)

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal"
            )
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.w) + self.b

    x = np.random.RandomState(1).normal(size=(4, 5)).astype("float32")
    keras_linear = Linear(3)
    expected = np.asarray(keras_linear(x))
    params = {"w": np.asarray(keras_linear.w), "b": np.asarray(keras_linear.b)}
    y, _ = kerax_linear.apply(params, {}, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    # CustomDropout: identity in inference, Keras-scaled dropout in training.
    dropout = scope["CustomDropout"](0.5)
    ones = np.ones((4, 8), "float32")
    np.testing.assert_array_equal(dropout.apply({}, {}, ones)[0], ones)
    dropped, _ = dropout.apply({}, {}, ones, key=jax.random.key(0), training=True)
    assert set(np.unique(np.asarray(dropped))) == {0.0, 2.0}
