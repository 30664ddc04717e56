"""Core layers: Dense, EinsumDense, Embedding, Identity, Lambda, Masking."""

import math

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


# ----------------------------------------------------------------- Dense
@pytest.mark.parametrize(
    "units,activation,use_bias",
    [(1, None, True), (5, "relu", False), (3, "tanh", True)],
)
def test_dense_contract(units, activation, use_bias):
    check_layer(
        layers.Dense(units, activation=activation, use_bias=use_bias),
        kerax.spec((None, 4)),
    )


def test_dense_contract_rank3_and_lora():
    check_layer(layers.Dense(3), kerax.spec((None, 2, 4)))
    check_layer(layers.Dense(3, lora_rank=2, lora_alpha=4.0), kerax.spec((None, 4)))


@pytest.mark.parametrize(
    "activation,use_bias", [("linear", True), ("relu", False), ("sigmoid", True)]
)
def test_dense_keras_parity(activation, use_bias, rng):
    kl = keras.layers.Dense(
        5, activation=activation, use_bias=use_bias, bias_initializer="random_normal"
    )
    kx, _, _ = keras_parity(kl, rng.standard_normal((3, 4), np.float32))
    assert kx.units == 5 and kx.use_bias == use_bias


def test_dense_keras_parity_rank3(rng):
    keras_parity(keras.layers.Dense(2), rng.standard_normal((2, 3, 4), np.float32))


def test_dense_lora_matches_keras_and_freezes_kernel(rng):
    kl = keras.layers.Dense(4, lora_rank=2, lora_alpha=3.0, kernel_regularizer="l2")
    x = rng.standard_normal((3, 5), np.float32)
    kl(x)
    kl.lora_kernel_b.assign(
        rng.standard_normal((2, 4), np.float32)
    )  # Non-zero so the LoRA delta is tested.
    kx = layer_from_keras(kl)
    params, state = layer_weights(kl, kx, spec=(kerax.spec((None, 5)),))
    assert set(params) == {"bias", "lora_kernel_a", "lora_kernel_b"} and set(state) == {
        "kernel"
    }
    keras_parity(kl, x, layer=kx, params=params, state=state)
    keras_total = sum(float(v) for v in kl.losses)
    np.testing.assert_allclose(kx.regularization_loss(params), keras_total, rtol=1e-5)
    with pytest.raises(
        ValueError, match="Lora is incompatible with kernel constraints"
    ):
        layers.Dense(2, lora_rank=1, kernel_constraint="non_neg")
    with pytest.raises(ValueError, match="argument `lora_rank`"):
        layers.Dense(2, lora_rank=0)


def test_dense_errors():
    d = layers.Dense(3, name="head")
    p, s = d.init(KEY, kerax.spec((None, 4)))
    with pytest.raises(
        ValueError,
        match=r"Dense 'head' expected inputs with last dimension 4, got \(2, 5\)",
    ):
        d.apply(p, s, jnp.ones((2, 5)))
    with pytest.raises(ValueError, match="Dense 'dense': argument `units`"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="argument `units`"):
        layers.Dense(2.5)
    with pytest.raises(TypeError, match="units"):  # Required, as in Keras.
        layers.Dense()
    with pytest.raises(ValueError, match="argument `activation`: Unknown activation"):
        layers.Dense(2, activation="relu7")
    with pytest.raises(ValueError, match="argument `kernel_initializer`"):
        layers.Dense(2, kernel_initializer="no_such_initializer")


def test_dense_fields_resolve_once_and_declare_their_params():
    layer = layers.Dense(
        2,
        kernel_initializer="he_normal",
        kernel_regularizer="l2",
        bias_constraint="non_neg",
        activity_regularizer="l1",
    )
    assert isinstance(layer.kernel_initializer, kerax.initializers.HeNormal)
    assert layer.activation is None  # Kept as given: configs save the name.
    params = {"kernel": jnp.ones((3, 2)), "bias": -jnp.ones((2,))}
    np.testing.assert_allclose(layer.regularization_loss(params), 0.01 * 6, rtol=1e-6)
    np.testing.assert_array_equal(layer.constrain(params)["bias"], [0.0, 0.0])
    rebuilt = kerax.from_config(kerax.to_json(layer))
    assert rebuilt == layer


