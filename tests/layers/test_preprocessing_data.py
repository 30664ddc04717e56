"""Numerical preprocessing layers: Rescaling, Normalization, Discretization, CategoryEncoding, adapt."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop import layer_from_keras, layer_weights
from kerax.layers._docs import undocumented_args
from kerax.testing import check_layer as _check_layer
from kerax.testing import keras_parity

KEY = jax.random.key(0)


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, **kwargs)


def randn(rng, *shape, scale=1.0, loc=0.0):
    return (loc + scale * rng.standard_normal(shape)).astype(np.float32)


# ----------------------------------------------------------------- Rescaling
@pytest.mark.parametrize(
    "scale,offset", [(1 / 255, 0.0), (2.0, -1.0), ((1.0, 2.0, 3.0), (0.0, 1.0, -1.0))]
)
def test_rescaling_contract_and_parity(scale, offset, rng):
    layer = layers.Rescaling(scale, offset=offset)
    check_layer(layer, kerax.spec((None, 4, 3)))
    kl = keras.layers.Rescaling(
        np.asarray(scale),
        offset=list(np.atleast_1d(offset)) if isinstance(offset, tuple) else offset,
    )
    kx = keras_parity(kl, randn(rng, 2, 4, 3), training_modes=(False, True))[0]
    assert kx.scale == layer.scale


def test_rescaling_int_inputs_become_floats():
    y, _ = layers.Rescaling(0.5).apply({}, {}, jnp.array([[2, 4]], jnp.int32))
    assert y.dtype == jnp.float32
    np.testing.assert_array_equal(y, [[1.0, 2.0]])


def test_rescaling_errors():
    with pytest.raises(TypeError, match="scale"):
        layers.Rescaling()  # Required, as in Keras.
    with pytest.raises(ValueError, match="Rescaling 'rescaling': argument `scale`"):
        layers.Rescaling("a")
    with pytest.raises(ValueError, match="offset"):
        layers.Rescaling(1.0, offset="a")


# ------------------------------------------------------------- Normalization
@pytest.mark.parametrize(
    "axis,shape",
    [(-1, (None, 3)), (None, (None, 4)), ((1, 2), (None, 2, 3)), (1, (None, 2, 3))],
)
def test_normalization_contract(axis, shape):
    check_layer(
        layers.Normalization(axis=axis), kerax.spec(shape), training_changes_state=False
    )


@pytest.mark.parametrize(
    "axis,shape", [(-1, (6, 3)), (None, (6, 4)), ((1, 2), (5, 2, 3)), (1, (5, 2, 3))]
)
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_adapt_matches_keras(axis, shape, invert, rng):
    data = randn(rng, *shape, scale=3.0, loc=2.0)
    kl = keras.layers.Normalization(axis=axis, invert=invert)
    kl.adapt(data)
    x = randn(rng, *shape)
    kl(x)
    kx = layer_from_keras(kl)
    params, keras_state = layer_weights(kl, kx)
    assert set(keras_state) == {"mean", "variance", "count"}
    state = kx.adapt(data)
    _, init_state = kx.init(KEY, kerax.spec((None, *shape[1:])))
    assert jax.tree.map(jnp.shape, state) == jax.tree.map(jnp.shape, init_state)
    for name in ("mean", "variance", "count"):
        np.testing.assert_allclose(state[name], keras_state[name], rtol=1e-6, atol=1e-6)
        assert state[name].dtype == init_state[name].dtype
    keras_parity(kl, x, layer=kx, params={}, state=state, training_modes=(False, True))


def test_normalization_adapt_batches_match_keras_streaming(rng):
    data = randn(rng, 10, 3, scale=2.0, loc=1.0)
    kl = keras.layers.Normalization()
    kl.adapt([data[:4], data[4:]])  # Keras's streaming path over an iterable.
    kx = layers.Normalization()
    for state in (
        kx.adapt(data, batch_size=4),
        kx.adapt([(data[:4], None), (data[4:], None)]),
    ):
        np.testing.assert_allclose(
            state["mean"], kl.adapt_mean.numpy(), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            state["variance"], kl.adapt_variance.numpy(), rtol=1e-5, atol=1e-6
        )
    whole = kx.adapt(data)
    np.testing.assert_allclose(
        kx.adapt(data, batch_size=4)["variance"], whole["variance"], rtol=1e-5
    )
    np.testing.assert_allclose(
        kx.adapt(jnp.asarray(data))["mean"], whole["mean"], rtol=1e-6
    )


@pytest.mark.parametrize(
    "axis,mean,variance,shape",
    [
        (-1, 3.0, 2.0, (3, 1)),
        (-1, [1.0, 2.0, 3.0], [1.0, 4.0, 9.0], (2, 3)),
        ((1, 2), [1.0, 2.0], [2.0, 3.0], (2, 3, 2)),
    ],
)
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_config_mean_variance(axis, mean, variance, shape, invert, rng):
    kl = keras.layers.Normalization(
        axis=axis, mean=mean, variance=variance, invert=invert
    )
    kx = keras_parity(kl, randn(rng, *shape), training_modes=(False, True))[0]
    params, state = check_layer(kx, kerax.spec((None, *shape[1:])))[:2]
    assert params == {} and state == {}
    with pytest.raises(ValueError, match="fixed in this layer's config"):
        kx.adapt(randn(rng, *shape))


def test_normalization_doc_examples():
    layer = layers.Normalization(axis=None)
    state = layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32))
    y, _ = layer.apply({}, state, jnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(y, [-1.4142135, -0.70710677, 0.0], rtol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="rank of `mean`"):
        layers.Normalization(mean=[[1.0]], variance=[[1.0]])
    with pytest.raises(ValueError, match="axis"):
        layers.Normalization(axis="a")
    with pytest.raises(ValueError, match="known shape"):
        layers.Normalization().init(KEY, kerax.spec((None,)))
    with pytest.raises(ValueError, match="range"):
        layers.Normalization(axis=3).init(KEY, kerax.spec((None, 2)))
    with pytest.raises(ValueError, match="cannot be broadcast|do not fit"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 2.0]).init(
            KEY, kerax.spec((None, 3))
        )
    with pytest.raises(TypeError, match="unsupported data"):
        layers.Normalization().adapt(3.0)
    with pytest.raises(ValueError, match="no batches"):
        layers.Normalization().adapt([])


# ------------------------------------------------------------- adapt helper
def test_adapt_inside_sequential_and_nested_models(rng):
    data = randn(rng, 8, 3, scale=2.0, loc=5.0)
    model = kerax.Sequential(
        [kerax.Input((3,)), layers.Normalization(), layers.Dense(2)]
    )
    params, state = model.init(KEY)
    new_state = layers.adapt(model, state, "normalization", data)
    assert state["normalization"]["mean"].sum() == 0  # The input state is not modified.
    y, _ = model.apply(params, new_state, data)
    norm, _ = layers.Normalization().apply({}, layers.Normalization().adapt(data), data)
    want = norm @ params["dense"]["kernel"] + params["dense"]["bias"]
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)

    inp = kerax.Input((3,))
    outer = kerax.Model(
        inp, kerax.Sequential([layers.Normalization(name="norm")], name="inner")(inp)
    )
    params, state = outer.init(KEY, kerax.spec((None, 3)))
    state = layers.adapt(outer, state, "inner/norm", data, batch_size=3)
    np.testing.assert_allclose(state["inner"]["norm"]["mean"], data.mean(0), rtol=1e-5)
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        layers.adapt(outer, state, "inner/nope", data)
    with pytest.raises(ValueError, match="was built for state"):
        layers.adapt(model, model.init(KEY)[1], "normalization", randn(rng, 4, 5))
    with pytest.raises(ValueError, match="has no adapt"):
        layers.adapt(model, state, "dense", data)


def test_adapt_inside_functional_model_matches_keras_model(rng):
    data = randn(rng, 16, 4, scale=3.0)
    k_in = keras.Input((4,))
    k_norm = keras.layers.Normalization()
    k_norm.adapt(data)
    k_model = keras.Model(k_in, keras.layers.Dense(2)(k_norm(k_in)))
    model, params, keras_state = kerax.interop.from_keras(k_model)
    _, state = model.init(KEY, kerax.spec((None, 4)))
    state = layers.adapt(model, state, k_norm.name, data)
    y, _ = model.apply(params, state, data)
    np.testing.assert_allclose(y, k_model(data), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------ CategoryEncoding
@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(None, 1), (None, 4)])
def test_category_encoding_contract_and_parity(mode, shape, rng):
    layer = layers.CategoryEncoding(num_tokens=5, output_mode=mode)
    check_layer(layer, kerax.spec(shape, jnp.int32))
    x = rng.integers(0, 5, (3, shape[1])).astype(np.int32)
    keras_parity(
        keras.layers.CategoryEncoding(num_tokens=5, output_mode=mode),
        x,
        training_modes=(False,),
    )


def test_category_encoding_rank1_and_count_weights():
    x = np.array([3, 2, 0, 1], np.int32)
    keras_parity(
        keras.layers.CategoryEncoding(4, output_mode="one_hot"),
        x,
        training_modes=(False,),
    )
    keras_parity(
        keras.layers.CategoryEncoding(4, output_mode="multi_hot"),
        x,
        training_modes=(False,),
    )
    x2 = np.array([[0, 1], [0, 0], [1, 2], [3, 1]], np.int32)
    w = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]], np.float32)
    kl = keras.layers.CategoryEncoding(4, output_mode="count")
    y, _ = layer_from_keras(kl).apply(
        {}, {}, jnp.asarray(x2), count_weights=jnp.asarray(w)
    )
    np.testing.assert_allclose(y, kl(x2, count_weights=w), rtol=1e-6)
    # Out-of-range tokens encode as zeros, as in Keras's JAX backend.
    keras_parity(
        keras.layers.CategoryEncoding(3, output_mode="multi_hot"),
        np.array([[0, 5], [-1, 2]], np.int32),
        training_modes=(False,),
    )


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match=">= 1"):
        layers.CategoryEncoding(0)
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="sparse=True"):
        layers.CategoryEncoding(3, sparse=True)
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(3).apply(
            {}, {}, jnp.zeros((2, 2), jnp.int32), count_weights=jnp.ones((2, 2))
        )
    with pytest.raises(ValueError, match="rank >= 1"):
        layers.CategoryEncoding(3).init(KEY, kerax.spec((), jnp.int32))
    assert layers.CategoryEncoding(3, output_mode="binary").output_mode == "multi_hot"


# ------------------------------------------------------------ Discretization
@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_boundaries_contract_and_parity(mode, rng):
    layer = layers.Discretization(bin_boundaries=[-0.5, 0.0, 1.0], output_mode=mode)
    check_layer(layer, kerax.spec((None, 4)))
    x = randn(rng, 3, 4)
    x[0, :3] = [0.0, 1.0, -0.5]  # Values on the boundaries.
    keras_parity(
        keras.layers.Discretization(bin_boundaries=[-0.5, 0.0, 1.0], output_mode=mode),
        x,
        training_modes=(False, True),
    )


@pytest.mark.parametrize("num_bins,epsilon", [(4, 0.01), (3, 0.1), (5, 0.001)])
def test_discretization_adapt_matches_keras(num_bins, epsilon, rng):
    data = randn(rng, 200, 2, scale=2.0)
    kl = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    kl.adapt(data)
    layer = layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    _, init_state = check_layer(layer, kerax.spec((None, 2)))[:2]
    state = layer.adapt(data)
    assert (
        state["bin_boundaries"].shape
        == init_state["bin_boundaries"].shape
        == (num_bins - 1,)
    )
    np.testing.assert_allclose(state["bin_boundaries"], kl.bin_boundaries, rtol=1e-6)
    x = randn(rng, 5, 2, scale=2.0)
    keras_parity(kl, x, layer=layer, params={}, state=state, training_modes=(False,))
    batched = layer.adapt([data[:120], data[120:]])
    kl.adapt([data[:120], data[120:]])
    np.testing.assert_allclose(batched["bin_boundaries"], kl.bin_boundaries, rtol=1e-6)
    # An adapted Keras layer's config carries the boundaries: it imports without state.
    imported = layer_from_keras(kl)
    assert imported.bin_boundaries is not None and imported.init(
        KEY, kerax.spec((None, 2))
    ) == ({}, {})
    keras_parity(kl, x, layer=imported, params={}, state={}, training_modes=(False,))


def test_discretization_doc_example_and_errors():
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], np.float32)
    y, _ = layer.apply({}, layer.adapt(x), jnp.asarray(x))
    np.testing.assert_array_equal(y, [[0, 2, 3, 2], [1, 3, 3, 1]])
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="Cannot adapt"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(x)
    with pytest.raises(ValueError, match="too few"):
        layers.Discretization(num_bins=8).adapt(np.array([1.0, 2.0], np.float32))
    with pytest.raises(ValueError, match="output_mode"):
        layers.Discretization(num_bins=2, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse"):
        layers.Discretization(num_bins=2, output_mode="one_hot", sparse=True)
    with pytest.raises(ValueError, match="num_bins"):
        layers.Discretization(num_bins=-1)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in kerax.layers.preprocessing.__all__
        if isinstance(getattr(kerax.layers, n), type)
    ],
)
def test_every_argument_is_documented(name):
    cls = getattr(kerax.layers, name)
    assert "Example:" in cls.__doc__, f"{name} has no Example section"
    assert undocumented_args(cls) == [], f"{name}'s Args section misses these fields"
