"""kerax.initializers against keras.initializers (Keras on its JAX backend)."""

import dataclasses
import inspect
import json
import math

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src.initializers.random_initializers import compute_fans as keras_fans

from kerax import initializers

KEY = jax.random.key(0)

CLASS_NAMES = sorted(
    n
    for n in dir(keras.initializers)
    if n[0].isupper()
    and n not in ("Initializer", "IdentityInitializer", "OrthogonalInitializer")
    and n != "STFTInitializer"
)
SNAKE_NAMES = sorted(
    n
    for n in dir(keras.initializers)
    if n[0].islower() and n not in ("get", "serialize", "deserialize")
)
VARIANCE_SCALING = [
    "VarianceScaling",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
]
RANDOM = [*VARIANCE_SCALING, "RandomNormal", "RandomUniform", "TruncatedNormal"]
RANDOM += ["Orthogonal"]
LARGE_SHAPES = [(256, 512), (3, 3, 64, 128)]

# One non-default config per class: exercised by the round-trip tests.
CONFIGS = {
    "Constant": {"value": 3.5},
    "Zeros": {},
    "Ones": {},
    "Identity": {"gain": 2.0},
    "STFT": {"side": "imag", "window": "hamming", "scaling": "spectrum"},
    "RandomNormal": {"mean": 1.0, "stddev": 0.5, "seed": 3},
    "TruncatedNormal": {"mean": 1.0, "stddev": 0.5, "seed": 3},
    "RandomUniform": {"minval": -0.2, "maxval": 0.3, "seed": 3},
    "VarianceScaling": {
        "scale": 2.0,
        "mode": "fan_avg",
        "distribution": "uniform",
        "seed": 3,
        "input_axes": [0, 1],
        "output_axes": [2],
    },
    "GlorotNormal": {"seed": 3},
    "GlorotUniform": {"seed": 3, "input_axes": [0], "output_axes": [1]},
    "HeNormal": {"seed": 3},
    "HeUniform": {"seed": 3},
    "LecunNormal": {"seed": 3},
    "LecunUniform": {"seed": 3},
    "Orthogonal": {"gain": 0.5, "seed": 3},
}


def _shape_for(name):
    if name == "STFT":
        return (16, 1, 9)
    if name == "VarianceScaling":
        return (4, 5, 6)  # Its config in CONFIGS names three axes.
    return (4, 6)


def test_every_keras_initializer_is_present():
    assert sorted(cls.__name__ for cls in initializers._CLASSES) == CLASS_NAMES
    for name in [*SNAKE_NAMES, "IdentityInitializer", "OrthogonalInitializer"]:
        kerax_obj = getattr(initializers, name)
        assert kerax_obj.__name__ == getattr(keras.initializers, name).__name__
    assert set(CONFIGS) == set(CLASS_NAMES)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_constructor_matches_keras(name):
    keras_params = [
        (p.name, p.default)
        for p in inspect.signature(
            getattr(keras.initializers, name)
        ).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    kerax_params = [
        (p.name, p.default)
        for p in inspect.signature(getattr(initializers, name)).parameters.values()
    ]
    assert kerax_params == keras_params


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_frozen_and_hashable(name):
    init = getattr(initializers, name)(**CONFIGS[name])
    assert hash(init) == hash(getattr(initializers, name)(**CONFIGS[name]))
    assert init == getattr(initializers, name)(**CONFIGS[name])
    with pytest.raises(dataclasses.FrozenInstanceError):
        init.seed = 1


@pytest.mark.parametrize("name", CLASS_NAMES)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, None])
def test_shape_and_dtype(name, dtype):
    init = getattr(initializers, name)()
    shape = _shape_for(name)
    out = init(KEY, shape) if dtype is None else init(KEY, shape, dtype)
    assert out.shape == shape
    assert out.dtype == (dtype or jnp.float32)
    assert np.all(np.isfinite(np.asarray(out, np.float32)))


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_jit_and_vmap_over_keys(name):
    init = getattr(initializers, name)(**CONFIGS[name])
    shape = _shape_for(name)
    eager = init(KEY, shape)
    jitted = jax.jit(init, static_argnums=(1, 2))(KEY, shape, jnp.float32)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-6)
    stacked = jax.vmap(lambda k: init(k, shape))(jax.random.split(KEY, 3))
    assert stacked.shape == (3, *shape)


