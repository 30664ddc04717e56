"""`layer.trainable = False` / `model.trainable = ...` as Keras users write it:
what it freezes, compared with Keras 3 on the same models and flags."""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)


def _trainable_counts(model, params):
    """`{layer name: number of trainable params}` over `model.children()`."""
    mask = model.trainable_mask(params)
    return {
        name: sum(jax.tree.leaves(mask[name]))
        for name, _ in model.children()
        if name in mask
    }


def _keras_trainable_counts(model):
    return {
        layer.name: len(layer.trainable_weights)
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    }


def _make(lib, units=3):
    """The same small model in Keras or kerax: a nested Sequential, a
    BatchNormalization and two Dense layers."""
    inner = lib.Sequential(
        [
            lib.Input((4,)),
            lib.layers.Dense(units, name="i0"),
            lib.layers.Dense(4, name="i1"),
        ],
        name="inner",
    )
    inputs = lib.Input((4,))
    x = lib.layers.Dense(4, name="a")(inputs)
    x = lib.layers.BatchNormalization(name="bn")(x)
    x = inner(x)
    outputs = lib.layers.Dense(2, name="head")(x)
    return lib.Model(inputs, outputs, name="outer"), inner


def _both():
    k_model, k_inner = _make(keras)
    model, inner = _make(kerax)
    params, _ = model.init(jax.random.key(0))
    return (k_model, k_inner), (model, inner), params


def _check_same(k_model, model, params):
    assert _trainable_counts(model, params) == _keras_trainable_counts(k_model)
    assert sum(jax.tree.leaves(model.trainable_mask(params))) == len(
        k_model.trainable_weights
    )


def test_assignment_freezes_what_keras_freezes():
    (k_model, _), (model, _), params = _both()
    _check_same(k_model, model, params)
    # The guides' loop over `model.layers` (views bound to the model) and a
    # `get_layer` view: both set the model's own layers.
    for m in (k_model, model):
        for layer in m.layers[:-2]:
            layer.trainable = False
    _check_same(k_model, model, params)
    assert not model.get_layer("bn").trainable
    for m in (k_model, model):
        m.get_layer("head").trainable = False
        m.get_layer("a").trainable = True
    _check_same(k_model, model, params)
    assert [x.trainable for x in model.layers] == [x.trainable for x in k_model.layers]


def test_recursion_into_nested_models_and_unfreezing():
    (k_model, k_inner), (model, inner), params = _both()
    for m in (k_model, model):
        m.get_layer("a").trainable = False
        m.trainable = False  # Every sublayer, recursively.
    assert not inner.trainable and not inner.layers[0].trainable
    assert not any(jax.tree.leaves(model.trainable_mask(params)))
    _check_same(k_model, model, params)
    # A sublayer unfrozen inside a frozen model: Keras's model still trains
    # nothing (a frozen layer's trainable_weights are empty).
    for i in (k_inner, inner):
        i.layers[0].trainable = True
    _check_same(k_model, model, params)
    assert len(k_model.trainable_weights) == 0
    # `model.trainable = True` unfreezes every layer, even one frozen alone before.
    for m in (k_model, model):
        m.trainable = True
    assert model.get_layer("a").trainable and inner.layers[1].trainable
    assert all(jax.tree.leaves(model.trainable_mask(params)))
    _check_same(k_model, model, params)


def test_subclassed_model_recursion():
    def subclassed(lib):
        class Net(lib.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.body = lib.layers.Dense(3, name="body")
                self.top = lib.layers.Dense(1, name="top")

            def call(self, inputs):
                return self.top(self.body(inputs))

        return Net()

    k_net, net = subclassed(keras), subclassed(kerax)
    k_net(np.zeros((1, 2), "float32"))
    params, state = net.init(jax.random.key(0), kerax.spec((None, 2)))
    before = hash(net)
    for n in (k_net, net):
        n.trainable = False
        n.top.trainable = True  # Inside a frozen model: still nothing trains.
    assert hash(net) != before  # Caches keyed by the layer see a new key.
    assert not net.body.trainable and net.get_config()["trainable"] is False
    assert sum(jax.tree.leaves(net.trainable_mask(params))) == len(
        k_net.trainable_weights
    )
    for n in (k_net, net):
        n.trainable = True
        n.body.trainable = False
    assert (
        sum(jax.tree.leaves(net.trainable_mask(params)))
        == len(k_net.trainable_weights)
        == 2
    )


def test_training_leaves_frozen_params_bit_identical():
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.Dense(4, name="base"), layers.Dense(2, name="head")]
    )
    model.get_layer("base").trainable = False
    trainer = kerax.Trainer(model, optimizer=kerax.optimizers.Adam(0.1), loss="mse")
    ts = trainer.init(jax.random.key(0))
    before = jax.tree.map(np.array, ts.params)
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    ts, _ = trainer.fit(ts, x, y, batch_size=4, epochs=1, verbose=0)
    jax.tree.map(np.testing.assert_array_equal, ts.params["base"], before["base"])
    assert not np.array_equal(ts.params["head"]["kernel"], before["head"]["kernel"])


