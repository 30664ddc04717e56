"""Lookup and text layers: IntegerLookup (JAX), StringLookup and TextVectorization (host-side)."""

import json

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.core import serialization
from kerax.layers._docs import undocumented_args
from kerax.testing import check_layer as _check_layer

# Keras's string layers and hash functions run on TensorFlow (the export extra).
tf = pytest.importorskip("tensorflow")

KEY = jax.random.key(0)

TEXTS = [
    "The cat sat on the mat.",
    "The dog! The DOG, ate my homework",
    "Éclair x\xa0y  z\tcat",  # Non-ASCII case and whitespace: TF leaves them alone.
    "a b a b c",
    "",
]
QUERIES = ["the cat, the DOG and Éclair", "zz a  ", "b"]


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, **kwargs)


def assert_same(kerax_out, keras_out, atol=0.0):
    keras_out = np.asarray(keras_out)
    assert kerax_out.shape == keras_out.shape
    assert np.asarray(kerax_out).dtype == keras_out.dtype
    np.testing.assert_allclose(kerax_out, keras_out, atol=atol, rtol=0)


# ---------------------------------------------------------- TextVectorization
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"output_sequence_length": 4},
        {"max_tokens": 6, "output_sequence_length": 12},
        {"output_mode": "multi_hot"},
        {"output_mode": "count", "ngrams": 2},
        {"output_mode": "tf_idf", "ngrams": (1, 3)},
        {"output_mode": "tf_idf", "max_tokens": 30, "pad_to_max_tokens": True},
        {"split": "character", "output_mode": "count", "standardize": "lower"},
        {"standardize": "strip_punctuation", "split": None},
        {"standardize": None, "output_mode": "binary"},
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults",
)
def test_text_vectorization_adapt_and_outputs_match_keras(kwargs):
    kl = keras.layers.TextVectorization(**kwargs)
    kl.adapt(TEXTS)
    layer = layers.TextVectorization(**kwargs).adapt(TEXTS)
    assert layer.get_vocabulary() == kl.get_vocabulary()
    assert layer.vocabulary_size() == kl.vocabulary_size()
    queries = np.array(QUERIES)[:, None] if kwargs.get("split", 1) is None else QUERIES
    # tf-idf: the special index's weight is a float32 mean (Keras: tf.reduce_mean).
    assert_same(layer(queries), kl(queries), atol=2e-6)


def test_text_vectorization_adapt_on_batches_matches_keras():
    ds = tf.data.Dataset.from_tensor_slices(TEXTS).batch(2)
    kl = keras.layers.TextVectorization(output_mode="tf_idf")
    kl.adapt(ds, steps=2)
    layer = layers.TextVectorization(output_mode="tf_idf").adapt(ds, steps=2)
    assert layer.get_vocabulary() == kl.get_vocabulary()
    assert_same(layer(QUERIES), kl(QUERIES), atol=2e-6)
    # A generator of (texts, labels) batches gives the same vocabulary.
    batches = ((np.array(TEXTS[i : i + 2]), np.zeros(2)) for i in (0, 2))
    assert layers.TextVectorization().adapt(batches).get_vocabulary() == (
        layers.TextVectorization().adapt(TEXTS[:4]).get_vocabulary()
    )


def test_text_vectorization_given_vocabulary_and_config_round_trip():
    vocab, idf = ["the", "cat", "dog"], [0.5, 1.0, 2.0]
    kl = keras.layers.TextVectorization(
        vocabulary=vocab, idf_weights=idf, output_mode="tf_idf"
    )
    # A Keras config with its vocabulary imports, and computes what Keras does.
    layer = layers.TextVectorization.from_config(kl.get_config())
    assert_same(layer(QUERIES), kl(QUERIES), atol=1e-6)
    assert layer.get_vocabulary() == kl.get_vocabulary()
    # kerax's own config (JSON) round trip keeps an adapted vocabulary.
    adapted = layers.TextVectorization(max_tokens=8, ngrams=2).adapt(TEXTS)
    text = json.dumps(serialization.serialize(adapted))
    assert serialization.from_config(text) == adapted
    again = layers.TextVectorization().set_vocabulary(adapted.get_vocabulary())
    np.testing.assert_array_equal(
        again(["the cat"]), [[2, adapted.get_vocabulary().index("cat")]]
    )


def test_text_vectorization_custom_standardize_and_split():
    def standardize(texts):
        return np.char.upper(texts)

    def split(text):
        return text.split("-")

    layer = layers.TextVectorization(
        standardize=standardize, split=split, vocabulary=["A", "B"]
    )
    np.testing.assert_array_equal(layer(["a-b-c", "b"]), [[2, 3, 1], [3, 0, 0]])


