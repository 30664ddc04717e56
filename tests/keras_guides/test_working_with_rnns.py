"""The port of "Working with RNNs" runs; its models compute what Keras's compute.

The port (working_with_rnns.py) runs the guide with explicit state; here
the guide's models built in Keras get the port's weights (in Keras's
`get_weights()` order) and give the same outputs, a `stateful=True` Keras
LSTM carries the same states as the port's `initial_state=` chain, and the
guide's nested-input cell (which Keras 3's `RNN` no longer runs) computes
what its code says.
"""

import re

import jax
import keras
import numpy as np

import kerax
from tests.keras_guides.test_guides import run_port


def _keras_encoder_decoder():
    layers = keras.layers
    encoder_input = layers.Input(shape=(None,))
    x = layers.Embedding(input_dim=1000, output_dim=64)(encoder_input)
    _, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(x)
    decoder_input = layers.Input(shape=(None,))
    x = layers.Embedding(input_dim=2000, output_dim=64)(decoder_input)
    y = layers.LSTM(64, name="decoder")(x, initial_state=[state_h, state_c])
    return keras.Model([encoder_input, decoder_input], y)


def _keras_lstm(params, **kwargs):
    """A Keras LSTM(64) over 50 features holding the port's LSTM params."""
    layer = keras.layers.LSTM(64, **kwargs)
    layer.build((20, 10, 50))
    cell = params["lstm_cell"]
    layer.set_weights([cell["kernel"], cell["recurrent_kernel"], cell["bias"]])
    return layer


def test_working_with_rnns(tmp_path, monkeypatch, capsys, keras_numpy_init):
    scope = run_port("working_with_rnns", tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    rng = np.random.default_rng(0)

    # The four summaries: two models not built yet (no shapes, no params, as
    # Keras prints them), then the encoder-decoder and the bidirectional
    # stack with Keras's parameter counts, names and connections.
    # (Keras's counts, as keras.io prints them for this guide: building the
    # Keras models here would cost seconds of Keras's eager initializers.)
    totals = re.findall(r"Total params: ([\d,]+)", printed)
    assert totals == ["0", "0", "258,698", "80,266"]
    assert printed.count("0 (unbuilt)") == 3 + 4
    assert "embedding_1[0][0], encoder[0][1], encoder[0][2]" in printed

    # The encoder-decoder (up to the decoder's output) on Keras's weights:
    # the decoder starts from the encoder's final states, as in Keras.
    with keras_numpy_init():
        keras_model = _keras_encoder_decoder()
    model = kerax.Model(
        [scope["encoder_input"], scope["decoder_input"]], scope["decoder_output"]
    )
    # Keras's names (a fresh Keras session's), in Keras's order: the encoder's
    # embedding, made first, is `embedding`.
    names = [layer.name for layer in model.layers]
    assert names == [
        *("input_layer", "input_layer_1", "embedding", "embedding_1"),
        *("encoder", "decoder"),
    ]
    params, state = model.init(jax.random.key(1))
    params, state = model.set_weights(params, keras_model.get_weights(), state)
    tokens = [rng.integers(1, 1000, (3, 7)), rng.integers(1, 2000, (3, 5))]
    got, _ = model.apply(params, state, tokens)
    np.testing.assert_allclose(got, keras_model(tokens), rtol=1e-5, atol=1e-6)

    # RNN state reuse: a stateful Keras LSTM with the port's weights, called on
    # the same paragraphs, holds the states the port passed on, and a new LSTM
    # started from them gives the port's output.
    with keras_numpy_init():
        keras_lstm = _keras_lstm(scope["params"], stateful=True)
        new_lstm = _keras_lstm(scope["new_params"])
    keras_lstm(scope["paragraph1"])
    keras_lstm(scope["paragraph2"])
    keras_states = [np.asarray(s) for s in keras_lstm.states]
    for got, want in zip(scope["existing_state"], keras_states, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    want = new_lstm(scope["paragraph3"], initial_state=keras_states)
    np.testing.assert_allclose(scope["new_output"], want, rtol=1e-5, atol=1e-6)

    # LSTM(units) and RNN(LSTMCell(units)) with the same weights are the same
    # model (the guide's set_weights between them), and Keras's build_model
    # with those weights predicts the same.
    cpu_model, cpu_params, cpu_state = (
        scope["cpu_model"],
        scope["cpu_params"],
        scope["cpu_state"],
    )
    weights = cpu_model.get_weights(cpu_params, cpu_state)
    x = scope["x_test"][:8].astype("float32")
    want, _ = cpu_model.apply(cpu_params, cpu_state, x)
    noncudnn, template = scope["noncudnn_model"], scope["noncudnn_ts"]
    p, s = noncudnn.set_weights(template.params, weights, template.state)
    np.testing.assert_allclose(noncudnn.apply(p, s, x)[0], want, rtol=1e-5, atol=1e-5)
    with keras_numpy_init():
        keras_model = keras.Sequential(
            [
                keras.Input((None, 28)),
                keras.layers.LSTM(64),
                keras.layers.BatchNormalization(),
                keras.layers.Dense(10),
            ]
        )
    keras_model.set_weights(weights)
    np.testing.assert_allclose(keras_model(x), want, rtol=1e-5, atol=1e-5)
    # The guide's prediction for one sample is Keras's too.
    sample = scope["sample"][None].astype("float32")
    assert int(scope["result"][0]) == int(np.argmax(keras_model(sample), axis=1)[0])

    # The nested-input cell: RNN(NestedCell) returns the last step's outputs
    # (x1 @ kernel_1 and einsum(x2, kernel_2_3), as its `call` says), and its
    # two states (shapes (10,) and (20, 30)) add them up over the steps.
    model, ts = scope["model"], scope["ts"]
    assert np.isfinite(scope["history"].history["loss"][0])
    x1 = scope["input_1_data"][:4].astype("float32")
    x2 = scope["input_2_data"][:4].astype("float32")
    (out_1, out_2_3), _ = model.apply(ts.params, ts.state, [x1, x2])
    cell = ts.params["rnn"]["nested_cell"]
    k1, k23 = np.asarray(cell["kernel_1"]), np.asarray(cell["kernel_2_3"])
    np.testing.assert_allclose(out_1, x1[:, -1] @ k1, rtol=1e-4, atol=1e-5)
    want = np.einsum("bij,ijkl->bkl", x2[:, -1], k23)
    np.testing.assert_allclose(out_2_3, want, rtol=1e-4, atol=1e-5)
    rnn = kerax.layers.RNN(scope["cell"], return_state=True)
    (_, state_1, state_2_3), _ = rnn.apply(ts.params["rnn"], {}, (x1, x2))
    want = np.einsum("bti,iu->bu", x1, k1)
    np.testing.assert_allclose(state_1, want, rtol=1e-4, atol=1e-5)
    want = np.einsum("btij,ijkl->bkl", x2, k23)
    np.testing.assert_allclose(state_2_3, want, rtol=1e-4, atol=1e-4)
