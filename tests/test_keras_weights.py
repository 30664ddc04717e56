"""Layers written the Keras way: `add_weight`, `build(input_shape)`, `call(inputs)`.

The same class bodies run in Keras and in kerax (only the base class and the
ops module differ); with Keras's weights the outputs and state match, and
`.keras` files go both ways.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import ops


def make_linear(base, ops, build_in_init=False):
    """The guide's `Linear`, on Keras's or kerax's base class."""

    class Linear(base):
        def __init__(self, units=32, input_dim=None, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            if build_in_init:
                self.w = self.add_weight(
                    shape=(input_dim, units), initializer="random_normal"
                )
                self.b = self.add_weight(shape=(units,), initializer="zeros")

        def build(self, input_shape):
            if not build_in_init:
                self.w = self.add_weight(
                    shape=(input_shape[-1], self.units), initializer="random_normal"
                )
                self.b = self.add_weight(
                    shape=(self.units,), initializer="random_normal"
                )
            self.total = self.add_weight(
                shape=(self.units,), initializer="zeros", trainable=False
            )

        def call(self, inputs):
            y = ops.matmul(inputs, self.w) + self.b
            self.total.assign_add(ops.sum(y, axis=0))
            return y

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    if build_in_init:
        # Keras builds a layer whose `build` creates variables when first called.
        Linear.build.__doc__ = "creates the state variable only"
    return Linear


@pytest.mark.parametrize("build_in_init", [False, True], ids=["build", "init"])
def test_same_body_matches_keras_outputs_and_state(rng, build_in_init):
    x = rng.normal(size=(3, 5)).astype("float32")
    k_layer = make_linear(keras.layers.Layer, keras.ops, build_in_init)(4, input_dim=5)
    k_layer(x)
    expected = np.asarray(k_layer(x))
    layer = make_linear(kerax.layers.Layer, ops, build_in_init)(4, input_dim=5)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 5)))
    assert list(params) == ["w", "b"] and list(state) == ["total"]
    assert jax.tree.map(jnp.shape, params) == {"w": (5, 4), "b": (4,)}
    params = {"w": np.asarray(k_layer.w), "b": np.asarray(k_layer.b)}
    step = jax.jit(layer.apply)
    y, state = step(params, state, x)
    y, state = step(params, state, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state["total"], k_layer.total, rtol=1e-5, atol=1e-5)


def test_variables_read_as_arrays_in_call_and_declarations_outside():
    layer = make_linear(kerax.layers.Layer, ops, build_in_init=True)(3, input_dim=2)
    assert layer.w.shape == (2, 3) and layer.w.trainable and layer.w.path == "linear/w"
    with pytest.raises(AttributeError, match="exist inside `call` only"):
        layer.total  # noqa: B018 - made by build(input_shape).
    # Frozen after __init__, and add_weight outside __init__/build is refused.
    with pytest.raises(Exception, match="frozen"):
        layer.w = None
    with pytest.raises(RuntimeError, match="declared in `__init__` or in `build"):
        layer.add_weight(shape=(1,))


def test_gradients_flow_to_keras_style_variables():
    layer = make_linear(kerax.layers.Layer, ops)(2)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
    x = jnp.ones((4, 3))
    grads = jax.grad(lambda p: jnp.sum(layer.apply(p, state, x)[0]))(params)
    np.testing.assert_allclose(grads["b"], [4.0, 4.0])
    np.testing.assert_allclose(grads["w"], jnp.full((3, 2), 4.0))