def test_text_vectorization_feeds_fit():
    vectorizer = layers.TextVectorization(max_tokens=20, output_mode="multi_hot")
    vectorizer = vectorizer.adapt(TEXTS)
    x = vectorizer(TEXTS)
    model = kerax.Sequential(
        [kerax.Input((vectorizer.vocabulary_size(),)), layers.Dense(1)]
    )
    trainer = kerax.Trainer(model, optimizer="sgd", loss="mse")
    ts = trainer.init(KEY)
    ts, history = trainer.fit(ts, x, np.ones((5, 1), np.float32), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_host_layers_run_in_tf_data_maps_as_keras():
    """In a `tf.data` map (graph tensors) the host layers run as `tf.numpy_function`s:
    the same values as Keras's layers in the same map, and as the eager call."""

    def mapped(layer, data, batch=2):
        ds = tf.data.Dataset.from_tensor_slices(data).batch(batch).map(layer)
        return [np.asarray(x) for x in ds]

    for kwargs in ({}, {"output_mode": "tf_idf", "ngrams": 2}):
        ours = layers.TextVectorization(**kwargs).adapt(TEXTS)
        theirs = keras.layers.TextVectorization(**kwargs)
        theirs.adapt(TEXTS)
        got, want = mapped(ours, QUERIES), mapped(theirs, QUERIES)
        assert [x.dtype for x in got] == [np.float32 if kwargs else np.int32] * 2
        for g, w, eager in zip(got, want, (ours(QUERIES[:2]), ours(QUERIES[2:]))):
            np.testing.assert_allclose(g, w, rtol=1e-6)
            np.testing.assert_array_equal(g, eager)
    vocabulary = ["a", "b", "é"]
    ids = np.array([[3, 0, 1], [2, 9, 1]])
    ours = mapped(layers.StringLookup(vocabulary=vocabulary, invert=True), ids)
    theirs = keras.layers.StringLookup(vocabulary=vocabulary, invert=True)
    np.testing.assert_array_equal(ours[0], mapped(theirs, ids)[0])
    hashing = {"num_bins": 7, "salt": 3, "output_mode": "multi_hot"}
    words = np.array([["a", "b"], ["c", "é"], ["a", ""]])
    got = mapped(layers.Hashing(**hashing), words, batch=3)[0]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(
        got, mapped(keras.layers.Hashing(**hashing), words, 3)[0]
    )
    crossing = layers.HashedCrossing(num_bins=5)
    ds = tf.data.Dataset.from_tensor_slices(([1, 2, 3], ["a", "b", "c"])).batch(3)
    got = [np.asarray(x) for x in ds.map(lambda a, b: crossing((a, b)))][0]
    np.testing.assert_array_equal(got, crossing(([1, 2, 3], ["a", "b", "c"])))


def test_text_layers_refuse_tracing_and_models():
    vectorizer = layers.TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match="in the data pipeline"):
        vectorizer(kerax.Input((1,), dtype="int32"))
    with pytest.raises(ValueError, match="cannot be part of a jitted"):
        vectorizer.init(KEY, kerax.spec((None, 1), "int32"))
    invert = layers.StringLookup(vocabulary=["a"], invert=True)
    with pytest.raises(ValueError, match="runs on the host"):
        jax.jit(lambda i: invert.apply({}, {}, i))(jnp.array([1]))


