"""Activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax."""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop import layer_from_keras
from kerax.testing import check_layer, keras_parity

KEY = jax.random.key(0)


@pytest.mark.parametrize(
    "layer,keras_layer",
    [
        (layers.Activation("relu"), keras.layers.Activation("relu")),
        (layers.Activation("gelu"), keras.layers.Activation("gelu")),
        (layers.ReLU(), keras.layers.ReLU()),
        (
            layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5),
            keras.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5),
        ),
        (layers.ReLU(max_value=6.0), keras.layers.ReLU(max_value=6.0)),
        (layers.LeakyReLU(), keras.layers.LeakyReLU()),
        (layers.LeakyReLU(0.05), keras.layers.LeakyReLU(0.05)),
        (layers.ELU(), keras.layers.ELU()),
        (layers.ELU(alpha=0.5), keras.layers.ELU(alpha=0.5)),
        (layers.Softmax(), keras.layers.Softmax()),
        (layers.Softmax(axis=1), keras.layers.Softmax(axis=1)),
        (layers.Softmax(axis=(1, 2)), keras.layers.Softmax(axis=(1, 2))),
    ],
    ids=lambda v: type(v).__name__,
)
def test_stateless_activation_contract_and_parity(layer, keras_layer, rng):
    check_layer(layer, kerax.spec((None, 3, 4)))
    x = 2 * rng.standard_normal((2, 3, 4), np.float32)
    kx, _, _ = keras_parity(keras_layer, x)
    assert kx == dataclasses.replace(
        layer, name=kx.name
    )  # The config translated field for field.


@pytest.mark.parametrize(
    "shared_axes,shape",
    [
        (None, (None, 3, 4)),
        ((1,), (None, 3, 4)),
        ((1, 2), (None, 2, 3, 4)),
        (1, (None, None, 4)),
    ],
)
def test_prelu_contract_and_parity(shared_axes, shape, rng):
    layer = layers.PReLU(alpha_initializer="random_uniform", shared_axes=shared_axes)
    params, _, _, _ = check_layer(layer, kerax.spec(shape))
    expect = [
        1 if shared_axes is not None and i + 1 in np.atleast_1d(shared_axes) else d
        for i, d in enumerate(shape[1:])
    ]
    assert params["alpha"].shape == tuple(expect)
    x = 2 * rng.standard_normal(
        (2, *[3 if d is None else d for d in shape[1:]]), np.float32
    )
    kl = keras.layers.PReLU(alpha_initializer="random_uniform", shared_axes=shared_axes)
    kx, _, _ = keras_parity(kl, x)
    assert kx.shared_axes == (
        None if shared_axes is None else tuple(np.atleast_1d(shared_axes).tolist())
    )


def test_prelu_regularizer_and_errors():
    layer = layers.PReLU(alpha_initializer="ones", alpha_regularizer="l2")
    p, _ = layer.init(KEY, kerax.spec((None, 3)))
    np.testing.assert_allclose(layer.regularization_loss(p), 0.03, rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"PReLU 'p_re_lu' expected inputs of shape \(None, 3\)"
    ):
        layer.apply(p, {}, jnp.ones((2, 4)))
    with pytest.raises(ValueError, match="known sizes"):
        layers.PReLU().init(KEY, kerax.spec((None, None, 4)))
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.PReLU().init(KEY, kerax.spec((None,)))
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU(shared_axes=0)


def test_softmax_mask_matches_keras(rng):
    x = 2 * rng.standard_normal((2, 3, 4), np.float32)
    mask = rng.random((2, 3, 4)) > 0.3
    kl = keras.layers.Softmax()
    kx = layer_from_keras(kl)
    for m in (mask, mask[:, :, :1], mask[0, 0], mask.astype(np.float32)):
        want = np.asarray(kl(x, mask=m))
        got, _ = kx.apply({}, {}, jnp.asarray(x), mask=jnp.asarray(m))
        np.testing.assert_allclose(got, want, atol=1e-6)
    # Masked positions are exactly 0 and the rest still sums to 1.
    got, _ = kx.apply({}, {}, jnp.asarray(x), mask=jnp.asarray(mask))
    assert float(jnp.abs(jnp.where(mask, 0.0, got)).max()) == 0.0
    # Keras's -1e9 (not -inf): a fully masked row is uniform before re-masking.
    kl2 = keras.layers.Softmax(axis=(1, 2))
    np.testing.assert_allclose(
        layer_from_keras(kl2).apply({}, {}, jnp.asarray(x), mask=jnp.asarray(mask))[0],
        np.asarray(kl2(x, mask=mask)),
        atol=1e-6,
    )


def test_softmax_mask_errors():
    layer = layers.Softmax()
    with pytest.raises(ValueError, match="must be broadcastable"):
        layer.apply({}, {}, jnp.ones((2, 3, 4)), mask=jnp.ones((2, 3), bool))
    with pytest.raises(ValueError, match="out of range"):
        layers.Softmax(axis=2).init(KEY, kerax.spec((None, 3)))
    with pytest.raises(ValueError, match="axis"):
        layers.Softmax(axis="last")


def test_activation_layer_errors():
    with pytest.raises(
        ValueError,
        match="Activation 'activation': argument `activation`: Unknown activation 'nope'",
    ):
        layers.Activation("nope")
    with pytest.raises(TypeError, match="activation"):  # Required, as in Keras.
        layers.Activation()
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1.0)
    with pytest.raises(
        ValueError,
        match="ReLU 're_lu': argument `negative_slope`: cannot be None or a negative",
    ):
        layers.ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="threshold"):
        layers.ReLU(threshold=None)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(-1)
    with pytest.raises(ValueError, match="alpha"):
        layers.ELU(alpha="big")


def test_activation_layers_pass_masks():
    m = jnp.array([[True, False]])
    for layer in (
        layers.Activation("relu"),
        layers.ReLU(),
        layers.LeakyReLU(),
        layers.PReLU(),
        layers.ELU(),
        layers.Softmax(),
    ):
        assert layer.compute_mask(jnp.ones((1, 2, 3)), mask=m) is m
