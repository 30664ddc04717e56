"""Models as Keras users handle them: layers, get_layer, nodes, feature
extraction, freezing, weights in Keras's order, clones, and symbolic shapes."""

import jax
import keras
import numpy as np
import pytest

import kerax
from kerax import layers


def _branchy():
    """Two branches of different depth: Keras's layer order is not first use."""
    x = kerax.Input((8,), name="x")
    a = layers.Dense(4, name="a1")(x)
    a = layers.Dense(4, name="a2")(a)
    b = layers.Dense(4, name="b1")(x)
    h = layers.Concatenate(name="cat")([a, b])
    return kerax.Model(x, layers.Dense(2, name="head")(h), name="branchy")


def _keras_branchy():
    x = keras.Input((8,), name="x")
    a = keras.layers.Dense(4, name="a1")(x)
    a = keras.layers.Dense(4, name="a2")(a)
    b = keras.layers.Dense(4, name="b1")(x)
    h = keras.layers.Concatenate(name="cat")([a, b])
    return keras.Model(x, keras.layers.Dense(2, name="head")(h))


def test_layers_follow_keras_order_and_get_layer_by_name_or_index():
    model = _branchy()
    names = [layer.name for layer in model.layers]
    assert names == [layer.name for layer in _keras_branchy().layers]
    assert model.get_layer("b1").units == 4
    assert model.get_layer(index=-1).name == "head"
    assert model.get_layer("head") == model.layers[-1]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="exactly one of `name` and `index`"):
        model.get_layer()


def test_layer_input_and_output_nodes_through_the_model():
    model = _branchy()
    assert model.get_layer("a2").output.shape == (None, 4)
    assert model.get_layer("a2").input.shape == (None, 4)
    assert [n.shape for n in model.get_layer("cat").input] == [(None, 4), (None, 4)]
    assert model.get_layer("x").output.shape == (None, 8)
    with pytest.raises(AttributeError, match=r"model.get_layer\('dense'\).output"):
        _ = layers.Dense(3).output


def test_shared_layer_outputs_by_node_index():
    x1, x2 = kerax.Input((3,), name="l"), kerax.Input((3,), name="r")
    shared = layers.Dense(2, name="shared")
    model = kerax.Model([x1, x2], layers.Add()([shared(x1), shared(x2)]))
    view = model.get_layer("shared")
    with pytest.raises(AttributeError, match="called 2 times.*get_output_at"):
        _ = view.output
    assert view.get_output_at(1).shape == (None, 2)
    assert view.get_input_at(0).shape == (None, 3)


def test_feature_extraction_reuses_the_params(rng):
    model = _branchy()
    params, state = model.init(jax.random.key(0))
    # b1 is first used after a1/a2: a fresh model would call it "dense".
    features = kerax.Model(
        model.inputs,
        [model.get_layer("b1").output, model.get_layer("a2").output],
    )
    sub, _ = features.init(jax.random.key(0))
    assert set(sub) == {"a1", "a2", "b1"}
    x = rng.normal(size=(2, 8)).astype("float32")
    (b, a), _ = features.apply(params, state, x)  # The big model's params, as is.
    expected_b, _ = model.get_layer("b1").apply(params["b1"], {}, x)
    np.testing.assert_allclose(b, expected_b, rtol=1e-6)
    assert a.shape == (2, 4)


def test_feature_extraction_keeps_auto_names(rng):
    x = kerax.Input((8,))
    a = layers.Dense(4)(x)
    b = layers.Dense(5)(x)
    model = kerax.Model(x, layers.Dense(1)(layers.Concatenate()([a, b])))
    params, state = model.init(jax.random.key(0))
    features = kerax.Model(model.inputs, model.get_layer("dense_1").output)
    (name,) = (features.layer_name(layer) for layer in features.layers[1:])
    assert name == "dense_1"  # Not "dense": the names come with the node.
    head = layers.Dense(2, name="head")(model.get_layer("dense_1").output)
    transfer = kerax.Model(model.inputs, head)
    t_params, _ = transfer.init(jax.random.key(1))
    assert set(t_params) == {"dense_1", "head"}
    t_params = {**t_params, "dense_1": params["dense_1"]}
    y, _ = transfer.apply(t_params, {}, rng.normal(size=(3, 8)).astype("float32"))
    assert y.shape == (3, 2)


def test_sequential_handles_and_feature_extraction(rng):
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.Dense(4), layers.Dense(2, name="out")]
    )
    params, state = model.init(jax.random.key(0))
    assert (
        model.get_layer(index=0).name == "dense" and model.get_layer("dense").units == 4
    )
    assert model.output.shape == (None, 2) and model.inputs[0].shape == (None, 3)
    features = kerax.Model(model.inputs, model.get_layer("dense").output)
    x = rng.normal(size=(2, 3)).astype("float32")
    y, _ = features.apply(params, state, x)
    expected, _ = layers.Dense(4).apply(params["dense"], {}, x)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    with pytest.raises(AttributeError, match="does not start with an Input"):
        _ = kerax.Sequential([layers.Dense(2)]).output


