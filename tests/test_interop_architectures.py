"""Published and hand-built Keras 3 architectures through `kerax.interop.from_keras`.

Each Keras model is built with random weights (`weights=None`), imported with
`from_keras`, and checked two ways:

- outputs: kerax `model.apply(params, state, x)` against Keras
  `model(x, training=False)`, max abs difference <= ATOL = 1e-4 (float32);
- size: the number of imported scalars (params + state) equals Keras's
  `count_params()` (which counts trainable and non-trainable variables).

Inputs are the smallest each application allows, batch 2, so the file runs
in a few minutes on one CPU core; the heaviest models are marked slow.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from kerax.interop import from_keras  # noqa: E402

ATOL = 1e-4  # float32 bound on max |kerax - Keras|.
BATCH = 2


def _size(tree) -> int:
    return int(sum(np.size(x) for x in jax.tree.leaves(tree)))


def _first(out):
    return out[0] if isinstance(out, tuple) and len(out) == 2 else out


def check_parity(k_model, x, atol=ATOL, source=None):
    """Import `k_model` (or `source`, a `.keras` path); compare outputs and sizes."""
    model, params, state = from_keras(k_model if source is None else source)
    # Keras compiled (one XLA program), not op by op: the same inference, ~10x sooner.
    want = k_model.predict_on_batch(x)
    got, _ = model.apply(params, state, x)
    want_leaves = [np.asarray(w) for w in jax.tree.leaves(want)]
    got_leaves = [np.asarray(g) for g in jax.tree.leaves(got)]
    assert len(got_leaves) == len(want_leaves)
    assert all(np.std(w) > 0 for w in want_leaves), (
        "degenerate Keras output: the check would prove nothing"
    )
    diff = 0.0
    for g, w in zip(got_leaves, want_leaves):
        assert g.shape == w.shape
        diff = max(
            diff, float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64))))
        )
    scale = max(float(np.max(np.abs(w))) for w in want_leaves)
    print(
        f"{k_model.name}: max |kerax - Keras| = {diff:.3g} (max |Keras| = {scale:.3g})"
    )
    assert diff <= atol, f"{k_model.name}: max abs diff {diff} > {atol}"
    # Relative too, and the outputs must not vanish (else no bound means much).
    assert scale > 1e-3, (
        f"{k_model.name}: Keras outputs vanish (max {scale}); the check would prove nothing"
    )
    assert diff <= 1e-3 * scale, (
        f"{k_model.name}: max abs diff {diff} vs output scale {scale}"
    )
    assert _size(params) + _size(state) == k_model.count_params()
    return diff


def _image(shape, seed=0):
    return (
        np.random.default_rng(seed)
        .uniform(0, 255, size=(BATCH, *shape))
        .astype("float32")
    )


def _randomize_batchnorm(k_model, seed=1):
    """Non-trivial BatchNormalization statistics and affine terms.

    Freshly built, BN is nearly the identity (beta = 0, mean = 0, var = 1), and
    some applications (MobileNets, EfficientNet) then give logits ~1e-11,
    which would make any tolerance meaningless; and the moving statistics
    (imported as kerax state) would go untested.
    """
    rng = np.random.default_rng(seed)
    draw = {
        "gamma": lambda s: rng.uniform(0.5, 1.5, s),
        "beta": lambda s: rng.normal(0, 0.1, s),
        "moving_mean": lambda s: rng.normal(0, 0.1, s),
        "moving_variance": lambda s: rng.uniform(0.5, 1.5, s),
    }
    for layer in k_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for v in layer.weights:
                kind = v.path.split("/")[-1]
                if kind in draw:
                    v.assign(draw[kind](tuple(v.shape)).astype("float32"))
    return k_model


def _app(fn, shape, **kwargs):
    keras.utils.set_random_seed(0)
    # Logits (no softmax), so that near-uniform probabilities cannot hide a mismatch.
    k_model = fn(
        weights=None,
        input_shape=shape,
        classes=10,
        classifier_activation=None,
        **kwargs,
    )
    return _randomize_batchnorm(k_model)


APPS = {
    "MobileNetV2": (
        lambda: _app(keras.applications.MobileNetV2, (32, 32, 3)),
        (32, 32, 3),
    ),
    "MobileNetV3Small": (
        lambda: _app(keras.applications.MobileNetV3Small, (32, 32, 3)),
        (32, 32, 3),
    ),
    "ResNet50": (lambda: _app(keras.applications.ResNet50, (32, 32, 3)), (32, 32, 3)),
    "ResNet50V2": (
        lambda: _app(keras.applications.ResNet50V2, (32, 32, 3)),
        (32, 32, 3),
    ),
    "EfficientNetB0": (
        lambda: _app(keras.applications.EfficientNetB0, (32, 32, 3)),
        (32, 32, 3),
    ),
    "DenseNet121": (
        lambda: _app(keras.applications.DenseNet121, (32, 32, 3)),
        (32, 32, 3),
    ),
    "VGG16": (lambda: _app(keras.applications.VGG16, (32, 32, 3)), (32, 32, 3)),
    "Xception": (lambda: _app(keras.applications.Xception, (71, 71, 3)), (71, 71, 3)),
    "ConvNeXtTiny": (
        lambda: _app(keras.applications.ConvNeXtTiny, (32, 32, 3)),
        (32, 32, 3),
    ),
}
SLOW = {
    "ResNet50",
    "ResNet50V2",
    "DenseNet121",
    "Xception",
    "ConvNeXtTiny",
    "EfficientNetB0",
    "VGG16",
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in APPS]
)
def test_keras_application(name, keras_numpy_init):
    build, shape = APPS[name]
    with keras_numpy_init():
        k_model = build()
    check_parity(k_model, _image(shape))


def test_text_model_masked_bidirectional_lstm():
    keras.utils.set_random_seed(0)
    tokens = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(50, 8, mask_zero=True)(tokens)
    h = keras.layers.Bidirectional(keras.layers.LSTM(6))(h)
    out = keras.layers.Dense(3, activation="softmax")(h)
    k_model = keras.Model(tokens, out, name="text")
    x = np.array([[3, 7, 9, 0, 0, 0], [1, 2, 3, 4, 5, 6]], dtype="int32")
    check_parity(k_model, x)


def test_transformer_block():
    keras.utils.set_random_seed(0)
    seq = keras.Input((6, 16))
    attn = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(seq, seq)
    h = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([seq, attn]))
    ff = keras.layers.Dense(32, activation="relu")(h)
    ff = keras.layers.Dense(16)(ff)
    ff = keras.layers.Dropout(0.1)(ff)
    out = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([h, ff]))
    out = keras.layers.GlobalAveragePooling1D()(out)
    out = keras.layers.Dense(4)(out)
    k_model = keras.Model(seq, out, name="transformer_block")
    x = np.random.default_rng(0).normal(size=(BATCH, 6, 16)).astype("float32")
    check_parity(k_model, x)


def test_unet_like():
    keras.utils.set_random_seed(0)
    L = keras.layers
    inp = keras.Input((16, 16, 3))
    c1 = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    c1 = L.BatchNormalization()(c1)
    p1 = L.MaxPooling2D()(c1)
    c2 = L.Conv2D(16, 3, padding="same", activation="relu")(p1)
    p2 = L.MaxPooling2D()(c2)
    b = L.Conv2D(32, 3, padding="same", activation="relu")(p2)
    u2 = L.Conv2DTranspose(16, 2, strides=2, padding="same")(b)
    u2 = L.Concatenate()([u2, c2])
    c3 = L.Conv2D(16, 3, padding="same", activation="relu")(u2)
    u1 = L.UpSampling2D()(c3)
    u1 = L.Concatenate()([u1, c1])
    c4 = L.Conv2D(8, 3, padding="same", activation="relu")(u1)
    out = L.Conv2D(2, 1, activation="softmax")(c4)
    k_model = _randomize_batchnorm(keras.Model(inp, out, name="unet"))
    check_parity(k_model, _image((16, 16, 3)) / 255.0)


def test_import_from_keras_file(tmp_path):
    keras.utils.set_random_seed(0)
    L = keras.layers
    inp = keras.Input((8, 8, 3))
    h = L.Conv2D(4, 3, activation="relu")(inp)
    h = L.BatchNormalization()(h)
    h = L.GlobalAveragePooling2D()(h)
    out = L.Dense(5, activation="softmax")(h)
    k_model = _randomize_batchnorm(keras.Model(inp, out, name="saved"))
    path = tmp_path / "saved.keras"
    k_model.save(path)
    check_parity(k_model, _image((8, 8, 3)) / 255.0, source=str(path))


def test_import_small_application_from_keras_file(tmp_path, keras_numpy_init):
    with keras_numpy_init():
        k_model = APPS["MobileNetV2"][0]()
    path = tmp_path / "mobilenet_v2.keras"
    k_model.save(path)
    check_parity(k_model, _image((32, 32, 3)), source=path)


def test_keras_ops_in_functional_graph():
    keras.utils.set_random_seed(0)
    ops = keras.ops
    x = keras.Input((4, 5))
    h = keras.layers.Dense(5)(x)
    y = ops.mean(h, axis=1, keepdims=True) + x[:, 0:1, :]
    y = ops.reshape(y * 0.5 - 1.0, (-1, 5))
    y = keras.layers.Dense(3)(ops.relu(y) + ops.square(y))
    k_model = keras.Model(x, y, name="with_ops")
    data = np.random.default_rng(0).normal(size=(BATCH, 4, 5)).astype("float32")
    check_parity(k_model, data)


def test_unsupported_keras_op_is_named():
    from kerax.interop.keras import model_from_keras_config

    x = keras.Input((4,))
    k_model = keras.Model(x, keras.ops.cumsum(x, axis=1), name="cumsum_model")
    # Every keras.ops op is a kerax.ops op on nodes: Cumsum converts.
    check_parity(k_model, np.ones((BATCH, 4), "float32"))
    config = k_model.get_config()
    config["layers"][1]["class_name"] = "NoSuchOp"
    with pytest.raises(ValueError, match="NoSuchOp"):
        model_from_keras_config({"class_name": "Functional", "config": config})


def _doubled_relu(x):
    return keras.ops.relu(x) * 2.0


# Registered under Keras's default package ("Custom>_doubled_relu") in Keras,
# and under its bare name in kerax: what a user porting a model does.
keras.saving.register_keras_serializable()(_doubled_relu)


def test_registered_custom_activation_converts(rng):
    """Regression: a Keras-registered activation crashed from_keras ('str' has no 'items')."""
    import kerax

    def doubled_relu_kerax(x):
        return jax.nn.relu(x) * 2.0

    kerax.register(doubled_relu_kerax, name="_doubled_relu")
    x_in = keras.Input((3,))
    k_model = keras.Model(
        x_in, keras.layers.Dense(4, activation=_doubled_relu)(x_in), name="custom_act"
    )
    assert k_model.layers[-1].get_config()["activation"]["config"] == (
        "Custom>_doubled_relu"
    )
    check_parity(k_model, rng.normal(size=(BATCH, 3)).astype("float32"))
    model, _, _ = from_keras(k_model)
    assert model.layers[-1].activation is doubled_relu_kerax
    # The converted model saves its config naming the kerax registration.
    assert kerax.from_config(kerax.to_json(model)).layers[-1].activation is (
        doubled_relu_kerax
    )


def test_unregistered_custom_activation_is_named():
    x_in = keras.Input((3,))

    @keras.saving.register_keras_serializable(package="h2_tests")
    def never_in_kerax(x):
        return x

    k_model = keras.Model(x_in, keras.layers.Dense(2, activation=never_in_kerax)(x_in))
    with pytest.raises(ValueError, match=r"h2_tests>never_in_kerax.*kerax.register"):
        from_keras(k_model)


def test_frozen_keras_layers_import_as_frozen_params():
    # Keras's transfer-learning recipe: `base.trainable = False` turns off
    # `trainable` on the base's weights; they are still weights (kerax
    # params) of a frozen layer, and BatchNormalization's statistics state.
    import kerax

    base = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, name="dense"),
            keras.layers.BatchNormalization(name="batch_normalization"),
        ],
        name="base",
    )
    base.trainable = False
    k_model = keras.Sequential(
        [keras.Input((4,)), base, keras.layers.Dense(2, name="head")]
    )
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    check_parity(k_model, x)
    model, params, state = from_keras(k_model)
    assert set(params["base"]) == {"dense", "batch_normalization"}
    assert set(state["base"]["batch_normalization"]) == {
        "moving_mean",
        "moving_variance",
    }
    assert not model.layers[0].trainable and model.layers[1].trainable
    trainer = kerax.Trainer(model, "sgd", "mse")
    ts = trainer.init()._replace(params=params, state=state)
    ts, _ = trainer.fit(ts, x, np.ones((8, 2), np.float32), epochs=1, verbose=0)
    for a, b in zip(
        jax.tree.leaves(ts.params["base"]), jax.tree.leaves(params["base"])
    ):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(ts.params["head"]["kernel"], params["head"]["kernel"])
