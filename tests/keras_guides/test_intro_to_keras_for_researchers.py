"""The port of "Introduction to Keras for Researchers" runs and matches Keras.

The guide's custom layers (`Linear` built with `add_weight`, the `SparseMLP`
whose `ActivityRegularization` calls `add_loss`, and the VAE's KL term) are
rebuilt in Keras 3 with the guide's code (`tf` read as `keras.ops`), loaded
with the port's weights, and give the same outputs and losses.
"""

import keras
import numpy as np
from keras import ops

from tests.keras_guides.test_guides import run_port


class KerasLinear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class KerasActivityRegularization(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(inputs))
        return inputs


class KerasSparseMLP(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = KerasLinear(32)
        self.regularization = KerasActivityRegularization(1e-2)
        self.linear_3 = KerasLinear(10)

    def call(self, inputs):
        x = ops.relu(self.linear_1(inputs))
        return self.linear_3(self.regularization(x))


def _load_linear(keras_layer, params):
    keras_layer.w.assign(np.asarray(params["w"]))
    keras_layer.b.assign(np.asarray(params["b"]))


def test_intro_to_keras_for_researchers(tmp_path, monkeypatch):
    scope = run_port("intro_to_keras_for_researchers", tmp_path, monkeypatch)

    # ComputeSum: [2, 2] then [4, 4], as the guide's comments say.
    np.testing.assert_array_equal(scope["sums"][0], [2.0, 2.0])
    np.testing.assert_array_equal(scope["sums"][1], [4.0, 4.0])
    # The F1 score: tp=1, fp=2, fn=0 -> 0.5; then tp=3, fp=2, fn=2 -> 0.6.
    np.testing.assert_allclose(scope["f1_results"], [0.5, 0.6], rtol=1e-6)

    x = scope["digits"][0][:8]
    kerax_mlp = scope["SparseMLP"]()
    params = scope["sparse_mlp_params"]
    logits, _, loss = kerax_mlp.apply_with_losses(params, {}, x)
    keras_mlp = KerasSparseMLP()
    keras_mlp(x)  # Builds the weights.
    _load_linear(keras_mlp.linear_1, params["linear"])
    _load_linear(keras_mlp.linear_3, params["linear_1"])
    keras_logits = keras_mlp(x)
    np.testing.assert_allclose(logits, keras_logits, rtol=1e-5, atol=1e-5)
    (keras_loss,) = keras_mlp.losses
    np.testing.assert_allclose(loss, keras_loss, rtol=1e-5)

    # The VAE after its training loop: the encoder's outputs and the KL loss
    # (which does not depend on the sampled epsilon) equal Keras's.
    vae_params = scope["vae_params"]
    vae = scope["VariationalAutoEncoder"](784, 64, 32)
    _, _, kl = vae.apply_with_losses(vae_params, {}, x, key=scope["key"])
    enc = vae_params["encoder"]
    dense = {
        name: keras.layers.Dense(units, activation=act)
        for name, units, act in [
            ("dense", 64, "relu"),
            ("dense_1", 32, None),
            ("dense_2", 32, None),
        ]
    }
    for name, layer in dense.items():
        layer.build((None, 784 if name == "dense" else 64))
        layer.set_weights(
            [np.asarray(enc[name]["kernel"]), np.asarray(enc[name]["bias"])]
        )
    h = dense["dense"](x)
    z_mean, z_log_var = dense["dense_1"](h), dense["dense_2"](h)
    keras_kl = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
    np.testing.assert_allclose(kl, keras_kl, rtol=1e-5)

    # The fits ran, and the custom train_step logged the guide's names.
    assert set(scope["custom_history"]) >= {"loss", "accuracy"}
    assert np.isfinite(scope["vae_history"].history["loss"]).all()
    assert len(scope["losses"]) == 64 and np.isfinite(scope["losses"]).all()
