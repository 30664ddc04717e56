"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, and their functions."""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.testing import assert_trees_close, check_layer, keras_parity

KEY = jax.random.key(0)
ELEMENTWISE = [
    (layers.Add, keras.layers.Add),
    (layers.Subtract, keras.layers.Subtract),
    (layers.Multiply, keras.layers.Multiply),
    (layers.Average, keras.layers.Average),
    (layers.Maximum, keras.layers.Maximum),
    (layers.Minimum, keras.layers.Minimum),
]
SHAPES = [
    [(None, 4), (None, 4)],
    [(None, 3, 4), (None, 1, 4)],  # Broadcast.
    [(None, 4), (None, 3, 4)],  # Lower rank: axes inserted after the batch axis.
    [(None, 2, 4), (None, 2, 4), (None, 2, 4)],
]


ELEMENTWISE_CASES = [
    pytest.param(
        cls,
        keras_cls,
        shapes,
        id=f"{cls.__name__}-{'x'.join(str(len(s)) for s in shapes)}",
    )
    for cls, keras_cls in ELEMENTWISE
    for shapes in SHAPES
    if cls is not layers.Subtract
    or len(shapes) == 2  # Subtract takes exactly two inputs.
]


@pytest.mark.parametrize("cls,keras_cls,shapes", ELEMENTWISE_CASES)
def test_elementwise_contract_and_parity(cls, keras_cls, shapes, rng):
    layer = cls()
    specs = [kerax.spec(s) for s in shapes]
    if shapes == SHAPES[0]:  # One full contract check per layer keeps the file fast.
        check_layer(layer, specs)
    xs = [rng.standard_normal((2, *s[1:]), np.float32) for s in shapes]
    kx, _, _ = keras_parity(keras_cls(), xs)
    assert kx == dataclasses.replace(layer, name=kx.name)
    y, _ = layer.apply({}, {}, [jnp.asarray(x) for x in xs])
    assert layer.output_spec(specs).shape[1:] == y.shape[1:]


@pytest.mark.parametrize(
    "keras_cls",
    [
        keras.layers.Add,
        keras.layers.Multiply,
        keras.layers.Maximum,
        keras.layers.Minimum,
        keras.layers.Average,
    ],
)
@pytest.mark.parametrize("which", ["both", "first", "second"])
def test_masks_combine_like_keras(keras_cls, which, rng):
    xs = [
        rng.standard_normal((2, 3, 4), np.float32),
        rng.standard_normal((2, 3, 4), np.float32),
    ]
    m1 = np.array([[True, False, True], [False, True, True]])
    m2 = np.array([[True, True, False], [False, True, False]])
    masks = {"both": [m1, m2], "first": [m1, None], "second": [None, m2]}[which]
    keras_parity(keras_cls(), xs, mask=masks, training_modes=(False,))


@pytest.mark.parametrize(
    "axis,shapes",
    [
        (-1, [(None, 3, 2), (None, 3, 4)]),
        (1, [(None, 2, 3), (None, 4, 3)]),
        (2, [(None, 2, 1), (None, 2, 3)]),
    ],
)
def test_concatenate_contract_and_parity(axis, shapes, rng):
    layer = layers.Concatenate(axis=axis)
    check_layer(layer, [kerax.spec(s) for s in shapes])
    xs = [rng.standard_normal((2, *s[1:]), np.float32) for s in shapes]
    kx, _, _ = keras_parity(keras.layers.Concatenate(axis=axis), xs)
    assert kx.axis == axis
    masks = [
        np.array([[True, False], [True, True]]) if s[1] == 2 else None for s in shapes
    ]
    if axis == 1:
        masks = [np.ones((2, s[1]), bool) for s in shapes]
        masks[0][0, 1] = False
    keras_parity(
        keras.layers.Concatenate(axis=axis), xs, mask=masks, training_modes=(False,)
    )


DOT_CASES = [
    (1, False, [(None, 4), (None, 4)]),
    (-1, True, [(None, 4), (None, 4)]),
    ((2, 2), False, [(None, 3, 4), (None, 5, 4)]),
    ((1, 1), True, [(None, 3, 4), (None, 3, 5)]),
    ((2, 1), False, [(None, 3, 4), (None, 4)]),
    ((1, 2), False, [(None, 4), (None, 3, 4)]),
    (-1, False, [(None, 2, 3, 4), (None, 5, 4)]),
]


@pytest.mark.parametrize("axes,normalize,shapes", DOT_CASES)
def test_dot_contract_and_parity(axes, normalize, shapes, rng):
    layer = layers.Dot(axes, normalize=normalize)
    check_layer(layer, [kerax.spec(s) for s in shapes])
    xs = [rng.standard_normal((2, *s[1:]), np.float32) for s in shapes]
    kl = keras.layers.Dot(axes, normalize=normalize)
    kx, _, _ = keras_parity(kl, xs)
    assert kx == dataclasses.replace(layer, name=kx.name)
    want = kl.compute_output_shape([(None, *s[1:]) for s in shapes])
    assert tuple(layer.output_spec([kerax.spec(s) for s in shapes]).shape[1:]) == tuple(
        want[1:]
    )
    # Dot never propagates a mask (Keras).
    assert (
        layer.compute_mask([jnp.ones((2, 4))] * 2, mask=[jnp.ones((2,), bool)] * 2)
        is None
    )


