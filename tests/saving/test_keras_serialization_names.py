"""Keras's serialization names (`keras.saving.*`, `keras.layers.serialize`, ...) in kerax.

Each is compared with Keras where both can do the same thing.
"""

import threading

import jax
import keras
import numpy as np
import pytest

import kerax


@pytest.fixture
def clean_registry():
    """Registrations made by a test are forgotten after it (Keras's too)."""
    ours = dict(kerax.saving.get_custom_objects())
    theirs = dict(keras.saving.get_custom_objects())
    yield
    for table, saved in (
        (kerax.saving.get_custom_objects(), ours),
        (keras.saving.get_custom_objects(), theirs),
    ):
        table.clear()
        table.update(saved)


def test_names_are_where_keras_has_them():
    for module, names in (
        (
            "saving",
            [
                "CustomObjectScope",
                "custom_object_scope",
                "deserialize_keras_object",
                "get_custom_objects",
                "get_registered_name",
                "get_registered_object",
                "load_model",
                "load_weights",
                "register_keras_serializable",
                "save_model",
                "save_weights",
                "serialize_keras_object",
            ],
        ),
        ("models", ["load_model", "model_from_json", "save_model", "clone_model"]),
        ("layers", ["serialize", "deserialize"]),
        (
            "utils",
            [
                "custom_object_scope",
                "deserialize_keras_object",
                "get_custom_objects",
                "get_registered_name",
                "get_registered_object",
                "register_keras_serializable",
                "serialize_keras_object",
            ],
        ),
    ):
        for name in names:
            assert hasattr(getattr(keras, module), name), (module, name)
            assert hasattr(getattr(kerax, module), name), (module, name)


def test_register_keras_serializable_names_as_keras(clean_registry):
    for lib in (keras, kerax):

        @lib.saving.register_keras_serializable()
        def plain(x):
            return x

        @lib.saving.register_keras_serializable(package="pkg", name="renamed")
        def other(x):
            return x

        assert lib.saving.get_registered_name(plain) == "Custom>plain"
        assert lib.saving.get_registered_name(other) == "pkg>renamed"
        assert lib.saving.get_custom_objects()["pkg>renamed"] is other
        assert lib.saving.get_registered_object("pkg>renamed") is other
    assert kerax.register is not None  # The same registration as kerax.register:
    assert kerax.core.registry.registered_name(other) == "pkg>renamed"


def test_register_keras_serializable_refuses_a_bad_package():
    with pytest.raises(ValueError, match="package="):
        kerax.saving.register_keras_serializable(package="a>b")


def test_get_custom_objects_clear_forgets_registrations(clean_registry):
    @kerax.saving.register_keras_serializable(package="tmp")
    def gone(x):
        return x

    kerax.saving.get_custom_objects().clear()
    assert kerax.saving.get_registered_object("tmp>gone") is None
    assert kerax.saving.get_registered_name(gone) == "gone"


def _function_config(name):
    return {
        "module": "builtins",
        "class_name": "function",
        "config": name,
        "registered_name": "function",
    }


def test_registered_function_serializes_as_keras(clean_registry):
    configs = []
    for lib in (keras, kerax):

        @lib.saving.register_keras_serializable(package="my_package", name="custom_fn")
        def custom_fn(x):
            return x**2

        config = lib.saving.serialize_keras_object(custom_fn)
        configs.append(config)
        assert lib.saving.deserialize_keras_object(config) is custom_fn
    assert configs[0] == configs[1] == _function_config("my_package>custom_fn")


def test_family_objects_serialize_as_keras():
    for make in (
        lambda lib: lib.regularizers.L1(0.005),
        lambda lib: lib.regularizers.L1L2(l1=1e-5, l2=1e-4),
        lambda lib: lib.initializers.Constant(2.0),
    ):
        ours = kerax.saving.serialize_keras_object(make(kerax))
        theirs = keras.saving.serialize_keras_object(make(keras))
        # Keras keeps regularizer factors as float32 (0.004999999888...).
        assert {k: v for k, v in ours.items() if k != "config"} == {
            k: v for k, v in theirs.items() if k != "config"
        }
        assert ours["config"] == pytest.approx(theirs["config"], rel=1e-6)
        back = kerax.saving.deserialize_keras_object(ours)
        assert kerax.saving.serialize_keras_object(back) == ours