def test_add_weight_regularizer_and_constraint_match_keras(rng):
    class Scale(kerax.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(
                shape=(input_shape[-1],),
                initializer="ones",
                regularizer=kerax.regularizers.l2(0.1),
                constraint="non_neg",
            )

        def call(self, inputs):
            return inputs * self.scale

    layer = Scale()
    params, _ = layer.init(jax.random.key(0), kerax.spec((None, 3)))
    np.testing.assert_allclose(layer.regularization_loss(params), 0.3, rtol=1e-6)
    bad = {"scale": jnp.array([-1.0, 2.0, -3.0])}
    np.testing.assert_array_equal(layer.constrain(bad)["scale"], [0.0, 2.0, 0.0])
    # A layer object made again from the config (a loaded model) knows its
    # regularizers once it has run, and says so before, never dropping them.
    again = Scale()
    with pytest.raises(RuntimeError, match="has not run on this layer object"):
        again.regularization_loss(params)
    _, _, loss = again.apply_with_losses(params, {}, jnp.ones((1, 3)))
    np.testing.assert_allclose(loss, 0.3, rtol=1e-6)


def test_property_errors_keep_their_message_on_keras_style_layers():
    layer = make_linear(kerax.layers.Layer, ops)(2)
    with pytest.raises(AttributeError, match="apply_with_losses"):
        layer.losses  # noqa: B018 - Keras's `layer.losses`.


def test_a_training_flag_and_random_draws_use_the_apply_key():
    class CustomDropout(kerax.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = kerax.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return kerax.random.dropout(inputs, self.rate, seed=self.seed_generator)
            return inputs

    layer = CustomDropout(0.5)
    x = jnp.ones((8, 16))
    params, state = layer.init(jax.random.key(0), x)
    y, _ = layer.apply(params, state, x)
    np.testing.assert_array_equal(y, x)
    key = jax.random.key(3)
    a, _ = layer.apply(params, state, x, key=key, training=True)
    b, _ = layer.apply(params, state, x, key=key, training=True)
    c, _ = layer.apply(params, state, x, key=jax.random.key(4), training=True)
    np.testing.assert_array_equal(a, b)  # The same key: the same mask.
    assert not np.array_equal(a, c)
    assert set(np.unique(np.asarray(a))) == {0.0, 2.0}
    with pytest.raises(ValueError, match="CustomDropout 'custom_dropout'.*PRNG key"):
        layer.apply(params, state, x, training=True)
    with pytest.raises(ValueError, match="`seed` is required"):
        kerax.random.normal((2,))  # Outside any layer's call: still explicit.


def test_bad_declarations_get_clear_errors():
    class SublayerInBuild(kerax.layers.Layer):
        def build(self, input_shape):
            self.dense = kerax.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(TypeError, match="create sublayers in `__init__`"):
        SublayerInBuild().init(jax.random.key(0), kerax.spec((None, 3)))

    class TwoNames(kerax.layers.Layer):
        def build(self, input_shape):
            self.a = self.add_weight(shape=(1,), name="v")
            self.b = self.add_weight(shape=(1,), name="v")

        def call(self, inputs):
            return inputs

    with pytest.raises(ValueError, match="two variables are named 'v'"):
        TwoNames().init(jax.random.key(0), kerax.spec((None, 3)))

    layer = make_linear(kerax.layers.Layer, ops)(2)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
    with pytest.raises(KeyError, match="variable 'total' is not in the state"):
        layer.apply(params, {}, jnp.ones((1, 3)))
    with pytest.raises(ValueError, match="different shape|has shape"):

        class Grow(kerax.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.n = self.add_weight(shape=(2,), trainable=False)

            def call(self, inputs):
                self.n.assign(inputs)
                return inputs

        grow = Grow()
        p, s = grow.init(jax.random.key(0), kerax.spec((None, 3)))
        grow.apply(p, s, jnp.ones((1, 3)))


def test_subclassed_model_trains_and_answers_keras_model_calls(rng):
    class AutoEncoder(kerax.Model):
        def __init__(self, original_dim, latent_dim=2, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.encoder = kerax.layers.Dense(latent_dim, activation="relu")
            self.decoder = kerax.layers.Dense(original_dim)

        def call(self, inputs):
            z = self.encoder(inputs)
            self.add_loss(1e-3 * ops.mean(ops.square(z)))
            return self.decoder(z)

    model = AutoEncoder(6)
    assert [layer.units for layer in model.layers] == [2, 6]
    assert model.get_layer("dense_1").units == 6
    with pytest.raises(TypeError, match="kerax.Trainer"):
        model.compile(optimizer="adam", loss="mse")
    assert AutoEncoder.from_config(model.get_config()) == model
    x = rng.normal(size=(64, 6)).astype("float32")
    trainer = kerax.Trainer(model, "adam", loss="mse")
    ts, history = trainer.fit(
        trainer.init(jax.random.key(0), x), x, x, epochs=3, verbose=0
    )
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_keras_file_both_ways_with_a_keras_style_custom_layer(tmp_path, rng):
    kerax_linear = kerax.register(package="WeightsTest")(
        make_linear(kerax.layers.Layer, ops)
    )
    # Registered in Keras too, so Keras's file names it "WeightsTest>Linear".
    keras.saving.register_keras_serializable(package="WeightsTest")(
        make_linear(keras.layers.Layer, keras.ops)
    )
    x = rng.normal(size=(3, 5)).astype("float32")

    inp = kerax.Input((5,))
    model = kerax.Model(inp, kerax.layers.Dense(2)(kerax_linear(4)(inp)))
    params, state = model.init(jax.random.key(0))
    expected, _ = model.apply(params, state, x)
    # Keras's order: the layer's trainable variables, then its non-trainable one.
    assert [w.shape for w in model.get_weights(params, state)] == [
        (5, 4),
        (4,),
        (4,),
        (4, 2),
        (2,),
    ]
    path = str(tmp_path / "linear.keras")
    kerax.models.save_model(path, model, params, state)
    k_model = keras.saving.load_model(path)
    np.testing.assert_allclose(k_model(x), expected, rtol=1e-5, atol=1e-6)

    # And back: the file Keras writes loads into kerax with the same outputs.
    k_path = str(tmp_path / "from_keras.keras")
    k_model.save(k_path)
    again, p2, s2 = kerax.models.load_model(
        k_path
    )  # Registered as "WeightsTest>Linear".
    np.testing.assert_allclose(
        again.apply(p2, s2, x)[0], expected, rtol=1e-5, atol=1e-6
    )
