"""Deterministic image preprocessing: Resizing, CenterCrop, the shared resize op, export rule R1."""

import re

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop import layer_from_keras
from kerax.layers.preprocessing._image_ops import _nearest_axis
from kerax.testing import check_layer as _check_layer
from kerax.testing import keras_parity

KEY = jax.random.key(0)
SPEC = kerax.spec((None, 8, 8, 3))


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, **kwargs)


def images(rng, batch=2, height=8, width=8, channels=3, channels_first=False):
    x = rng.uniform(0.0, 1.0, (batch, height, width, channels)).astype(np.float32)
    return np.transpose(x, (0, 3, 1, 2)) if channels_first else x


# ------------------------------------------------------------------ Resizing
@pytest.mark.parametrize(
    "interpolation,options",
    [
        ("bilinear", {}),
        ("nearest", {"crop_to_aspect_ratio": True}),
        ("bicubic", {"pad_to_aspect_ratio": True, "fill_value": 0.5}),
        ("lanczos3", {"antialias": True}),
    ],
)
def test_resizing_contract(interpolation, options):
    check_layer(layers.Resizing(4, 6, interpolation=interpolation, **options), SPEC)


_CASES = [
    (i, size, {})
    for i in ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")
    for size in ((4, 5), (12, 10), (3, 16))
]
_CASES += [
    (i, size, options)
    for i in ("bilinear", "nearest", "bicubic")
    for size, options in (
        ((5, 13), {"crop_to_aspect_ratio": True}),
        ((12, 5), {"pad_to_aspect_ratio": True, "fill_value": 0.25}),
        ((3, 16), {"pad_to_aspect_ratio": True}),
        ((4, 5), {"antialias": True}),
    )
]


@pytest.mark.parametrize("interpolation,size,options", _CASES)
def test_resizing_keras_parity(interpolation, size, options, rng):
    keras_parity(
        keras.layers.Resizing(*size, interpolation=interpolation, **options),
        images(rng),
        training_modes=(False, True),
    )


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_resizing_channels_first_and_uint8(interpolation, rng):
    keras_parity(
        keras.layers.Resizing(
            5, 12, interpolation=interpolation, data_format="channels_first"
        ),
        images(rng, channels_first=True),
        training_modes=(False,),
    )
    kl = keras.layers.Resizing(5, 3, interpolation=interpolation)
    x = (images(rng) * 255).astype(np.uint8)
    y, _ = layer_from_keras(kl).apply({}, {}, jnp.asarray(x))
    assert y.dtype == jnp.uint8
    np.testing.assert_array_equal(y, kl(x))


@pytest.mark.parametrize(
    "m,n",
    [
        (8, 4),
        (8, 3),
        (3, 8),
        (4, 12),
        (5, 7),
        (7, 5),
        (2, 9),
        (9, 2),
        (1, 4),
        (4, 1),
        (224, 300),
        (300, 224),
        (13, 100),
    ],
)
def test_nearest_resize_is_jax_image_resize_without_gather(m, n):
    x = jnp.arange(2 * m * 3, dtype=jnp.float32).reshape(2, m, 3)
    want = jax.image.resize(x, (2, n, 3), "nearest")
    np.testing.assert_array_equal(
        jax.jit(_nearest_axis, static_argnums=(1, 2))(x, 1, n), want
    )


def test_resizing_errors():
    with pytest.raises(ValueError, match="interpolation"):
        layers.Resizing(4, 4, interpolation="area")
    with pytest.raises(ValueError, match="Only one of"):
        layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="fill_mode"):
        layers.Resizing(4, 4, fill_mode="reflect")
    with pytest.raises(ValueError, match="height"):
        layers.Resizing(0, 4)
    with pytest.raises(ValueError, match="data_format"):
        layers.Resizing(4, 4, data_format="nhwc")
    with pytest.raises(
        ValueError, match="Resizing 'resizing' expected a batch of images.*rank 4"
    ):
        layers.Resizing(4, 4).init(KEY, kerax.spec((8, 8, 3)))


# ---------------------------------------------------------------- CenterCrop
@pytest.mark.parametrize("size", [(4, 4), (10, 6)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_center_crop_contract(size, data_format):
    spec = SPEC if data_format == "channels_last" else kerax.spec((None, 3, 8, 8))
    check_layer(layers.CenterCrop(*size, data_format=data_format), spec)


@pytest.mark.parametrize("size", [(4, 5), (5, 4), (8, 8), (12, 10), (5, 13), (3, 16)])
@pytest.mark.parametrize("channels_first", [False, True])
def test_center_crop_keras_parity(size, channels_first, rng):
    data_format = "channels_first" if channels_first else "channels_last"
    keras_parity(
        keras.layers.CenterCrop(*size, data_format=data_format),
        images(rng, channels_first=channels_first),
        training_modes=(False, True),
    )


def test_center_crop_errors():
    with pytest.raises(ValueError, match="width"):
        layers.CenterCrop(4, None)
    with pytest.raises(ValueError, match="rank 4"):
        layers.CenterCrop(4, 4).init(KEY, kerax.spec((None, 8, 8)))


# ------------------------------------------------------- export rule R1
@pytest.mark.parametrize(
    "layer,spec",
    [
        (layers.Resizing(4, 5), SPEC),
        (layers.Resizing(12, 5, interpolation="nearest"), SPEC),
        (
            layers.Resizing(5, 7, interpolation="bicubic", crop_to_aspect_ratio=True),
            SPEC,
        ),
        (
            layers.Resizing(
                4, 7, pad_to_aspect_ratio=True, data_format="channels_first"
            ),
            kerax.spec((None, 3, 8, 8)),
        ),
        (layers.CenterCrop(4, 4), SPEC),
        (layers.CenterCrop(10, 4), SPEC),
        (layers.RandomCrop(4, 6), SPEC),
        (layers.RandomRotation(0.2), SPEC),
        (layers.RandomZoom(0.2), SPEC),
        (layers.RandomFlip(), SPEC),
        (layers.Rescaling(0.5), SPEC),
        (layers.Normalization(), SPEC),
        (
            layers.Discretization(bin_boundaries=(0.0, 1.0), output_mode="one_hot"),
            kerax.spec((None, 4)),
        ),
        (
            layers.CategoryEncoding(4, output_mode="count"),
            kerax.spec((None, 3), jnp.int32),
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, kerax.Layer) else "",
)
def test_inference_exports_without_gather(layer, spec):
    """R1: inference graphs with a symbolic batch carry no gather (TFLite rejects dynamic gathers)."""
    params, state = layer.init(KEY, spec)
    exported = jax.export.export(jax.jit(lambda x: layer.apply(params, state, x)[0]))(
        spec
    )
    ops = set(re.findall(r"stablehlo\.[a-z_]+", exported.mlir_module()))
    assert not {op for op in ops if "gather" in op}, ops