def test_functional_forms_build_nodes_and_match_keras(rng):
    shapes = [(3, 4), (3, 4)]
    a, b = kerax.Input(shapes[0]), kerax.Input(shapes[1])
    ka, kb = keras.Input(shapes[0]), keras.Input(shapes[1])
    outs, kouts = [], []
    for fn, kfn, kw in [
        (layers.add, keras.layers.add, {}),
        (layers.subtract, keras.layers.subtract, {}),
        (layers.multiply, keras.layers.multiply, {}),
        (layers.average, keras.layers.average, {}),
        (layers.maximum, keras.layers.maximum, {}),
        (layers.minimum, keras.layers.minimum, {}),
        (layers.concatenate, keras.layers.concatenate, {"axis": 1}),
        (layers.dot, keras.layers.dot, {"axes": (2, 2)}),
    ]:
        node = fn([a, b], **kw)
        assert isinstance(node, kerax.Node)
        outs.append(node)
        kouts.append(kfn([ka, kb], **kw))
    model = kerax.Model([a, b], outs)
    kmodel = keras.Model([ka, kb], kouts)
    xs = [rng.standard_normal((2, *s), np.float32) for s in shapes]
    params, state = model.init(KEY, [kerax.spec((None, *s)) for s in shapes])
    got, _ = model.apply(params, state, [jnp.asarray(x) for x in xs])
    for g, w in zip(got, kmodel(xs)):
        np.testing.assert_allclose(g, np.asarray(w), atol=1e-5)
    # The graph round-trips through JSON.
    rebuilt = kerax.from_config(kerax.to_json(model))
    again, _ = rebuilt.apply(params, state, [jnp.asarray(x) for x in xs])
    assert_trees_close(again, got, atol=0, rtol=0)


def test_mask_from_embedding_flows_through_a_merge_in_a_model():
    ids_a, ids_b = kerax.Input((4,), dtype="int32"), kerax.Input((4,), dtype="int32")
    emb = layers.Embedding(6, 3, mask_zero=True)
    merged = layers.Maximum()([emb(ids_a), emb(ids_b)])
    model = kerax.Model([ids_a, ids_b], merged)
    params, state = model.init(KEY, [kerax.spec((None, 4), "int32")] * 2)
    a = jnp.array([[1, 0, 2, 0]])
    b = jnp.array([[3, 4, 0, 0]])
    y, _, mask = model.apply_masked(params, state, [a, b])
    np.testing.assert_array_equal(mask, [[True, True, True, False]])
    table = params["embedding"]["embeddings"]
    np.testing.assert_allclose(
        y[0, 1], table[4]
    )  # Masked left entry takes the right value.
    np.testing.assert_allclose(y[0, 2], table[2])


def test_merge_errors():
    with pytest.raises(
        ValueError,
        match=r"Add 'add': A merge layer should be called on a list of inputs",
    ):
        layers.Add().init(KEY, kerax.spec((None, 3)))
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add().apply({}, {}, jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract().init(KEY, [kerax.spec((None, 3))] * 3)
    with pytest.raises(ValueError, match="Inputs have incompatible shapes"):
        layers.Add().init(KEY, [kerax.spec((None, 3)), kerax.spec((None, 4))])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add().init(KEY, [kerax.spec((2, 3)), kerax.spec((5, 3))])
    with pytest.raises(
        ValueError, match="matching shapes except for the concatenation axis"
    ):
        layers.Concatenate(axis=1).init(
            KEY, [kerax.spec((None, 2, 3)), kerax.spec((None, 2, 4))]
        )
    with pytest.raises(
        ValueError, match="matching shapes except for the concatenation axis"
    ):
        layers.Concatenate().init(
            KEY, [kerax.spec((None, 2, 3)), kerax.spec((None, 3))]
        )
    with pytest.raises(ValueError, match="out of range"):
        layers.Concatenate(axis=3).init(KEY, [kerax.spec((None, 2, 3))] * 2)
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        layers.Dot(1).init(KEY, [kerax.spec((None, 3)), kerax.spec((None, 4))])
    with pytest.raises(ValueError, match="over axis 0"):
        layers.Dot(0).init(KEY, [kerax.spec((None, 3))] * 2)
    with pytest.raises(ValueError, match="rank < 2"):
        layers.Dot(1).init(KEY, [kerax.spec((None,))] * 2)
    with pytest.raises(TypeError, match="axes"):
        layers.Dot("last")
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot((1, 2, 3))
    with pytest.raises(TypeError, match="was called on arrays"):
        layers.add([jnp.ones((1, 2)), jnp.ones((1, 2))])