# ------------------------------------------------------------ deterministic


@pytest.mark.parametrize(
    "name,kwargs,shape",
    [
        ("Constant", {}, (3, 4)),
        ("Constant", {"value": 3.5}, (2, 3, 4)),
        ("Constant", {"value": -2}, (5,)),
        ("Zeros", {}, (3, 4)),
        ("Ones", {}, (2, 3, 4)),
        ("Identity", {}, (4, 4)),
        ("Identity", {"gain": 2.5}, (3, 5)),
        ("Identity", {"gain": 0.5}, (5, 3)),
    ],
)
def test_deterministic_equal_keras(name, kwargs, shape):
    got = getattr(initializers, name)(**kwargs)(KEY, shape)
    expected = getattr(keras.initializers, name)(**kwargs)(shape, "float32")
    np.testing.assert_array_equal(got, np.asarray(expected))


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize(
    "window,scaling,periodic",
    [
        ("hann", "density", False),
        ("hann", "spectrum", True),
        ("hamming", None, False),
        (None, "density", False),
        (tuple(np.linspace(0.1, 1.0, 16)), "spectrum", False),
    ],
)
def test_stft_equal_keras(side, window, scaling, periodic):
    shape = (16, 1, 9)
    kwargs = {"side": side, "window": window, "scaling": scaling}
    got = initializers.STFT(periodic=periodic, **kwargs)(KEY, shape)
    keras_window = list(window) if isinstance(window, tuple) else window
    expected = keras.initializers.STFT(
        side=side, window=keras_window, scaling=scaling, periodic=periodic
    )(shape, "float32")
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ random


@pytest.mark.parametrize(
    "shape,input_axes,output_axes",
    [
        ((), None, None),
        ((7,), None, None),
        ((7, 9), None, None),
        ((3, 64, 128), None, None),
        ((3, 3, 64, 128), None, None),
        ((2, 3, 3, 8, 16), None, None),
        ((4, 5, 6), (0, 1), (2,)),
        ((4, 5, 6), (0,), (1, 2)),
    ],
)
def test_compute_fans_equal_keras(shape, input_axes, output_axes):
    assert initializers.compute_fans(shape, input_axes, output_axes) == keras_fans(
        shape, input_axes, output_axes
    )


def _keras_scale(init, shape):
    fan_in, fan_out = keras_fans(shape, init.input_axes, init.output_axes)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    return init.scale / max(1.0, fan[init.mode])


def _vs_cases():
    cases = [(name, {}) for name in VARIANCE_SCALING]
    for mode in ("fan_in", "fan_out", "fan_avg"):
        for distribution in ("truncated_normal", "untruncated_normal", "uniform"):
            kwargs = {"scale": 1.7, "mode": mode, "distribution": distribution}
            cases.append(("VarianceScaling", kwargs))
    return cases


@pytest.mark.parametrize("shape", LARGE_SHAPES)
@pytest.mark.parametrize("name,kwargs", _vs_cases())
def test_variance_scaling_distribution_matches_keras(name, kwargs, shape):
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras.initializers, name)(seed=1, **kwargs)
    w = np.asarray(ours(KEY, shape))
    k = np.asarray(theirs(shape, "float32"))
    scale = _keras_scale(theirs, shape)
    target_std = math.sqrt(scale)
    if theirs.distribution == "uniform":
        limit = math.sqrt(3.0 * scale)
        assert np.max(np.abs(w)) <= limit
        assert np.max(np.abs(w)) > 0.99 * limit
    elif theirs.distribution == "truncated_normal":
        # Truncated at 2 stddevs of the *uncorrected* normal.
        bound = 2 * target_std / 0.87962566103423978
        assert np.max(np.abs(w)) <= bound * (1 + 1e-6)
        assert np.max(np.abs(w)) > 0.99 * bound
    else:
        assert np.max(np.abs(w)) > 3 * target_std  # Not truncated.
    assert abs(np.mean(w)) < 0.02 * target_std
    assert np.std(w) == pytest.approx(np.std(k), rel=0.02)
    assert np.std(w) == pytest.approx(target_std, rel=0.02)


