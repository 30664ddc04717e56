"""Regularization layers: the dropout family, noise layers, ActivityRegularization, auxiliary losses."""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop import layer_from_keras, layer_weights
from kerax.testing import check_layer, keras_parity

KEY = jax.random.key(0)
RANDOM_LAYERS = [
    (layers.Dropout(0.3), keras.layers.Dropout(0.3), (None, 4, 5)),
    (
        layers.Dropout(0.5, noise_shape=(None, 1, 5), seed=7),
        keras.layers.Dropout(0.5, noise_shape=(None, 1, 5), seed=7),
        (None, 4, 5),
    ),
    (layers.SpatialDropout1D(0.4), keras.layers.SpatialDropout1D(0.4), (None, 4, 5)),
    (
        layers.SpatialDropout2D(0.4, data_format="channels_first"),
        keras.layers.SpatialDropout2D(0.4, data_format="channels_first"),
        (None, 3, 4, 5),
    ),
    (
        layers.SpatialDropout3D(0.4, seed=1),
        keras.layers.SpatialDropout3D(0.4, seed=1),
        (None, 2, 3, 4, 5),
    ),
    (layers.GaussianDropout(0.2), keras.layers.GaussianDropout(0.2), (None, 4, 5)),
    (
        layers.GaussianNoise(0.5, seed=3),
        keras.layers.GaussianNoise(0.5, seed=3),
        (None, 4, 5),
    ),
    (
        layers.AlphaDropout(0.2, noise_shape=(None, 4, 1)),
        keras.layers.AlphaDropout(0.2, noise_shape=(None, 4, 1)),
        (None, 4, 5),
    ),
]


@pytest.mark.parametrize(
    "layer,keras_layer,shape", RANDOM_LAYERS, ids=lambda v: type(v).__name__
)
def test_random_layer_contract_inference_identity_and_key(
    layer, keras_layer, shape, rng
):
    check_layer(layer, kerax.spec(shape), training_changes_state=False)
    x = rng.standard_normal((2, *shape[1:]), np.float32)
    # Inference only: Keras's and kerax's random streams differ by design.
    kx, _, _ = keras_parity(keras_layer, x, training_modes=(False,))
    assert kx == dataclasses.replace(layer, name=kx.name)
    y, _ = layer.apply({}, {}, jnp.asarray(x))
    np.testing.assert_array_equal(y, x)
    with pytest.raises(
        ValueError,
        match=rf"{type(layer).__name__} '\w+' is random in training and needs a PRNG key",
    ):
        layer.apply({}, {}, jnp.asarray(x), training=True)
    y1, _ = layer.apply({}, {}, jnp.asarray(x), key=KEY, training=True)
    y2, _ = layer.apply({}, {}, jnp.asarray(x), key=KEY, training=True)
    y3, _ = layer.apply({}, {}, jnp.asarray(x), key=jax.random.key(1), training=True)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(y1, y3)
    # Keras's `seed` is folded into the key: another seed, other noise.
    y4, _ = dataclasses.replace(layer, seed=99).apply(
        {}, {}, jnp.asarray(x), key=KEY, training=True
    )
    assert not np.array_equal(y1, y4)


def test_dropout_statistics_and_noise_shape():
    x = jnp.ones((64, 8, 32))
    y, _ = layers.Dropout(0.25).apply({}, {}, x, key=KEY, training=True)
    dropped = float(jnp.mean(y == 0))
    assert abs(dropped - 0.25) < 0.02
    np.testing.assert_allclose(np.unique(np.asarray(y)), [0.0, 1 / 0.75], rtol=1e-6)
    y, _ = layers.Dropout(0.5, noise_shape=(None, 1, 32)).apply(
        {}, {}, x, key=KEY, training=True
    )
    assert bool(jnp.all(y == y[:, :1, :]))  # One draw shared along axis 1.
    y, _ = layers.Dropout(1.0).apply({}, {}, x, key=KEY, training=True)
    assert float(jnp.abs(y).max()) == 0.0
    y, _ = layers.Dropout(0.0).apply({}, {}, x, training=True)  # rate 0 needs no key.
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize(
    "layer,shape,channel_axis",
    [
        (layers.SpatialDropout1D(0.5), (16, 6, 8), 2),
        (layers.SpatialDropout2D(0.5), (16, 3, 4, 8), 3),
        (layers.SpatialDropout2D(0.5, data_format="channels_first"), (16, 8, 3, 4), 1),
        (layers.SpatialDropout3D(0.5), (16, 2, 3, 4, 8), 4),
        (
            layers.SpatialDropout3D(0.5, data_format="channels_first"),
            (16, 8, 2, 3, 4),
            1,
        ),
    ],
)
def test_spatial_dropout_drops_whole_channels(layer, shape, channel_axis):
    y, _ = layer.apply({}, {}, jnp.ones(shape), key=KEY, training=True)
    spatial = tuple(i for i in range(1, len(shape)) if i != channel_axis)
    per_map = jnp.min(y, axis=spatial) == jnp.max(y, axis=spatial)
    assert bool(jnp.all(per_map))
    assert 0.3 < float(jnp.mean(y == 0)) < 0.7


