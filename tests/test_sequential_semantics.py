"""Two Sequential semantics of Keras 3: a first model gives the input; a layer twice is shared.

Each is compared with Keras itself (same weights, same outputs, same config
layout, `.keras` files both ways).
"""

import warnings

import jax
import keras
import numpy as np
import optax
import pytest

import kerax
from kerax import layers

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("Keras comparisons need KERAS_BACKEND=jax", allow_module_level=True)

X = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")


def _kerax_functional():
    inp = kerax.Input((3,))
    return kerax.Model(inp, layers.Dense(5, activation="relu")(inp), name="func")


def _keras_functional():
    inp = keras.Input((3,))
    return keras.Model(inp, keras.layers.Dense(5, activation="relu")(inp), name="func")


def _random_params(model):
    params, state = model.init(jax.random.key(0))
    rng = np.random.default_rng(1)
    params = jax.tree.map(lambda a: a + rng.normal(size=a.shape), params)
    return jax.tree.map(lambda a: a.astype("float32"), params), state


def _class_names(config):
    return [entry["class_name"] for entry in config["layers"]]


def test_a_first_functional_model_gives_the_sequential_its_input_as_in_keras():
    model = kerax.Sequential([_kerax_functional(), layers.Dense(4)])
    keras_model = keras.Sequential([_keras_functional(), keras.layers.Dense(4)])
    # Keras builds it with an InputLayer of the functional model's input.
    assert keras_model.built and model.input_layer is not None
    assert model.input_spec.shape[1:] == (3,)
    assert [x.shape for x in model.inputs] == [x.shape for x in keras_model.inputs]
    assert [x.shape for x in model.outputs] == [x.shape for x in keras_model.outputs]
    assert model.get_layer("dense").output.shape == (None, 4)
    assert [x.name for x in model.layers] == ["func", "dense"]
    # The config is laid out as Keras's: the InputLayer first, then the layers.
    assert _class_names(model.get_config()) == ["InputLayer", "Model", "Dense"]
    assert _class_names(keras_model.get_config()) == [
        "InputLayer",
        "Functional",
        "Dense",
    ]
    assert model.get_config()["layers"][0]["config"]["shape"] == [3]
    params, state = _random_params(model)  # `init(key)` needs no spec.
    keras_model.set_weights(model.get_weights(params))
    y, _ = model.apply(params, state, X)
    np.testing.assert_allclose(y, keras_model(X), rtol=1e-5, atol=1e-6)
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Total params: {keras_model.count_params():,}" in "\n".join(lines)
    # Trainer.init(key) without an input spec, as Keras's compile/fit.
    trainer = kerax.Trainer(model, optimizer=optax.sgd(0.1), loss="mse")
    ts = trainer.init(jax.random.key(0))
    assert jax.tree.map(np.shape, ts.params) == jax.tree.map(np.shape, params)


def test_a_first_model_by_add_and_a_first_sequential_as_in_keras():
    func, keras_func = _kerax_functional(), _keras_functional()
    model, keras_model = kerax.Sequential(), keras.Sequential()
    model.add(func)
    keras_model.add(keras_func)
    # One layer: Keras does not build (no InputLayer in its config).
    assert not keras_model.built and model.input_layer is None
    assert _class_names(model.get_config()) == ["Model"]
    model.add(layers.Dense(2))
    keras_model.add(keras.layers.Dense(2))
    assert keras_model.built and model.input_spec.shape[1:] == (3,)
    assert model.output.shape == keras_model.outputs[0].shape == (None, 2)
    # A Sequential that starts with an Input counts as a first model too.
    inner = kerax.Sequential([kerax.Input((3,)), layers.Dense(4)])
    outer = kerax.Sequential([inner, layers.Dense(2)])
    keras_outer = keras.Sequential(
        [
            keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)]),
            keras.layers.Dense(2),
        ]
    )
    assert _class_names(keras_outer.get_config()) == [
        "InputLayer",
        "Sequential",
        "Dense",
    ]
    assert _class_names(outer.get_config()) == ["InputLayer", "Sequential", "Dense"]
    params, state = _random_params(outer)
    keras_outer.set_weights(outer.get_weights(params))
    y, _ = outer.apply(params, state, X)
    np.testing.assert_allclose(y, keras_outer(X), rtol=1e-5, atol=1e-6)


def test_a_first_model_of_several_inputs_gives_no_input_as_in_keras():
    a, b = kerax.Input((3,), name="a"), kerax.Input((2,), name="b")
    two = kerax.Model([a, b], layers.Concatenate()([a, b]))
    model = kerax.Sequential([two, layers.Dense(2)])
    ka, kb = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    keras_model = keras.Sequential(
        [
            keras.Model([ka, kb], keras.layers.Concatenate()([ka, kb])),
            keras.layers.Dense(2),
        ]
    )
    with pytest.raises(AttributeError, match="no defined inputs"):
        _ = keras_model.inputs
    assert model.input_layer is None
    with pytest.raises(AttributeError, match="does not start with an Input"):
        _ = model.inputs
    # A dict of one input is one input, to Keras as well.
    one = kerax.Model({"a": a}, layers.Dense(2)(a))
    keras_one = keras.Model({"a": ka}, keras.layers.Dense(2)(ka))
    assert keras.Sequential([keras_one, keras.layers.Dense(2)]).built
    assert kerax.Sequential([one, layers.Dense(2)]).input_spec.shape[1:] == (3,)