@pytest.mark.parametrize("shape", LARGE_SHAPES)
@pytest.mark.parametrize("name", ["RandomNormal", "TruncatedNormal", "RandomUniform"])
@pytest.mark.parametrize("default", [True, False])
def test_plain_distributions_match_keras(name, default, shape):
    kwargs = {} if default else {k: v for k, v in CONFIGS[name].items() if k != "seed"}
    w = np.asarray(getattr(initializers, name)(**kwargs)(KEY, shape))
    k = np.asarray(getattr(keras.initializers, name)(seed=1, **kwargs)(shape))
    spread = float(np.std(k))
    assert np.mean(w) == pytest.approx(np.mean(k), abs=0.02 * spread)
    assert np.std(w) == pytest.approx(spread, rel=0.02)
    if name != "RandomNormal":
        # Bounded distributions: the same support as Keras.
        assert np.min(w) >= np.min(k) - 0.01 * spread
        assert np.max(w) <= np.max(k) + 0.01 * spread
        assert np.min(w) <= np.min(k) + 0.01 * spread
        assert np.max(w) >= np.max(k) - 0.01 * spread


@pytest.mark.parametrize("gain", [1.0, 0.5])
@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (48, 48), (3, 3, 16, 32)])
def test_orthogonal(shape, gain):
    w = initializers.Orthogonal(gain=gain)(KEY, shape)
    assert w.shape == shape
    flat = np.asarray(w, np.float64).reshape(-1, shape[-1])
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5)
    # Same property as Keras's output.
    kflat = np.asarray(keras.initializers.Orthogonal(gain=gain, seed=1)(shape))
    kflat = kflat.reshape(-1, shape[-1]).astype(np.float64)
    kgram = kflat.T @ kflat if rows >= cols else kflat @ kflat.T
    np.testing.assert_allclose(gram, kgram, atol=1e-5)


def test_orthogonal_low_precision():
    w = initializers.Orthogonal()(KEY, (16, 8), jnp.bfloat16)
    assert w.dtype == jnp.bfloat16
    flat = np.asarray(w, np.float32)
    np.testing.assert_allclose(flat.T @ flat, np.eye(8), atol=0.05)


@pytest.mark.parametrize("name", RANDOM)
def test_seeds_change_values(name):
    cls = getattr(initializers, name)
    shape = (8, 8)
    draws = {
        "none": cls()(KEY, shape),
        "seed1": cls(seed=1)(KEY, shape),
        "seed2": cls(seed=2)(KEY, shape),
        "other_key": cls()(jax.random.key(1), shape),
    }
    values = list(draws.values())
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            assert not np.array_equal(values[i], values[j])
    np.testing.assert_array_equal(cls(seed=1)(KEY, shape), draws["seed1"])


@pytest.mark.parametrize("name", RANDOM)
def test_random_needs_a_key(name):
    with pytest.raises(ValueError, match=f"{name} is random and needs a key"):
        getattr(initializers, name)()(None, (2, 2))


@pytest.mark.parametrize("name", ["Constant", "Zeros", "Ones", "Identity", "STFT"])
def test_deterministic_ignore_the_key(name):
    init = getattr(initializers, name)()
    shape = _shape_for(name)
    np.testing.assert_array_equal(init(None, shape), init(jax.random.key(5), shape))


# ------------------------------------------------------------------- errors


