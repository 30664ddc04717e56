"""The port of "Working with preprocessing layers" runs, and its layers compute
what Keras's own layers adapted on the same data compute."""

import keras
import numpy as np
import pytest

import kerax
from kerax.layers.preprocessing.lookup import _IndexLookup
from tests.keras_guides.test_guides import run_port

# The guide feeds tf.constant strings and tf.data pipelines (the export extra).
tf = pytest.importorskip("tensorflow")

NEW_TEXT = ["The Brain is deeper than the sea", "The one the other will absorb"]


def _record(monkeypatch, cls, name, calls):
    """Wraps `cls.name` to append `(self, args, result)` to `calls` on each call.

    A state dict is recorded as a NumPy copy: `fit` donates the train state
    the port puts it in.
    """
    original = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        copy = (
            {k: np.array(v) for k, v in result.items()}
            if isinstance(result, dict)
            else result
        )
        calls.append((self, args, copy))
        return result

    monkeypatch.setattr(cls, name, wrapper)


def _keras_adapted(cls_name, data, **kwargs):
    layer = getattr(keras.layers, cls_name)(**kwargs)
    layer.adapt(data)
    return layer


def test_preprocessing_layers(tmp_path, monkeypatch):
    adapts, fits = [], []
    for cls in (kerax.layers.Normalization, kerax.layers.TextVectorization):
        _record(monkeypatch, cls, "adapt", adapts)
    _record(monkeypatch, _IndexLookup, "adapt", adapts)  # StringLookup, IntegerLookup.
    _record(monkeypatch, kerax.Trainer, "fit", fits)
    scope = run_port("preprocessing_layers", tmp_path, monkeypatch)
    kinds = [type(layer).__name__ for layer, _, _ in adapts]
    lookups = ["StringLookup", "IntegerLookup"]
    norm_text_norm = ["Normalization", "TextVectorization", "Normalization"]
    assert kinds == norm_text_norm + lookups + ["TextVectorization"] * 3

    # Normalization: the learned statistics and outputs are Keras's.
    for layer, (data,), state in (adapts[0], adapts[2]):
        theirs = _keras_adapted("Normalization", data)
        np.testing.assert_allclose(state["mean"], np.ravel(theirs.mean), rtol=1e-5)
        np.testing.assert_allclose(
            state["variance"], np.ravel(theirs.variance), rtol=1e-5, atol=1e-5
        )
        got, _ = layer.apply({}, state, data[:8])
        np.testing.assert_allclose(got, theirs(data[:8]), rtol=1e-4, atol=1e-4)

    # TextVectorization (int, multi_hot and tf-idf): vocabulary and outputs.
    for layer, (data,), adapted in [adapts[1]] + adapts[5:]:
        config = {k: getattr(layer, k) for k in ("output_mode", "ngrams")}
        theirs = _keras_adapted("TextVectorization", data, **config)
        assert adapted.get_vocabulary() == theirs.get_vocabulary()
        texts = [data, NEW_TEXT] if isinstance(data, list) else [data.numpy(), NEW_TEXT]
        for text in texts:
            np.testing.assert_allclose(adapted(text), theirs(text), rtol=1e-6)
    assert adapts[-1][2].output_mode == "tf_idf"

    # StringLookup, with a given vocabulary and adapted for one-hot codes.
    theirs = keras.layers.StringLookup(vocabulary=scope["vocab"])
    want = theirs(tf.constant([["a", "c", "d"], ["d", "z", "b"]]))
    np.testing.assert_array_equal(scope["vectorized_data"], want)
    _, (data,), lookup = adapts[3]
    theirs = _keras_adapted("StringLookup", data, output_mode="one_hot")
    assert lookup.get_vocabulary() == theirs.get_vocabulary()
    test_data = tf.constant([["a"], ["b"], ["c"], ["d"], ["e"], [""]])
    np.testing.assert_array_equal(lookup(test_data), theirs(test_data))

    # IntegerLookup (a JAX layer) adapted for one-hot codes.
    _, (data,), lookup = adapts[4]
    assert lookup is scope["lookup"]
    theirs = _keras_adapted("IntegerLookup", data, output_mode="one_hot")
    assert lookup.get_vocabulary() == theirs.get_vocabulary()
    test_data = np.array([[10], [10], [20], [50], [60], [0]])
    np.testing.assert_array_equal(lookup.apply({}, {}, test_data)[0], theirs(test_data))

    # The hashing trick: Hashing then multi-hot CategoryEncoding.
    hashed = keras.layers.Hashing(num_bins=64, salt=1337)(scope["data"])
    want = keras.layers.CategoryEncoding(num_tokens=64, output_mode="multi_hot")(hashed)
    assert scope["encoded_data"].shape == (10000, 64)
    np.testing.assert_array_equal(scope["encoded_data"], want)

    # Every fit ran (augmented images, normalized features, the three text
    # models fed by tf.data maps), and the end-to-end tf-idf model on a new
    # string gives what Keras's layers give with the trained weights.
    assert [int(ts.step) for _, _, (ts, _) in fits] == [5, 2, 1, 1, 1]
    for _, _, (_, history) in fits:
        assert np.isfinite(history.history["loss"]).all()
    # The numerical model trained with the adapted statistics in its state.
    theirs = _keras_adapted("Normalization", adapts[2][1][0])
    trained_state = fits[1][2][0].state["normalization"]
    np.testing.assert_allclose(trained_state["mean"], np.ravel(theirs.mean), rtol=1e-5)
    dense = keras.layers.Dense(1)
    dense.build((None, scope["text_vectorizer"].vocabulary_size()))
    params = scope["ts"].params["dense"]
    dense.set_weights([np.asarray(params["kernel"]), np.asarray(params["bias"])])
    theirs = _keras_adapted(
        "TextVectorization", adapts[-1][1][0], output_mode="tf-idf", ngrams=2
    )
    want = dense(theirs(tf.constant(["The one the other will absorb"])))
    np.testing.assert_allclose(scope["test_output"], want, rtol=1e-5, atol=1e-6)
