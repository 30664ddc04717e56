"""kerax.utils.FeatureSpace against keras.utils.FeatureSpace: same data, same adapt, same encodings."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import numpy as np
import pytest

import kerax

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

KF, XF = keras.utils.FeatureSpace, kerax.utils.FeatureSpace


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "f": rng.normal(3.0, 2.0, n).astype("float32"),
        "g": rng.uniform(0, 10, n).astype("float32"),
        "r": rng.uniform(-1, 1, n).astype("float32"),
        "i": rng.integers(0, 6, n).astype("int32"),
        "s": rng.choice(["red", "green", "blue", "cyan"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "h": rng.choice(["u", "v", "w", "x", "y"], n),
    }


def _features(fs):
    return {
        "f": fs.float_normalized(),
        "g": fs.float_discretized(num_bins=5),
        "r": fs.float_rescaled(scale=2.0, offset=1.0),
        "i": fs.integer_categorical(num_oov_indices=0),
        "s": fs.string_categorical(),
        "h": fs.string_hashed(num_bins=7),
    }


def _both(output_mode, crosses=None, int_modes=False):
    kf, xf = _features(KF), _features(XF)
    if int_modes:
        kf["i"] = KF.integer_categorical(output_mode="int")
        xf["i"] = XF.integer_categorical(output_mode="int")
        kf["h"] = KF.integer_hashed(num_bins=9, output_mode="int")
        xf["h"] = XF.integer_hashed(num_bins=9, output_mode="int")
    return (
        KF(kf, output_mode=output_mode, crosses=crosses),
        XF(
            xf,
            output_mode=output_mode,
            crosses=[_kerax_cross(c) for c in crosses or ()],
        ),
    )


def _kerax_cross(cross):
    if isinstance(cross, tuple):
        return cross
    return XF.cross(cross.feature_names, cross.crossing_dim, cross.output_mode)


def _adapt_both(kfs, xfs, data):
    kfs.adapt(tf.data.Dataset.from_tensor_slices(data))
    return xfs.adapt(tf.data.Dataset.from_tensor_slices(data))


def test_concat_with_cross_matches_keras():
    data = _data(100)
    crosses = [KF.cross(("s", "i"), crossing_dim=16), ("g", "h")]
    kfs, xfs = _both("concat", crosses=crosses)
    xfs = _adapt_both(kfs, xfs, data)
    new = _data(
        20, seed=1
    )  # Unseen rows (OOV strings are impossible here; values differ).
    new["s"][:3] = "purple"
    want = np.asarray(kfs(new))
    got = xfs(new)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # One unbatched sample: Keras squeezes the batch axis, so does kerax.
    one = {k: v[0] for k, v in new.items()}
    np.testing.assert_allclose(xfs(one), np.asarray(kfs(one)), rtol=1e-6, atol=1e-6)


def test_dict_mode_int_outputs_match_keras():
    data = _data(100)
    data["h"] = np.random.default_rng(2).integers(0, 100, 100).astype("int32")
    crosses = [KF.cross(("s", "i"), crossing_dim=8, output_mode="int")]
    kfs, xfs = _both("dict", crosses=crosses, int_modes=True)
    xfs = _adapt_both(kfs, xfs, data)
    want, got = kfs(data), xfs(data)
    assert sorted(got) == sorted(want)
    for name in want:
        w = np.asarray(want[name])
        assert got[name].shape == w.shape and got[name].dtype == w.dtype, name
        np.testing.assert_allclose(got[name], w, rtol=1e-6, atol=1e-6, err_msg=name)


def test_string_named_types_and_dict_of_arrays_adapt():
    data = _data(120)
    names = {
        "f": "float_normalized",
        "g": "float_discretized",
        "i": "integer_categorical",
        "s": "string_categorical",
        "h": "string_hashed",
        "r": "float",
    }
    kfs = KF(names, crosses=[("s", "h")], num_discretization_bins=4, hashing_dim=5)
    xfs = XF(names, crosses=[("s", "h")], num_discretization_bins=4, hashing_dim=5)
    kfs.adapt(data)  # A dict of arrays: Keras slices it into rows, batched by 32.
    xfs = xfs.adapt(data)
    np.testing.assert_allclose(xfs(data), np.asarray(kfs(data)), rtol=1e-6, atol=1e-6)
    assert xfs.get_encoded_features().shape == (None, xfs(data).shape[1])


def test_not_adapted_and_bad_arguments():
    fs = XF({"s": "string_categorical"})
    with pytest.raises(ValueError, match="adapt"):
        fs({"s": ["a"]})
    with pytest.raises(ValueError, match="Invalid feature type"):
        XF({"s": "strin_categorical"})
    with pytest.raises(ValueError, match="unknown features"):
        XF({"s": "string_categorical"}, crosses=[("s", "t")])
    with pytest.raises(ValueError, match="output_mode"):
        XF({"s": "string_categorical"}, output_mode="stack")
    fs = XF({"x": "float"})  # Nothing to adapt: usable at once.
    np.testing.assert_array_equal(fs({"x": [1.0, 2.0]}), [[1.0], [2.0]])


def test_keras_config_round_trips_and_save_load(tmp_path):
    data = _data(100)
    kfs, _ = _both("concat", crosses=[("s", "i")])
    xfs = XF.from_config(
        kfs.get_config()
    )  # Keras's config: no statistics, must be adapted.
    with pytest.raises(ValueError, match="adapt"):
        xfs(data)
    xfs = _adapt_both(kfs, xfs, data)
    np.testing.assert_allclose(xfs(data), np.asarray(kfs(data)), rtol=1e-6, atol=1e-6)
    again = XF.from_config(xfs.get_config())  # kerax's config keeps what adapt learned.
    np.testing.assert_array_equal(again(data), xfs(data))
    path = str(tmp_path / "fs.keras")
    xfs.save(path)
    np.testing.assert_array_equal(XF.load(path)(data), xfs(data))


def test_tf_data_map_and_training():
    data = _data(64)
    labels = (data["f"] > 3.0).astype("float32")
    _, xfs = _both("concat", crosses=[("s", "i")])
    xfs = xfs.adapt(tf.data.Dataset.from_tensor_slices(data))
    ds = tf.data.Dataset.from_tensor_slices((data, labels)).batch(32)
    ds = ds.map(lambda x, y: (xfs(x), y))
    x_enc = np.concatenate([x.numpy() for x, _ in ds])
    np.testing.assert_array_equal(x_enc, xfs(data))
    assert ds.element_spec[0].shape.as_list() == [None, x_enc.shape[1]]

    encoded = xfs.get_encoded_features()
    h = kerax.layers.Dense(8, activation="relu")(encoded)
    out = kerax.layers.Dense(1, activation="sigmoid")(h)
    model = kerax.Model(encoded, out)
    trainer = kerax.Trainer(
        model, optimizer=kerax.optimizers.Adam(1e-2), loss="binary_crossentropy"
    )
    ts = trainer.init(jax.random.key(0))
    ts, history = trainer.fit(ts, x_enc, labels, epochs=2, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_config_utils():
    keras_config = keras.utils.Config(b=2, a=1)
    config = kerax.utils.Config(b=2, a=1)
    config.momentum = 3
    keras_config.momentum = 3
    assert config.as_dict() == keras_config.as_dict() and list(config) == list(
        keras_config
    )
    config.freeze()
    with pytest.raises(ValueError, match="frozen"):
        config["d"] = 4
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun  # noqa: B018
    config.unfreeze()
    config.d = 4
    assert config.to_json() == '{"b": 2, "a": 1, "momentum": 3, "d": 4}'


def test_adapting_again_learns_anew():
    # Normalization means, bin boundaries and vocabularies all come from the
    # second dataset, as a fresh FeatureSpace adapted on it.
    fs = XF(_features(XF), output_mode="concat")
    first, second = _data(seed=1), _data(n=150, seed=2)
    second["f"] = second["f"] * 5.0 + 20.0
    second["s"] = np.where(second["s"] == "red", "magenta", second["s"])
    twice = fs.adapt(first).adapt(second)
    fresh = fs.adapt(second)
    probe = _data(n=20, seed=3)
    np.testing.assert_array_equal(np.asarray(twice(probe)), np.asarray(fresh(probe)))
