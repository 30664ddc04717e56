"""Geometric, occlusion and mixing augmentations, and CLAHE: Keras's transforms given the same draws."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop import layer_from_keras
from kerax.testing import check_layer as _check_layer
from kerax.testing import check_random_layer, keras_parity

# Keras's MixUp asks for an int64 permutation, which JAX (without x64) makes int32.
pytestmark = pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")

KEY = jax.random.key(0)
HEIGHT, WIDTH = 16, 14  # Elastic blur kernels of size 1 to 5 (Keras's sigma: 5% of 14).


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, **kwargs)


def images(rng, batch=3, channels_first=False):
    x = rng.uniform(0.0, 1.0, (batch, HEIGHT, WIDTH, 3)).astype(np.float32)
    return np.transpose(x, (0, 3, 1, 2)) if channels_first else x


class _FixedSeed(keras.random.SeedGenerator):
    """A Keras seed generator that hands out one given key (RandomElasticTransform's noise)."""

    def __init__(self, key):
        super().__init__(0)
        self._key_data = jax.random.key_data(key)

    def next(self, ordered=True):
        return self._key_data


def keras_transformation(transformation):
    return {
        k: _FixedSeed(v) if k == "seed" else np.asarray(v)
        for k, v in transformation.items()
    }


# Keras layers covering every layer and its main options; kerax layers are imported from
# them. `factor=(1, 1)` makes the per-image coin always apply the transform.
ALWAYS = (1.0, 1.0)
KERAS_LAYERS = {
    "shear": lambda: keras.layers.RandomShear(0.3, 0.2),
    "erasing": lambda: keras.layers.RandomErasing(ALWAYS, value_range=(0, 1)),
    "erasing_constant_cf": lambda: keras.layers.RandomErasing(
        0.8,
        scale=(0.1, 0.6),
        fill_value=0.25,
        value_range=(0, 1),
        data_format="channels_first",
    ),
    "blur": lambda: keras.layers.RandomGaussianBlur(ALWAYS, value_range=(0, 1)),
    "blur_pair_cf": lambda: keras.layers.RandomGaussianBlur(
        kernel_size=(3, 5),
        sigma=(0.5, 1.0),
        value_range=(0, 1),
        data_format="channels_first",
    ),
    "perspective": lambda: keras.layers.RandomPerspective(ALWAYS),
    "perspective_nearest_cf": lambda: keras.layers.RandomPerspective(
        (0.5, 1.0),
        scale=0.6,
        interpolation="nearest",
        fill_value=0.3,
        data_format="channels_first",
    ),
    "elastic": lambda: keras.layers.RandomElasticTransform(ALWAYS, value_range=(0, 1)),
    "elastic_constant_nearest_cf": lambda: keras.layers.RandomElasticTransform(
        ALWAYS,
        scale=(0.4, 0.9),
        interpolation="nearest",
        fill_mode="constant",
        fill_value=0.2,
        value_range=(0, 1),
        data_format="channels_first",
    ),
    "mixup": lambda: keras.layers.MixUp(alpha=0.4),
    "cutmix": lambda: keras.layers.CutMix(),
}
# One configuration per layer for the contract and key checks (compiles cost time).
ONE_EACH = ["shear", "erasing", "blur", "perspective", "elastic", "mixup", "cutmix"]


def make(name, rng):
    kl = KERAS_LAYERS[name]()
    kx = layer_from_keras(kl)
    x = images(rng, channels_first=kx.data_format == "channels_first")
    return kl, kx, x


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS))
def test_transform_matches_keras_given_same_parameters(name, rng):
    kl, kx, x = make(name, rng)
    with jax.numpy_rank_promotion("raise"):
        transformation = kx.get_random_transformation(jnp.asarray(x), key=KEY)
        got = kx.transform_images(jnp.asarray(x), transformation)
    keras_transform = functools.partial(kl.transform_images, training=True)
    if not name.startswith("elastic"):  # Keras sizes the elastic kernel in Python.
        keras_transform = jax.jit(keras_transform)  # One compile, not one per op.
    want = keras_transform(x, keras_transformation(transformation))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, x)  # The draw really transformed something.
    # apply(training=True) is exactly those two steps.
    y, _ = kx.apply({}, {}, jnp.asarray(x), key=KEY, training=True)
    np.testing.assert_array_equal(y, got)


