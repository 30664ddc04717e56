"""Writing layers the Keras way: `__init__` layers, sublayer discovery, sublayer calls.

The guide's examples ("Making new layers and models via subclassing") are
ported with the changes the pure contract needs (explicit params, state and
key), and compared with Keras running the guide's own code.
"""

import dataclasses
import functools
import json

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras import ops

import kerax
from kerax import layers

# ------------------------------------------------ the guide's layers, in Keras


class KerasLinear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class KerasComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


class KerasMLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = KerasLinear(32)
        self.linear_2 = KerasLinear(32)
        self.linear_3 = KerasLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


# ------------------------------------------------- the same layers, in kerax


class Linear(kerax.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, key, spec):
        k_w, k_b = jax.random.split(key)
        normal = kerax.initializers.get("random_normal")
        w = normal(k_w, (spec.shape[-1], self.units), jnp.float32)
        return {"w": w, "b": normal(k_b, (self.units,), jnp.float32)}, {}

    def call(self, params, state, inputs, *, key, training):
        return jnp.matmul(inputs, params["w"]) + params["b"], state


class ComputeSum(kerax.layers.Layer):
    def __init__(self, input_dim, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim

    def build(self, key, spec):
        return {}, {"total": jnp.zeros((self.input_dim,))}

    def call(self, params, state, inputs, *, key, training):
        total = state["total"] + jnp.sum(inputs, axis=0)
        return total, {"total": total}


class MLPBlock(kerax.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, params, state, inputs, *, key, training):
        x = self.linear_1(inputs)
        x = kerax.activations.relu(x)
        x = self.linear_2(x)
        x = kerax.activations.relu(x)
        return self.linear_3(x), state


class Sampling(kerax.layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, params, state, inputs, *, key, training):
        z_mean, z_log_var = inputs
        batch = z_mean.shape[0]
        dim = z_mean.shape[1]
        epsilon = jax.random.normal(key, shape=(batch, dim))
        return z_mean + jnp.exp(0.5 * z_log_var) * epsilon, state


# ---------------------------------------------------------------- the tests


def test_linear_matches_keras_with_the_same_weights(rng):
    x = rng.normal(size=(3, 5)).astype("float32")
    k_layer = KerasLinear(4)
    expected = np.asarray(k_layer(x))
    layer = Linear(4)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 5)))
    assert jax.tree.map(jnp.shape, params) == {"w": (5, 4), "b": (4,)}
    params = {"w": np.asarray(k_layer.w), "b": np.asarray(k_layer.b)}
    y, _ = layer.apply(params, state, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_compute_sum_state_matches_keras():
    x = np.ones((2, 2), "float32")
    k_layer = KerasComputeSum(2)
    k_layer(x)
    expected = np.asarray(k_layer(x))
    layer = ComputeSum(2)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 2)))
    y, state = layer.apply(params, state, x)
    y, state = layer.apply(params, state, x)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(state["total"], [4.0, 4.0])
    assert params == {}  # Keras's trainable=False weight is kerax state.