# ----------------------------------------------------------- EinsumDense
EINSUM_CASES = [
    # equation, output_shape, bias_axes, input shape (batch None), kernel shape, bias shape
    ("ab,bc->ac", 4, None, (None, 3), (3, 4), None),
    ("ab,bc->ac", 4, "c", (None, 3), (3, 4), (4,)),
    ("abc,cd->abd", (None, 5), "d", (None, 2, 3), (3, 5), (5,)),
    ("abc,cde->abde", (None, 2, 4), "de", (None, 3, 6), (6, 2, 4), (2, 4)),
    ("abc,cde->abde", (None, 2, 4), "d", (None, 3, 6), (6, 2, 4), (2, 1)),
    ("abc,cde->abde", (3, 2, 4), "b", (None, 3, 6), (6, 2, 4), (3, 1, 1)),
    ("...b,bc->...c", 5, "c", (None, 2, 3), (3, 5), (5,)),
    ("ab...,bc->ac...", 5, "c", (None, 3, 2), (3, 5), (5, 1)),
]


@pytest.mark.parametrize(
    "equation,output_shape,bias_axes,in_shape,kernel_shape,bias_shape", EINSUM_CASES
)
def test_einsum_dense_shapes_contract_and_parity(
    equation, output_shape, bias_axes, in_shape, kernel_shape, bias_shape, rng
):
    layer = layers.EinsumDense(
        equation, output_shape, bias_axes=bias_axes, activation="relu"
    )
    params, _, _, _ = check_layer(layer, kerax.spec(in_shape))
    assert params["kernel"].shape == kernel_shape
    assert (params["bias"].shape if "bias" in params else None) == bias_shape
    kl = keras.layers.EinsumDense(
        equation,
        output_shape,
        bias_axes=bias_axes,
        activation="relu",
        bias_initializer="random_normal",
    )
    x = rng.standard_normal((2, *in_shape[1:]), np.float32)
    kx, p, _ = keras_parity(kl, x)
    assert p["kernel"].shape == kernel_shape


def test_einsum_dense_initializer_uses_equation_fans():
    # Keras gives VarianceScaling the equation's input/output axes: fan_in 16, fan_out 8 * 4.
    layer = layers.EinsumDense("abc,cde->abde", (None, 8, 4))
    params, _ = layer.init(KEY, kerax.spec((None, 3, 16)))
    limit = math.sqrt(6.0 / (16 + 32))
    k = np.abs(np.asarray(params["kernel"]))
    assert k.max() <= limit and k.max() > 0.9 * limit


def test_einsum_dense_lora_parity(rng):
    kl = keras.layers.EinsumDense(
        "abc,cde->abde", (None, 2, 4), bias_axes="e", lora_rank=2
    )
    x = rng.standard_normal((2, 3, 6), np.float32)
    kl(x)
    kl.lora_kernel_b.assign(rng.standard_normal((2, 4), np.float32))
    kx = layer_from_keras(kl)
    params, state = layer_weights(kl, kx, spec=(kerax.spec((None, 3, 6)),))
    assert set(state) == {"kernel"} and params["lora_kernel_a"].shape == (6, 2, 2)
    keras_parity(kl, x, layer=kx, params=params, state=state)


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", 3)
    with pytest.raises(ValueError, match="output_shape"):
        layers.EinsumDense("ab,bc->ac", "x")
    layer = layers.EinsumDense("abc,cd->abd", (None, 4), name="proj")
    with pytest.raises(
        ValueError, match=r"EinsumDense 'proj' expected inputs of rank 3"
    ):
        layer.init(KEY, kerax.spec((None, 4)))
    with pytest.raises(ValueError, match="Bias dimension 'z'"):
        layers.EinsumDense("ab,bc->ac", 4, bias_axes="z").init(
            KEY, kerax.spec((None, 3))
        )
    with pytest.raises(ValueError, match="do not match at shared dimension 'b'"):
        layers.EinsumDense("abc,cd->abd", (7, 4)).init(KEY, kerax.spec((None, 3, 2)))
    p, s = layer.init(KEY, kerax.spec((None, 2, 3)))
    with pytest.raises(ValueError, match="EinsumDense 'proj'"):
        layer.apply(p, s, jnp.ones((1, 2, 5)))


# -------------------------------------------------------------- Embedding
@pytest.mark.parametrize(
    "layer,shape",
    [
        (layers.Embedding(7, 3), (None, 4)),
        (layers.Embedding(7, 3, mask_zero=True), (None, 2, 3)),
        (layers.Embedding(7, 3, lora_rank=2), (None, 4)),
    ],
)
def test_embedding_contract(layer, shape):
    check_layer(layer, kerax.spec(shape, "int32"))