def test_set_trainable_freezes_by_name_and_keeps_param_paths():
    model = _branchy()
    params, _ = model.init(jax.random.key(0))
    frozen = kerax.models.set_trainable(model, ["a1", "a2"], False)
    mask = frozen.trainable_mask(params)
    assert not any(jax.tree.leaves(mask["a1"])) and not any(jax.tree.leaves(mask["a2"]))
    assert all(jax.tree.leaves(mask["b1"])) and all(jax.tree.leaves(mask["head"]))
    assert all(
        jax.tree.leaves(model.trainable_mask(params))
    )  # The original is unchanged.
    by_rule = kerax.models.set_trainable(model, lambda name, _: name != "head", False)
    assert [
        n for n, m in by_rule.trainable_mask(params).items() if all(jax.tree.leaves(m))
    ] == ["head"]
    with pytest.raises(ValueError, match=r"no layers named \['a3'\]"):
        kerax.models.set_trainable(model, "a3", False)


def test_list_input_model_takes_a_dict_keyed_by_input_names(rng):
    left, right = kerax.Input((3,), name="left"), kerax.Input((2,), name="right")
    model = kerax.Model([left, right], layers.Concatenate()([left, right]))
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))
    by_list, _ = model.apply({}, {}, [a, b])
    by_dict, _ = model.apply({}, {}, {"right": b, "left": a})
    np.testing.assert_array_equal(by_list, by_dict)
    with pytest.raises(
        ValueError, match=r"keyed by the Inputs' names \['left', 'right'\]"
    ):
        model.apply({}, {}, {"left": a})


def test_get_and_set_weights_in_keras_order():
    k_in = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(3, 3)(k_in)
    h = keras.layers.BatchNormalization()(h)
    b = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(h))
    a = keras.layers.Dense(2)(keras.layers.Flatten()(h))
    k_model = keras.Model(k_in, keras.layers.Add()([a, b]))
    model, params, state = kerax.interop.from_keras(k_model)
    expected = k_model.get_weights()
    got = model.get_weights(params, state)
    assert [w.shape for w in got] == [w.shape for w in expected]
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    with pytest.raises(ValueError, match="pass them too"):
        model.get_weights(params)
    new = [w + 1.0 for w in expected]
    params2, state2 = model.set_weights(params, new, state=state)
    for g, e in zip(model.get_weights(params2, state2), new):
        np.testing.assert_array_equal(g, e)
    with pytest.raises(ValueError, match="expected 10 arrays"):
        model.set_weights(params, new[:-1], state=state)


def test_clone_model_names_its_layers_alike(rng):
    model = _branchy()
    params, state = model.init(jax.random.key(0))
    clone = kerax.models.clone_model(model)
    assert clone is not model and [x.name for x in clone.layers] == [
        x.name for x in model.layers
    ]
    x = rng.normal(size=(2, 8)).astype("float32")
    np.testing.assert_array_equal(
        clone.apply(params, state, x)[0], model.apply(params, state, x)[0]
    )
    wider = kerax.models.clone_model(
        model,
        clone_function=lambda layer: (
            layers.Dense(6, name=layer.name) if layer.name == "b1" else layer
        ),
    )
    assert wider.get_layer("cat").output.shape == (None, 10)


def test_to_json_round_trips():
    model = _branchy()
    rebuilt = kerax.from_config(model.to_json())
    assert [x.name for x in rebuilt.layers] == [x.name for x in model.layers]


@pytest.mark.parametrize(
    ("method", "line"),
    [
        ("compile", "kerax.Trainer(model, optimizer=..., loss=...)"),
        ("fit", "ts, history = trainer.fit(ts, x, y"),
        ("evaluate", "trainer.evaluate(ts, x, y)"),
        ("predict", "model.apply(params, state, x)"),
        ("save", "model.save(path, params, state)"),
    ],
)
def test_keras_stateful_methods_show_the_kerax_line(method, line):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(1)])
    with pytest.raises(TypeError) as info:
        getattr(model, method)("x")
    assert line in str(info.value)