def test_mlp_block_builds_its_sublayers_and_matches_keras(rng):
    x = rng.normal(size=(3, 64)).astype("float32")
    k_block = KerasMLPBlock()
    expected = np.asarray(k_block(x))
    block = MLPBlock()
    assert [name for name, _ in block.children()] == ["linear", "linear_1", "linear_2"]
    params, state = block.init(jax.random.key(0), kerax.spec((None, 64)))
    assert jax.tree.map(jnp.shape, params) == {
        "linear": {"w": (64, 32), "b": (32,)},
        "linear_1": {"w": (32, 32), "b": (32,)},
        "linear_2": {"w": (32, 1), "b": (1,)},
    }
    k_sub = [k_block.linear_1, k_block.linear_2, k_block.linear_3]
    params = {
        name: {"w": np.asarray(k.w), "b": np.asarray(k.b)}
        for name, k in zip(params, k_sub)
    }
    y, _ = block.apply(params, state, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    # Sublayer keys are the sublayers' own, derived from their names.
    again, _ = block.init(jax.random.key(0), kerax.spec((None, 64)))
    first, _ = Linear(32).init(
        kerax.core.naming.child_key(jax.random.key(0), "linear"), kerax.spec((None, 64))
    )
    np.testing.assert_array_equal(again["linear"]["w"], first["w"])


def test_sublayer_params_sit_at_keras_variable_paths():
    class KerasBlock(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.l1 = keras.layers.Dense(3)
            self.l2 = keras.layers.Dense(3)
            self.blocks = [keras.layers.Dense(2), keras.layers.Dense(2, name="x")]
            self.heads = {"b": keras.layers.Dense(1), "a": keras.layers.Dense(1)}

        def call(self, x):
            x = self.l2(self.l1(x))
            for b in self.blocks:
                x = b(x)
            return self.heads["a"](x) + self.heads["b"](x)

    class Block(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.l1 = layers.Dense(3)
            self.l2 = layers.Dense(3)
            self.blocks = []
            self.blocks.append(layers.Dense(2))  # Lists may grow inside __init__.
            self.blocks.append(layers.Dense(2, name="x"))
            self.heads = {"b": layers.Dense(1), "a": layers.Dense(1)}

        def call(self, params, state, x, *, key, training):
            x = self.l2(self.l1(x))
            for b in self.blocks:
                x = b(x)
            return self.heads["a"](x) + self.heads["b"](x), state

    keras.backend.clear_session()  # Keras names from a global counter.
    k_block = KerasBlock(name="block")
    k_block(np.ones((2, 4), "float32"))
    keras_paths = sorted(v.path for v in k_block.weights)

    block = Block(name="block")
    assert isinstance(block.blocks, tuple)  # Frozen after __init__.
    params, _ = block.init(jax.random.key(0), kerax.spec((None, 4)))
    paths = sorted(
        "/".join(["block", *(k.key for k in path)])
        for path, _ in jax.tree_util.tree_leaves_with_path(params)
    )
    assert paths == keras_paths


def test_vae_sampling_builds_into_a_functional_model(rng):
    latent_dim = 2
    encoder_inputs = kerax.Input(shape=(28, 28, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(
        encoder_inputs
    )
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = kerax.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    assert z.shape == (None, latent_dim)

    params, state = encoder.init(jax.random.key(0))
    images = rng.normal(size=(3, 28, 28, 1)).astype("float32")
    (mean, log_var, sample), _ = encoder.apply(
        params, state, images, key=jax.random.key(1)
    )
    (_, _, again), _ = encoder.apply(params, state, images, key=jax.random.key(1))
    (_, _, other), _ = encoder.apply(params, state, images, key=jax.random.key(2))
    np.testing.assert_array_equal(sample, again)
    assert not np.allclose(sample, other)
    eps = (sample - mean) / np.exp(0.5 * log_var)
    assert np.all(np.isfinite(eps)) and eps.shape == (3, latent_dim)

    # z_mean is what Keras's encoder computes with the same weights.
    k_in = keras.Input((28, 28, 1))
    k_x = keras.layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(k_in)
    k_x = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(k_x))
    k_model = keras.Model(k_in, keras.layers.Dense(latent_dim)(k_x))
    k_model.set_weights(
        [
            np.asarray(params[n][v])
            for n in ("conv2d", "dense", "z_mean")
            for v in ("kernel", "bias")
        ]
    )
    np.testing.assert_allclose(mean, k_model(images), rtol=1e-4, atol=1e-5)


def test_keras_style_config_round_trips(tmp_path):
    kerax.register(Linear, name="test_authoring>Linear")
    layer = Linear(4, name="proj", trainable=False)
    config = layer.get_config()
    assert config == {"name": "proj", "trainable": False, "dtype": None, "units": 4}
    assert Linear.from_config(config) == layer
    rebuilt = kerax.from_config(json.loads(kerax.to_json(layer)))
    assert type(rebuilt) is Linear and rebuilt == layer and rebuilt.units == 4
    assert repr(layer) == "Linear(units=4, name='proj')"


def test_keras_style_layers_hash_and_compare_by_config():
    assert Linear(4) == Linear(4) and hash(Linear(4)) == hash(Linear(4))
    assert Linear(4) != Linear(5) and Linear(4) != Linear(4, name="other")
    traces = []

    @functools.partial(jax.jit, static_argnums=0)
    def scale(layer, x):
        traces.append(layer)
        return x * layer.units

    scale(Linear(4), jnp.ones(2))
    scale(Linear(4), jnp.ones(2))  # An equal config: the cached trace.
    assert len(traces) == 1
    assert MLPBlock().output_spec(kerax.spec((None, 8))).shape[1:] == (1,)


def test_keras_style_layer_is_frozen_after_init():
    layer = Linear(4)
    with pytest.raises(dataclasses.FrozenInstanceError, match="Linear 'linear'.*units"):
        layer.units = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        del layer.units


def test_forgetting_super_init_is_a_clear_error():
    class Forgetful(kerax.layers.Layer):
        def __init__(self, units):
            self.units = units

    with pytest.raises(
        TypeError, match=r"Forgetful.__init__ must call `super\(\).__init__"
    ):
        Forgetful(3)


def test_unsaveable_init_argument_asks_for_get_config():
    class Holder(kerax.layers.Layer):
        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = table

    layer = Holder(np.arange(3))
    assert layer == layer and layer != Holder(np.arange(3))  # Arrays: by identity.
    with pytest.raises(NotImplementedError, match="write `get_config`"):
        layer.get_config()


def test_dataclass_layer_with_a_sublayer_field_needs_no_children():
    """Regression: a sublayer in a field used to be invisible without a
    hand-written `children()`: it trained while frozen and its regularizer
    and constraint were dropped without a word."""

    class Wrapper(kerax.Layer):
        inner: kerax.Layer = None

        def build(self, key, spec):
            p, s = self.inner.init(key, spec)
            return {self.sublayer_name(self.inner): p}, s

        def call(self, params, state, x, *, key, training):
            y, _ = self.inner.apply(params["frozen"], {}, x)
            return y, state

    inner = layers.Dense(
        3,
        name="frozen",
        trainable=False,
        kernel_regularizer=kerax.regularizers.L2(0.5),
        kernel_constraint=kerax.constraints.NonNeg(),
    )
    layer = Wrapper(inner=inner)
    params, _ = layer.init(jax.random.key(0), kerax.spec((None, 2)))
    assert layer.children() == [("frozen", inner)]
    assert jax.tree.leaves(layer.trainable_mask(params)) == [False, False]
    kernel = params["frozen"]["kernel"]
    np.testing.assert_allclose(
        layer.regularization_loss(params), 0.5 * np.sum(np.square(kernel)), rtol=1e-6
    )
    assert np.all(np.asarray(layer.constrain(params)["frozen"]["kernel"]) >= 0)


def test_params_no_sublayer_owns_are_an_error_at_init():
    class Misnamed(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(3)

        def build(self, key, spec):
            p, _ = self.dense.init(key, spec)
            return {"my_dense": p}, {}

        def call(self, params, state, x, *, key, training):
            return self.dense.apply(params["my_dense"], {}, x)[0], state

    with pytest.raises(
        ValueError, match=r"Misnamed 'misnamed': params\['my_dense'\].*\['dense'\]"
    ):
        Misnamed().init(jax.random.key(0), kerax.spec((None, 2)))


def test_call_reading_unbuilt_sublayer_params_says_how_to_fix():
    class Explicit(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(3)

        def call(self, params, state, x, *, key, training):
            return self.dense.apply(params["dense"], {}, x)[0], state

    with pytest.raises(
        KeyError, match=r"reads params\['dense'\].*self.<attribute>\(x\)"
    ):
        Explicit().init(jax.random.key(0), kerax.spec((None, 2)))


def test_sublayer_calls_thread_state_keys_and_training(rng):
    class Block(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.norm = layers.BatchNormalization()
            self.drop = layers.Dropout(0.5)

        def call(self, params, state, x, *, key, training):
            return self.drop(self.norm(x)), state

    block = Block()
    x = rng.normal(size=(8, 4)).astype("float32")
    params, state = block.init(jax.random.key(0), kerax.spec((None, 4)))
    assert set(state) == {"batch_normalization"}
    y, new_state = block.apply(params, state, x, key=jax.random.key(1), training=True)
    moved = new_state["batch_normalization"]["moving_mean"]
    assert not np.allclose(moved, state["batch_normalization"]["moving_mean"])
    assert np.mean(np.asarray(y) == 0) > 0.2  # Dropout ran with the sublayer key.
    y_inf, same = block.apply(params, state, x)
    np.testing.assert_array_equal(
        same["batch_normalization"]["moving_mean"],
        state["batch_normalization"]["moving_mean"],
    )
    grads = jax.grad(lambda p: block.apply(p, state, x)[0].sum())(params)
    assert set(grads) == {"batch_normalization"}


def test_sublayer_of_a_keras_style_layer_in_a_model_and_summary():
    x = kerax.Input((8,))
    model = kerax.Model(x, MLPBlock(name="mlp")(x))
    params, _ = model.init(jax.random.key(0))
    assert set(params["mlp"]) == {"linear", "linear_1", "linear_2"}
    text = model.summary(print_fn=None)
    assert "mlp (MLPBlock)" in text and "(None, 1)" in text
    frozen = kerax.Model(x, MLPBlock(name="mlp", trainable=False)(x))
    assert not any(jax.tree.leaves(frozen.trainable_mask(params)))


def test_layers_module_aliases():
    assert kerax.layers.Layer is kerax.Layer
    assert kerax.layers.Input is kerax.Input


def test_calling_a_layer_that_is_not_a_sublayer_names_both():
    stray = layers.Dense(2, name="stray")

    class UsesStray(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, params, state, x, *, key, training):
            return stray(self.dense(x)), state

    with pytest.raises(
        TypeError, match="Dense 'stray' is called inside UsesStray 'uses_stray'.call"
    ):
        UsesStray().init(jax.random.key(0), kerax.spec((None, 3)))


def test_keras_style_layers_pass_the_layer_contract():
    from kerax.testing import check_layer

    kerax.register(Linear, name="test_authoring>Linear")
    kerax.register(MLPBlock, name="test_authoring>MLPBlock")
    check_layer(Linear(4), kerax.spec((None, 3)))
    check_layer(MLPBlock(), kerax.spec((None, 3)))


def test_sharding_axes_follow_discovered_sublayers():
    class Wrapped(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(3)

        def call(self, params, state, x, *, key, training):
            return self.inner(x), state

    params, _ = Wrapped().init(jax.random.key(0), kerax.spec((None, 4)))
    assert Wrapped().param_axes(params) == {
        "dense": {"kernel": ("embed", "mlp"), "bias": ("mlp",)}
    }


def test_sublayer_called_only_in_training_is_built_too(rng):
    class WithAuxHead(kerax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.body = layers.Dense(4)
            self.aux = layers.Dense(4)

        def call(self, params, state, x, *, key, training):
            y = self.body(x)
            if training:
                kerax.add_loss(jnp.mean(self.aux(x) ** 2))
            return y, state

    layer = WithAuxHead()
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
    assert set(params) == {"dense", "dense_1"}
    x = rng.normal(size=(2, 3)).astype("float32")
    _, _, aux = layer.apply_with_losses(params, state, x, training=True)
    assert float(aux) > 0
