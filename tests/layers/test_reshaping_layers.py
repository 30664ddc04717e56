"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, Cropping, UpSampling, ZeroPadding."""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.core.spec import keras_shape
from kerax.testing import check_layer, keras_parity

KEY = jax.random.key(0)
CASES = [
    # kerax layer, Keras layer, input spec shape
    (layers.Flatten(), keras.layers.Flatten(), (None, 3, 4, 2)),
    (
        layers.Flatten(data_format="channels_first"),
        keras.layers.Flatten(data_format="channels_first"),
        (None, 3, 4, 2),
    ),
    (layers.Flatten(), keras.layers.Flatten(), (None,)),
    (layers.Reshape((6, 4)), keras.layers.Reshape((6, 4)), (None, 3, 8)),
    (layers.Reshape((-1, 2)), keras.layers.Reshape((-1, 2)), (None, 3, 4)),
    (layers.Permute((2, 1)), keras.layers.Permute((2, 1)), (None, 3, 4)),
    (layers.Permute((3, 1, 2)), keras.layers.Permute((3, 1, 2)), (None, 2, 3, 4)),
    (layers.RepeatVector(3), keras.layers.RepeatVector(3), (None, 4)),
    (layers.Cropping1D(), keras.layers.Cropping1D(), (None, 6, 2)),
    (layers.Cropping1D((2, 0)), keras.layers.Cropping1D((2, 0)), (None, 6, 2)),
    (
        layers.Cropping2D(((1, 0), (2, 1))),
        keras.layers.Cropping2D(((1, 0), (2, 1))),
        (None, 5, 6, 2),
    ),
    (
        layers.Cropping2D(1, data_format="channels_first"),
        keras.layers.Cropping2D(1, data_format="channels_first"),
        (None, 2, 5, 6),
    ),
    (
        layers.Cropping3D(((1, 1), (0, 1), (2, 0))),
        keras.layers.Cropping3D(((1, 1), (0, 1), (2, 0))),
        (None, 4, 4, 4, 2),
    ),
    (
        layers.Cropping3D(1, data_format="channels_first"),
        keras.layers.Cropping3D(1, data_format="channels_first"),
        (None, 2, 4, 4, 4),
    ),
    (layers.UpSampling1D(3), keras.layers.UpSampling1D(3), (None, 4, 2)),
    (layers.UpSampling2D((2, 3)), keras.layers.UpSampling2D((2, 3)), (None, 3, 4, 2)),
    (
        layers.UpSampling2D(2, interpolation="bilinear"),
        keras.layers.UpSampling2D(2, interpolation="bilinear"),
        (None, 3, 4, 2),
    ),
    (
        layers.UpSampling2D(
            (3, 2), data_format="channels_first", interpolation="bilinear"
        ),
        keras.layers.UpSampling2D(
            (3, 2), data_format="channels_first", interpolation="bilinear"
        ),
        (None, 2, 3, 4),
    ),
    (
        layers.UpSampling2D(2, interpolation="bicubic"),
        keras.layers.UpSampling2D(2, interpolation="bicubic"),
        (None, 3, 4, 2),
    ),
    (
        layers.UpSampling3D((1, 2, 3)),
        keras.layers.UpSampling3D((1, 2, 3)),
        (None, 2, 2, 2, 2),
    ),
    (
        layers.UpSampling3D(2, data_format="channels_first"),
        keras.layers.UpSampling3D(2, data_format="channels_first"),
        (None, 2, 2, 3, 2),
    ),
    (layers.ZeroPadding1D((1, 2)), keras.layers.ZeroPadding1D((1, 2)), (None, 4, 2)),
    (
        layers.ZeroPadding1D(2, data_format="channels_first"),
        keras.layers.ZeroPadding1D(2, data_format="channels_first"),
        (None, 2, 4),
    ),
    (
        layers.ZeroPadding2D(((1, 0), (2, 3))),
        keras.layers.ZeroPadding2D(((1, 0), (2, 3))),
        (None, 3, 3, 2),
    ),
    (
        layers.ZeroPadding2D((1, 2), data_format="channels_first"),
        keras.layers.ZeroPadding2D((1, 2), data_format="channels_first"),
        (None, 2, 3, 3),
    ),
    (layers.ZeroPadding3D(1), keras.layers.ZeroPadding3D(1), (None, 2, 2, 2, 1)),
    (
        layers.ZeroPadding3D(((0, 1), (1, 0), (2, 2))),
        keras.layers.ZeroPadding3D(((0, 1), (1, 0), (2, 2))),
        (None, 2, 2, 2, 1),
    ),
]


@pytest.mark.parametrize(
    "layer,keras_layer,shape", CASES, ids=lambda v: type(v).__name__
)
def test_contract_and_keras_parity(layer, keras_layer, shape, rng):
    check_layer(layer, kerax.spec(shape))
    x = rng.standard_normal((2, *shape[1:]), np.float32)
    kx, _, _ = keras_parity(keras_layer, x)
    assert kx == dataclasses.replace(
        layer, name=kx.name
    )  # Config translated field for field.
    # Keras's declared output shape agrees with kerax's symbolic spec.
    want = keras_layer.compute_output_shape((None, *shape[1:]))
    got = keras_shape(layer.output_spec(kerax.spec(shape)).shape)
    assert tuple(want) == got