def test_a_first_model_sequential_saves_and_loads_both_ways(tmp_path):
    model = kerax.Sequential([_kerax_functional(), layers.Dense(4)])
    params, state = _random_params(model)
    y, _ = model.apply(params, state, X)
    path = kerax.save_model(tmp_path / "kerax.keras", model, params, state)  # No spec.
    np.testing.assert_allclose(
        keras.saving.load_model(path)(X), y, rtol=1e-5, atol=1e-6
    )
    keras_model = keras.Sequential([_keras_functional(), keras.layers.Dense(4)])
    keras_model.save(tmp_path / "keras.keras")
    loaded, loaded_params, loaded_state = kerax.load_model(tmp_path / "keras.keras")
    assert loaded.input_spec.shape[1:] == (3,)
    np.testing.assert_allclose(
        loaded.apply(loaded_params, loaded_state, X)[0],
        keras_model(X),
        rtol=1e-5,
        atol=1e-6,
    )


def test_a_layer_twice_is_shared_as_in_keras():
    dense = layers.Dense(3, activation="tanh")
    model = kerax.Sequential([kerax.Input((3,)), dense, dense])
    keras_dense = keras.layers.Dense(3, activation="tanh")
    keras_model = keras.Sequential([keras.Input((3,)), keras_dense, keras_dense])
    assert [x.name for x in model.layers] == ["dense", "dense"]
    assert len({x.name for x in keras_model.layers}) == 1
    params, state = _random_params(model)
    assert list(params) == ["dense"]  # One set of params.
    weights = model.get_weights(params)
    assert [w.shape for w in weights] == [tuple(w.shape) for w in keras_model.weights]
    keras_model.set_weights(weights)
    y, _ = model.apply(params, state, X)
    np.testing.assert_allclose(y, keras_model(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        y,
        np.tanh(np.tanh(X @ weights[0] + weights[1]) @ weights[0] + weights[1]),
        rtol=1e-5,
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert text.count("dense (Dense)") == 2  # A row per use, as Keras's.
    assert f"Total params: {keras_model.count_params():,} " in text
    # The view knows both of its calls.
    view = model.get_layer("dense")
    assert view.get_output_at(0) is not view.get_output_at(1)
    assert model.output is view.get_output_at(1)
    # Freezing it freezes it in both places, one layer still (Keras: one variable set).
    model.layers[0].trainable = False
    keras_dense.trainable = False
    assert model.layers[1].trainable is False and keras_model.trainable_weights == []
    assert list(model.init(jax.random.key(0))[0]) == ["dense"]
    assert kerax.models.clone_model(model)._names == model._names
    # Adding the same object again is allowed (Keras: a name clash is another layer).
    model.add(dense)
    keras_model.add(keras_dense)
    assert len(model.layers) == len(keras_model.layers) == 3
    with pytest.raises(ValueError, match="already the name of a layer"):
        model.add(layers.Dense(3, name="dense"))


def test_a_shared_layers_state_carries_from_one_use_to_the_next_as_in_keras():
    norm = layers.BatchNormalization(momentum=0.5)
    model = kerax.Sequential([kerax.Input((3,)), norm, norm])
    keras_norm = keras.layers.BatchNormalization(momentum=0.5)
    keras_model = keras.Sequential([keras.Input((3,)), keras_norm, keras_norm])
    params, state = model.init(jax.random.key(0))
    y, new_state = model.apply(params, state, X, training=True)
    keras_y = keras_model(X, training=True)
    np.testing.assert_allclose(y, keras_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        new_state["batch_normalization"]["moving_mean"],
        keras_norm.moving_mean,
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        new_state["batch_normalization"]["moving_variance"],
        keras_norm.moving_variance,
        rtol=1e-5,
        atol=1e-6,
    )


def test_a_shared_layer_saves_as_keras_writes_it(tmp_path):
    # Keras's config lists a shared layer once, so a reloaded model applies it
    # once (Keras's own reload does the same); kerax writes and reads it alike.
    keras_dense = keras.layers.Dense(3)
    keras_model = keras.Sequential([keras.Input((3,)), keras_dense, keras_dense])
    assert [e["config"]["name"] for e in keras_model.get_config()["layers"]][1:] == [
        keras_dense.name
    ]
    keras_model.save(tmp_path / "keras.keras")
    keras_reloaded = keras.saving.load_model(tmp_path / "keras.keras")
    loaded, loaded_params, loaded_state = kerax.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(
        loaded.apply(loaded_params, loaded_state, X)[0],
        keras_reloaded(X),
        rtol=1e-5,
        atol=1e-6,
    )
    dense = layers.Dense(3)
    model = kerax.Sequential([kerax.Input((3,)), dense, dense])
    params, state = _random_params(model)
    with pytest.warns(UserWarning, match="comes more than once"):
        config = model.get_config()
    assert [e["config"]["name"] for e in config["layers"]] == ["input_layer", "dense"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        path = kerax.save_model(tmp_path / "kerax.keras", model, params, state)
    once = kerax.Sequential([kerax.Input((3,)), layers.Dense(3)])
    y_once, _ = once.apply(params, state, X)
    np.testing.assert_allclose(
        keras.saving.load_model(path)(X), y_once, rtol=1e-5, atol=1e-6
    )
