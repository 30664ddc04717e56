"""Convolution layers: the layer contract and parity with Keras 3 (JAX backend)."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from jax import export

import kerax
from kerax import layers
from kerax.interop.keras import layer_from_keras
from kerax.layers._docs import undocumented_args
from kerax.testing import check_layer, keras_parity

CF = {"data_format": "channels_first"}

# (Keras class name, constructor kwargs, input shape without batch).
CASES = [
    # Conv1D, including causal padding.
    ("Conv1D", dict(filters=4, kernel_size=3, strides=2, padding="same"), (8, 3)),
    (
        "Conv1D",
        dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2),
        (8, 3),
    ),
    (
        "Conv1D",
        dict(filters=4, kernel_size=2, padding="causal", strides=2, **CF),
        (3, 8),
    ),
    ("Conv1D", dict(filters=4, kernel_size=3, groups=2, activation="relu"), (8, 4)),
    # Conv2D.
    ("Conv2D", dict(filters=4, kernel_size=3), (8, 8, 3)),
    (
        "Conv2D",
        dict(
            filters=4,
            kernel_size=(3, 2),
            strides=(2, 1),
            padding="same",
            use_bias=False,
        ),
        (8, 8, 3),
    ),
    (
        "Conv2D",
        dict(filters=6, kernel_size=3, groups=2, padding="same", dilation_rate=2, **CF),
        (4, 8, 8),
    ),
    (
        "Conv2D",
        dict(filters=4, kernel_size=3, strides=2, groups=4, activation="tanh"),
        (8, 8, 4),
    ),
    # Conv3D.
    (
        "Conv3D",
        dict(filters=2, kernel_size=3, strides=(1, 2, 2), padding="same", **CF),
        (3, 4, 4, 4),
    ),
    (
        "Conv3D",
        dict(filters=4, kernel_size=2, groups=2, dilation_rate=(1, 2, 1)),
        (4, 4, 4, 2),
    ),
    # Transposed convolutions, through every output-padding branch.
    ("Conv1DTranspose", dict(filters=4, kernel_size=2, strides=3), (5, 3)),
    (
        "Conv1DTranspose",
        dict(filters=4, kernel_size=4, strides=3, padding="same", **CF),
        (3, 5),
    ),
    (
        "Conv1DTranspose",
        dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
        (5, 3),
    ),
    (
        "Conv1DTranspose",
        dict(filters=4, kernel_size=3, strides=3, output_padding=2),
        (5, 3),
    ),
    (
        "Conv2DTranspose",
        dict(filters=4, kernel_size=3, strides=2, padding="same", output_padding=1),
        (5, 5, 3),
    ),
    (
        "Conv2DTranspose",
        dict(
            filters=4,
            kernel_size=(2, 3),
            strides=(2, 3),
            padding="same",
            output_padding=(0, 1),
            **CF,
        ),
        (3, 4, 5),
    ),
    (
        "Conv2DTranspose",
        dict(
            filters=4,
            kernel_size=3,
            strides=(1, 2),
            output_padding=(0, 1),
            activation="relu",
            use_bias=False,
        ),
        (5, 4, 3),
    ),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), (3, 3, 3, 2)),
    (
        "Conv3DTranspose",
        dict(
            filters=2,
            kernel_size=3,
            strides=2,
            padding="same",
            output_padding=(0, 1, 1),
            **CF,
        ),
        (2, 3, 3, 3),
    ),
    # Depthwise convolutions.
    (
        "DepthwiseConv1D",
        dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same", **CF),
        (3, 8),
    ),
    (
        "DepthwiseConv1D",
        dict(kernel_size=3, depth_multiplier=3, dilation_rate=2, activation="relu"),
        (9, 2),
    ),
    (
        "DepthwiseConv2D",
        dict(kernel_size=(3, 2), depth_multiplier=2, strides=2, padding="same"),
        (8, 8, 3),
    ),
    (
        "DepthwiseConv2D",
        dict(kernel_size=3, depth_multiplier=2, dilation_rate=2, use_bias=False, **CF),
        (3, 8, 8),
    ),
    # Keras allows strides and dilation together for depthwise/separable convs.
    ("DepthwiseConv2D", dict(kernel_size=2, strides=2, dilation_rate=2), (8, 8, 3)),
    # Separable convolutions.
    ("SeparableConv1D", dict(filters=5, kernel_size=3), (8, 3)),
    (
        "SeparableConv1D",
        dict(
            filters=5,
            kernel_size=3,
            depth_multiplier=2,
            strides=2,
            padding="same",
            **CF,
        ),
        (3, 9),
    ),
    (
        "SeparableConv2D",
        dict(filters=5, kernel_size=3, depth_multiplier=2, dilation_rate=2),
        (8, 8, 3),
    ),
    (
        "SeparableConv2D",
        dict(
            filters=5,
            kernel_size=3,
            strides=2,
            padding="same",
            activation="relu",
            use_bias=False,
            **CF,
        ),
        (3, 8, 8),
    ),
]


def _id(case):
    name, kwargs, shape = case
    return (
        name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "filters")
    )


def _keras_layer(rng, name, kwargs, shape):
    """A built Keras layer with random weights, and a random input for it.

    Constant initializers keep the (slow to compile on CPU) random
    initializers out of the grid; the weights are then set to random values,
    biases included, so that every weight counts in the comparison.
    """
    init = (
        "depthwise_initializer"
        if name.startswith("Depthwise")
        else "kernel_initializer"
    )
    defaults = {init: "ones"}
    if name.startswith("Separable"):
        defaults = {"depthwise_initializer": "ones", "pointwise_initializer": "ones"}
    keras_layer = getattr(keras.layers, name)(**{**defaults, **kwargs})
    x = rng.standard_normal((2, *shape)).astype("float32")
    keras_layer(x)
    for w in keras_layer.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32"))
    return keras_layer, x


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_keras_parity_and_contract(case, rng):
    name, kwargs, shape = case
    keras_layer, x = _keras_layer(rng, name, kwargs, shape)
    layer = layer_from_keras(keras_layer)
    assert type(layer).__name__ == name
    keras_parity(keras_layer, x, layer=layer, training_modes=(False, True))
    with jax.numpy_rank_promotion("raise"):
        params, _, _, _ = check_layer(layer, kerax.spec((None, *shape)))
    # Keras's variable names and layouts: weights import unchanged.
    want = {w.name: tuple(w.shape) for w in keras_layer.weights}
    assert {k: v.shape for k, v in params.items()} == want


@pytest.mark.parametrize(
    "layer, shape",
    [
        (layers.Conv1D(4, 3, padding="causal"), (8, 3)),
        (layers.Conv2D(4, 3, kernel_regularizer="l2"), (8, 8, 3)),
        (layers.Conv3D(2, 2, data_format="channels_first"), (3, 4, 4, 4)),
        (layers.Conv1DTranspose(4, 3, strides=2), (5, 3)),
        (layers.Conv2DTranspose(4, 3, strides=2, padding="same"), (5, 5, 3)),
        (layers.Conv3DTranspose(2, 2, strides=2), (3, 3, 3, 2)),
        (layers.DepthwiseConv1D(3, depth_multiplier=2), (8, 3)),
        (layers.DepthwiseConv2D(3), (8, 8, 3)),
        (layers.SeparableConv1D(4, 3), (8, 3)),
        (layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same"), (8, 8, 3)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, kerax.Layer) else None,
)
def test_default_initializers(layer, shape):
    params, state = layer.init(jax.random.key(0), kerax.spec((None, *shape)))
    for name, p in params.items():
        if name == "bias":
            assert float(jnp.abs(p).max()) == 0.0
        else:  # glorot_uniform: +-sqrt(6 / (fan_in + fan_out)), never constant.
            assert 0 < float(jnp.std(p)) and float(jnp.abs(p).max()) < 1.0


def test_kernel_layouts_and_names():
    key, s2 = jax.random.key(0), kerax.spec((None, 8, 8, 6))

    def shapes(layer, spec=s2):
        return {k: v.shape for k, v in layer.init(key, spec)[0].items()}

    assert shapes(layers.Conv2D(4, 3, groups=2)) == {
        "kernel": (3, 3, 3, 4),
        "bias": (4,),
    }
    assert shapes(layers.Conv2DTranspose(4, 3)) == {
        "kernel": (3, 3, 4, 6),
        "bias": (4,),
    }
    assert shapes(layers.DepthwiseConv2D(3, depth_multiplier=2)) == {
        "kernel": (3, 3, 6, 2),
        "bias": (12,),
    }
    assert shapes(layers.SeparableConv2D(5, 3, depth_multiplier=2)) == {
        "depthwise_kernel": (3, 3, 6, 2),
        "pointwise_kernel": (1, 1, 12, 5),
        "bias": (5,),
    }
    assert shapes(
        layers.Conv3D(2, 2, data_format="channels_first"),
        kerax.spec((None, 3, 4, 4, 4)),
    ) == {
        "kernel": (2, 2, 2, 3, 2),
        "bias": (2,),
    }
    assert layers.Conv2D(4, 3).default_name == "conv2d"
    assert layers.Conv1DTranspose(4, 3).default_name == "conv1d_transpose"


def test_keras_positional_order_and_defaults():
    assert layers.Conv2D(32, 3).kernel_size == (3, 3)
    c = layers.Conv2D(8, 3, 2, "same", "channels_first", 1, 2)
    assert (c.strides, c.padding, c.data_format, c.groups) == (
        (2, 2),
        "same",
        "channels_first",
        2,
    )
    # Keras puts data_format before output_padding in Conv3DTranspose only.
    t3 = layers.Conv3DTranspose(2, 3, 2, "same", "channels_first", 1)
    assert (t3.data_format, t3.output_padding) == ("channels_first", (1, 1, 1))
    t2 = layers.Conv2DTranspose(2, 3, 2, "same", 1, "channels_first")
    assert (t2.output_padding, t2.data_format) == ((1, 1), "channels_first")
    d = layers.DepthwiseConv2D(3, 1, "same", 2)
    assert d.depth_multiplier == 2
    s = layers.SeparableConv1D(4, 3, 1, "valid", None, 2, 3)
    assert (s.dilation_rate, s.depth_multiplier) == ((2,), 3)
    assert layers.Conv2D(4, 3, padding="SAME").padding == "same"
    assert layers.Conv1D(4, 3).data_format == "channels_last"


def test_aliases():
    assert layers.Convolution1D is layers.Conv1D
    assert layers.Convolution2D is layers.Conv2D
    assert layers.Convolution3D is layers.Conv3D
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_config_round_trip_keeps_normalized_values():
    from kerax.core import serialization

    layer = layers.Conv2DTranspose(
        4,
        [3, 2],
        strides=2,
        output_padding=1,
        kernel_regularizer="l2",
        activation="relu",
        name="up",
    )
    rebuilt = serialization.from_config(serialization.to_json(layer))
    assert rebuilt == layer
    assert rebuilt.kernel_size == (3, 2) and rebuilt.output_padding == (1, 1)
    assert layer.get_config()["kernel_size"] == [3, 2]


def test_causal_output_never_sees_the_future():
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 10, 3)))
    x = jax.random.normal(jax.random.key(1), (1, 10, 3))
    jac = jax.jacobian(lambda x: layer.apply(params, state, x)[0][0, 4].sum())(x)
    assert float(jnp.abs(jac[0, 5:]).max()) == 0.0
    assert float(jnp.abs(jac[0, :5]).max()) > 0.0


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        (
            "Conv2D",
            dict(
                filters=3, kernel_size=2, kernel_regularizer="l2", bias_regularizer="l1"
            ),
            (5, 5, 2),
        ),
        (
            "Conv1DTranspose",
            dict(
                filters=3,
                kernel_size=2,
                kernel_regularizer=keras.regularizers.L1L2(0.1, 0.2),
            ),
            (5, 2),
        ),
        ("DepthwiseConv2D", dict(kernel_size=2, depthwise_regularizer="l2"), (5, 5, 2)),
        (
            "SeparableConv1D",
            dict(
                filters=3,
                kernel_size=2,
                depthwise_regularizer="l1",
                pointwise_regularizer="l2",
            ),
            (5, 2),
        ),
    ],
)
def test_weight_regularizers_match_keras(name, kwargs, shape, rng):
    keras_layer, x = _keras_layer(rng, name, kwargs, shape)
    layer = layer_from_keras(keras_layer)
    _, params, state = keras_parity(
        keras_layer, x, layer=layer, training_modes=(False,)
    )
    want = sum(float(loss) for loss in keras_layer.losses)
    assert want > 0
    np.testing.assert_allclose(
        float(layer.regularization_loss(params)), want, rtol=1e-5
    )


def test_constraints_act_on_keras_named_params():
    # DepthwiseConv's kernel is named `kernel`: `depthwise_constraint` must reach it.
    layer = layers.DepthwiseConv2D(
        2, depthwise_constraint="non_neg", bias_constraint="non_neg"
    )
    params, _ = layer.init(jax.random.key(0), kerax.spec((None, 4, 4, 2)))
    fixed = layer.constrain(jax.tree.map(lambda p: p - 1.0, params))
    assert float(fixed["kernel"].min()) == 0.0 and float(fixed["bias"].min()) == 0.0


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Conv2D", dict(filters=3, kernel_size=2)),
        ("SeparableConv2D", dict(filters=3, kernel_size=2)),
    ],
)
def test_activity_regularizer_matches_keras(name, kwargs, rng):
    keras_layer, x = _keras_layer(
        rng, name, dict(kwargs, activity_regularizer="l2"), (5, 5, 2)
    )
    layer = layer_from_keras(keras_layer)
    _, params, state = keras_parity(
        keras_layer, x, layer=layer, training_modes=(False,)
    )
    want = sum(float(loss) for loss in keras_layer.losses)
    _, _, got = layer.apply_with_losses(params, state, jnp.asarray(x), training=True)
    assert want > 0
    np.testing.assert_allclose(float(got), want, rtol=1e-5)


def test_lora_matches_keras(rng):
    keras_layer, x = _keras_layer(
        rng,
        "Conv2D",
        dict(filters=4, kernel_size=3, lora_rank=2, kernel_regularizer="l2"),
        (6, 6, 3),
    )
    for w in keras_layer.weights:
        if w.name == "lora_kernel_b":  # Keras starts it at zero.
            w.assign(rng.standard_normal(w.shape).astype("float32"))
    layer = layer_from_keras(keras_layer)
    assert (layer.lora_rank, layer.lora_alpha) == (2, 2)
    _, params, state = keras_parity(
        keras_layer, x, layer=layer, training_modes=(False,)
    )
    assert sorted(params) == ["bias", "lora_kernel_a", "lora_kernel_b"] and sorted(
        state
    ) == ["kernel"]
    np.testing.assert_allclose(
        float(layer.regularization_loss(params)),
        sum(float(v) for v in keras_layer.losses),
        rtol=1e-5,
    )
    # Only the LoRA factors and the bias train; the frozen kernel is state.
    grads = jax.grad(lambda p: jnp.sum(layer.apply(p, state, jnp.asarray(x))[0] ** 2))(
        params
    )
    assert all(float(jnp.abs(g).max()) > 0 for g in grads.values())
    with pytest.raises(ValueError, match="kernel constraints"):
        layers.Conv2D(4, 3, lora_rank=2, kernel_constraint="non_neg")


def test_symbolic_length_exports_and_matches_keras(rng):
    layer = layers.Conv1D(4, 3, strides=2, padding="same")
    spec = kerax.spec((None, None, 3))
    params, state = layer.init(jax.random.key(0), spec)
    exported = export.export(jax.jit(lambda x: layer.apply(params, state, x)[0]))(spec)
    keras_layer = keras.layers.Conv1D(4, 3, strides=2, padding="same")
    keras_layer.build((None, None, 3))
    keras_layer.set_weights([np.asarray(params["kernel"]), np.asarray(params["bias"])])
    for steps in (7, 10):
        x = rng.standard_normal((2, steps, 3)).astype("float32")
        np.testing.assert_allclose(exported.call(x), keras_layer(x), atol=1e-5)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: layers.Conv2D(4, 3, padding="full"), "padding"),
        (lambda: layers.Conv2D(4, 3, padding="causal"), "padding"),
        (lambda: layers.DepthwiseConv1D(3, padding="causal"), "padding"),
        (lambda: layers.Conv2D(4, 3, data_format="NHWC"), "data_format"),
        (lambda: layers.Conv2D(0, 3), "filters"),
        (lambda: layers.Conv2D(4, (3, 3, 3)), "kernel_size"),
        (lambda: layers.Conv2D(4, 0), "kernel_size"),
        (lambda: layers.Conv2D(6, 3, groups=4), "divisible by `groups`"),
        (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
        (
            lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2),
            "output_padding",
        ),
        (lambda: layers.SeparableConv2D(4, 3, depth_multiplier=0), "depth_multiplier"),
    ],
)
def test_bad_config(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_missing_required_arguments():
    with pytest.raises(TypeError):
        layers.Conv2D(4)


@pytest.mark.parametrize(
    "layer, shape, match",
    [
        (layers.Conv2D(4, 3), (None, 8, 3), "rank 4"),
        (layers.Conv1D(4, 3), (None, 8, 8, 3), "rank 3"),
        (layers.Conv3DTranspose(4, 3), (None, 4, 4, 3), "rank 5"),
        (layers.SeparableConv2D(4, 3), (None, 8, 3), "rank 4"),
        (layers.Conv2D(4, 3, groups=2), (None, 8, 8, 3), "divisible by `groups`=2"),
        (
            layers.Conv2D(4, 3, groups=2, data_format="channels_first"),
            (None, 5, 8, 8),
            "divisible by `groups`=2",
        ),
        (layers.Conv2D(4, 5), (None, 4, 4, 3), "empty"),
        (layers.DepthwiseConv2D(3, dilation_rate=3), (None, 6, 6, 3), "empty"),
        (layers.Conv2D(4, 3), (None, 8, 8, None), "channel dimension"),
    ],
)
def test_bad_input(layer, shape, match):
    with pytest.raises(ValueError, match=match) as info:
        layer.init(jax.random.key(0), kerax.spec(shape))
    assert layer.describe() in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in kerax.layers.convolutional.__all__
        if isinstance(getattr(kerax.layers, n), type)
    ],
)
def test_every_argument_is_documented(name):
    cls = getattr(kerax.layers, name)
    assert "Example:" in cls.__doc__, f"{name} has no Example section"
    assert undocumented_args(cls) == [], f"{name}'s Args section misses these fields"