@pytest.mark.parametrize(
    "layer,shape",
    [
        (layers.Flatten(), (None, None, 3)),
        (layers.Reshape((-1, 3)), (None, None, 3)),
        (layers.Permute((2, 1)), (None, None, 3)),
        (layers.Cropping1D((1, 0)), (None, None, 3)),
        (layers.UpSampling1D(2), (None, None, 3)),
        (layers.ZeroPadding1D(1), (None, None, 3)),
        (layers.UpSampling2D(2), (None, None, None, 3)),
    ],
    ids=lambda v: type(v).__name__,
)
def test_symbolic_non_batch_dims_export(layer, shape, rng):
    # check_layer substitutes one size for every symbol, so derived sizes (2*d1) are checked here instead.
    spec = layer.output_spec(kerax.spec(shape))
    assert str(spec.shape[0]) == "batch" and any(
        not isinstance(d, int) for d in spec.shape[1:]
    )
    exported = jax.export.export(jax.jit(lambda x: layer.apply({}, {}, x)[0]))(
        kerax.spec(shape)
    )
    x = rng.standard_normal(
        (2, *[5 if d is None else d for d in shape[1:]]), np.float32
    )
    want, _ = layer.apply({}, {}, jnp.asarray(x))
    np.testing.assert_allclose(exported.call(x), want, atol=1e-6)


def test_bilinear_upsampling_export_with_symbolic_batch(rng):
    layer = layers.UpSampling2D(2, interpolation="bilinear")
    exported = jax.export.export(jax.jit(lambda x: layer.apply({}, {}, x)[0]))(
        kerax.spec((None, 3, 4, 2))
    )
    x = rng.standard_normal((5, 3, 4, 2), np.float32)
    np.testing.assert_allclose(
        exported.call(x), layer.apply({}, {}, jnp.asarray(x))[0], atol=1e-6
    )


def test_reshaping_config_errors():
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="non-negative integer"):
        layers.Reshape((-2, 3))
    with pytest.raises(ValueError, match="Invalid permutation"):
        layers.Permute((1, 3))
    with pytest.raises(
        TypeError,
        match="RepeatVector 'repeat_vector': argument `n`: Expected an integer value",
    ):
        layers.RepeatVector(2.0)
    with pytest.raises(TypeError, match="target_shape"):  # Required, as in Keras.
        layers.Reshape()
    with pytest.raises(ValueError, match="positive integer"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match="positive integer"):
        layers.UpSampling1D(0)
    with pytest.raises(ValueError, match="size"):
        layers.UpSampling2D((2, 0))
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="cubic-ish")
    with pytest.raises(ValueError, match="data_format"):
        layers.Flatten(data_format="NHWC")
    with pytest.raises(ValueError, match="cropping"):
        layers.Cropping1D((-1, 1))
    with pytest.raises(
        ValueError, match="argument `cropping`: expected an int, a tuple of 2 ints"
    ):
        layers.Cropping2D((1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding3D(((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding2D(-1)


def test_reshaping_input_errors():
    with pytest.raises(
        ValueError,
        match=r"Reshape 'reshape' cannot reshape inputs of shape \(None, 7\)",
    ):
        layers.Reshape((2, 3)).init(KEY, kerax.spec((None, 7)))
    with pytest.raises(ValueError, match=r"cannot reshape"):
        layers.Reshape((-1, 4)).init(KEY, kerax.spec((None, 6)))
    with pytest.raises(
        ValueError, match=r"Permute 'permute' expected inputs of rank 3"
    ):
        layers.Permute((2, 1)).init(KEY, kerax.spec((None, 3)))
    with pytest.raises(
        ValueError, match=r"RepeatVector 'repeat_vector' expected inputs of rank 2"
    ):
        layers.RepeatVector(2).init(KEY, kerax.spec((None, 3, 4)))
    with pytest.raises(
        ValueError, match="should be smaller than the corresponding spatial dimension"
    ):
        layers.Cropping2D(((2, 2), (0, 0))).init(KEY, kerax.spec((None, 4, 4, 1)))
    with pytest.raises(ValueError, match="unknown size"):
        layers.Cropping1D((1, 1)).init(KEY, kerax.spec((None, None, 2)))
    with pytest.raises(ValueError, match="needs known image sizes"):
        layers.UpSampling2D(interpolation="bilinear").init(
            KEY, kerax.spec((None, None, 4, 1))
        )
    for layer, rank in (
        (layers.Cropping3D(), 5),
        (layers.UpSampling3D(), 5),
        (layers.ZeroPadding2D(), 4),
        (layers.UpSampling1D(), 3),
    ):
        with pytest.raises(ValueError, match=rf"expected inputs of rank {rank}"):
            layer.init(KEY, kerax.spec((None, 3)))
