"""JaxLayer and FlaxLayer: JAX functions and Flax modules as kerax layers."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from flax import nnx

import kerax
from kerax import layers

SPEC = kerax.spec((None, 3))


def dense_init(rng, inputs):
    k1, k2 = jax.random.split(rng)
    return {
        "w": jax.random.normal(k1, (inputs.shape[-1], 4)),
        "b": jax.random.normal(k2, (4,)),
    }


def dense_call(params, inputs):
    return jnp.tanh(inputs @ params["w"] + params["b"])


def counting_init(rng, inputs, training):
    del training
    return dense_init(rng, inputs), {"calls": jnp.zeros(())}


def counting_call(params, state, rng, inputs, training):
    y = dense_call(params, inputs)
    if training:
        keep = jax.random.bernoulli(rng, 0.5, y.shape)
        y = jnp.where(keep, y / 0.5, 0.0)
    return y, {"calls": state["calls"] + 1}


class LinenBlock(nn.Module):
    features: int = 4

    @nn.compact
    def __call__(self, inputs, training):
        x = nn.Dense(self.features)(inputs)
        x = nn.BatchNorm(use_running_average=not training)(x)
        return nn.Dropout(0.5, deterministic=not training)(x)


def test_jax_layer_matches_keras_jax_layer(rng):
    layer = layers.JaxLayer(dense_call, dense_init)
    params, state = layer.init(jax.random.key(0), SPEC)
    x = rng.normal(size=(5, 3)).astype("float32")
    theirs = keras.layers.JaxLayer(dense_call, params=jax.device_get(params))
    np.testing.assert_allclose(
        layer.apply(params, state, x)[0], theirs(x), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(layer.output_spec(SPEC).shape[-1], 4)


def test_stateful_jax_layer_threads_state_and_key():
    layer = layers.JaxLayer(counting_call, counting_init, name="counter")
    params, state = layer.init(jax.random.key(0), SPEC)
    x = jnp.ones((2, 3))
    y, state = layer.apply(params, state, x, key=jax.random.key(1), training=True)
    assert float(state["calls"]) == 1.0 and (np.asarray(y) == 0).any()
    y_inf, state = layer.apply(params, state, x)
    np.testing.assert_allclose(y_inf, dense_call(params, x), rtol=1e-6)
    assert float(state["calls"]) == 2.0
    with pytest.raises(ValueError, match="counter.*key="):
        layer.apply(params, state, x, training=True)


def test_flax_linen_layer_matches_flax_and_keras(rng):
    module = LinenBlock()
    layer = layers.FlaxLayer(module)
    params, state = layer.init(jax.random.key(0), SPEC)
    assert sorted(params) == ["params"] and sorted(state) == ["batch_stats"]
    x = rng.normal(size=(6, 3)).astype("float32")
    variables = {**params, **state}
    y, _ = layer.apply(params, state, x)
    np.testing.assert_allclose(y, module.apply(variables, x, training=False), rtol=1e-6)
    theirs = keras.layers.FlaxLayer(module, variables=jax.device_get(variables))
    np.testing.assert_allclose(y, theirs(x, training=False), rtol=1e-5, atol=1e-6)
    key = jax.random.key(2)
    y_train, new_state = layer.apply(params, state, x, key=key, training=True)
    expected, updates = module.apply(
        variables, x, training=True, rngs={"dropout": key}, mutable=["batch_stats"]
    )
    np.testing.assert_allclose(y_train, expected, rtol=1e-6)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6),
        new_state,
        dict(updates),
    )


class NnxBlock(nnx.Module):
    def __init__(self, rngs):
        self.linear = nnx.Linear(3, 4, rngs=rngs)
        self.bn = nnx.BatchNorm(4, rngs=rngs)
        self.dropout = nnx.Dropout(0.5, rngs=rngs)

    def __call__(self, inputs):
        return self.dropout(self.bn(self.linear(inputs)))


def test_flax_nnx_layer_is_pure_and_matches_the_module(rng):
    module = NnxBlock(nnx.Rngs(0))
    layer = layers.FlaxLayer(module)
    params, state = layer.init(jax.random.key(0), SPEC)
    assert sorted(params) == ["bn", "linear"] and "kernel" in params["linear"]
    x = rng.normal(size=(6, 3)).astype("float32")
    module.eval()
    expected = module(x)
    y, _ = jax.jit(lambda p, s, x: layer.apply(p, s, x))(params, state, x)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    y_train, new_state = layer.apply(
        params, state, x, key=jax.random.key(3), training=True
    )
    assert not np.allclose(new_state["bn"]["mean"], state["bn"]["mean"])
    y_again, _ = layer.apply(params, state, x, key=jax.random.key(3), training=True)
    np.testing.assert_array_equal(y_train, y_again)  # Same key, same mask.


def test_flax_layer_trains_in_a_model_and_round_trips_its_config():
    kerax.register(LinenBlock, name="test_jax_layer>LinenBlock")
    inputs = kerax.Input((3,))
    outputs = layers.Dense(1)(
        layers.FlaxLayer(LinenBlock(features=8), name="flax")(inputs)
    )
    model = kerax.Model(inputs, outputs)
    trainer = kerax.Trainer(model, optimizer="adam", loss="mse")
    ts = trainer.init(jax.random.key(0))
    x = np.linspace(-1, 1, 48, dtype="float32").reshape(16, 3)
    y = x.sum(-1, keepdims=True)
    ts, history = trainer.fit(ts, x, y, epochs=4, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "batch_stats" in ts.state["flax"]
    again = kerax.from_config(kerax.to_json(model))
    y1, _ = model.apply(ts.params, ts.state, x)
    y2, _ = again.apply(ts.params, ts.state, x)
    np.testing.assert_allclose(y1, y2)


def test_jax_layer_config_needs_registered_functions():
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.JaxLayer(dense_call, dense_init)]
    )
    with pytest.raises(ValueError, match="kerax.register"):
        kerax.to_json(model)
    kerax.register(dense_call, name="test_jax_layer>dense_call")
    kerax.register(dense_init, name="test_jax_layer>dense_init")
    again = kerax.from_config(kerax.to_json(model))
    params, state = model.init(jax.random.key(0))
    x = jnp.ones((2, 3))
    np.testing.assert_allclose(
        again.apply(params, state, x)[0], model.apply(params, state, x)[0]
    )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: layers.JaxLayer(dense_call, dense_init, params={"w": 1}), "params"),
        (lambda: layers.JaxLayer(dense_call), "init_fn"),
        (lambda: layers.JaxLayer(lambda x: x), "inputs"),
        (lambda: layers.JaxLayer(dense_call, dense_init, seed=1), "seed"),
        (
            lambda: layers.JaxLayer(
                dense_call, dense_init, native_serialization_platforms=("cpu",)
            ),
            "platforms",
        ),
        (lambda: layers.FlaxLayer(LinenBlock(), variables={}), "variables"),
    ],
)
def test_keras_arguments_kerax_keeps_outside_are_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.slow
def test_flax_layer_exports_to_saved_model_and_tflite(tmp_path):
    from kerax import export

    class Mlp(nn.Module):
        @nn.compact
        def __call__(self, inputs):
            return nn.Dense(2)(nn.gelu(nn.Dense(8)(inputs)))

    model = kerax.Sequential([kerax.Input((3,)), layers.FlaxLayer(Mlp())])
    params, state = model.init(jax.random.key(0))
    report = export.saved_model(model, params, state, str(tmp_path / "sm"))
    assert report.max_abs_diff <= report.tolerance
    report = export.tflite(model, params, state, str(tmp_path / "m.tflite"))
    assert report.max_abs_diff <= report.tolerance


def test_flax_layer_runs_data_parallel_on_a_mesh(rng):
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    layer = layers.FlaxLayer(LinenBlock())
    params, state = layer.init(jax.random.key(0), SPEC)
    x = rng.normal(size=(8, 3)).astype("float32")
    mesh = Mesh(np.array(jax.devices()[:8]), ("data",))
    xs = jax.device_put(x, NamedSharding(mesh, PartitionSpec("data")))
    y, _ = jax.jit(lambda p, s, x: layer.apply(p, s, x))(params, state, xs)
    assert y.sharding.spec == PartitionSpec("data")
    np.testing.assert_allclose(y, layer.apply(params, state, x)[0], rtol=1e-6)
