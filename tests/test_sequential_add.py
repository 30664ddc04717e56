"""`Sequential.add` / `pop` in place, as Keras's, and the names a model's
layers report (`model.layers[1].name == "dense_1"`), compared with Keras."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.core.node import bound_origin
from kerax.training import make_predict_step, make_train_step

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)

X = np.linspace(-1.0, 1.0, 8, dtype="float32").reshape(2, 4)


def _added():
    model = kerax.Sequential()
    model.add(kerax.Input((4,)))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(2))
    return model


def _keras_added():
    keras.backend.clear_session()  # Keras's names count from zero again.
    model = keras.Sequential()
    model.add(keras.Input((4,)))
    model.add(keras.layers.Dense(3, activation="relu"))
    model.add(keras.layers.Dropout(0.5))
    model.add(keras.layers.Dense(2))
    return model


def test_add_builds_the_list_form_model_with_keras_outputs():
    model = _added()
    listed = kerax.Sequential(
        [
            kerax.Input((4,)),
            layers.Dense(3, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(2),
        ]
    )
    assert model == listed and hash(model) == hash(listed)
    assert model.get_config() == listed.get_config()
    params, state = model.init(jax.random.key(0))
    listed_params, _ = listed.init(jax.random.key(0))
    jax.tree.map(np.testing.assert_array_equal, params, listed_params)
    y, _ = model.apply(params, state, X)
    y_listed, _ = listed.apply(params, state, X)
    np.testing.assert_array_equal(y, y_listed)
    # Keras, built with the same `add`s, on the same weights.
    keras_model = _keras_added()
    keras_model.set_weights(model.get_weights(params))
    np.testing.assert_allclose(y, keras_model(X), rtol=1e-6, atol=1e-6)
    assert [x.name for x in model.layers] == [x.name for x in keras_model.layers]


def test_pop_removes_the_last_layer_then_the_input():
    model = _added()
    params, state = model.init(jax.random.key(0))
    keras_model = _keras_added()
    removed, keras_removed = model.pop(), keras_model.pop()
    assert removed.name == keras_removed.name == "dense_1" and removed.units == 2
    assert model == kerax.Sequential(
        [kerax.Input((4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.5)]
    )
    assert [x.name for x in model.layers] == [x.name for x in keras_model.layers]
    # The params made before still fit the layers that remain (Keras keeps them).
    y, _ = model.apply(params, state, X)
    keras_model.set_weights(model.get_weights(params))
    np.testing.assert_allclose(y, keras_model(X), rtol=1e-6, atol=1e-6)
    model.pop(), model.pop()
    assert model.layers == () and model.input_layer is not None
    assert isinstance(model.pop(), layers.InputLayer) and model.input_layer is None
    with pytest.raises(
        IndexError, match=r"'sequential'.pop\(\): the model has no layers"
    ):
        model.pop()


def test_add_with_input_shape_starts_the_model_as_the_constructor_does():
    with pytest.warns(UserWarning, match="input_shape"):
        model = kerax.Sequential()
        model.add(layers.Dense(2, input_shape=(4,)))
        listed = kerax.Sequential([layers.Dense(2, input_shape=(4,))])
    assert model == listed and model.input_layer.shape == (4,)
    assert model.output.shape == (None, 2)


def test_summary_between_adds_counts_keras_params():
    model = kerax.Sequential()
    model.add(kerax.Input((6, 6, 1)))
    model.add(layers.Conv2D(2, 3))
    first = model.summary()
    model.add(layers.Flatten())
    model.add(layers.Dense(3))
    second = model.summary()
    keras.backend.clear_session()
    keras_model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3)])
    assert f"Total params: {keras_model.count_params()}" in first
    assert "(None, 4, 4, 2)" in first and "dense" not in first
    keras_model.add(keras.layers.Flatten())
    keras_model.add(keras.layers.Dense(3))
    assert f"Total params: {keras_model.count_params()}" in second
    assert "dense (Dense)" in second and "(None, 3)" in second


def test_layer_names_are_keras_names():
    model = kerax.Sequential()
    model.add(kerax.Input((4,)))
    for layer in (layers.Dense(3), layers.Dense(3), layers.Dropout(0.1)):
        model.add(layer)
    model.add(layers.Dense(2, name="head"))
    keras.backend.clear_session()
    keras_model = keras.Sequential([keras.Input((4,))])
    for layer in (
        keras.layers.Dense(3),
        keras.layers.Dense(3),
        keras.layers.Dropout(0.1),
    ):
        keras_model.add(layer)
    keras_model.add(keras.layers.Dense(2, name="head"))
    names = [x.name for x in model.layers]
    assert names == [x.name for x in keras_model.layers]
    assert names == ["dense", "dense_1", "dropout", "head"]
    assert model.get_layer("dense_1").name == "dense_1"
    assert model.get_layer(index=1).name == keras_model.get_layer(index=1).name

    # Functional models, Input layers included.
    keras.backend.clear_session()
    ki = keras.Input((4,))
    kh = keras.layers.Dense(3)(ki)
    keras_fn = keras.Model(ki, keras.layers.Dense(2)(kh))
    x = kerax.Input((4,))
    h = layers.Dense(3)(x)
    fn = kerax.Model(x, layers.Dense(2)(h))
    assert [x.name for x in fn.layers] == [x.name for x in keras_fn.layers]
    assert fn.get_layer("dense_1").name == "dense_1"


def test_named_views_stand_for_the_models_layers():
    dense = layers.Dense(3)
    model = kerax.Sequential([kerax.Input((4,)), dense, layers.Dense(2)])
    view = model.layers[0]
    assert view.name == "dense" and dense.name is None
    assert bound_origin(view) is dense and model.layers[1].output.shape == (None, 2)
    # A model made of the views names them afresh: the same names and params.
    params, state = model.init(jax.random.key(0))
    longer = kerax.Sequential([model.input_layer, *model.layers, layers.Dense(1)])
    assert [x.name for x in longer.layers] == ["dense", "dense_1", "dense_2"]
    longer_params, _ = longer.init(jax.random.key(0))
    assert jax.tree.structure(longer_params["dense_1"]) == jax.tree.structure(
        params["dense_1"]
    )
    # Two models' layers together: renamed, not a clash of `dense` with `dense`.
    other = kerax.Sequential([layers.Dense(2)])
    both = kerax.Sequential([*model.layers, *other.layers])
    assert [x.name for x in both.layers] == ["dense", "dense_1", "dense_2"]
    # Feature extraction keeps the source model's names and params.
    features = kerax.Model(model.inputs, model.layers[0].output)
    y, _ = features.apply({"dense": params["dense"]}, state, X)
    expected, _ = dense.apply(params["dense"], {}, X)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    # The config is the constructor's: names given by the model, as before.
    assert [e["config"]["name"] for e in model.get_config()["layers"]] == [
        "input_layer",
        "dense",
        "dense_1",
    ]


def test_add_errors_are_keras_errors():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3)], name="m")
    with pytest.raises(ValueError, match=r"'m'.add: only kerax layers .* got 3"):
        model.add(3)
    with pytest.raises(ValueError, match=r"only kerax layers .* Node"):
        model.add(layers.Dense(2)(kerax.Input((4,))))
    with pytest.raises(
        ValueError, match=r"already been configured to use input shape \(None, 4\)"
    ):
        model.add(kerax.Input((5,)))
    with pytest.raises(ValueError, match="Name 'dense' is already the name of a layer"):
        model.add(layers.Dense(2, name="dense"))
    no_input = kerax.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="an Input may only come first"):
        no_input.add(kerax.Input((4,)))
    # A failed add leaves the model as it was.
    assert [x.name for x in model.layers] == ["dense"]


def test_a_trainer_or_step_made_before_add_refuses_to_run():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(2)])
    other = kerax.Sequential([kerax.Input((4,)), layers.Dense(2)])
    trainer = kerax.Trainer(model, optimizer="sgd", loss="mse")
    ts = trainer.init(jax.random.key(0))
    step = make_train_step(
        model, "mse", kerax.optimizers.SGD(0.1), y_spec=kerax.spec((None, 2))
    )
    predict = make_predict_step(model)
    other_predict = make_predict_step(other)
    other_params = other.init(jax.random.key(0))
    model.add(layers.Dense(1))
    stale = r"Sequential 'sequential' changed \(`add`/`pop`\) after this"
    with pytest.raises(RuntimeError, match=stale + " Trainer"):
        trainer.fit(ts, X, np.zeros((2, 1), "float32"), verbose=0)
    with pytest.raises(RuntimeError, match=stale + " Trainer"):
        trainer.init(jax.random.key(0))
    with pytest.raises(RuntimeError, match=stale + " train step"):
        step(ts, (X, np.zeros((2, 1), "float32")))
    with pytest.raises(RuntimeError, match=stale + " predict step"):
        predict(ts, X)
    # Steps of models that did not change keep working.
    assert other_predict(other_params, X).shape == (2, 2)
    # One made now runs the new model.
    fresh = kerax.Trainer(model, optimizer="sgd", loss="mse")
    assert fresh.predict(fresh.init(jax.random.key(0)), X, verbose=0).shape == (2, 1)


def test_params_from_before_add_give_a_clear_error():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3)])
    params, state = model.init(jax.random.key(0))
    model.add(layers.Dense(2))
    with pytest.raises(
        ValueError, match=r"no entry for layer\(s\) \['dense_1'\].*model.init"
    ):
        model.apply(params, state, X)
    with pytest.raises(ValueError, match=r"no entry for layer\(s\) \['dense_1'\]"):
        jax.jit(model.apply)(params, state, X)


def test_jit_traced_before_add_or_pop_runs_the_new_layers():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3)])
    params, state = model.init(jax.random.key(0))
    apply = jax.jit(model.apply)
    y, _ = apply(params, state, X)
    model.add(layers.Rescaling(2.0))  # No params: the same arguments as before.
    y2, _ = apply(params, state, X)
    np.testing.assert_allclose(y2, 2 * y, rtol=1e-6)
    model.pop()
    y3, _ = apply(params, state, jnp.asarray(X))
    np.testing.assert_allclose(y3, y, rtol=1e-6)
    # New params for a layer with params: the new tree, the new model.
    model.add(layers.Dense(2))
    params, state = model.init(jax.random.key(0))
    assert apply(params, state, X)[0].shape == (2, 2)


def test_add_and_pop_through_a_view_change_the_model_itself():
    inner = kerax.Sequential([kerax.Input((4,)), layers.Dense(3)])
    outer = kerax.Sequential([kerax.Input((4,)), inner])
    view = outer.layers[0]
    assert view is not inner and bound_origin(view) is inner
    view.add(layers.Dense(2))
    assert [x.name for x in inner.layers] == ["dense", "dense_1"]
    assert [x.name for x in view.layers] == ["dense", "dense_1"]
    assert outer.output.shape == (None, 2)
    assert view.pop().name == "dense_1"
    assert [x.name for x in inner.layers] == ["dense"]
    assert outer.output.shape == (None, 3)
    # A change made to the model itself reaches the view kept by `outer`.
    inner.add(layers.Dense(5))
    assert view.output_spec().shape[-1] == 5
    assert outer.layers[0].output.shape == outer.output.shape == (None, 5)


def test_pop_drops_programs_traced_with_a_constant_input():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3), layers.Dense(5)])
    params, state = model.init(jax.random.key(0))
    f = jax.jit(lambda p, s: model.apply(p, s, X)[0])  # X: a constant, no tracer.
    assert f(params, state).shape == (2, 5)
    model.pop()
    np.testing.assert_array_equal(f(params, state), model.apply(params, state, X)[0])
    assert f(params, state).shape == (2, 3)


def test_layers_are_kept_and_renamed_after_add_and_pop():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3), layers.Dense(2)])
    first = model.layers[0]
    assert first is model.layers[0] and first is model.get_layer("dense")
    assert [x.name for x in model.layers] == ["dense", "dense_1"]
    model.pop()
    model.add(layers.Dense(6))
    model.add(layers.Dense(1))
    names = [x.name for x in model.layers]
    assert names == ["dense", "dense_1", "dense_2"]
    assert model.layers[1].output.shape == (None, 6)  # Not the popped layer's.
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    assert k.layers[0] is k.layers[0]