def test_text_vectorization_errors():
    with pytest.raises(
        ValueError, match="TextVectorization 'text_vectorization'.*ragged"
    ):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="argument `standardize`"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="argument `ngrams`"):
        layers.TextVectorization(ngrams="2")
    with pytest.raises(ValueError, match="output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="input rank must be 1"):
        layers.TextVectorization(vocabulary=["a"])([["a", "b"]])
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary"):
        layers.TextVectorization(output_mode="count")(["a"])
    kl = keras.layers.TextVectorization()
    kl.adapt(TEXTS)  # Keras keeps this vocabulary outside the config.
    with pytest.raises(ValueError, match="vocabulary=keras_layer.get_vocabulary"):
        layers.TextVectorization.from_config(kl.get_config())


# --------------------------------------------------------------- StringLookup
TOKENS = np.array([["b", "a", "b"], ["c", "c", "[M]"], ["c", "d", "b"]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mask_token": "[M]"},
        {"num_oov_indices": 5},  # FarmHash64 buckets.
        {"num_oov_indices": 4, "salt": (7, 11), "mask_token": "[M]"},  # SipHash64.
        {"max_tokens": 3, "output_mode": "multi_hot"},
        {
            "mask_token": "[M]",
            "output_mode": "count",
            "pad_to_max_tokens": True,
            "max_tokens": 8,
        },
        {"output_mode": "tf_idf"},
        {"output_mode": "one_hot", "num_oov_indices": 0, "mask_token": "[M]"},
    ],
    ids=str,
)
def test_string_lookup_adapt_and_outputs_match_keras(kwargs):
    kl = keras.layers.StringLookup(**kwargs)
    kl.adapt(TOKENS)
    layer = layers.StringLookup(**kwargs).adapt(TOKENS)
    assert layer.get_vocabulary() == kl.get_vocabulary()
    assert layer.get_vocabulary(False) == kl.get_vocabulary(False)
    x = TOKENS[:, :1] if kwargs.get("output_mode") == "one_hot" else TOKENS
    oov = np.array([["zebra"], ["ünï"], ["a" * 40]])  # FarmHash's length classes.
    x = x if kwargs.get("output_mode") == "one_hot" else np.concatenate([x, oov], -1)
    assert_same(layer(x), kl(x), atol=2e-6)


def test_string_lookup_given_vocabulary_invert_and_bytes():
    vocab = ["[M]", "[UNK]", "a", "b"]  # Special tokens first: Keras accepts them.
    kl = keras.layers.StringLookup(vocabulary=vocab, mask_token="[M]")
    layer = layers.StringLookup.from_config(kl.get_config())
    x = np.array([[b"a", b"[M]"], [b"zz", b"b"]])  # Bytes decode with `encoding`.
    assert_same(layer(x), kl(x))
    inv = layers.StringLookup(vocabulary=vocab, mask_token="[M]", invert=True)
    kinv = keras.layers.StringLookup(vocabulary=vocab, mask_token="[M]", invert=True)
    ids = np.array([[0, 1, 2, 3, 7, -1]])
    expected = (
        kinv(tf.constant(ids)).numpy().astype(str)
    )  # Keras on JAX cannot invert NumPy input.
    np.testing.assert_array_equal(inv(ids), expected)


def test_string_lookup_vocabulary_file(tmp_path):
    path = tmp_path / "vocabulary.txt"
    path.write_text("a\nb\n", encoding="utf-8")
    layer = layers.StringLookup(vocabulary=str(path))
    kl = keras.layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == kl.get_vocabulary()
    assert layer.get_config()["vocabulary"] == ["a", "b"]  # The tokens, not the path.
    assert_same(layer([["b", "c"]]), kl([["b", "c"]]))


def test_string_lookup_errors():
    with pytest.raises(
        ValueError, match="StringLookup 'string_lookup': argument `salt`"
    ):
        layers.StringLookup(num_oov_indices=2, salt="x")
    with pytest.raises(ValueError, match="repeated term"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="larger than the maximum"):
        layers.StringLookup(vocabulary=["a", "b"], max_tokens=2)
    with pytest.raises(ValueError, match="sparse=True"):
        layers.StringLookup(sparse=True)
    with pytest.raises(ValueError, match="idf_weights"):
        layers.StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="found OOV values"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "b"])
    with pytest.raises(TypeError, match="expected string inputs"):
        layers.StringLookup(vocabulary=["a"])([1, 2])


# -------------------------------------------------------------- IntegerLookup
IDS = np.array([[3, 3, 5, 7], [7, 2, 2, 0], [9, 3, 0, 7]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mask_token": 0},
        {"num_oov_indices": 3},
        {"max_tokens": 4, "output_mode": "multi_hot", "mask_token": 0},
        {"output_mode": "count", "pad_to_max_tokens": True, "max_tokens": 10},
        {"output_mode": "tf_idf"},
        {"output_mode": "one_hot"},
    ],
    ids=str,
)
def test_integer_lookup_adapt_and_outputs_match_keras(kwargs):
    kl = keras.layers.IntegerLookup(**kwargs)
    kl.adapt(IDS)
    layer = layers.IntegerLookup(**kwargs).adapt(IDS)
    assert layer.get_vocabulary() == kl.get_vocabulary()
    x = IDS[:, :1] if kwargs.get("output_mode") == "one_hot" else IDS
    y = jax.jit(lambda v: layer.apply({}, {}, v)[0])(jnp.asarray(x, jnp.int32))
    assert_same(np.asarray(y), kl(x), atol=2e-6)


