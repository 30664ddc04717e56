"""The layer contract itself: specs, names, keys, dtype policies, errors, config."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.core import naming
from kerax.testing import check_layer


class Scale(kerax.Layer):
    """A custom layer in the style users write: fields, build, call."""

    init_value: float = 1.0

    def build(self, key, spec):
        del key
        return {"scale": jnp.full(spec.shape[-1:], self.init_value)}, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        return x * params["scale"], state


class Noisy(kerax.Layer):
    stddev: float = 1.0

    def call(self, params, state, x, *, key, training):
        if not training:
            return x, state
        self.require_key(key)
        return x + self.stddev * jax.random.normal(key, x.shape), state


def test_spec_symbolic_batch_is_shared():
    a, b = kerax.spec((None, 3)), kerax.spec((None, 5))
    assert a.shape[0] is b.shape[0] or a.shape[0] == b.shape[0]
    assert str(a.shape[0]) == "batch"
    c = kerax.spec((None, None, 2))
    assert str(c.shape[1]) == "d1"
    assert kerax.spec((2, 3), "int32").dtype == jnp.int32


def test_custom_layer_contract():
    kerax.register(Scale)
    check_layer(Scale(2.0), kerax.spec((None, 4)))


def test_layer_is_frozen_hashable_config():
    d = layers.Dense(3, activation="relu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.units = 4
    assert hash(d) == hash(layers.Dense(3, activation="relu"))
    assert d.get_config()["units"] == 3
    assert layers.Dense(3, name="x") != layers.Dense(3, name="y")


def test_apply_always_returns_pair_and_training_must_be_bool():
    p, s = Scale().init(jax.random.key(0), kerax.spec((None, 2)))
    out = Scale().apply(p, s, jnp.ones((1, 2)))
    assert isinstance(out, tuple) and len(out) == 2
    with pytest.raises(TypeError, match="training"):
        Scale().apply(p, s, jnp.ones((1, 2)), training=jnp.array(True))


def test_missing_key_in_training_names_the_layer():
    layer = Noisy(name="noise")
    with pytest.raises(ValueError, match="Noisy 'noise'.*key"):
        layer.apply({}, {}, jnp.ones((2, 2)), training=True)
    y, _ = layer.apply({}, {}, jnp.ones((2, 2)))  # Inference needs no key.
    np.testing.assert_array_equal(y, 1.0)


def test_names_are_deterministic_and_per_container():
    def build():
        return kerax.Sequential(
            [layers.Dense(2), layers.Dense(2), layers.Dense(2, name="out")]
        )

    a, b = build(), build()
    assert a._names == b._names == ("dense", "dense_1", "out")
    pa, _ = a.init(jax.random.key(0), kerax.spec((None, 3)))
    pb, _ = b.init(jax.random.key(0), kerax.spec((None, 3)))
    jax.tree.map(np.testing.assert_array_equal, pa, pb)


def test_explicit_names_win_and_auto_names_skip_them():
    assert naming.unique_names(
        [layers.Dense(1, name="dense"), layers.Dense(1), layers.Dense(1)]
    ) == ["dense", "dense_1", "dense_2"]
    assert naming.to_snake_case("BatchNormalization") == "batch_normalization"
    assert naming.to_snake_case("Conv2D") == "conv2d"


def test_duplicate_explicit_names_error():
    with pytest.raises(ValueError, match="both named 'x'"):
        kerax.Sequential([layers.Dense(1, name="x"), layers.Dense(1, name="x")])


def test_child_keys_depend_on_names_only():
    spec = kerax.spec((None, 3))
    alone = kerax.Sequential([layers.Dense(4, name="a")])
    grown = kerax.Sequential(
        [
            layers.Dense(3, name="first"),
            layers.Dense(3, name="b"),
            layers.Dense(4, name="a"),
        ]
    )
    p1, _ = alone.init(jax.random.key(0), spec)
    p2, _ = grown.init(jax.random.key(0), spec)
    # Adding layers before `a` does not change `a`'s init.
    np.testing.assert_array_equal(p1["a"]["kernel"], p2["a"]["kernel"])
    assert not np.array_equal(p2["first"]["kernel"], p2["b"]["kernel"])


def test_output_spec_is_cached_and_symbolic():
    d = layers.Dense(5)
    s = d.output_spec(kerax.spec((None, 3)))
    assert str(s.shape[0]) == "batch" and s.shape[1] == 5
    assert d.output_spec(kerax.spec((None, 3))) is s


def test_init_under_jit_and_vmap():
    model = kerax.Sequential([layers.Dense(4), layers.Dense(2)])
    spec = kerax.spec((None, 3))
    params, _ = jax.jit(lambda k: model.init(k, spec))(jax.random.key(0))
    stacked, _ = jax.vmap(lambda k: model.init(k, spec))(
        jax.random.split(jax.random.key(0), 5)
    )
    assert stacked["dense"]["kernel"].shape == (5, 3, 4)
    ys = jax.vmap(lambda p: model.apply(p, {}, jnp.ones((2, 3)))[0])(stacked)
    assert ys.shape == (5, 2, 2)
    assert params["dense_1"]["kernel"].shape == (4, 2)


def test_dense_feature_mismatch_error_names_layer():
    d = layers.Dense(2, name="classifier")
    p, s = d.init(jax.random.key(0), kerax.spec((None, 128)))
    with pytest.raises(
        ValueError,
        match=r"Dense 'classifier' expected inputs with last dimension 128, got \(32, 64\)",
    ):
        d.apply(p, s, jnp.ones((32, 64)))


def test_wrong_rank_error():
    with pytest.raises(ValueError, match="Dense 'dense' expected inputs of rank >= 2"):
        layers.Dense(2).init(jax.random.key(0), jax.ShapeDtypeStruct((3,), jnp.float32))


def test_layer_called_on_arrays_explains_apply():
    with pytest.raises(TypeError, match="called on arrays.*apply"):
        layers.Dense(2)(jnp.ones((1, 2)))


@pytest.mark.parametrize(
    "policy", ["mixed_bfloat16", "mixed_float16", "bfloat16", "float16"]
)
def test_dtype_policies(policy):
    d = layers.Dense(3, dtype=policy)
    p, s = d.init(jax.random.key(0), kerax.spec((None, 2)))
    pol = kerax.DTypePolicy(policy)
    assert p["kernel"].dtype == pol.variable_dtype
    y, _ = d.apply(p, s, jnp.ones((1, 2)))
    assert y.dtype == pol.compute_dtype


def test_global_dtype_policy():
    kerax.set_dtype_policy("mixed_bfloat16")
    try:
        d = layers.Dense(3)
        p, s = d.init(jax.random.key(0), kerax.spec((None, 2)))
        y, _ = d.apply(p, s, jnp.ones((1, 2)))
        assert p["kernel"].dtype == jnp.float32 and y.dtype == jnp.bfloat16
    finally:
        kerax.set_dtype_policy("float32")
    with pytest.raises(ValueError, match="Unknown dtype policy"):
        kerax.set_dtype_policy("float8")


def test_regularization_and_constraints():
    d = layers.Dense(3, kernel_regularizer="l2", kernel_constraint="non_neg", name="d")
    model = kerax.Sequential([d])
    p, s = model.init(jax.random.key(0), kerax.spec((None, 2)))
    want = 0.01 * jnp.sum(p["d"]["kernel"] ** 2)
    np.testing.assert_allclose(model.regularization_loss(p), want, rtol=1e-6)
    _, _, aux = model.apply_with_losses(p, s, jnp.ones((1, 2)))
    np.testing.assert_allclose(aux, want, rtol=1e-6)
    c = model.constrain(p)
    assert bool(jnp.all(c["d"]["kernel"] >= 0))


def test_trainable_mask():
    model = kerax.Sequential(
        [layers.Dense(2, trainable=False, name="frozen"), layers.Dense(2, name="live")]
    )
    p, _ = model.init(jax.random.key(0), kerax.spec((None, 2)))
    mask = model.trainable_mask(p)
    assert mask == {
        "frozen": {"kernel": False, "bias": False},
        "live": {"kernel": True, "bias": True},
    }


class Shift(Scale):
    """Never registered before the test below."""


def test_config_round_trip_custom_layer_needs_register():
    model = kerax.Sequential([Shift(3.0, name="shift"), layers.Dense(2)])
    text = kerax.to_json(model)
    with pytest.raises(ValueError, match="kerax.register\\(Shift\\)"):
        kerax.from_config(text)
    kerax.register(Shift)
    rebuilt = kerax.from_config(text)
    p, s = model.init(jax.random.key(0), kerax.spec((None, 2)))
    np.testing.assert_array_equal(
        rebuilt.apply(p, s, jnp.ones((1, 2)))[0], model.apply(p, s, jnp.ones((1, 2)))[0]
    )


def test_two_custom_layers_with_one_python_name_register_under_own_names():
    def make():
        class Twin(Scale):
            pass

        return Twin

    first, second = make(), make()
    kerax.register(first)
    with pytest.raises(ValueError, match='name="package>Twin"'):
        kerax.register(second)  # "Twin" is taken by the first class.
    kerax.register(second, name="pkg_b>Twin")
    for cls, saved_as in ((first, "Twin"), (second, "pkg_b>Twin")):
        model = kerax.Sequential([cls(2.0, name="twin")])
        config = json.loads(kerax.to_json(model))
        assert saved_as in json.dumps(config)
        rebuilt = kerax.from_config(config)
        assert type(rebuilt.layers[-1]) is cls


def test_loading_cannot_run_code():
    evil = {"class_name": "os.system", "config": {"command": "echo pwned"}}
    with pytest.raises(ValueError, match="Unknown layer class"):
        kerax.from_config(evil)
    evil2 = {
        "class_name": "Dense",
        "config": {
            "units": 2,
            "activation": {"module": "registered", "name": "__import__"},
        },
    }
    with pytest.raises(ValueError, match="not registered"):
        kerax.from_config(evil2)
    evil3 = {"class_name": "Dense", "config": {"units": 2, "__class__": "x"}}
    with pytest.raises(ValueError, match="unknown keys"):
        kerax.from_config(json.dumps(evil3))


def test_eager_init_is_one_program_with_the_op_by_op_values():
    # Eager `init` compiles one program (at XLA's cheapest level) whose draws
    # are those of running the init operation by operation (float transforms
    # of the same bits: equal to the last bit).
    from kerax.core import layer as layer_module

    model = kerax.Sequential(
        [
            kerax.Input((6, 4)),
            layers.LSTM(5, return_sequences=True),  # orthogonal (QR)
            layers.Conv1D(3, 2, kernel_initializer="he_normal"),  # truncated normal
            layers.Flatten(),
            layers.Dense(2, kernel_initializer="random_normal"),
        ]
    )
    key = jax.random.key(7)
    layer_module.clear_caches()
    params, state = model.init(key)
    # Keras's variable order survives the compiled program (jit sorts dicts).
    assert list(params["dense"]) == ["kernel", "bias"]
    assert list(params) == ["lstm", "conv1d", "dense"]
    model.init(jax.random.key(8))  # Another key: the same program.
    assert layer_module._init_program.cache_info().currsize == 1
    program, _ = layer_module._init_program(model, (model.input_spec,), ())
    assert program._cache_size() == 1
    with jax.disable_jit():
        op_by_op = model.init(key)
    for a, b in zip(jax.tree.leaves((params, state)), jax.tree.leaves(op_by_op)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        assert a.dtype == b.dtype