def test_invalid_arguments():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_max")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed=1.5)
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()(KEY, (2, 2, 2))
    with pytest.raises(ValueError, match="two-dimensional"):
        initializers.Orthogonal()(KEY, (4,))
    with pytest.raises(ValueError, match="scalar"):
        initializers.Constant(np.ones(3))
    with pytest.raises(ValueError, match="side"):
        initializers.STFT(side="left")
    with pytest.raises(ValueError, match="Scaling"):
        initializers.STFT(scaling="power")


def test_variance_scaling_normalizes_distribution():
    assert initializers.VarianceScaling(distribution="Normal").distribution == (
        "truncated_normal"
    )
    assert initializers.VarianceScaling(input_axes=[0], output_axes=[1]).input_axes == (
        0,
    )


def test_constant_accepts_numpy_scalars():
    init = initializers.Constant(np.float32(2.0))
    assert init.value == 2.0 and isinstance(init.value, float)
    hash(init)


# ------------------------------------------------------- get and serialize


@pytest.mark.parametrize("name", sorted(initializers.ALL))
def test_get_by_name(name):
    init = initializers.get(name)
    assert isinstance(init, initializers.ALL[name])
    from keras.src.initializers import ALL_OBJECTS_DICT

    # Keras's own `get("constant")` fails (its from_config needs a value),
    # so compare with its lookup table rather than with `keras...get`.
    assert type(init).__name__ == ALL_OBJECTS_DICT[name].__name__


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_serialize_round_trip(name):
    init = getattr(initializers, name)(**CONFIGS[name])
    config = json.loads(json.dumps(initializers.serialize(init)))
    assert config["class_name"] == name
    assert initializers.get(config) == init
    assert initializers.deserialize(config) == init


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_serialize_interoperates_with_keras(name):
    init = getattr(initializers, name)(**CONFIGS[name])
    ours = initializers.serialize(init)
    theirs = keras.initializers.serialize(
        getattr(keras.initializers, name)(**CONFIGS[name])
    )
    if name == "Identity":
        # Keras 3.15.1's Identity has no get_config, so it drops `gain`
        # (saving Identity(2.0) reloads Identity(1.0)); kerax keeps it.
        assert theirs["config"] == {} and ours["config"] == {"gain": 2.0}
        theirs = {**theirs, "config": ours["config"]}
    assert ours == theirs
    # Keras reads ours, and we read Keras's.
    loaded = keras.initializers.deserialize(ours)
    for key, value in ours["config"].items():
        assert getattr(loaded, "_init_seed" if key == "seed" else key) == value
    assert initializers.get(theirs) == init


def test_get_other_identifiers():
    assert initializers.get(None) is None
    ones = initializers.Ones()
    assert initializers.get(ones) is ones
    assert initializers.get(initializers.HeNormal) == initializers.HeNormal()

    def custom(key, shape, dtype=jnp.float32):
        return jax.random.normal(key, shape, dtype)

    assert initializers.get(custom) is custom
    values = np.arange(6.0).reshape(2, 3)
    from_array = initializers.get(values)
    np.testing.assert_array_equal(from_array(KEY, (2, 3)), values)
    with pytest.raises(ValueError, match="shape"):
        from_array(KEY, (3, 2))


def test_get_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="'glorot_unifrom'") as info:
        initializers.get("glorot_unifrom")
    assert "'glorot_uniform'" in str(info.value)
    with pytest.raises(ValueError, match="Unknown initializer 'Nope'"):
        initializers.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="Invalid config for initializer Ones"):
        initializers.get({"class_name": "Ones", "config": {"value": 1}})
    with pytest.raises(ValueError, match="Could not interpret"):
        initializers.get(3)


def test_serialize_refuses_foreign_initializers():
    with pytest.raises(ValueError, match="cannot be serialized.*register"):
        initializers.serialize(lambda key, shape, dtype=None: jnp.zeros(shape))

    @dataclasses.dataclass(frozen=True)
    class Custom(initializers.Initializer):
        def __call__(self, key, shape, dtype=jnp.float32):
            return jnp.zeros(shape, dtype)

    with pytest.raises(ValueError, match="cannot be serialized"):
        initializers.serialize(Custom())
