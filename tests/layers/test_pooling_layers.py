"""Pooling layers: the layer contract and parity with Keras 3 (JAX backend)."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from jax import export

import kerax
from kerax import layers
from kerax.testing import check_layer, keras_parity

CF = {"data_format": "channels_first"}

# (Keras class name, constructor kwargs, input shape without batch).
CASES = [
    # Max pooling: non-overlapping (reshape) and overlapping (slices) windows.
    ("MaxPooling1D", dict(), (8, 3)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same", **CF), (3, 9)),
    ("MaxPooling2D", dict(), (7, 8, 3)),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (8, 8, 3)),
    ("MaxPooling2D", dict(pool_size=(2, 3), strides=(1, 2), **CF), (3, 7, 8)),
    ("MaxPooling2D", dict(pool_size=2, padding="same"), (7, 7, 3)),
    ("MaxPooling3D", dict(), (4, 4, 5, 2)),
    ("MaxPooling3D", dict(pool_size=2, strides=1, padding="same", **CF), (2, 4, 4, 4)),
    # Average pooling: Keras leaves padding out of each window's count.
    ("AveragePooling1D", dict(pool_size=3, padding="same"), (7, 3)),
    ("AveragePooling1D", dict(pool_size=2, strides=3, **CF), (3, 8)),
    ("AveragePooling2D", dict(pool_size=2), (7, 9, 3)),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), (8, 8, 3)),
    ("AveragePooling2D", dict(pool_size=3, strides=1, padding="same", **CF), (3, 7, 8)),
    ("AveragePooling2D", dict(pool_size=(2, 3), strides=(2, 1)), (8, 8, 3)),
    ("AveragePooling3D", dict(pool_size=2), (4, 4, 4, 2)),
    (
        "AveragePooling3D",
        dict(pool_size=2, strides=(1, 2, 2), padding="same", **CF),
        (2, 4, 5, 3),
    ),
    # Global pooling.
    ("GlobalMaxPooling1D", dict(), (5, 3)),
    ("GlobalMaxPooling1D", dict(keepdims=True, **CF), (3, 5)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (4, 5, 3)),
    ("GlobalMaxPooling3D", dict(**CF), (2, 4, 4, 4)),
    ("GlobalAveragePooling1D", dict(), (5, 3)),
    ("GlobalAveragePooling2D", dict(keepdims=True, **CF), (3, 4, 5)),
    ("GlobalAveragePooling2D", dict(), (4, 5, 3)),
    ("GlobalAveragePooling3D", dict(keepdims=True), (4, 4, 4, 2)),
    # Adaptive pooling: uneven (overlapping) bins, even bins, upsampling bins.
    ("AdaptiveMaxPooling1D", dict(output_size=3), (7, 3)),
    ("AdaptiveMaxPooling1D", dict(output_size=5, **CF), (3, 3)),
    ("AdaptiveMaxPooling2D", dict(output_size=(3, 2)), (8, 7, 3)),
    ("AdaptiveMaxPooling2D", dict(output_size=4, **CF), (3, 8, 8)),
    ("AdaptiveMaxPooling3D", dict(output_size=(2, 3, 3)), (4, 5, 7, 2)),
    ("AdaptiveAveragePooling1D", dict(output_size=3), (7, 3)),
    ("AdaptiveAveragePooling1D", dict(output_size=4, **CF), (3, 8)),
    ("AdaptiveAveragePooling2D", dict(output_size=(3, 4), **CF), (3, 8, 7)),
    ("AdaptiveAveragePooling2D", dict(output_size=(5, 2)), (4, 6, 3)),
    ("AdaptiveAveragePooling3D", dict(output_size=2), (4, 5, 7, 2)),
]


def _id(case):
    name, kwargs, shape = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items()) + f"-{shape}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_keras_parity_and_contract(case, rng):
    name, kwargs, shape = case
    x = rng.standard_normal((2, *shape), np.float32)
    layer, _, _ = keras_parity(getattr(keras.layers, name)(**kwargs), x)
    assert type(layer).__name__ == name
    with jax.numpy_rank_promotion("raise"):
        check_layer(layer, kerax.spec((None, *shape)))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_1d_mask(data_format, keepdims, rng):
    keras_layer = keras.layers.GlobalAveragePooling1D(
        data_format=data_format, keepdims=keepdims
    )
    shape = (2, 5, 3) if data_format == "channels_last" else (2, 3, 5)
    x = rng.standard_normal(shape, np.float32)
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 0, 0]], bool)
    # The mask is consumed, not passed on (keras_parity compares output masks).
    keras_parity(keras_layer, x, mask=mask)
    # Through a model: Masking -> GlobalAveragePooling1D ignores the masked steps.
    if data_format == "channels_last":
        model = kerax.Sequential(
            [layers.Masking(0.0), layers.GlobalAveragePooling1D(keepdims=keepdims)]
        )
        xm = np.where(mask[..., None], x, 0.0).astype("float32")
        y, _ = model.apply({}, {}, jnp.asarray(xm))
        np.testing.assert_allclose(y, keras_layer(xm, mask=mask), atol=1e-6)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (layers.MaxPooling2D(), (8, 8, 3)),
        (layers.MaxPooling2D(3, strides=2, padding="same"), (8, 8, 3)),
        (layers.MaxPooling1D(3, strides=1, data_format="channels_first"), (3, 8)),
        (layers.MaxPooling3D(3, strides=2, padding="same"), (4, 4, 4, 2)),
        (layers.AveragePooling2D(3, strides=1, padding="same"), (8, 8, 3)),
        (layers.AdaptiveMaxPooling2D(3), (8, 7, 3)),
    ],
)
def test_no_reduce_window(layer, shape):
    # reduce_window max pooling breaks ONNX Runtime; gathers break TFLite.
    spec = kerax.spec((None, *shape))
    fwd = jax.make_jaxpr(lambda x: layer.apply({}, {}, x)[0])(spec)
    bwd = jax.make_jaxpr(jax.grad(lambda x: layer.apply({}, {}, x)[0].sum()))(
        jax.ShapeDtypeStruct((2, *shape), jnp.float32)
    )
    for jaxpr in (fwd, bwd):
        text = str(jaxpr)
        assert (
            "reduce_window" not in text
            and "select_and" not in text
            and "gather" not in text
        )


@pytest.mark.parametrize("padding, strides", [("same", 2), ("valid", 1)])
def test_max_pooling_gradient_matches_keras(padding, strides, rng):
    x = jnp.asarray(rng.standard_normal((2, 7, 8, 3), np.float32))
    w = jnp.asarray(
        rng.standard_normal((2, 4, 4, 3) if strides == 2 else (2, 5, 6, 3), np.float32)
    )
    layer = layers.MaxPooling2D(3, strides=strides, padding=padding)
    got = jax.grad(lambda x: jnp.sum(layer.apply({}, {}, x)[0] * w))(x)
    want = jax.grad(lambda x: jnp.sum(keras.ops.max_pool(x, 3, strides, padding) * w))(
        x
    )
    np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize(
    "layer",
    [
        layers.MaxPooling1D(2),
        layers.MaxPooling1D(3, 2, "same"),
        layers.AveragePooling1D(3, 2, "same"),
        layers.GlobalAveragePooling1D(),
    ],
    ids=lambda layer: f"{type(layer).__name__}-{getattr(layer, 'padding', '')}",
)
def test_symbolic_steps_export_and_match_keras(layer, rng):
    spec = kerax.spec((None, None, 3))
    exported = export.export(jax.jit(lambda x: layer.apply({}, {}, x)[0]))(spec)
    config = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")}
    keras_layer = getattr(keras.layers, type(layer).__name__)(**config)
    for steps in (7, 8):
        x = rng.standard_normal((2, steps, 3), np.float32)
        np.testing.assert_allclose(exported.call(x), keras_layer(x), atol=1e-6)


def test_defaults_and_positional_order():
    assert layers.MaxPooling1D().pool_size == (2,)
    assert layers.MaxPooling2D().pool_size == (
        2,
        2,
    ) and layers.MaxPooling2D().strides == (2, 2)
    assert layers.MaxPooling3D().pool_size == (2, 2, 2)
    p = layers.AveragePooling2D(3, 1, "SAME", "channels_first")
    assert (p.pool_size, p.strides, p.padding, p.data_format) == (
        (3, 3),
        (1, 1),
        "same",
        "channels_first",
    )
    with pytest.raises(TypeError):
        layers.AveragePooling2D()
    assert layers.GlobalMaxPooling2D("channels_first", True).keepdims
    assert layers.AdaptiveAveragePooling2D(4).output_size == (4, 4)
    assert layers.MaxPooling2D().default_name == "max_pooling2d"


def test_aliases():
    pairs = [
        (layers.MaxPool1D, layers.MaxPooling1D),
        (layers.MaxPool2D, layers.MaxPooling2D),
        (layers.MaxPool3D, layers.MaxPooling3D),
        (layers.AvgPool1D, layers.AveragePooling1D),
        (layers.AvgPool2D, layers.AveragePooling2D),
        (layers.AvgPool3D, layers.AveragePooling3D),
        (layers.GlobalMaxPool1D, layers.GlobalMaxPooling1D),
        (layers.GlobalMaxPool2D, layers.GlobalMaxPooling2D),
        (layers.GlobalMaxPool3D, layers.GlobalMaxPooling3D),
        (layers.GlobalAvgPool1D, layers.GlobalAveragePooling1D),
        (layers.GlobalAvgPool2D, layers.GlobalAveragePooling2D),
        (layers.GlobalAvgPool3D, layers.GlobalAveragePooling3D),
    ]
    for alias, cls in pairs:
        assert alias is cls
        assert getattr(keras.layers, alias.__name__).__name__ == cls.__name__


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: layers.MaxPooling2D(padding="full"), "padding"),
        (lambda: layers.AveragePooling2D(2, padding="causal"), "padding"),
        (lambda: layers.MaxPooling2D(data_format="NCHW"), "data_format"),
        (lambda: layers.MaxPooling2D((2, 2, 2)), "pool_size"),
        (lambda: layers.AveragePooling1D(0), "pool_size"),
        (lambda: layers.MaxPooling1D(2, strides=0), "strides"),
        (lambda: layers.GlobalAveragePooling2D(data_format="nhwc"), "data_format"),
        (lambda: layers.AdaptiveMaxPooling2D((2, 2, 2)), "output_size"),
        (lambda: layers.AdaptiveAveragePooling1D(0), "output_size"),
    ],
)
def test_bad_config(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "layer, shape, match",
    [
        (layers.MaxPooling2D(), (None, 8, 3), "rank 4"),
        (layers.AveragePooling1D(2), (None, 8, 8, 3), "rank 3"),
        (layers.GlobalMaxPooling3D(), (None, 4, 4, 3), "rank 5"),
        (layers.AdaptiveAveragePooling2D(2), (None, 8, 3), "rank 4"),
        (layers.MaxPooling2D(3), (None, 2, 8, 3), "smaller than pool_size"),
        (layers.AdaptiveMaxPooling1D(2), (None, None, 3), "static spatial"),
    ],
)
def test_bad_input(layer, shape, match):
    with pytest.raises(ValueError, match=match) as info:
        layer.init(jax.random.key(0), kerax.spec(shape))
    assert layer.describe() in str(info.value)