@pytest.mark.parametrize("mask_zero", [False, True])
def test_embedding_keras_parity_and_mask(mask_zero):
    kl = keras.layers.Embedding(10, 4, mask_zero=mask_zero)
    x = np.array([[0, 3, 9, 1], [2, 0, 0, 5]], np.int32)
    kx, p, s = keras_parity(kl, x)
    assert kx.mask_zero == mask_zero
    want = kl.compute_mask(x)
    got = kx.compute_mask(jnp.asarray(x))
    if mask_zero:
        np.testing.assert_array_equal(got, np.asarray(want))
    else:
        assert got is None and want is None
    # Float indices are cast to int32, as in Keras.
    y, _ = kx.apply(p, s, jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(y, np.asarray(kl(x)), atol=1e-6)
    # Keras's deprecated `input_length` is accepted and ignored.
    assert layers.Embedding(10, 4, input_length=5).output_dim == 4


def test_embedding_lora_parity(rng):
    kl = keras.layers.Embedding(6, 4, lora_rank=2, lora_alpha=4)
    x = np.array([[1, 2, 5]], np.int32)
    kl(x)
    kl.lora_embeddings_b.assign(rng.standard_normal((2, 4), np.float32))
    kx = layer_from_keras(kl)
    params, state = layer_weights(kl, kx, spec=(kerax.spec((None, 3), "int32"),))
    assert set(params) == {"lora_embeddings_a", "lora_embeddings_b"} and set(state) == {
        "embeddings"
    }
    keras_parity(kl, x, layer=kx, params=params, state=state)


def test_embedding_errors():
    with pytest.raises(
        ValueError,
        match="Embedding 'embedding': argument `input_dim`: expected a positive integer, got 0",
    ):
        layers.Embedding(0, 3)
    with pytest.raises(ValueError, match="argument `output_dim`"):
        layers.Embedding(3, True)
    with pytest.raises(TypeError, match="output_dim"):
        layers.Embedding(3)


def test_embedding_mask_flows_through_sequential():
    x = jnp.array([[1, 0, 2, 0]])
    # Dense and Dropout pass the mask on (as in Keras); EinsumDense drops it.
    model = kerax.Sequential(
        [layers.Embedding(5, 2, mask_zero=True), layers.Dropout(0.5), layers.Dense(3)]
    )
    p, s = model.init(KEY, kerax.spec((None, 4), "int32"))
    _, _, mask = model.apply_masked(p, s, x)
    np.testing.assert_array_equal(mask, [[True, False, True, False]])
    model = kerax.Sequential(
        [
            layers.Embedding(5, 2, mask_zero=True),
            layers.EinsumDense("abc,cd->abd", (4, 3)),
        ]
    )
    p, s = model.init(KEY, kerax.spec((None, 4), "int32"))
    _, _, mask = model.apply_masked(p, s, x)
    assert mask is None


def test_embedding_and_masking_export_with_symbolic_batch(rng):
    emb = layers.Embedding(5, 3)
    p, s = emb.init(KEY, kerax.spec((None, 4), "int32"))
    exported = jax.export.export(jax.jit(lambda v: emb.apply(p, s, v)[0]))(
        kerax.spec((None, 4), "int32")
    )
    ids = jnp.array([[1, 0, 4, 2]] * 3)
    np.testing.assert_array_equal(exported.call(ids), emb.apply(p, s, ids)[0])
    masking = layers.Masking()
    exported = jax.export.export(jax.jit(lambda v: masking.apply({}, {}, v)[0]))(
        kerax.spec((None, 4, 2))
    )
    x = jnp.asarray(rng.standard_normal((2, 4, 2), np.float32)).at[0, 1].set(0.0)
    np.testing.assert_array_equal(exported.call(x), masking.apply({}, {}, x)[0])


# --------------------------------------------------------------- Identity
def test_identity(rng):
    check_layer(layers.Identity(), kerax.spec((None, 3, 2)))
    keras_parity(keras.layers.Identity(), rng.standard_normal((2, 3), np.float32))
    m = jnp.array([[True, False]])
    assert layers.Identity().compute_mask(jnp.ones((1, 2, 3)), mask=m) is m


# ----------------------------------------------------------------- Lambda
def scaled_square(x, factor=1.0):
    return factor * jnp.square(x)


def keep_first_mask(x, mask=None):
    del mask
    return jnp.ones(x.shape[:2], bool)


def _split_halves(x):
    return jnp.split(x, 2, axis=-1)


kerax.register(scaled_square, name="scaled_square")
kerax.register(keep_first_mask, name="keep_first_mask")
kerax.register(_split_halves, name="split_halves")


@pytest.mark.parametrize("arguments", [None, {"factor": 3.0}, (("factor", 2.0),)])
def test_lambda_contract(arguments):
    layer = layers.Lambda(scaled_square, arguments=arguments)
    _, _, (x,), y = check_layer(layer, kerax.spec((None, 3)))
    factor = dict(layer.arguments).get("factor", 1.0)
    np.testing.assert_allclose(y, factor * x**2, rtol=1e-6)
    check_layer(layers.Lambda(_split_halves), kerax.spec((None, 4)))


def test_lambda_keras_parity_with_registered_function(rng):
    kl = keras.layers.Lambda(
        scaled_square, output_shape=(3,), arguments={"factor": 2.5}
    )
    kx, _, _ = keras_parity(kl, rng.standard_normal((2, 3), np.float32))
    assert kx.function is scaled_square and dict(kx.arguments) == {"factor": 2.5}
    config = kerax.serialize(kx)["config"]
    assert config["function"] == {"module": "registered", "name": "scaled_square"}


def test_lambda_mask_training_and_key_arguments():
    seen = {}

    def fn(x, mask=None, training=False, key=None):
        seen.update(mask=mask, training=training, key=key)
        return x

    layer = layers.Lambda(fn, mask=keep_first_mask)
    m = jnp.array([[True, False]])
    layer.apply({}, {}, jnp.ones((1, 2, 3)), mask=m, training=True, key=KEY)
    assert seen["mask"] is m and seen["training"] is True and seen["key"] is KEY
    np.testing.assert_array_equal(
        layer.compute_mask(jnp.ones((1, 2, 3)), mask=m), [[True, True]]
    )
    assert layers.Lambda(scaled_square).compute_mask(jnp.ones((1, 2)), mask=m) is None


def test_lambda_serialization_needs_registration():
    layer = layers.Lambda(lambda x: x + 1)
    with pytest.raises(ValueError, match=r"kerax.register\(fn, name=\.\.\.\)"):
        kerax.to_json(layer)
    bad = {
        "class_name": "Lambda",
        "config": {"function": {"module": "registered", "name": "not_registered_fn"}},
    }
    with pytest.raises(
        ValueError, match="'not_registered_fn' in this config is not registered"
    ):
        kerax.from_config(bad)
    with pytest.raises(ValueError, match="Python lambda"):
        layer_from_keras(keras.layers.Lambda(lambda x: x))

    def private_fn(x):
        return x

    with pytest.raises(ValueError, match="not registered in kerax"):
        layer_from_keras(keras.layers.Lambda(private_fn))


def test_lambda_errors():
    with pytest.raises(TypeError, match="function"):
        layers.Lambda()
    with pytest.raises(ValueError, match="argument `arguments`: expected a dict"):
        layers.Lambda(scaled_square, arguments=[1, 2])
    with pytest.raises(ValueError, match="output_shape"):
        layers.Lambda(scaled_square, output_shape=(4,)).output_spec(
            kerax.spec((None, 3))
        )
    with pytest.raises(ValueError, match="constant mask"):
        layers.Lambda(scaled_square, mask=1.0)


# ---------------------------------------------------------------- Masking
@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_contract_and_parity(mask_value, rng):
    check_layer(layers.Masking(mask_value), kerax.spec((None, 4, 3)))
    x = rng.standard_normal((2, 4, 3), np.float32)
    x[0, 1] = mask_value
    x[1, 3] = mask_value
    kl = keras.layers.Masking(mask_value)
    kx, _, _ = keras_parity(kl, x)
    np.testing.assert_array_equal(
        kx.compute_mask(jnp.asarray(x)), np.asarray(kl.compute_mask(x))
    )
    y, _ = kx.apply({}, {}, jnp.asarray(x))
    assert float(jnp.abs(y[0, 1]).sum()) == 0.0


def test_masking_errors():
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.Masking().init(KEY, kerax.spec((None,)))
    with pytest.raises(ValueError, match="mask_value"):
        layers.Masking("zero")
