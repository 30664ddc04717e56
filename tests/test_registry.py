"""The one registry: names per family, user registrations, custom_objects, errors."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import activations, initializers, layers, losses, metrics, regularizers
from kerax.core import registry, serialization


def test_every_family_is_filled_with_public_names_only():
    for fam in registry.FAMILIES.values():
        assert fam.objects, f"the {fam.name} table is empty after `import kerax`"
        private = sorted(n for n in fam.objects if n.startswith("_"))
        assert not private, f"{fam.name}: private names {private}"


def test_private_base_class_is_not_loadable():
    private = next(
        cls
        for cls in layers.Conv2D.__mro__
        if cls.__name__.startswith("_") and issubclass(cls, kerax.Layer)
    )
    assert private.__name__ not in registry.family("layers").objects
    with pytest.raises(ValueError, match="private kerax classes are not loadable"):
        kerax.from_config({"class_name": private.__name__, "config": {}})


def test_unknown_name_names_the_families_and_the_fix():
    with pytest.raises(ValueError) as info:
        registry.lookup("initializers", "nope")
    message = str(info.value)
    assert "Unknown initializer 'nope'" in message
    assert "glorot_uniform" in message and "kerax.register" in message
    assert "'layers'" in message and "'losses'" in message
    with pytest.raises(ValueError, match="Unknown registry family 'widgets'"):
        registry.lookup("widgets", "x")


def test_registered_function_under_a_package(rng):
    def triple_tanh(x):
        return 3.0 * jnp.tanh(x)

    kerax.register(triple_tanh, package="test_registry")
    assert registry.registered_name(triple_tanh) == "test_registry>triple_tanh"
    dense = layers.Dense(2, activation=triple_tanh)
    config = json.loads(kerax.to_json(dense))
    assert config["config"]["activation"] == {
        "module": "registered",
        "name": "test_registry>triple_tanh",
    }
    rebuilt = kerax.from_config(config)
    assert rebuilt.activation is triple_tanh
    # Keras's own form for the same function loads too.
    keras_form = activations.serialize(triple_tanh)
    assert keras_form["config"] == "test_registry>triple_tanh"
    assert activations.get(keras_form) is triple_tanh
    x = jnp.asarray(rng.normal(size=(3, 4)), jnp.float32)
    params, state = dense.init(jax.random.key(0), kerax.spec((None, 4)))
    np.testing.assert_allclose(
        rebuilt.apply(params, state, x)[0], dense.apply(params, state, x)[0]
    )


def test_keras_default_package_finds_a_bare_kerax_registration():
    def bare_fn_for_registry_test(x):
        return x

    kerax.register(bare_fn_for_registry_test)
    keras_config = {
        "module": "builtins",
        "class_name": "function",
        "config": "Custom>bare_fn_for_registry_test",
        "registered_name": "function",
    }
    assert activations.get(keras_config) is bare_fn_for_registry_test


def test_custom_objects_load_without_global_registration():
    class Halve(kerax.Layer):
        def call(self, params, state, x, *, key, training):
            return x / 2, state

    config = kerax.serialize(kerax.Sequential([Halve(name="half"), layers.Dense(1)]))
    with pytest.raises(ValueError, match="kerax.register\\(Halve\\)"):
        kerax.from_config(config)
    rebuilt = serialization.from_config(config, custom_objects={"Halve": Halve})
    assert type(rebuilt.layers[0]) is Halve
    # The scope ends with the call: nothing leaked into the global table.
    assert registry.lookup_custom("Halve") is None


def test_custom_regularizer_class_round_trips_through_a_layer_config():
    @dataclasses.dataclass(frozen=True)
    class SumSquares(regularizers.Regularizer):
        factor: float = 1.0

        def __call__(self, x):
            return self.factor * jnp.sum(jnp.square(x))

    kerax.register(SumSquares, package="test_registry")
    dense = layers.Dense(2, kernel_regularizer=SumSquares(0.5))
    config = json.loads(kerax.to_json(dense))
    entry = config["config"]["kernel_regularizer"]
    assert entry["class_name"] == "SumSquares"
    assert entry["registered_name"] == "test_registry>SumSquares"
    assert kerax.from_config(config).kernel_regularizer == SumSquares(0.5)

    @dataclasses.dataclass(frozen=True)
    class Unregistered(regularizers.L2):
        pass

    with pytest.raises(ValueError, match="cannot be serialized.*kerax.register"):
        regularizers.serialize(Unregistered())


def test_one_deserializer_behind_every_family():
    assert initializers.get("he_normal") == initializers.HeNormal()
    assert initializers.get(initializers.HeNormal) == initializers.HeNormal()
    assert losses.get("mse") is losses.mean_squared_error
    assert isinstance(metrics.get("auc"), metrics.AUC)
    assert kerax.optimizers.get("ADAM").class_name == "Adam"
    spec = {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert regularizers.get(spec) == regularizers.L1L2(0.1, 0.2)
    with pytest.raises(ValueError, match="Invalid config for regularizer L1L2"):
        regularizers.get({"class_name": "L1L2", "config": {"l3": 1.0}})


def test_summary_is_provided_by_models():
    assert registry.provided("summary") is kerax.models.summary
    with pytest.raises(ValueError, match="import kerax"):
        registry.provided("no_such_implementation")


def test_a_recycled_id_does_not_hide_a_registration():
    # Python reuses the id of a freed object: a class redefined in a loop or
    # a notebook may get the id of an old, freed registration. Simulated
    # here: the id's entry names something else.
    def fresh(x):
        return x

    registry._CUSTOM_NAMES[id(fresh)] = "test_registry>long_gone"
    try:
        kerax.register(fresh, package="test_registry")
        assert registry.registered_name(fresh) == "test_registry>fresh"
        # A second name for the same object keeps the first one.
        kerax.register(fresh, name="test_registry>alias")
        assert registry.registered_name(fresh) == "test_registry>fresh"
    finally:
        registry._CUSTOM_NAMES.pop(id(fresh), None)
        for key in ("test_registry>fresh", "test_registry>alias"):
            registry._CUSTOM.pop(key, None)