def test_save_save_weights_load_weights_take_the_weights(tmp_path):
    import keras

    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    params, state = model.init(jax.random.key(0))
    x = np.ones((2, 3), np.float32)
    want = np.asarray(model.apply(params, state, x)[0])
    # Keras's `model.save(path)`, with the weights; Keras loads the archive.
    model.save(tmp_path / "m.keras", params, state)
    np.testing.assert_allclose(
        keras.saving.load_model(tmp_path / "m.keras")(x), want, rtol=1e-6
    )
    # Keras's `save_model(model, filepath)` order is taken too.
    kerax.saving.save_model(model, tmp_path / "k.keras", params, state)
    loaded, p2, s2 = kerax.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.apply(p2, s2, x)[0], want, rtol=1e-6)
    model.save_weights(tmp_path / "m.weights.h5", params, state)
    got, _ = model.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(got["dense"]["kernel"], params["dense"]["kernel"])
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.keras", params, state, overwrite=False)
    with pytest.raises(TypeError, match="holds no weights"):
        model.save_weights(tmp_path / "w.weights.h5")
    assert not (tmp_path / "w.weights.h5").exists()
    with pytest.raises(TypeError, match="Keras's order"):
        kerax.save_model(tmp_path / "x.keras", "not a model", params)


def test_input_batch_shape_and_keras_shape_text():
    x = kerax.Input(batch_shape=(None, 784))
    assert x.shape == (None, 784)
    assert "shape=(None, 784)" in repr(x)
    assert kerax.Input(batch_shape=(4, 2)).shape == (4, 2)
    with pytest.raises(ValueError, match="either `shape`"):
        kerax.Input((3,), batch_shape=(None, 3))
    model = kerax.Sequential([kerax.Input((784,)), layers.Dense(2)])
    assert "(None, 2)" in model.summary(print_fn=None)
    functional = kerax.Model(x, layers.Dense(2)(x))
    with pytest.raises(
        ValueError, match=r"expected shape \(None, 784\), got \(None, 3\)"
    ):
        functional.init(jax.random.key(0), kerax.spec((None, 3)))