@pytest.mark.parametrize("name", ONE_EACH)
def test_contract_keys_and_inference_like_keras(name, rng):
    kl, kx, x = make(name, rng)
    check_layer(kx, kerax.spec((None, *x.shape[1:])), training_changes_state=False)
    keras_parity(kl, x, layer=kx, training_modes=(False,))
    np.testing.assert_array_equal(kx.apply({}, {}, jnp.asarray(x))[0], x)
    # The draw has Keras's keys, shapes and dtypes (less the bounding boxes' `input_shape`).
    draw = kx.get_random_transformation(jnp.asarray(x), key=KEY)
    keras_draw = kl.get_random_transformation(x, training=True)
    assert set(keras_draw) - {"input_shape"} == set(draw)
    for k, v in draw.items():
        if k != "seed":
            want = np.asarray(keras_draw[k])
            assert (v.shape, v.dtype) == (want.shape, want.dtype), k
    check_random_layer(kx, jnp.asarray(x))


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_labels_mix_like_keras(name, rng):
    kl, kx, x = make(name, rng)
    labels = jax.nn.one_hot(jnp.arange(3), 3)
    t = kx.get_random_transformation(jnp.asarray(x), key=KEY)
    got = kx.transform_labels(labels, t)
    want = kl.transform_labels(np.asarray(labels), keras_transformation(t))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jnp.sum(got, axis=1), 1.0, rtol=1e-6)


def draw(layer, shape):
    """One jitted draw (cheaper to compile than the draw's ops one by one)."""
    return jax.jit(
        lambda key: layer.get_random_transformation(jnp.zeros(shape), key=key)
    )(KEY)


def test_draws():
    shape = (4000, 4, 5, 1)
    t = draw(layers.RandomShear(0.3, (0.1, 0.2)), shape)
    sx, sy = np.asarray(t["shear_factor"]).T
    assert -0.3 <= sx.min() < -0.29 and 0.29 < sx.max() <= 0.3
    # One sign flip per image for both axes: |sy| stays in [0.1, 0.2].
    assert np.all((np.abs(sy) >= 0.1) & (np.abs(sy) <= 0.2))
    assert 0.45 < np.mean(sy < 0) < 0.55

    t = draw(
        layers.RandomErasing((0.2, 0.2), scale=(0.25, 0.25), fill_value=0.5), shape
    )
    assert abs(float(t["apply_erasing"].mean()) - 0.2) < 0.03
    # Sides sqrt(0.25) = 1/2 of 4 x 5: a 2 x 2.5 box covers 4 or 6 pixels, at any position.
    areas = np.asarray(t["batch_masks"]).sum(axis=(1, 2, 3))
    assert set(areas) == {4, 6}
    np.testing.assert_array_equal(t["fill_value"], 0.5)

    t = draw(layers.RandomGaussianBlur((0.0, 0.0), sigma=(0.2, 0.5)), shape)
    sigma = np.asarray(t["blur_factor"])
    assert not t["should_apply_blur"].any()
    assert sigma.shape == (2,) and np.all((sigma >= 0.2) & (sigma <= 0.5 + 1e-6))

    t = draw(layers.RandomPerspective(scale=0.5), shape)
    start = np.asarray(t["start_points"])
    moves = np.asarray(t["end_points"]) - start
    np.testing.assert_array_equal(start[0], [[0, 0], [4, 0], [0, 3], [4, 3]])
    assert (
        np.all(np.abs(moves) <= 0.25 * start + 1e-6) and np.abs(moves).max() > 0.24 * 4
    )

    t = draw(layers.MixUp(alpha=2.0), shape)
    weights = np.asarray(t["mix_weight"])
    assert (
        abs(weights.mean() - 0.5) < 0.02 and abs(weights.var() - 0.05) < 0.01
    )  # Beta(2, 2).
    assert sorted(np.asarray(t["permutation_order"])) == list(range(4000))

    t = draw(layers.CutMix(), (1000, 20, 20, 1))
    kept = np.asarray(t["mix_weight"]).ravel()  # 1 - the box's area fraction.
    assert abs(kept.mean() - 0.5) < 0.05  # Beta(alpha, alpha) has mean 1/2.
    # The mask holds the box's whole pixels: within a pixel of each side.
    masked = np.asarray(t["batch_masks"]).mean(axis=(1, 2, 3))
    assert np.all(np.abs(masked - (1 - kept)) <= 41 / 400) and masked.std() > 0.1

    elastic = layers.RandomElasticTransform(scale=0.0)
    x = jnp.ones((2, 4, 5, 1))
    assert elastic.get_random_transformation(x, key=KEY) is None
    np.testing.assert_array_equal(
        elastic.apply({}, {}, x, key=KEY, training=True)[0], x
    )


