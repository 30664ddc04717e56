"""Composition: Sequential, functional graphs, shared layers, nesting, Repeat, summary."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.testing import assert_trees_close, check_layer


def make_matcher(num_classes=3):
    left, right = kerax.Input((6,), name="left"), kerax.Input((6,), name="right")
    encoder = kerax.Sequential(
        [layers.Dense(8, activation="relu"), layers.Dense(8)], name="encoder"
    )
    a, b = encoder(left), encoder(right)
    both = layers.Dense(8, name="mix")
    return kerax.Model(
        inputs={"left": left, "right": right},
        outputs={
            "logits": layers.Dense(num_classes, name="classifier")(both(a)),
            "score": layers.Dense(1, name="similarity")(both(b)),
        },
    )


def inputs(batch=2):
    k1, k2 = jax.random.split(jax.random.key(1))
    return {
        "left": jax.random.normal(k1, (batch, 6)),
        "right": jax.random.normal(k2, (batch, 6)),
    }


def test_sequential_with_input_knows_its_spec():
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(3), layers.Dense(2)])
    params, state = model.init(jax.random.key(0))
    assert set(params) == {"dense", "dense_1"}
    y, _ = model.apply(params, state, jnp.ones((5, 4)))
    assert y.shape == (5, 2)
    assert model.output_spec().shape[1] == 2


def test_sequential_contract():
    check_layer(
        kerax.Sequential([layers.Dense(3, activation="tanh"), layers.Dense(2)]),
        kerax.spec((None, 4)),
    )


def test_functional_dict_in_dict_out_shared_layers():
    model = make_matcher()
    spec = {"left": kerax.spec((None, 6)), "right": kerax.spec((None, 6))}
    params, state = model.init(jax.random.key(0), spec)
    # One set of weights for the shared encoder and the shared `mix` layer.
    assert set(params) == {"encoder", "mix", "classifier", "similarity"}
    assert set(params["encoder"]) == {"dense", "dense_1"}
    y, _ = jax.jit(model.apply)(params, state, inputs())
    assert y["logits"].shape == (2, 3) and y["score"].shape == (2, 1)
    check_layer(model, spec)


def test_shared_layer_calls_get_distinct_keys():
    x = kerax.Input((4,))
    drop = layers.Dropout(0.5)
    model = kerax.Model(x, [drop(x), drop(x)])
    params, state = model.init(jax.random.key(0), kerax.spec((None, 4)))
    (a, b), _ = model.apply(
        params, state, jnp.ones((2, 4)), key=jax.random.key(3), training=True
    )
    assert not np.array_equal(a, b)


def test_list_inputs_and_outputs():
    a, b = kerax.Input((3,)), kerax.Input((3,))
    d = layers.Dense(2)
    model = kerax.Model([a, b], [d(a), d(b)])
    params, state = model.init(jax.random.key(0), [kerax.spec((None, 3))] * 2)
    (ya, yb), _ = model.apply(params, state, [jnp.ones((1, 3)), jnp.zeros((1, 3))])
    np.testing.assert_allclose(yb, params["dense"]["bias"][None])
    # A tuple works where the model was built with a list.
    model.apply(params, state, (jnp.ones((1, 3)), jnp.zeros((1, 3))))


def test_nested_models_params_nest():
    inner_in = kerax.Input((4,))
    inner = kerax.Model(
        inner_in, layers.Dense(4, name="proj")(inner_in), name="encoder"
    )
    x = kerax.Input((4,))
    outer = kerax.Model(x, layers.Dense(1, name="head")(inner(x)))
    params, _ = outer.init(jax.random.key(0), kerax.spec((None, 4)))
    assert params["encoder"]["proj"]["kernel"].shape == (4, 4)


class TwoOut(kerax.Layer):
    def call(self, params, state, x, *, key, training):
        return (x * 2, x + 1), state


def test_indexable_nodes_for_multi_output_layers():
    x = kerax.Input((3,))
    out = TwoOut()(x)
    model = kerax.Model(x, layers.Dense(2)(out[1]))
    params, state = model.init(jax.random.key(0), kerax.spec((None, 3)))
    y, _ = model.apply(params, state, jnp.zeros((1, 3)))
    np.testing.assert_allclose(
        y,
        jnp.ones((1, 3)) @ params["dense"]["kernel"] + params["dense"]["bias"],
        rtol=1e-6,
    )
    with pytest.raises(IndexError):
        out[5]


def test_disconnected_input_is_an_error():
    a, b = kerax.Input((3,), name="a"), kerax.Input((3,), name="b")
    y = layers.Dense(2)(b)
    with pytest.raises(ValueError, match="depends on Input 'b'.*not in `inputs`"):
        kerax.Model(a, y)


def test_wrong_input_structure_or_shape():
    model = make_matcher()
    with pytest.raises(ValueError, match="keys"):
        model.init(jax.random.key(0), {"left": kerax.spec((None, 6))})
    with pytest.raises(
        ValueError,
        match="input 'right' expected shape \\(None, 6\\), got \\(None, 7\\)",
    ):
        model.init(
            jax.random.key(0),
            {"left": kerax.spec((None, 6)), "right": kerax.spec((None, 7))},
        )


def test_functional_config_round_trip_keeps_sharing():
    model = make_matcher()
    spec = {"left": kerax.spec((None, 6)), "right": kerax.spec((None, 6))}
    params, state = model.init(jax.random.key(0), spec)
    rebuilt = kerax.from_config(kerax.to_json(model))
    p2, _ = rebuilt.init(jax.random.key(0), spec)
    assert jax.tree.structure(p2) == jax.tree.structure(params)
    assert_trees_close(
        rebuilt.apply(params, state, inputs())[0],
        model.apply(params, state, inputs())[0],
        atol=0,
        rtol=0,
    )


def test_repeat_scans_stacked_params():
    block = kerax.Sequential(
        [layers.Dense(4, activation="tanh", name="ff")], name="block"
    )
    deep = layers.Repeat(block, 5)
    params, state = deep.init(jax.random.key(0), kerax.spec((None, 4)))
    assert params["block"]["ff"]["kernel"].shape == (5, 4, 4)
    x = jnp.ones((2, 4))
    y, _ = deep.apply(params, state, x)
    want = x
    for i in range(5):
        p_i = jax.tree.map(lambda a, i=i: a[i], params["block"])
        want, _ = block.apply(p_i, {}, want)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    check_layer(deep, kerax.spec((None, 4)))


def test_repeat_needs_shape_preserving_block():
    with pytest.raises(ValueError, match="must keep its input shape"):
        layers.Repeat(layers.Dense(3), 2).init(jax.random.key(0), kerax.spec((None, 4)))


def test_repeat_collects_regularization():
    deep = layers.Repeat(layers.Dense(2, kernel_regularizer="l2", name="d"), 3)
    params, state = deep.init(jax.random.key(0), kerax.spec((None, 2)))
    want = 0.01 * jnp.sum(params["d"]["kernel"] ** 2)
    np.testing.assert_allclose(deep.regularization_loss(params), want, rtol=1e-6)


def test_summary_sequential_and_functional():
    seq = kerax.Sequential(
        [kerax.Input((4,)), layers.Dense(3), layers.Dense(2, name="out")]
    )
    text = seq.summary(print_fn=None)
    assert (
        "dense (Dense)" in text and "(None, 3)" in text and "Total params: 23" in text
    )
    model = make_matcher()
    text = model.summary(print_fn=None)
    assert (
        "Connected to" in text
        and "encoder[0][0], encoder[1][0]" in text
        or "encoder[0][0]" in text
    )
    assert "Trainable params" in text


def test_input_shape_and_input_dim_start_a_sequential_as_in_keras():
    import keras

    with pytest.warns(UserWarning, match="prefer using an `Input"):
        model = kerax.Sequential(
            [
                kerax.layers.Dense(8, activation="relu", input_shape=(5,)),
                kerax.layers.Dense(2),
            ]
        )
    with pytest.warns(UserWarning):
        k_model = keras.Sequential(
            [
                keras.layers.Dense(8, activation="relu", input_shape=(5,)),
                keras.layers.Dense(2),
            ]
        )
    assert model.input_spec.shape[1:] == k_model.input_shape[1:]
    params, _ = model.init(jax.random.key(0))
    assert sum(p.size for p in jax.tree.leaves(params)) == k_model.count_params()
    # `input_dim` is `input_shape=(input_dim,)`; the argument stays out of the
    # config (Keras's does too), and an InputLayer reads it as its shape.
    with pytest.warns(UserWarning):
        dense = kerax.layers.Dense(4, input_dim=3)
    assert kerax.Sequential([dense]).input_spec.shape[1:] == (3,)
    assert (
        "input_dim" not in dense.get_config()
        and "input_shape" not in dense.get_config()
    )
    assert kerax.layers.InputLayer(input_shape=(6,)).shape == (6,)
    # A layer with an argument of that name keeps it (no warning).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kerax.layers.Embedding(input_dim=10, output_dim=3).input_dim == 10
    # Past the first layer it changes nothing, as in Keras.
    with pytest.warns(UserWarning):
        later = kerax.layers.Dense(2, input_shape=(9,))
    model = kerax.Sequential([kerax.Input((4,)), later])
    assert model.input_spec.shape[1:] == (4,)