def test_noise_layer_statistics():
    x = jnp.ones((200, 500))
    y, _ = layers.GaussianDropout(0.2).apply({}, {}, x, key=KEY, training=True)
    np.testing.assert_allclose(float(jnp.mean(y)), 1.0, atol=0.01)
    np.testing.assert_allclose(float(jnp.std(y)), np.sqrt(0.2 / 0.8), rtol=0.02)
    y, _ = layers.GaussianNoise(0.3).apply({}, {}, x, key=KEY, training=True)
    np.testing.assert_allclose(float(jnp.mean(y)), 1.0, atol=0.01)
    np.testing.assert_allclose(float(jnp.std(y)), 0.3, rtol=0.02)
    # AlphaDropout keeps a standard normal input at mean 0, variance 1.
    z = jax.random.normal(jax.random.key(5), (400, 500))
    y, _ = layers.AlphaDropout(0.2).apply({}, {}, z, key=KEY, training=True)
    np.testing.assert_allclose(float(jnp.mean(y)), 0.0, atol=0.02)
    np.testing.assert_allclose(float(jnp.var(y)), 1.0, atol=0.03)


def test_random_layer_config_errors():
    for cls in (
        layers.Dropout,
        layers.SpatialDropout1D,
        layers.GaussianDropout,
        layers.AlphaDropout,
    ):
        with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
            cls(1.5)
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.1, noise_shape="abc")
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.1, noise_shape=(None, 0))
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.1, noise_shape=(None, 4)).apply(
            {}, {}, jnp.ones((2, 3, 4)), key=KEY, training=True
        )
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.1, data_format="channels_middle")
    with pytest.raises(ValueError, match="Dropout 'dropout': argument `seed`"):
        layers.Dropout(0.1, seed="x")
    with pytest.raises(TypeError, match="rate"):  # Required, as in Keras.
        layers.Dropout()
    with pytest.raises(
        ValueError,
        match=r"SpatialDropout2D 'spatial_dropout2d' expected inputs of rank 4",
    ):
        layers.SpatialDropout2D(0.1).init(KEY, kerax.spec((None, 3, 4)))
    with pytest.raises(ValueError, match=r"expected inputs of rank 3"):
        layers.SpatialDropout1D(0.1).init(KEY, kerax.spec((None, 3, 4, 5)))


def test_random_layers_pass_masks():
    m = jnp.array([[True, False]])
    for layer in (
        layers.Dropout(0.1),
        layers.GaussianNoise(0.1),
        layers.AlphaDropout(0.1),
        layers.ActivityRegularization(),
    ):
        assert layer.compute_mask(jnp.ones((1, 2, 3)), mask=m) is m


# -------------------------------------------------- ActivityRegularization
def test_activity_regularization_contract_parity_and_config(rng):
    layer = layers.ActivityRegularization(l1=0.01, l2=0.02)
    check_layer(layer, kerax.spec((None, 3)), training_changes_state=False)
    x = rng.standard_normal((4, 3), np.float32)
    kl = keras.layers.ActivityRegularization(l1=0.01, l2=0.02)
    kx, _, _ = keras_parity(kl, x)
    assert (kx.l1, kx.l2) == (0.01, 0.02)
    with pytest.raises(ValueError, match="l1"):
        layers.ActivityRegularization(l1=-1.0)


def test_activity_loss_is_divided_by_batch_size_like_keras():
    layer = layers.ActivityRegularization(l2=0.5)
    x = jnp.ones((4, 3))
    _, _, aux = layer.apply_with_losses({}, {}, x)
    np.testing.assert_allclose(aux, 0.5 * 12 / 4, rtol=1e-6)
    _, _, aux = jax.jit(lambda v: layer.apply_with_losses({}, {}, v))(x)  # Traced, too.
    np.testing.assert_allclose(aux, 1.5, rtol=1e-6)
    _, _, aux = layer.apply_with_losses(
        {}, {}, jnp.ones((0, 3))
    )  # Keras's divide_no_nan.
    assert float(aux) == 0.0


@pytest.mark.parametrize("training", [False, True])
def test_apply_with_losses_equals_keras_model_losses(training, rng):
    inp = keras.Input((4,))
    dense = keras.layers.Dense(
        3,
        kernel_regularizer=keras.regularizers.l2(0.1),
        bias_regularizer=keras.regularizers.l1(0.05),
        activity_regularizer=keras.regularizers.l1(0.01),
        bias_initializer="random_normal",
    )
    emb_in = keras.Input((2,), dtype="int32")
    emb = keras.layers.Embedding(
        5,
        3,
        embeddings_regularizer=keras.regularizers.l2(0.2),
        activity_regularizer="l2",
    )
    act = keras.layers.ActivityRegularization(l1=0.02, l2=0.03)
    einsum = keras.layers.EinsumDense(
        "ab,bc->ac",
        2,
        bias_axes="c",
        kernel_regularizer="l1",
        activity_regularizer="l1",
    )
    out = einsum(act(dense(inp)))
    model = keras.Model([inp, emb_in], [out, emb(emb_in)])
    x = rng.standard_normal((5, 4), np.float32)
    ids = np.array([[1, 4], [0, 2], [3, 3], [1, 1], [2, 0]], np.int32)
    model([x, ids], training=training)
    want = sum(float(v) for v in model.losses)

    kx = [layer_from_keras(layer) for layer in (dense, act, einsum, emb)]
    params = {
        layer.name: layer_weights(keras_layer, layer)[0]
        for layer, keras_layer in zip(kx, (dense, act, einsum, emb))
    }
    a, i = kerax.Input((4,)), kerax.Input((2,), dtype="int32")
    kmodel = kerax.Model([a, i], [kx[2](kx[1](kx[0](a))), kx[3](i)])
    params = {k: v for k, v in params.items() if v}
    _, _, aux = kmodel.apply_with_losses(
        params, {}, [jnp.asarray(x), jnp.asarray(ids)], training=training
    )
    np.testing.assert_allclose(aux, want, rtol=1e-5)
