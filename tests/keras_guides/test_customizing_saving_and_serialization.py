"""The port of the keras-io guide "Customizing Saving and Serialization" runs
(see customizing_saving_and_serialization.py), and its models agree with
Keras's: the guide's own Keras layers on the port's weights, and Keras
loading the port's `.keras` files (and kerax loading Keras's) to the same
outputs and compile config."""

import os

import jax
import keras
import numpy as np
import pytest

import kerax
from tests.keras_guides.test_guides import run_port

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)


# The guide's Keras classes (verbatim where Keras can read kerax's files).
register = keras.saving.register_keras_serializable(package="my_custom_package")


@register
class LayerWithCustomVariable(keras.layers.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = keras.Variable(
            np.random.random((units,)), name="my_variable", dtype="float32"
        )

    def call(self, inputs):
        dense_out = super().call(inputs)
        return dense_out + self.my_variable


@register
class LayerWithCustomAssets(keras.layers.Dense):
    def __init__(self, vocab=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vocab = vocab

    def save_assets(self, inner_path):
        with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
            f.write(self.vocab)

    def load_assets(self, inner_path):
        with open(os.path.join(inner_path, "vocabulary.txt")) as f:
            text = f.read()
        self.vocab = text.replace("<unk>", "little")


@register
class LayerWithCustomBuild(keras.layers.Layer):
    """The port's form: `layer_init` is config (the guide's is a build argument)."""

    def __init__(self, units=32, layer_init="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.layer_init = layer_init

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return dict(
            units=self.units, layer_init=self.layer_init, **super().get_config()
        )

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer=self.layer_init
        )
        self.b = self.add_weight(shape=(self.units,), initializer=self.layer_init)


@register
def small_square_sum_loss(y_true, y_pred):
    loss = keras.ops.square(y_pred - y_true)
    loss = loss / 10.0
    loss = keras.ops.sum(loss, axis=1)
    return loss


@register
def mean_pred(y_true, y_pred):
    return keras.ops.mean(y_pred)


@register
class ModelWithCustomCompile(keras.Model):
    """The guide's model without its `compile` override (Keras's own
    `compile_from_config` reads the standard compile config kerax writes)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = keras.layers.Dense(8, activation="relu")
        self.dense2 = keras.layers.Dense(4, activation="softmax")

    def call(self, inputs):
        x = self.dense1(inputs)
        return self.dense2(x)


def test_customizing_saving_and_serialization(tmp_path, monkeypatch, capsys):
    scope = run_port("customizing_saving_and_serialization", tmp_path, monkeypatch)
    capsys.readouterr()
    x10 = np.random.default_rng(0).random((6, 10)).astype("float32")
    x8 = np.random.default_rng(1).random((6, 8)).astype("float32")

    # Custom variables: the guide's Keras layer on the port's trained weights
    # computes what the reloaded kerax model computes.
    restored, params, state = kerax.load_model(tmp_path / "custom_vars_model")
    ours = params["layer_with_custom_variable"]
    keras_model = keras.Sequential([keras.Input((10,)), LayerWithCustomVariable(1)])
    layer = keras_model.layers[0]
    layer.kernel.assign(ours["kernel"])
    layer.bias.assign(ours["bias"])
    layer.my_variable.assign(ours["my_variable"])
    np.testing.assert_allclose(
        restored.apply(params, state, x10)[0], keras_model(x10), rtol=1e-5, atol=1e-6
    )

    # Assets: Keras loads the port's file (the vocabulary from its config:
    # the file has no assets, so Keras runs no `load_assets`), same outputs.
    path = str(tmp_path / "custom_assets_model.keras")
    model, params, state = kerax.load_model(path)
    keras_model = keras.saving.load_model(path)
    assert keras_model.layers[0].vocab == "Mary had a <unk> lamb."
    np.testing.assert_allclose(
        model.apply(params, state, x10)[0], keras_model(x10), rtol=1e-5, atol=1e-6
    )
    # ... and kerax loads Keras's file (with the guide's assets/vocabulary.txt;
    # Keras's Dense config has no vocab, nor Dense's `quantization_config`).
    keras_path = str(tmp_path / "keras_assets_model.keras")
    keras_model.save(keras_path)
    model, params, state = kerax.load_model(keras_path)
    np.testing.assert_allclose(
        model.apply(params, state, x10)[0], keras_model(x10), rtol=1e-5, atol=1e-6
    )

    # Build config: Keras loads the port's file, with `layer_init` kept.
    path = str(tmp_path / "custom_build_model.keras")
    model, params, state = kerax.load_model(path)
    keras_model = keras.saving.load_model(path)
    assert keras_model.layers[0].layer_init == "random_normal"
    assert keras_model.built
    np.testing.assert_allclose(
        model.apply(params, state, x8)[0], keras_model(x8), rtol=1e-5, atol=1e-6
    )
    keras_path = str(tmp_path / "keras_build_model.keras")
    keras_model.save(keras_path)
    model, params, state = kerax.load_model(keras_path)
    assert model.layers[0].layer_init == "random_normal"
    np.testing.assert_allclose(
        model.apply(params, state, x8)[0], keras_model(x8), rtol=1e-5, atol=1e-6
    )

    # Compile config: Keras compiles the model it loads from the port's file
    # with the guide's optimizer, loss and metrics, and gives the port's
    # trained model's outputs; a Trainer made from Keras's compile config
    # has the same loss and metrics.
    path = str(tmp_path / "custom_compile_model.keras")
    keras_model = keras.saving.load_model(path)
    keras_config = keras_model.get_compile_config()
    ours = scope["compile_config"]
    assert keras_config["optimizer"]["class_name"] == "SGD"
    np.testing.assert_allclose(
        keras_config["optimizer"]["config"]["learning_rate"],
        ours["optimizer"]["config"]["learning_rate"],
    )
    assert keras_config["loss"] == ours["loss"]
    assert keras_config["metrics"] == ours["metrics"]
    assert ours["metrics"][0] == "accuracy"
    assert ours["metrics"][1]["config"] == "my_custom_package>mean_pred"
    ts = scope["ts"]
    y, _ = scope["model"].apply(ts.params, ts.state, x8)
    np.testing.assert_allclose(y, keras_model(x8), rtol=1e-5, atol=1e-6)
    trainer = kerax.Trainer.from_compile_config(scope["model"], keras_config)
    config = trainer.get_compile_config()
    assert (config["loss"], config["metrics"]) == (ours["loss"], ours["metrics"])
    assert jax.tree.structure(
        trainer.init(spec=kerax.spec((None, 8))).opt_state
    ) == jax.tree.structure(ts.opt_state)


# The kerax changes the port needed, each against Keras.


def test_super_get_config_is_the_base_config_as_in_keras():
    # Keras: a class that writes `get_config` gets its base's config from
    # `super().get_config()` (Layer's name/trainable/dtype, or a built-in
    # base's arguments), not the auto-config of its `__init__` arguments.
    def make(base, dense):
        class Scaled(base.layers.Layer):
            def __init__(self, units=3, factor=2.0, **kwargs):
                super().__init__(**kwargs)
                self.units, self.factor = units, factor

            def get_config(self):
                return dict(units=self.units, **super().get_config())

        class Tagged(dense):
            def __init__(self, tag=None, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.tag = tag

            def get_config(self):
                return {**super().get_config(), "tag": self.tag}

        return Scaled(4, name="s").get_config(), Tagged("t", units=5).get_config()

    (scaled, tagged) = make(kerax, kerax.layers.Dense)
    (k_scaled, k_tagged) = make(keras, keras.layers.Dense)
    assert scaled["units"] == 4 and "factor" not in scaled
    assert set(scaled) == set(k_scaled)
    assert tagged["tag"] == "t" and tagged["units"] == 5
    assert {"activation", "use_bias", "kernel_initializer"} <= set(tagged)


def test_trainer_compile_config_matches_keras_and_round_trips(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    trainer = kerax.Trainer(
        model, optimizer="sgd", loss="mse", metrics=["mae", kerax_mean_pred]
    )
    config = trainer.get_compile_config()
    k_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    k_model.compile(optimizer="sgd", loss="mse", metrics=["mae", k_mean_pred])
    k_config = k_model.get_compile_config()
    assert set(config) == set(k_config)
    assert (config["loss"], config["metrics"][0]) == ("mse", "mae")
    assert config["metrics"][1]["config"] == k_config["metrics"][1]["config"]
    # Keras's compile_from_config, and load_trainer, give the function back.
    again = kerax.Trainer.from_compile_config(model, config)
    assert again.get_compile_config()["metrics"] == config["metrics"]
    ts = trainer.init()
    path = tmp_path / "m.keras"
    kerax.save_model(path, model, ts.params, ts.state, train_state=ts, trainer=trainer)
    loaded, _ = kerax.load_trainer(path)
    assert loaded.get_compile_config()["metrics"] == config["metrics"]


@kerax.saving.register_keras_serializable(package="test_customizing", name="mean_pred")
def kerax_mean_pred(y_true, y_pred):
    return kerax.ops.mean(y_pred)


@keras.saving.register_keras_serializable(package="test_customizing", name="mean_pred")
def k_mean_pred(y_true, y_pred):
    return keras.ops.mean(y_pred)