def test_stale_trainer_refuses_to_fit():
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.Dense(4, name="base"), layers.Dense(2, name="head")]
    )
    trainer = kerax.Trainer(model, optimizer="adam", loss="mse")
    ts = trainer.init(jax.random.key(0))
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    model.layers[0].trainable = False  # After the Trainer (Keras: before compile).
    with pytest.raises(RuntimeError, match="changed after this Trainer was made"):
        trainer.fit(ts, x, y, verbose=0)
    with pytest.raises(RuntimeError, match="Make a new Trainer"):
        trainer.init(jax.random.key(0))
    # A callback that freezes a layer during `fit`: the next epoch refuses.
    model.layers[0].trainable = True
    trainer = kerax.Trainer(model, optimizer="adam", loss="mse")
    ts = trainer.init(jax.random.key(0))

    class Freeze(kerax.callbacks.Callback):
        def on_epoch_end(self, ts, epoch, logs=None):
            model.layers[0].trainable = False

    with pytest.raises(RuntimeError, match="changed after this Trainer was made"):
        trainer.fit(ts, x, y, epochs=2, verbose=0, callbacks=[Freeze()])
    # Setting the flags back makes the Trainer valid again (a new Trainer
    # trains with the new flags: see the test above).
    model.layers[0].trainable = True
    trainer.init(jax.random.key(0))


def test_evaluate_and_predict_carry_on_after_a_trainable_change():
    # As Keras's: the flags only matter to training (the next `compile`).
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2, name="head")])
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    trainer = kerax.Trainer(model, optimizer="adam", loss="mse")
    ts = trainer.init(jax.random.key(0))
    model.trainable = False  # Before this Trainer's first evaluate or predict.
    logs = trainer.evaluate(ts, x, y, verbose=0, return_dict=True)
    want = model.apply(ts.params, ts.state, x)[0]
    np.testing.assert_allclose(
        logs["loss"], np.mean((np.asarray(want) - y) ** 2), rtol=1e-6
    )
    np.testing.assert_allclose(trainer.predict(ts, x, verbose=0), want, rtol=1e-6)
    with pytest.raises(RuntimeError, match="changed after this Trainer was made"):
        trainer.fit(ts, x, y, verbose=0)