def test_integer_lookup_contract_invert_and_model():
    layer = layers.IntegerLookup(
        vocabulary=[1, 3, 4], mask_token=0, output_mode="multi_hot"
    )
    check_layer(layer, kerax.spec((None, 4), "int32"), grad=False)
    kl = keras.layers.IntegerLookup(vocabulary=[10, 20], invert=True, mask_token=0)
    inv = layers.IntegerLookup.from_config(kl.get_config())
    ids = np.array([[0, 1, 2, 3, 7, -1]])
    assert_same(np.asarray(inv.apply({}, {}, jnp.asarray(ids, jnp.int32))[0]), kl(ids))
    # A model starting at token ids; its config (vocabulary included) round-trips.
    model = kerax.Sequential(
        [
            kerax.Input((4,), dtype="int32"),
            layers.IntegerLookup(vocabulary=[3, 5, 7]),
            layers.Embedding(4, 2),
        ]
    )
    params, state = model.init(KEY)
    y, _ = model.apply(params, state, jnp.asarray(IDS, jnp.int32))
    rebuilt = serialization.from_config(serialization.to_json(model))
    np.testing.assert_array_equal(rebuilt.apply(params, state, jnp.asarray(IDS))[0], y)


def test_integer_lookup_errors():
    with pytest.raises(ValueError, match="IntegerLookup 'integer_lookup'.*max_tokens"):
        layers.IntegerLookup(max_tokens=1)
    with pytest.raises(ValueError, match="pad_to_max_tokens"):
        layers.IntegerLookup(pad_to_max_tokens=True)
    with pytest.raises(ValueError, match="`invert` is true"):
        layers.IntegerLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="farmhash"):
        layers.IntegerLookup(num_oov_indices=2, oov_method="farmhash")
    with pytest.raises(ValueError, match="`salt` can only be used"):
        layers.IntegerLookup(salt=3)
    with pytest.raises(ValueError, match="argument `vocabulary`"):
        layers.IntegerLookup(vocabulary=["a"])
    with pytest.raises(ValueError, match="reserved mask_token"):
        layers.IntegerLookup(vocabulary=[0, 1], mask_token=0)
    with pytest.raises(ValueError, match="expects integer inputs"):
        layers.IntegerLookup(vocabulary=[1]).init(KEY, kerax.spec((None, 2)))
    with pytest.raises(ValueError, match="found OOV values \\[9\\]"):
        layers.IntegerLookup(vocabulary=[1], num_oov_indices=0).apply(
            {}, {}, jnp.array([1, 9])
        )


@pytest.mark.parametrize("cls", ["IntegerLookup", "StringLookup", "TextVectorization"])
def test_args_documented(cls):
    assert undocumented_args(getattr(layers, cls)) == []


def test_adapted_keras_layers_import_live_with_their_vocabulary():
    # A live Keras layer hands over the vocabulary that `adapt` learned (a
    # `.keras` file keeps it in an asset outside the config).
    from kerax.interop import layer_from_keras

    texts = ["the cat sat", "the dog", "a cat"]
    cases = [
        (
            keras.layers.StringLookup(mask_token="", num_oov_indices=2),
            ["y", "x", "y", "q"],
            np.array(["y", "", "z", "q"]),
        ),
        (keras.layers.IntegerLookup(), np.array([5, 7, 7]), np.array([5, 9, 7])),
        (
            keras.layers.TextVectorization(output_sequence_length=4),
            texts,
            ["the dog sat", "zebra"],
        ),
    ]
    for k_layer, data, x in cases:
        k_layer.adapt(data)
        layer = layer_from_keras(k_layer)
        got = (
            layer.apply({}, {}, x)[0]
            if isinstance(layer, kerax.layers.IntegerLookup)
            else layer(x)
        )
        np.testing.assert_array_equal(np.asarray(got), np.asarray(k_layer(x)))


def test_adapt_reads_only_steps_batches_of_an_endless_stream():
    def endless(batch):
        while True:
            yield batch

    texts = np.array(["the cat", "a dog"])
    vectorizer = layers.TextVectorization().adapt(endless(texts), steps=2)
    # Counts doubled, ranks unchanged: the same vocabulary as one pass.
    assert (
        vectorizer.get_vocabulary()
        == layers.TextVectorization().adapt(texts).get_vocabulary()
    )
    lookup = layers.IntegerLookup().adapt(endless(np.array([3, 3, 5])), steps=3)
    assert lookup.get_vocabulary() == [-1, 3, 5]
