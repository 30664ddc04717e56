"""kerax.activations against keras.activations (Keras on its JAX backend)."""

import json

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kerax import activations

KERAS_PUBLIC = sorted(
    n
    for n in dir(keras.activations)
    if not n.startswith("_") and n not in ("get", "serialize", "deserialize")
)

# Keras 3.15.1's sparsemax is wrong whenever more than one logit is in the
# support (keras-team/keras#23425); kerax implements the paper, so it is
# checked against a NumPy reference, and against Keras only where they agree.
KERAS_BUGGY = {"sparsemax"}

# Activations whose signature has required arguments beyond `x`.
REQUIRED_KWARGS = {"threshold": {"threshold": 0.3, "default_value": -1.0}}

# Non-default arguments, covering every branch of each function.
NON_DEFAULT = [
    ("relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 2.5}),
    ("relu", {"max_value": 6}),
    ("relu", {"threshold": 0.5}),
    ("relu", {"negative_slope": 0.1, "max_value": 2.5}),
    ("relu", {"negative_slope": 0.2, "threshold": 0.5}),
    ("relu", {"negative_slope": 0.3, "max_value": 6, "threshold": -0.5}),
    ("leaky_relu", {"negative_slope": 0.05}),
    ("elu", {"alpha": 0.5}),
    ("celu", {"alpha": 2.0}),
    ("gelu", {"approximate": True}),
    ("glu", {"axis": 0}),
    ("softmax", {"axis": 0}),
    ("softmax", {"axis": (0, 2)}),
    ("log_softmax", {"axis": 1}),
    ("log_softmax", {"axis": (1, 2)}),
    ("sparsemax", {"axis": 0}),
    ("squareplus", {"b": 1.0}),
    ("soft_shrink", {"threshold": 1.0}),
    ("hard_shrink", {"threshold": 1.0}),
    ("threshold", {"threshold": -0.5, "default_value": 2.0}),
]


@pytest.fixture(scope="module")
def x():
    # Rank 3 with even sizes so that glu and tuple-axis softmax apply; the
    # scale reaches past every kink (±1, ±3, 6) of the piecewise functions.
    return np.random.RandomState(0).randn(4, 6, 8).astype(np.float32) * 4


def _sparsemax_reference(x, axis=-1, cotangent=None):
    """Martins & Astudillo (2016), Algorithm 1, and its gradient, in NumPy."""
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    z = -np.sort(-x, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    support_size = np.sum(1 + k * z > np.cumsum(z, axis=-1), -1, keepdims=True)
    cumsum_k = np.take_along_axis(np.cumsum(z, -1), support_size - 1, -1)
    y = np.maximum(x - (cumsum_k - 1) / support_size, 0.0)
    if cotangent is None:
        return np.moveaxis(y, -1, axis)
    # The Jacobian is diag(s) - s s^T / |S|, s the support indicator.
    g = np.moveaxis(np.asarray(cotangent, np.float64), axis, -1)
    s = (y > 0).astype(np.float64)
    grad = s * (g - np.sum(s * g, -1, keepdims=True) / np.sum(s, -1, keepdims=True))
    return np.moveaxis(grad, -1, axis)


def _expected(name, x, kwargs):
    if name in KERAS_BUGGY:
        return _sparsemax_reference(x, **kwargs)
    return getattr(keras.activations, name)(x, **kwargs)


def _close(actual, expected):
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=1e-6, atol=1e-6
    )


def test_every_keras_activation_is_present():
    assert sorted(activations.ALL) == KERAS_PUBLIC
    for name in KERAS_PUBLIC:
        assert callable(getattr(activations, name))


@pytest.mark.parametrize("name", KERAS_PUBLIC)
def test_matches_keras_default_args(name, x, strict_promotion):
    kwargs = REQUIRED_KWARGS.get(name, {})
    got = getattr(activations, name)(x, **kwargs)
    expected = _expected(name, x, kwargs)
    assert got.shape == expected.shape
    assert got.dtype == jnp.float32
    _close(got, expected)


@pytest.mark.parametrize(
    "name,kwargs", NON_DEFAULT, ids=[f"{n}-{k}" for n, k in NON_DEFAULT]
)
def test_matches_keras_non_default_args(name, kwargs, x, strict_promotion):
    _close(getattr(activations, name)(x, **kwargs), _expected(name, x, kwargs))


@pytest.mark.parametrize("name", KERAS_PUBLIC)
def test_gradients_finite_and_match_keras(name, x):
    kwargs = REQUIRED_KWARGS.get(name, {})

    def cotangent(y):
        # Non-uniform, so that softmax-like gradients are not all zero.
        return jnp.linspace(-1.0, 1.0, y.size).reshape(y.shape)

    def loss(fn):
        def f(v):
            y = fn(v, **kwargs)
            return jnp.sum(cotangent(y) * y)

        return f

    got = jax.grad(loss(getattr(activations, name)))(x)
    assert np.all(np.isfinite(got))
    if name in KERAS_BUGGY:
        expected = _sparsemax_reference(x, cotangent=cotangent(jnp.asarray(x)))
    else:
        expected = jax.grad(loss(getattr(keras.activations, name)))(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", KERAS_PUBLIC)
def test_jit_and_vmap(name, x):
    fn = getattr(activations, name)
    kwargs = REQUIRED_KWARGS.get(name, {})
    eager = fn(x, **kwargs)
    _close(jax.jit(lambda v: fn(v, **kwargs))(x), eager)
    _close(jax.vmap(lambda v: fn(v, **kwargs))(x), eager)


def test_relu_keras_docstring_values():
    x = jnp.array([-10, -5, 0.0, 5, 10])
    _close(activations.relu(x), [0.0, 0.0, 0.0, 5.0, 10.0])
    _close(activations.relu(x, negative_slope=0.5), [-5.0, -2.5, 0.0, 5.0, 10.0])
    _close(activations.relu(x, max_value=5.0), [0.0, 0.0, 0.0, 5.0, 5.0])
    _close(activations.relu(x, threshold=5.0), [0.0, 0.0, 0.0, 0.0, 10.0])


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_sparsemax_is_on_the_simplex(x, axis):
    y = activations.sparsemax(x, axis=axis)
    assert np.all(np.asarray(y) >= 0)
    _close(jnp.sum(y, axis=axis), np.ones(np.sum(x, axis=axis).shape))
    assert np.any(np.asarray(y) == 0)  # Sparse, unlike softmax.


def test_sparsemax_small_examples():
    _close(activations.sparsemax(jnp.array([0.0, 0.5, 1.0])), [0.0, 0.25, 0.75])
    _close(
        activations.sparsemax(jnp.array([0.1, 0.2, 0.3, 0.4, 0.5])),
        [0.0, 0.1, 0.2, 0.3, 0.4],
    )
    _close(activations.sparsemax(jnp.array([2.0, 2.0, 2.0])), [1 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize(
    "shape,axis",
    [((12,), -1), ((6, 2), -1), ((4, 1, 3), -1), ((6, 2), -2), ((12, 1, 1), -3)],
)
def test_sparsemax_matches_keras_when_support_is_one(shape, axis):
    # Keras's own test inputs: well-separated logits, a support of size 1,
    # where Keras's formula and the paper's agree.
    x = np.linspace(1, 12, num=12).reshape(shape).astype(np.float32)
    _close(
        activations.sparsemax(x, axis=axis), keras.activations.sparsemax(x, axis=axis)
    )


def test_softmax_warns_on_unit_axis():
    with pytest.warns(UserWarning, match="size 1"):
        activations.softmax(jnp.ones((3, 1)))


def test_aliases_are_the_same_functions():
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu


def test_get_none_is_linear():
    assert activations.get(None) is activations.linear


@pytest.mark.parametrize("name", KERAS_PUBLIC)
def test_get_by_name(name):
    assert activations.get(name) is getattr(activations, name)


def test_get_callable_is_returned_as_is():
    def fn(v):
        return v * 2

    assert activations.get(fn) is fn
    assert activations.get(activations.gelu) is activations.gelu


@pytest.mark.parametrize("name", ["relu", "gelu", "swish", "softmax"])
def test_get_keras_serialized_dict(name):
    config = keras.saving.serialize_keras_object(keras.activations.get(name))
    config = json.loads(json.dumps(config))
    assert activations.get(config) is activations.get(name)
    assert activations.get({"class_name": name, "config": {}}) is activations.get(name)


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="'relux'") as info:
        activations.get("relux")
    assert "'relu'" in str(info.value) and "'gelu'" in str(info.value)


def test_get_rejects_non_callables():
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get(3)
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get({"class_name": "function", "config": "nope"})


@pytest.mark.parametrize("name", KERAS_PUBLIC)
def test_serialize_matches_keras_and_round_trips(name):
    fn = getattr(activations, name)
    assert activations.serialize(fn) == keras.activations.serialize(
        getattr(keras.activations, name)
    )
    assert activations.get(activations.serialize(fn)) is fn
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_serialize_refuses_unregistered_callables():
    with pytest.raises(ValueError, match="cannot be serialized.*register"):
        activations.serialize(lambda v: v)
    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(keras.activations.relu)