def test_cutmix_pastes_the_permuted_images_box(rng):
    x = jnp.asarray(images(rng))
    layer = layers.CutMix()
    t = layer.get_random_transformation(x, key=KEY)
    y = layer.transform_images(x, t)
    mask = np.asarray(t["batch_masks"])
    np.testing.assert_array_equal(np.asarray(y)[~mask], np.asarray(x)[~mask])
    permuted = np.asarray(x)[np.asarray(t["permutation_order"])]
    np.testing.assert_array_equal(np.asarray(y)[mask], permuted[mask])


def test_elastic_transform_jits_with_a_static_kernel(rng):
    """Keras sizes the blur kernel from the draw; kerax's static one gives the same numbers."""
    kl = keras.layers.RandomElasticTransform(
        ALWAYS, fill_mode="mirror", value_range=(0, 1)
    )
    kx = layer_from_keras(kl)
    x = images(rng)
    t = kx.get_random_transformation(jnp.asarray(x), key=KEY)
    traces = []

    @jax.jit
    def transform(x, t):
        traces.append(1)
        return kx.transform_images(x, t)

    # Keras's kernels: int(6 * 0.05 * 14 * factor) | 1 = 1, 3 and 5; one compiled program.
    for factor in (0.3, 0.6, 0.99):
        t = dict(t, distortion_factor=jnp.float32(factor))
        want = kl.transform_images(x, keras_transformation(t), training=True)
        np.testing.assert_allclose(
            transform(jnp.asarray(x), t), want, rtol=1e-5, atol=1e-5
        )
    assert len(traces) == 1


@pytest.mark.parametrize(
    "config",
    [
        {"value_range": (0, 1), "tile_grid_size": (3, 2), "clip_limit": 2.0},
        {"clip_limit": 0.0, "tile_grid_size": (4, 4), "data_format": "channels_first"},
    ],
)
def test_clahe_matches_keras(config, rng):
    """Deterministic: Keras's output in inference, and the same in training."""
    # Neither size divides into whole tiles: Keras's symmetric padding is used.
    shape = (2, 3, 13, 9) if "data_format" in config else (2, 10, 7, 2)
    x = rng.uniform(*config.get("value_range", (0, 255)), shape).astype(np.float32)
    kl = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**config)
    kx = layer_from_keras(kl)
    if "data_format" not in config:  # The contract once (its compiles cost seconds).
        check_layer(
            kx, kerax.spec((None, *shape[1:])), batch=2, training_changes_state=False
        )
    keras_parity(kl, x, layer=kx, training_modes=(False,), atol=1e-4, rtol=1e-5)
    y, _ = kx.apply({}, {}, jnp.asarray(x))
    np.testing.assert_array_equal(kx.apply({}, {}, jnp.asarray(x), training=True)[0], y)
    assert not np.allclose(y, x)


def test_errors():
    with pytest.raises(ValueError, match="x_factor"):
        layers.RandomShear(1.5)
    with pytest.raises(ValueError, match="y_factor"):
        layers.RandomShear(0.1, -0.2)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomShear(0.1, fill_mode="mirror")
    with pytest.raises(
        ValueError, match="RandomErasing 'random_erasing': argument `fill_value`"
    ):
        layers.RandomErasing(fill_value=(0.1, 0.2))
    with pytest.raises(ValueError, match="scale"):
        layers.RandomErasing(scale=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="kernel_size.*odd"):
        layers.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match="sigma"):
        layers.RandomGaussianBlur(sigma=2.0)
    with pytest.raises(ValueError, match="scale"):
        layers.RandomPerspective(scale=1.5)
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomPerspective(interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomElasticTransform(fill_mode="edge")
    with pytest.raises(ValueError, match="MixUp 'mix_up': argument `alpha`"):
        layers.MixUp(alpha=0.0)
    with pytest.raises(ValueError, match="factor"):
        layers.CutMix(factor=2.0)
    with pytest.raises(ValueError, match="tile_grid_size"):
        layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2))
    with pytest.raises(ValueError, match="rank 4"):
        layers.CutMix().init(KEY, kerax.spec((8, 8, 3)))


def test_shear_config_round_trip():
    """Keras's RandomShear config stores `(-f, f)`, which its own checks refuse; kerax reloads it."""
    layer = layer_from_keras(keras.layers.RandomShear(0.2, 0.1))
    assert layer.x_factor == (-0.2, 0.2)
    again = kerax.from_config(kerax.core.serialization.serialize(layer))
    assert dataclasses.asdict(again) == dataclasses.asdict(layer)
