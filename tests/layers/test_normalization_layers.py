"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
RMSNormalization, UnitNormalization, SpectralNormalization."""

import warnings

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import kerax
from kerax import layers
from kerax.testing import (
    assert_trees_close,
    check_layer,
    check_strict_promotion,
    keras_parity,
)

KEY = jax.random.key(0)


def imported(keras_layer, x, rng, **parity_kwargs):
    """Builds the Keras layer on `x` with random variables (variances kept positive),
    imports it and checks inference parity: `(layer, params, state)`."""
    keras_layer(x)
    for v in keras_layer.weights:
        if "seed_generator" in v.path:
            continue
        value = rng.standard_normal(v.shape).astype(np.float32)
        if "variance" in v.path or "stddev" in v.path:
            value = np.abs(value) + 0.5
        v.assign(value)
    parity_kwargs.setdefault("training_modes", (False,))
    return keras_parity(keras_layer, x, **parity_kwargs)


# ------------------------------------------------------- BatchNormalization
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"axis": 1, "center": False},
        {"scale": False, "momentum": 0.5},
        {"renorm": True, "renorm_clipping": {"rmax": 2.0, "rmin": 0.5, "dmax": 1.0}},
    ],
)
def test_batch_norm_contract(kwargs):
    check_layer(
        layers.BatchNormalization(**kwargs),
        kerax.spec((None, 4, 3)),
        training_changes_state=True,
    )


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (3, 4, 5)),
        ({"axis": 1, "epsilon": 0.1}, (3, 4, 2, 2)),
        ({"center": False, "momentum": 0.7}, (5, 3)),
        ({"scale": False}, (2, 3, 4)),
    ],
)
def test_batch_norm_keras_parity_training_and_moving_stats(kwargs, shape, rng):
    x = rng.normal(1.0, 2.0, (*shape,)).astype(np.float32)
    kl = keras.layers.BatchNormalization(**kwargs)
    kx, params, state = imported(kl, x, rng)
    y, new_state = kx.apply(params, state, jnp.asarray(x), training=True)
    want = kl(x, training=True)  # Updates Keras's moving variables.
    assert_trees_close(y, want, what="training output")
    assert_trees_close(
        new_state,
        {
            "moving_mean": kl.moving_mean.numpy(),
            "moving_variance": kl.moving_variance.numpy(),
        },
    )


def test_batch_norm_mask_keras_parity(rng):
    x = rng.normal(0.0, 2.0, (3, 5, 4)).astype(np.float32)
    mask = rng.random((3, 5)) > 0.4
    kl = keras.layers.BatchNormalization(momentum=0.8)
    kx, params, state = imported(kl, x, rng)
    y, new_state = kx.apply(
        params, state, jnp.asarray(x), training=True, mask=jnp.asarray(mask)
    )
    want = kl(x, training=True, mask=mask)
    assert_trees_close(y, want)
    assert_trees_close(
        new_state,
        {
            "moving_mean": kl.moving_mean.numpy(),
            "moving_variance": kl.moving_variance.numpy(),
        },
    )
    # The mask only matters in training, and it passes through.
    _, _, out_mask = kx.apply_masked(
        params, state, jnp.asarray(x), mask=jnp.asarray(mask)
    )
    np.testing.assert_array_equal(out_mask, mask)


def test_batch_norm_renorm_keras_parity_two_steps(rng):
    kl = keras.layers.BatchNormalization(
        renorm=True,
        renorm_clipping={"rmax": 1.5, "rmin": 0.7, "dmax": 0.5},
        renorm_momentum=0.6,
    )
    x1, x2 = (
        rng.normal(1.0, 2.0, (6, 3)).astype(np.float32),
        rng.normal(0.0, 0.5, (6, 3)).astype(np.float32),
    )
    kx, params, state = imported(kl, x1, rng)
    for x in (x1, x2):
        y, state = kx.apply(params, state, jnp.asarray(x), training=True)
        assert_trees_close(y, kl(x, training=True), what="renorm training output")
    want_state = {v.name: v.numpy() for v in kl.non_trainable_weights}
    assert_trees_close(state, want_state, what="renorm state")
    assert_trees_close(
        kx.apply(params, state, jnp.asarray(x2))[0], kl(x2), what="renorm inference"
    )
    assert kx.get_config()["renorm_clipping"] == {"dmax": 0.5, "rmax": 1.5, "rmin": 0.7}


def test_batch_norm_mixed_precision_matches_keras(rng):
    x = rng.normal(2.0, 3.0, (4, 3)).astype(np.float32)
    kl = keras.layers.BatchNormalization(dtype="mixed_bfloat16", momentum=0.5)
    kx, params, state = imported(kl, x, rng)
    assert kx.dtype == "mixed_bfloat16"
    p, s = kx.init(KEY, kerax.spec((None, 3)))
    assert p["gamma"].dtype == jnp.float32 and s["moving_mean"].dtype == jnp.float32
    y, new_state = kx.apply(params, state, jnp.asarray(x), training=True)
    want = kl(x, training=True)
    assert y.dtype == jnp.bfloat16 and want.dtype == jnp.bfloat16
    assert_trees_close(
        y.astype(jnp.float32),
        np.asarray(want, np.float32),
        atol=0,
        rtol=0,
        what="bf16 output",
    )
    # Statistics are float32 (of the bfloat16-rounded input) and state stays float32.
    assert new_state["moving_variance"].dtype == jnp.float32
    assert_trees_close(
        new_state,
        {
            "moving_mean": kl.moving_mean.numpy(),
            "moving_variance": kl.moving_variance.numpy(),
        },
    )


def test_batch_norm_sharded_batch_equals_unsharded(rng):
    devices = jax.devices()
    assert len(devices) == 8
    bn = layers.BatchNormalization(momentum=0.9)
    params, state = bn.init(KEY, kerax.spec((None, 4, 3)))
    x = jnp.asarray(rng.normal(1.0, 2.0, (16, 4, 3)).astype(np.float32))
    sharded_x = jax.device_put(
        x, NamedSharding(Mesh(np.array(devices), ("data",)), P("data"))
    )
    step = jax.jit(lambda p, s, x: bn.apply(p, s, x, training=True))
    y_ref, state_ref = step(params, state, x)
    y, new_state = step(params, state, sharded_x)
    assert len(y.sharding.device_set) == 8
    assert_trees_close(y, y_ref, atol=1e-6, rtol=1e-6)
    assert_trees_close(new_state, state_ref, atol=1e-6, rtol=1e-6)
    # Global statistics, not per-device ones: the moving mean saw all 16 rows.
    np.testing.assert_allclose(
        new_state["moving_mean"],
        0.1 * np.mean(np.asarray(x), axis=(0, 1)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_batch_norm_frozen_runs_in_inference_mode(rng):
    bn = layers.BatchNormalization(trainable=False)
    params, state = bn.init(KEY, kerax.spec((None, 3)))
    x = jnp.asarray(rng.normal(5.0, 1.0, (4, 3)).astype(np.float32))
    y, new_state = bn.apply(params, state, x, training=True)
    assert new_state is state
    assert_trees_close(y, bn.apply(params, state, x)[0])


def test_batch_norm_regularizers_and_constraints():
    bn = layers.BatchNormalization(
        gamma_regularizer=kerax.regularizers.L2(0.5), beta_constraint="non_neg"
    )
    params, _ = bn.init(KEY, kerax.spec((None, 3)))
    params = {"gamma": jnp.array([1.0, 2.0, 3.0]), "beta": jnp.array([-1.0, 2.0, -3.0])}
    np.testing.assert_allclose(bn.regularization_loss(params), 0.5 * 14.0)
    np.testing.assert_array_equal(bn.constrain(params)["beta"], [0.0, 2.0, 0.0])


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="out of bounds"):
        layers.BatchNormalization(axis=3).init(KEY, kerax.spec((None, 3)))
    with pytest.raises(ValueError, match="renorm_clipping"):
        layers.BatchNormalization(
            renorm=True, renorm_clipping={"rmax": 1.0, "foo": 2.0}
        )
    with pytest.raises(ValueError, match="rmax >= rmin"):
        layers.BatchNormalization(
            renorm=True, renorm_clipping={"rmax": 1.0, "rmin": 2.0}
        )
    bn = layers.BatchNormalization()
    params, state = bn.init(KEY, kerax.spec((None, 4, 3)))
    with pytest.raises(ValueError, match="one dimension less"):
        bn.apply(
            params,
            state,
            jnp.ones((2, 4, 3)),
            training=True,
            mask=jnp.ones((2, 4, 3), bool),
        )
    with pytest.raises(ValueError, match="known size"):
        bn.init(KEY, kerax.spec((None, None)))


# ----------------------------------------------------- LayerNormalization
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"axis": (1, 2)},
        {"center": False},
        {"scale": False, "epsilon": 0.1},
        {"rms_scaling": True},
    ],
)
def test_layer_norm_contract_and_keras_parity(kwargs, rng):
    # rms_scaling=True warns that it is deprecated (Keras warns too).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kx = layers.LayerNormalization(**kwargs)
        check_layer(kx, kerax.spec((None, 3, 4)))
        x = rng.normal(1.0, 3.0, (2, 3, 4)).astype(np.float32)
        kl = keras.layers.LayerNormalization(**kwargs)
        imported(kl, x, rng, training_modes=(False, True))
    if kwargs.get("rms_scaling"):
        with pytest.warns(UserWarning, match="deprecated"):
            layers.LayerNormalization(rms_scaling=True)


def test_layer_norm_mixed_axes_and_dtypes(rng):
    # Keras sorts multi-axis lists and reshapes (not transposes) gamma.
    x = rng.standard_normal((2, 3, 4, 3), np.float32)
    kl = keras.layers.LayerNormalization(axis=[3, 1])
    kx, params, state = imported(kl, x, rng, training_modes=(False, True))
    assert params["gamma"].shape == (3, 3)
    # Under mixed precision the float32 input is not cast (autocast off), the output is.
    kl = keras.layers.LayerNormalization(dtype="mixed_bfloat16")
    kx, params, state = imported(kl, x, rng)
    y, _ = kx.apply(params, state, jnp.asarray(x))
    want = kl(x)
    assert y.dtype == want.dtype == jnp.bfloat16
    assert_trees_close(
        y.astype(jnp.float32), np.asarray(want, np.float32), atol=0, rtol=0
    )


def test_layer_norm_errors_and_mask():
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="out of bounds"):
        layers.LayerNormalization(axis=(1, 4)).init(KEY, kerax.spec((None, 3, 4)))
    ln = layers.LayerNormalization()
    params, state = ln.init(KEY, kerax.spec((None, 3, 4)))
    mask = jnp.array([[True, False, True]])
    assert ln.apply_masked(params, state, jnp.ones((1, 3, 4)), mask=mask)[2] is mask


# ----------------------------------------------------- GroupNormalization
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"groups": 2}, (2, 3, 4)),
        ({"groups": -1}, (2, 3, 4)),
        ({"groups": 3, "axis": 1, "center": False}, (2, 6, 2, 2)),
        ({"groups": 1, "scale": False}, (2, 5, 4)),
    ],
)
def test_group_norm_contract_and_keras_parity(kwargs, shape, rng):
    check_layer(layers.GroupNormalization(**kwargs), kerax.spec((None, *shape[1:])))
    x = rng.normal(1.0, 2.0, (*shape,)).astype(np.float32)
    kl = keras.layers.GroupNormalization(**kwargs)
    imported(kl, x, rng, training_modes=(False, True))


def test_group_norm_errors():
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupNormalization(groups=4).init(KEY, kerax.spec((None, 6)))
    with pytest.raises(ValueError, match="cannot be more"):
        layers.GroupNormalization(groups=8).init(KEY, kerax.spec((None, 6)))
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.GroupNormalization(groups=1).init(KEY, kerax.spec((6,)))


# ---------------------------------------------- RMS and Unit normalization
@pytest.mark.parametrize("kwargs", [{}, {"axis": (1, 2), "epsilon": 1e-3}])
def test_rms_norm_contract_and_keras_parity(kwargs, rng):
    check_layer(layers.RMSNormalization(**kwargs), kerax.spec((None, 3, 4)))
    x = rng.normal(0.0, 2.0, (2, 3, 4)).astype(np.float32)
    kl = keras.layers.RMSNormalization(**kwargs)
    kx, params, state = imported(kl, x, rng, training_modes=(False, True))
    assert set(params) == {"scale"}
    # Keras's RMSNormalization does not propagate masks.
    assert (
        kx.apply_masked(params, state, jnp.asarray(x), mask=jnp.ones((2, 3), bool))[2]
        is None
    )


@pytest.mark.parametrize("axis", [-1, (1, 2), 1])
def test_unit_norm_contract_and_keras_parity(axis, rng):
    check_layer(layers.UnitNormalization(axis=axis), kerax.spec((None, 3, 4)))
    x = rng.standard_normal((2, 3, 4), np.float32)
    x[0, 1] = 0.0  # A zero vector stays zero (Keras's epsilon).
    kl = keras.layers.UnitNormalization(
        axis=list(axis) if isinstance(axis, tuple) else axis
    )
    keras_parity(kl, x)
    with pytest.raises(ValueError, match="out of bounds"):
        layers.UnitNormalization(axis=3).init(KEY, kerax.spec((None, 3, 4)))


# --------------------------------------------------- SpectralNormalization
@pytest.mark.parametrize(
    "inner,spec",
    [
        (lambda: layers.Dense(2, use_bias=False), (None, 2, 4)),
        (lambda: layers.Embedding(5, 3), (None, 4)),
    ],
)
def test_spectral_norm_contract(inner, spec):
    dtype = jnp.int32 if isinstance(inner(), layers.Embedding) else jnp.float32
    check_layer(
        layers.SpectralNormalization(inner(), power_iterations=2),
        kerax.spec(spec, dtype),
        training_changes_state=True,
    )


@pytest.mark.parametrize("power_iterations", [1, 3])
def test_spectral_norm_keras_parity_training_and_inference(power_iterations, rng):
    x = rng.standard_normal((3, 4), np.float32)
    kl = keras.layers.SpectralNormalization(
        keras.layers.Dense(5, name="inner_dense"), power_iterations=power_iterations
    )
    kx, params, state = imported(kl, x, rng)  # Inference: the raw kernel.
    assert kx.layer.name == "inner_dense" and kx.power_iterations == power_iterations
    assert set(params) == {"inner_dense"} and set(state) == {"vector_u"}
    y, new_state = kx.apply(params, state, jnp.asarray(x), training=True)
    want = kl(
        x, training=True
    )  # Keras also writes kernel / sigma into its kernel here.
    assert_trees_close(y, want, what="training output")
    assert_trees_close(new_state["vector_u"], kl.vector_u.numpy(), what="vector_u")
    # The normalized kernel has spectral norm ~1 after enough iterations.
    if power_iterations == 3:
        sigma = np.linalg.norm(np.asarray(kl.layer.kernel.numpy()), 2)
        assert abs(sigma - 1.0) < 0.1


def test_spectral_norm_conv_and_zero_kernel(rng):
    x = rng.standard_normal((2, 5, 3), np.float32)
    kl = keras.layers.SpectralNormalization(keras.layers.Conv1D(4, 2))
    kx, params, state = imported(kl, x, rng)
    y, new_state = kx.apply(params, state, jnp.asarray(x), training=True)
    assert_trees_close(y, kl(x, training=True))
    assert_trees_close(new_state["vector_u"], kl.vector_u.numpy())
    # An all-zero kernel is left alone (no division by a zero sigma), as in Keras.
    name = kx.layer.scope_name
    zero = {name: {k: jnp.zeros_like(v) for k, v in params[name].items()}}
    y, zstate = kx.apply(zero, state, jnp.asarray(x), training=True)
    assert bool(jnp.all(jnp.isfinite(y)))
    np.testing.assert_array_equal(zstate["vector_u"], state["vector_u"])


def test_spectral_norm_gradient_and_config():
    sn = layers.SpectralNormalization(
        layers.Dense(3, kernel_regularizer="l2"), power_iterations=1
    )
    params, state = sn.init(KEY, kerax.spec((None, 4)))

    def loss(p):
        y, _ = sn.apply(p, state, jnp.ones((2, 4)), training=True)
        return jnp.sum(y**2)

    g = jax.grad(loss)(params)
    assert g["dense"]["kernel"].shape == (4, 3) and bool(
        jnp.any(g["dense"]["kernel"] != 0)
    )
    assert float(sn.regularization_loss(params)) > 0  # Children's regularizers count.
    rebuilt = kerax.from_config(kerax.to_json(sn))
    assert rebuilt == sn


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(TypeError, match="argument `layer`: expected a kerax layer"):
        layers.SpectralNormalization("dense")
    with pytest.raises(ValueError, match="no `kernel` nor `embeddings`"):
        layers.SpectralNormalization(layers.LayerNormalization()).init(
            KEY, kerax.spec((None, 3))
        )


def test_strict_rank_promotion(rng):
    x = jnp.asarray(rng.standard_normal((2, 4, 3), np.float32))
    mask = jnp.asarray(rng.random((2, 4)) > 0.3)
    for layer in (
        layers.BatchNormalization(renorm=True),
        layers.LayerNormalization(axis=(1, 2)),
        layers.GroupNormalization(3),
        layers.RMSNormalization(),
        layers.UnitNormalization(),
    ):
        params, state = layer.init(KEY, kerax.spec((None, 4, 3)))
        for training in (False, True):
            check_strict_promotion(
                layer, params, state, x, key=KEY, training=training, mask=mask
            )
    sn = layers.SpectralNormalization(layers.Dense(2, use_bias=False))
    params, state = sn.init(KEY, kerax.spec((None, 3)))
    check_strict_promotion(sn, params, state, x[0], key=KEY, training=True)