@pytest.mark.parametrize("rank", [1, 2])
def test_valid_conv_then_global_max_pool_on_unknown_length(rank, rng):
    """Regression: `max(d - 2, 0) >= 1` was inconclusive at graph build."""
    shape = (None,) * rank + (3,)
    conv = (layers.Conv1D, layers.Conv2D)[rank - 1]
    pool = (layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D)[rank - 1]
    x = kerax.Input(shape)
    model = kerax.Model(x, pool()(conv(2, 3)(x)))
    assert model.output.shape == (None, 2)
    k_conv = (keras.layers.Conv1D, keras.layers.Conv2D)[rank - 1](2, 3)
    k_pool = (keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D)[
        rank - 1
    ]()
    data = rng.normal(size=(2,) + (7,) * rank + (3,)).astype("float32")
    expected = k_pool(k_conv(data))
    params = {
        "conv1d" if rank == 1 else "conv2d": dict(
            zip(("kernel", "bias"), map(np.asarray, k_conv.weights))
        )
    }
    y, _ = model.apply(params, {}, data)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_fine_tuning_after_set_trainable_trains_only_the_rest(rng):
    model = _branchy()
    frozen = kerax.models.set_trainable(model, ["a1", "a2"], False)
    trainer = kerax.Trainer(frozen, optimizer="sgd", loss="mse")
    ts = trainer.init(jax.random.key(0))
    x = rng.normal(size=(8, 8)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    before = jax.tree.map(np.asarray, ts.params)  # fit donates `ts`.
    trained, _ = trainer.fit(ts, x, y, epochs=1, batch_size=4, verbose=0)
    for name in ("a1", "a2"):
        np.testing.assert_array_equal(
            trained.params[name]["kernel"], before[name]["kernel"]
        )
    assert not np.allclose(trained.params["head"]["kernel"], before["head"]["kernel"])


def test_nested_model_through_the_outer_model_gives_outer_nodes(rng):
    inner_in = kerax.Input((4,))
    encoder = kerax.Model(inner_in, layers.Dense(3)(inner_in), name="encoder")
    x = kerax.Input((4,))
    model = kerax.Model(x, layers.Dense(1)(encoder(x)))
    view = model.get_layer("encoder")
    assert view == encoder and hash(view) == hash(encoder)
    assert encoder.output.shape == (None, 3)  # Its own graph's output.
    features = kerax.Model(model.inputs, view.output)  # The outer graph's node.
    params, state = model.init(jax.random.key(0))
    data = rng.normal(size=(2, 4)).astype("float32")
    y, _ = features.apply(params, state, data)
    expected, _ = encoder.apply(params["encoder"], {}, data)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_nested_sequential_through_the_outer_model_gives_outer_nodes():
    body = kerax.Sequential([layers.Dense(3), layers.Dense(2)], name="body")
    x = kerax.Input((4,))
    model = kerax.Model(x, layers.Dense(1)(body(x)))
    features = kerax.Model(model.inputs, model.get_layer("body").output)
    params, state = model.init(jax.random.key(0))
    assert set(features.init(jax.random.key(0))[0]) == {"body"}
    assert features.apply(params, state, np.ones((2, 4), "float32"))[0].shape == (2, 2)


def test_training_flag_in_a_graph_call_is_kept_and_follows_keras3(rng, tmp_path):
    """`base_model(x, training=False)`, as in Keras's transfer-learning guide.

    Keras 3 records the flag in the node and lets the mode the model is called
    with win (`fit` passes training=True); kerax does the same, so the outputs
    and the BatchNormalization statistics match Keras's in training mode.
    """

    def build(lib):
        base = lib.Sequential(
            [lib.Input((4,)), lib.layers.Dense(3), lib.layers.BatchNormalization()]
        )
        inputs = lib.Input((4,))
        x = base(inputs, training=False)
        return lib.Model(inputs, lib.layers.Dense(2)(x))

    k_model, model = build(keras), build(kerax)
    params, state = model.init(jax.random.key(0))
    params, state = model.set_weights(params, k_model.get_weights(), state)
    x = rng.normal(size=(8, 4)).astype("float32")
    y, new_state = model.apply(params, state, x, training=True)
    np.testing.assert_allclose(y, k_model(x, training=True), rtol=1e-5, atol=1e-5)
    moving_mean = new_state["sequential"]["batch_normalization"]["moving_mean"]
    k_moving_mean = k_model.layers[1].layers[1].moving_mean
    np.testing.assert_allclose(moving_mean, k_moving_mean, rtol=1e-5, atol=1e-6)
    # The flag survives a .keras file both ways, as Keras writes it.
    path = str(tmp_path / "tl.keras")
    kerax.models.save_model(path, model, params, state)
    loaded = keras.saving.load_model(path)
    kwargs = loaded.get_config()["layers"][1]["inbound_nodes"][0]["kwargs"]
    assert kwargs == {"training": False}
    np.testing.assert_allclose(loaded(x), model.apply(params, state, x)[0], atol=1e-5)
    with pytest.raises(TypeError, match="True or False"):
        kerax.layers.Dense(2)(kerax.Input((3,)), training="yes")
    # And from Keras: a `training=True` Keras recorded (MC dropout) imports too.
    inputs = keras.Input((4,))
    mc = keras.Model(inputs, keras.layers.Dropout(0.5)(inputs, training=True))
    imported, p, s = kerax.interop.from_keras(mc)
    assert imported.get_config()["nodes"][0]["kwargs"] == {
        "__dict__": {"training": True}
    }
    # apply's training=False wins, as in Keras's predict; training=True drops.
    np.testing.assert_array_equal(imported.apply(p, s, x)[0], mc.predict(x, verbose=0))
    dropped, _ = imported.apply(p, s, x, key=jax.random.key(1), training=True)
    assert 0 < int(np.sum(np.asarray(dropped) == 0)) < x.size


def test_sequential_layers_leave_the_input_out_as_in_keras():
    def build(lib):
        return lib.Sequential(
            [
                lib.Input((3,)),
                lib.layers.Dense(4, name="a"),
                lib.layers.Dense(2, name="b"),
            ]
        )

    model, k_model = build(kerax), build(keras)
    assert (
        [x.name for x in model.layers] == [x.name for x in k_model.layers] == ["a", "b"]
    )
    assert isinstance(model.input_layer, kerax.layers.InputLayer)
    # The config keeps the Input first, as Keras's does, and rebuilds the same model.
    config = model.get_config()
    assert [e["class_name"] for e in config["layers"]] == [
        "InputLayer",
        "Dense",
        "Dense",
    ]
    assert kerax.Sequential.from_config(config).get_config() == config
    frozen = kerax.models.set_trainable(model, "a", False)
    assert frozen.input_layer == model.input_layer and not frozen.layers[0].trainable
    params, _ = frozen.init(jax.random.key(0))  # No spec needed: the Input is kept.
    assert params["a"]["kernel"].shape == (3, 4)
    with pytest.raises(ValueError, match="give it once"):
        kerax.Sequential([kerax.Input((3,))], input_layer=model.input_layer)


def test_from_config_takes_custom_objects_as_keras():
    class Twice(kerax.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    inputs = kerax.Input((3,))
    model = kerax.Model(inputs, Twice(name="twice")(inputs))
    config = model.get_config()
    with pytest.raises(ValueError, match="Twice"):
        kerax.Model.from_config(config)
    rebuilt = kerax.Model.from_config(config, custom_objects={"Twice": Twice})
    y, _ = rebuilt.apply({}, {}, np.ones((1, 3), "float32"))
    np.testing.assert_array_equal(y, [[2.0, 2.0, 2.0]])