def test_plain_values_and_containers():
    for value in (None, 3, 2.5, "relu", True):
        assert kerax.saving.serialize_keras_object(value) == value
        assert kerax.saving.deserialize_keras_object(
            value if value != "relu" else 3
        ) in (
            value,
            3,
        )
    l1 = kerax.regularizers.L1(0.5)
    out = kerax.saving.serialize_keras_object({"reg": l1, "n": (1, 2)})
    assert out == {"reg": kerax.saving.serialize_keras_object(l1), "n": [1, 2]}
    back = kerax.saving.deserialize_keras_object([out["reg"], None])
    assert isinstance(back, list) and back[1] is None and back[0].l1 == 0.5


def test_unregistered_objects_are_refused_with_the_fix():
    def local(x):
        return x

    with pytest.raises(ValueError, match="kerax.register"):
        kerax.saving.serialize_keras_object(local)
    with pytest.raises(ValueError, match="register_keras_serializable"):
        kerax.saving.deserialize_keras_object("nobody>here")


def test_layers_serialize_has_keras_keys_and_round_trips():
    layer = kerax.layers.Dense(3, activation="relu", name="d")
    ours = kerax.layers.serialize(layer)
    theirs = keras.layers.serialize(keras.layers.Dense(3, activation="relu", name="d"))
    assert set(ours) == set(theirs)
    assert (ours["module"], ours["class_name"], ours["registered_name"]) == (
        theirs["module"],
        theirs["class_name"],
        theirs["registered_name"],
    )
    assert kerax.layers.deserialize(ours) == layer
    assert kerax.saving.serialize_keras_object(layer) == ours
    assert kerax.saving.deserialize_keras_object(ours) == layer


def test_layers_serialize_custom_layer_with_nested_layer(clean_registry):
    @kerax.saving.register_keras_serializable(package="MyLayers", name="Wrap")
    class Wrap(kerax.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, params, state, x, *, key, training):
            return self.inner(x), state

        def get_config(self):
            return {**super().get_config(), "inner": self.inner}

    config = kerax.layers.serialize(Wrap(kerax.layers.Dense(2)))
    assert config["module"] is None
    assert config["class_name"] == "Wrap"
    assert config["registered_name"] == "MyLayers>Wrap"
    assert (
        config["config"]["inner"]["class_name"] == "Dense"
    )  # Serialized, not an object.
    back = kerax.layers.deserialize(config)
    assert isinstance(back, Wrap) and back.inner.units == 2


def test_layers_deserialize_needs_a_dict():
    with pytest.raises(ValueError, match="class_name"):
        kerax.layers.deserialize("Dense")
    with pytest.raises(ValueError, match="serialize_keras_object"):
        kerax.layers.serialize(kerax.regularizers.L1(0.1))


def test_custom_object_scope_resolves_and_restores(clean_registry):
    def twice(x):
        return 2 * x

    config = _function_config("twice")
    with pytest.raises(ValueError):
        kerax.saving.deserialize_keras_object(config)
    scope = kerax.saving.custom_object_scope({"twice": twice})
    with scope:
        assert kerax.saving.deserialize_keras_object(config) is twice
        with kerax.saving.custom_object_scope({"twice": abs}):  # Inner names win.
            assert kerax.saving.deserialize_keras_object(config) is abs
        assert kerax.saving.deserialize_keras_object(config) is twice
    with pytest.raises(ValueError):
        kerax.saving.deserialize_keras_object(config)
    # Restored when the block raises, and reusable.
    with pytest.raises(RuntimeError):
        with scope:
            raise RuntimeError
    assert kerax.saving.get_registered_object("twice") is None
    with scope:
        assert kerax.saving.get_registered_object("twice") is twice
    assert kerax.utils.custom_object_scope is kerax.saving.custom_object_scope


