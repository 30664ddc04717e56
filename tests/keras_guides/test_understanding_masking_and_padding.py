"""The port of "Understanding masking & padding" runs; its masks and outputs are Keras's.

The port (understanding_masking_and_padding.py) runs the guide's layers as
written; here the same layers written for Keras get the port's weights (or
kerax gets Keras's) and the masks and outputs are compared.
"""

import jax
import keras
import numpy as np
from keras import ops

import kerax
from tests.keras_guides.test_guides import run_port

# Token ids with padding zeros at the end and in the middle.
TOKENS = np.array(
    [[711, 632, 71, 0, 0, 0], [73, 0, 3215, 55, 927, 0], [83, 91, 1, 645, 1253, 927]]
)


class KerasMyLayer(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(
            input_dim=5000, output_dim=16, mask_zero=True
        )
        self.lstm = keras.layers.LSTM(32)

    def call(self, inputs):
        x = self.embedding(inputs)
        mask = self.embedding.compute_mask(inputs)
        return self.lstm(x, mask=mask)


class KerasCustomEmbedding(keras.layers.Layer):
    def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer="random_normal",
            dtype="float32",
        )

    def call(self, inputs):
        return ops.take(self.embeddings, ops.cast(inputs, "int32"))

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None


class KerasMyActivation(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


class KerasTemporalSoftmax(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


def _lstm_params(lstm):
    cell = lstm.cell
    return {
        "lstm_cell": {
            "kernel": np.asarray(cell.kernel),
            "recurrent_kernel": np.asarray(cell.recurrent_kernel),
            "bias": np.asarray(cell.bias),
        }
    }


def test_understanding_masking_and_padding(tmp_path, monkeypatch):
    scope = run_port("understanding_masking_and_padding", tmp_path, monkeypatch)
    key = jax.random.key(0)

    # pad_sequences and the masks of Embedding(mask_zero=True) and Masking.
    padded = scope["padded_inputs"]
    want = keras.utils.pad_sequences(scope["raw_inputs"], padding="post")
    np.testing.assert_array_equal(padded, want)
    np.testing.assert_array_equal(scope["masked_output_mask"], padded != 0)
    unmasked = np.asarray(scope["unmasked_embedding"])
    keras_mask = keras.layers.Masking().compute_mask(unmasked)
    np.testing.assert_array_equal(scope["masked_embedding_mask"], keras_mask)
    # Masking zeroes the masked steps, as Keras's does.
    np.testing.assert_array_equal(
        scope["masked_embedding"], keras.layers.Masking()(unmasked)
    )
    # TemporalSplit's compute_mask split the mask with the inputs.
    first, second = np.split(np.asarray(keras_mask), 2, axis=1)
    np.testing.assert_array_equal(scope["first_mask"], first)
    np.testing.assert_array_equal(scope["second_mask"], second)
    assert scope["first_half"].shape == (3, 3, 10)

    # MyLayer: the LSTM skips the steps that the Embedding's mask drops.
    keras_layer = KerasMyLayer()
    want = np.asarray(keras_layer(TOKENS))
    layer = scope["MyLayer"]()
    params = {
        "embedding": {"embeddings": np.asarray(keras_layer.embedding.embeddings)},
        "lstm": _lstm_params(keras_layer.lstm),
    }
    got, _ = layer.apply(params, {}, TOKENS)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    # CustomEmbedding: Keras's outputs on the same table (`ops.take` with no
    # axis indexes the flattened table, in both) and Keras's mask.
    x = np.array([[1, 0, 9, 3], [0, 0, 2, 7]], dtype="int32")
    layer = scope["CustomEmbedding"](10, 32, mask_zero=True)
    params, state = layer.init(key, x)
    keras_embedding = KerasCustomEmbedding(10, 32, mask_zero=True)
    keras_embedding.build(x.shape)
    keras_embedding.embeddings.assign(params["embeddings"])
    got, _ = layer.apply(params, state, x)
    np.testing.assert_allclose(got, keras_embedding(x), rtol=1e-6)
    np.testing.assert_array_equal(
        layer.compute_mask(x), keras_embedding.compute_mask(x)
    )

    # MyActivation passes the mask on: it is on the node (Keras's
    # `x._keras_mask`) and the LSTM uses it, as Keras's does.
    inputs = kerax.Input(shape=(None,), dtype="int32")
    x = kerax.layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = scope["MyActivation"]()(x)
    assert x._keras_mask.dtype == np.bool_ and len(x._keras_mask.shape) == 2
    model = kerax.Model(inputs, kerax.layers.LSTM(32)(x))
    keras_inputs = keras.Input(shape=(None,), dtype="int32")
    k = keras.layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(
        keras_inputs
    )
    k = keras.layers.LSTM(32)(KerasMyActivation()(k))
    keras_model = keras.Model(keras_inputs, k)
    params, state = model.init(key)
    params, state = model.set_weights(params, keras_model.get_weights(), state)
    got, _ = model.apply(params, state, TOKENS)
    np.testing.assert_allclose(got, keras_model(TOKENS), rtol=1e-5, atol=1e-6)

    # TemporalSoftmax (the guide's last model) got its mask when the graph was
    # built and when it ran: Keras's outputs on the port's weights (NaN at the
    # masked steps in both: the guide sums over the feature axis).
    model, params, state = scope["model"], scope["params"], scope["state"]
    assert scope["y"].shape == (32, 100, 1)
    keras_inputs = keras.Input(shape=(None,), dtype="int32")
    k = keras.layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(
        keras_inputs
    )
    k = KerasTemporalSoftmax()(keras.layers.Dense(1)(k))
    keras_model = keras.Model(keras_inputs, k)
    keras_model.set_weights(model.get_weights(params, state))
    tokens = np.array([[1, 2, 0, 3], [0, 0, 4, 5]])
    got, _ = model.apply(params, state, tokens)
    np.testing.assert_allclose(got, keras_model(tokens), rtol=1e-6)
    assert np.isnan(np.asarray(got)[tokens == 0]).all()