def test_frozen_batch_normalization_runs_in_inference_mode_as_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)).astype("float32")
    weights = [rng.normal(size=3).astype("float32") for _ in range(3)]
    weights.append(rng.uniform(0.5, 2.0, size=3).astype("float32"))  # variance
    k_bn = keras.layers.BatchNormalization()
    k_bn.build((None, 3))
    k_bn.set_weights(weights)
    bn = layers.BatchNormalization()
    params = {"gamma": weights[0], "beta": weights[1]}  # Keras's weight order.
    state = {"moving_mean": weights[2], "moving_variance": weights[3]}
    # Trainable: batch statistics, as Keras (the check that the two differ).
    np.testing.assert_allclose(
        bn.apply(params, state, x, training=True)[0],
        k_bn(x, training=True),
        rtol=1e-5,
        atol=1e-5,
    )
    k_bn.set_weights(weights)
    for b in (k_bn, bn):
        b.trainable = False
    y, new_state = bn.apply(params, state, x, training=True)
    np.testing.assert_allclose(y, k_bn(x, training=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y, bn.apply(params, state, x, training=False)[0])
    jax.tree.map(np.testing.assert_array_equal, new_state, state)
    np.testing.assert_array_equal(k_bn.moving_mean.numpy(), weights[2])


def test_jitted_apply_sees_the_new_flag():
    bn = layers.BatchNormalization()
    params, state = bn.init(jax.random.key(0), kerax.spec((None, 3)))
    x = jnp.arange(6.0).reshape(2, 3)
    apply = jax.jit(bn.apply, static_argnames="training")
    batch_stats = apply(params, state, x, training=True)[0]
    bn.trainable = False
    frozen = jax.jit(bn.apply, static_argnames="training")(
        params, state, x, training=True
    )[0]
    assert not np.allclose(batch_stats, frozen)
    np.testing.assert_allclose(frozen, bn.apply(params, state, x)[0])
    # The function jitted before the change traces again too.
    np.testing.assert_allclose(apply(params, state, x, training=True)[0], frozen)
    # A functional model (hashed by its graph) as a static argument.
    inputs = kerax.Input((3,))
    model = kerax.Model(inputs, layers.BatchNormalization(name="bn")(inputs))
    run = jax.jit(
        lambda m, p, s, x: m.apply(p, s, x, training=True)[0], static_argnums=0
    )
    params, state = {"bn": params}, {"bn": state}
    batch_stats = run(model, params, state, x)
    model.trainable = False
    np.testing.assert_allclose(run(model, params, state, x), frozen)
    assert not np.allclose(batch_stats, frozen)


def test_only_trainable_is_assignable_and_it_must_be_a_bool():
    dense = layers.Dense(3)
    with pytest.raises(TypeError, match=r"`trainable` must be True or False, got 'no'"):
        dense.trainable = "no"
    with pytest.raises(TypeError, match="trainable"):
        dense.trainable = 0
    assert dense.trainable is True
    dense.trainable = np.bool_(False)
    assert dense.trainable is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        dense.units = 4

    class Keras(kerax.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, inputs):
            return self.dense(inputs)

    layer = Keras(2, trainable=True)
    before = hash(layer)
    layer.trainable = False
    assert not layer.dense.trainable and hash(layer) != before
    # `clone_model` makes the layer again from its `__init__` arguments:
    # they hold the assigned flag.
    model = kerax.Sequential([kerax.Input((3,)), layer])
    assert not kerax.models.clone_model(model).layers[0].trainable
    with pytest.raises(dataclasses.FrozenInstanceError, match="frozen after __init__"):
        layer.dense = layers.Dense(3)


def test_summary_and_set_trainable_see_the_assignment():
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.Dense(4, name="base"), layers.Dense(2, name="head")]
    )
    model.get_layer("base").trainable = False
    lines = []
    model.summary(show_trainable=True, print_fn=lines.append)
    text = "\n".join(lines)
    assert "Trainable params: 10" in text and "Non-trainable params: 16" in text
    # `set_trainable` still makes a new model, leaving this one as it is.
    thawed = kerax.models.set_trainable(model, "base", True)
    assert thawed.get_layer("base").trainable and not model.get_layer("base").trainable


def test_trainable_change_mid_epoch_stops_at_the_next_batch():
    # A callback freezing a BatchNormalization mid-epoch: the next step
    # raises (one watch for add/pop and trainable), before any batch runs
    # with the new flag (inference mode) and the old optimizer mask.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.BatchNormalization(), layers.Dense(1)]
    )
    trainer = kerax.Trainer(model, optimizer="sgd", loss="mse")
    ts = trainer.init(jax.random.key(0))
    seen = []

    class FreezeMid(kerax.callbacks.Callback):
        def on_train_batch_end(self, ts, batch, logs=None):
            seen.append((batch, jax.tree.map(np.asarray, (ts.params, ts.state))))
            if batch == 1:
                model.layers[0].trainable = False
            return ts

    with pytest.warns(UserWarning, match="one step per dispatch"):
        with pytest.raises(RuntimeError, match=r"trainable flags.*new Trainer"):
            trainer.fit(ts, x, y, batch_size=8, epochs=1, callbacks=[FreezeMid()])
    assert [b for b, _ in seen] == [0, 1]  # Batch 2 never ran.
    # A new Trainer trains with the new flags: gamma and the moving stats stay.
    trainer = kerax.Trainer(model, optimizer="sgd", loss="mse")
    params, state = seen[-1][1]
    ts = trainer.init(jax.random.key(0))._replace(params=params, state=state)
    ts, _ = trainer.fit(ts, x, y, batch_size=8, epochs=1, verbose=0)
    bn = model.layers[0].name
    np.testing.assert_array_equal(ts.params[bn]["gamma"], params[bn]["gamma"])
    np.testing.assert_array_equal(ts.state[bn]["moving_mean"], state[bn]["moving_mean"])


def test_cached_views_follow_the_flags():
    # `model.layers[0] is model.layers[0]` (Keras); a flag set on the view,
    # the layer itself or the model shows everywhere.
    dense = layers.Dense(2)
    model = kerax.Sequential([kerax.Input((3,)), dense])
    view = model.layers[0]
    assert view is model.layers[0] is model.get_layer(view.name)
    view.trainable = False
    assert dense.trainable is False and model.layers[0] is view
    dense.trainable = True
    assert view.trainable is True
    model.trainable = False
    assert view.trainable is False
    x = kerax.Input((3,))
    functional = kerax.Model(x, layers.Dense(2)(x))
    fview = functional.layers[1]
    assert fview is functional.layers[1] is functional.get_layer(fview.name)
    functional.trainable = False
    assert fview.trainable is False
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert k.layers[0] is k.layers[0]  # What the identity mirrors.