def test_custom_object_scope_is_per_thread():
    seen = []
    inside, done = threading.Event(), threading.Event()

    def other_thread():
        inside.wait()
        seen.append(kerax.saving.get_registered_object("only_here"))
        done.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with kerax.saving.custom_object_scope({"only_here": abs}):
        inside.set()
        done.wait(10)
    t.join()
    assert seen == [None]


def test_custom_object_scope_refuses_non_dicts():
    with pytest.raises(ValueError, match="dict"):
        kerax.saving.custom_object_scope(["twice"])


def test_model_from_json_reads_kerax_json():
    model = kerax.Sequential([kerax.Input((32,)), kerax.layers.Dense(1)])
    new_model = kerax.models.model_from_json(model.to_json())
    assert new_model.get_config() == model.get_config()
    params, _ = new_model.init(jax.random.key(0))
    assert params["dense"]["kernel"].shape == (32, 1)
    with pytest.raises(ValueError, match="JSON"):
        kerax.models.model_from_json("{not json")
    with pytest.raises(ValueError, match="to_json"):
        kerax.models.model_from_json(model.get_config())


def test_model_from_json_reads_keras_json(rng):
    inputs = keras.Input((4,), name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    k_model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(hidden))
    model = kerax.models.model_from_json(k_model.to_json())
    params, state = model.init(jax.random.key(0))
    assert list(params) == ["hidden", "logits"]
    # The same architecture: Keras's weights give Keras's outputs.
    params, state = model.set_weights(params, k_model.get_weights(), state)
    x = rng.normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(
        model.apply(params, state, x)[0], k_model(x), rtol=1e-5, atol=1e-6
    )


def test_models_load_and_save_model_are_the_saving_ones(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    params, state = model.init(jax.random.key(0))
    path = kerax.models.save_model(tmp_path / "m.keras", model, params, state)
    _, loaded, _ = kerax.models.load_model(path)
    np.testing.assert_array_equal(loaded["dense"]["kernel"], params["dense"]["kernel"])


def test_keras_loads_a_kerax_archive_with_registered_objects(tmp_path, clean_registry):
    """The guide's custom layer and function: kerax writes, Keras reads (and back)."""

    def define(lib, call):
        @lib.saving.register_keras_serializable(package="MyLayers")
        class CustomLayer(lib.layers.Layer):
            def __init__(self, factor):
                super().__init__()
                self.factor = factor

            call_ = call

            def get_config(self):
                return {"factor": self.factor}

        CustomLayer.call = call

        @lib.saving.register_keras_serializable(package="my_package", name="custom_fn")
        def custom_fn(x):
            return x**2

        inputs = lib.Input(shape=(4,))
        mid = CustomLayer(0.5)(inputs)
        outputs = lib.layers.Dense(1, activation=custom_fn)(mid)
        return lib.Model(inputs, outputs)

    def kerax_call(self, params, state, x, *, key, training):
        return x * self.factor, state

    model = define(kerax, kerax_call)
    keras_model_def = define(keras, lambda self, x: x * self.factor)
    del keras_model_def
    params, state = model.init(jax.random.key(0))
    path = kerax.saving.save_model(tmp_path / "custom.keras", model, params, state)
    x = np.random.default_rng(0).random((4, 4), dtype=np.float32)
    want, _ = model.apply(params, state, x)
    keras_model = keras.saving.load_model(path)
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), want, rtol=1e-5)
    keras_model.save(tmp_path / "from_keras.keras")
    back, back_params, back_state = kerax.saving.load_model(
        tmp_path / "from_keras.keras"
    )
    np.testing.assert_allclose(
        back.apply(back_params, back_state, x)[0], want, rtol=1e-5
    )
