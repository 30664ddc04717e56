"""Random image augmentation layers: keys, Keras's transforms given the same parameters, ranges."""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src.utils.image_utils import smart_resize as keras_smart_resize

import kerax
from kerax import layers
from kerax.interop import layer_from_keras
from kerax.testing import check_layer as _check_layer
from kerax.testing import check_random_layer, keras_parity

KEY = jax.random.key(0)
SPEC = kerax.spec((None, 8, 8, 3))


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, **kwargs)


def images(rng, batch=2, height=8, width=8, channels=3, channels_first=False, high=1.0):
    x = rng.uniform(0.0, high, (batch, height, width, channels)).astype(np.float32)
    return np.transpose(x, (0, 3, 1, 2)) if channels_first else x


def keras_transformation(transformation):
    if isinstance(transformation, dict):
        return {k: np.asarray(v) for k, v in transformation.items()}
    return tuple(int(v) for v in transformation)


# Keras layers covering every layer and its main options; kerax layers are imported from them.
KERAS_LAYERS = {
    "flip_hv": lambda: keras.layers.RandomFlip(),
    "flip_h": lambda: keras.layers.RandomFlip("horizontal"),
    "flip_v_cf": lambda: keras.layers.RandomFlip(
        "vertical", data_format="channels_first"
    ),
    "crop": lambda: keras.layers.RandomCrop(5, 6),
    "crop_cf": lambda: keras.layers.RandomCrop(6, 4, data_format="channels_first"),
    "rotation": lambda: keras.layers.RandomRotation(0.3),
    "rotation_constant_nearest": lambda: keras.layers.RandomRotation(
        (-0.2, 0.4), fill_mode="constant", interpolation="nearest", fill_value=0.5
    ),
    "rotation_wrap_cf": lambda: keras.layers.RandomRotation(
        0.25, fill_mode="wrap", data_format="channels_first"
    ),
    "zoom": lambda: keras.layers.RandomZoom(0.3),
    "zoom_hw_nearest_fill": lambda: keras.layers.RandomZoom(
        (-0.5, 0.4), (-0.3, 0.6), fill_mode="nearest", interpolation="nearest"
    ),
    "zoom_constant_cf": lambda: keras.layers.RandomZoom(
        0.4, fill_mode="constant", fill_value=0.25, data_format="channels_first"
    ),
    "translation": lambda: keras.layers.RandomTranslation(0.3, 0.4),
    "translation_wrap_nearest": lambda: keras.layers.RandomTranslation(
        (-0.2, 0.5), 0.25, fill_mode="wrap", interpolation="nearest"
    ),
    "translation_constant_cf": lambda: keras.layers.RandomTranslation(
        0.3, 0.3, fill_mode="constant", data_format="channels_first"
    ),
    "contrast": lambda: keras.layers.RandomContrast(0.4, value_range=(0, 1)),
    "contrast_pair_cf": lambda: keras.layers.RandomContrast(
        (0.3, 0.6), value_range=(0, 1), data_format="channels_first"
    ),
    "brightness": lambda: keras.layers.RandomBrightness(0.3, value_range=(0, 1)),
    "brightness_pair": lambda: keras.layers.RandomBrightness(
        (-0.5, 0.1), value_range=(1, 0)
    ),
}


def make(name, rng):
    kl = KERAS_LAYERS[name]()
    kx = layer_from_keras(kl)
    x = images(rng, channels_first=kx.data_format == "channels_first")
    return kl, kx, x


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS))
def test_contract(name, rng):
    _, kx, x = make(name, rng)
    check_layer(kx, kerax.spec((None, *x.shape[1:])), training_changes_state=False)


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS))
def test_transform_matches_keras_given_same_parameters(name, rng):
    """Step (2): kerax's deterministic transform equals Keras's for the same drawn parameters."""
    kl, kx, x = make(name, rng)
    with jax.numpy_rank_promotion("raise"):
        transformation = kx.get_random_transformation(jnp.asarray(x), key=KEY)
        got = kx.transform_images(jnp.asarray(x), transformation)
    want = kl.transform_images(x, keras_transformation(transformation), training=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # apply(training=True) is exactly those two steps.
    y, _ = kx.apply({}, {}, jnp.asarray(x), key=KEY, training=True)
    np.testing.assert_array_equal(y, got)


@pytest.mark.parametrize(
    "name", sorted(k for k in KERAS_LAYERS if not k.startswith("crop"))
)
def test_inference_is_identity_like_keras(name, rng):
    kl, kx, x = make(name, rng)
    keras_parity(kl, x, layer=kx, training_modes=(False,))
    y, _ = kx.apply({}, {}, jnp.asarray(x))
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize(
    "name",
    [
        "flip_hv",
        "crop",
        "rotation",
        "zoom_hw_nearest_fill",
        "translation",
        "contrast",
        "brightness",
    ],
)
def test_keys_drive_randomness(name, rng):
    _, kx, _ = make(name, rng)
    # Keras gives RandomCrop a random default seed.
    kx = dataclasses.replace(kx, seed=None)
    check_random_layer(kx, jnp.asarray(images(rng, batch=8, height=16, width=16)))


def test_random_flip_draws(rng):
    layer = layers.RandomFlip()
    flips = layer.get_random_transformation(jnp.zeros((4000, 2, 2, 1)), key=KEY)[
        "flips"
    ]
    assert flips.shape == (4000, 1, 1, 1) and abs(float(flips.mean()) - 0.5) < 0.03
    x = jnp.asarray(images(rng, batch=64))
    y, _ = layer.apply({}, {}, x, key=KEY, training=True)
    unchanged = np.all(np.asarray(y == x), axis=(1, 2, 3))
    flipped_both = np.all(np.asarray(y == jnp.flip(x, axis=(1, 2))), axis=(1, 2, 3))
    assert (
        np.all(unchanged | flipped_both) and unchanged.any() and flipped_both.any()
    )  # One coin per image for both axes.


@pytest.mark.parametrize(
    "layer,lo,hi",
    [
        (layers.RandomRotation(0.2), -72.0, 72.0),
        (layers.RandomRotation((-0.1, 0.3)), -36.0, 108.0),
    ],
)
def test_rotation_angle_range(layer, lo, hi):
    angle = layer.get_random_transformation(jnp.zeros((4000, 2, 2, 1)), key=KEY)[
        "angle"
    ]
    assert lo <= float(angle.min()) < lo + 2 and hi - 2 < float(angle.max()) <= hi
    assert abs(float(angle.mean()) - (lo + hi) / 2) < 0.05 * (hi - lo)


def test_zoom_translation_contrast_brightness_ranges():
    x = jnp.zeros((4000, 4, 5, 1))
    t = layers.RandomZoom((-0.5, 0.2), (0.1, 0.3)).get_random_transformation(x, key=KEY)
    assert (
        0.5 <= float(t["height_zoom"].min()) < 0.52
        and 1.18 < float(t["height_zoom"].max()) <= 1.2
    )
    assert 1.1 <= float(t["width_zoom"].min()) and float(t["width_zoom"].max()) <= 1.3
    same = layers.RandomZoom(0.2).get_random_transformation(x, key=KEY)
    np.testing.assert_array_equal(same["height_zoom"], same["width_zoom"])
    t = layers.RandomTranslation(0.5, (-0.2, 0.0)).get_random_transformation(
        x, key=KEY
    )["translations"]
    dx, dy = t[:, 0], t[:, 1]  # Pixels: fractions of width 5 and height 4.
    assert -1.0 <= float(dx.min()) < -0.95 and -0.05 < float(dx.max()) <= 0.0
    assert -2.0 <= float(dy.min()) < -1.9 and 1.9 < float(dy.max()) <= 2.0
    c = layers.RandomContrast(0.3).get_random_transformation(x, key=KEY)[
        "contrast_factor"
    ]
    assert (
        c.shape == (4000, 1, 1, 1) and 1.0 <= float(c.min()) and float(c.max()) <= 1.3
    )  # Keras: (0, f).
    d = layers.RandomBrightness(0.25, value_range=(0, 2)).get_random_transformation(
        x, key=KEY
    )["rgb_delta"]
    assert -0.5 <= float(d.min()) < -0.45 and 0.45 < float(d.max()) <= 0.5


def test_random_crop_training_and_inference(rng):
    x = jnp.asarray(images(rng, batch=3, height=8, width=9))
    layer = layers.RandomCrop(5, 6)
    draw = jax.jit(lambda key: layer.get_random_transformation(x, key=key))
    apply = jax.jit(lambda key: layer.apply({}, {}, x, key=key, training=True)[0])
    starts = set()
    for seed in range(30):
        h, w = (int(v) for v in draw(jax.random.key(seed)))
        starts.add((h, w))
        if seed < 4:
            np.testing.assert_array_equal(
                apply(jax.random.key(seed)), x[:, h : h + 5, w : w + 6]
            )  # One location per batch.
    assert {h for h, _ in starts} == {0, 1, 2, 3} and {w for _, w in starts} == {
        0,
        1,
        2,
        3,
    }
    # Inference: Keras's documented centre crop to the target aspect ratio, resized.
    y, _ = layer.apply({}, {}, x)
    np.testing.assert_allclose(
        y, keras_smart_resize(np.asarray(x), (5, 6)), rtol=1e-6, atol=1e-6
    )
    same = layers.RandomCrop(8, 9)
    np.testing.assert_array_equal(same.apply({}, {}, x)[0], x)
    # Training with an input not larger than the target: Keras's deterministic fallback.
    kl = keras.layers.RandomCrop(10, 6)
    small = images(rng, height=8, width=8)
    y, _ = layer_from_keras(kl).apply(
        {}, {}, jnp.asarray(small), key=KEY, training=True
    )
    np.testing.assert_allclose(y, kl(small, training=True), rtol=1e-6, atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation((0.1, 0.2, 0.3))
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="height_factor"):
        layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="width_factor"):
        layers.RandomTranslation(0.1, 1.5)
    with pytest.raises(ValueError, match="factor"):
        layers.RandomContrast(-0.1)
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomBrightness(0.1, value_range=(0, 1, 2))
    with pytest.raises(ValueError, match="seed"):
        layers.RandomFlip(seed="a")
    with pytest.raises(ValueError, match="height"):
        layers.RandomCrop(0, 3)
    with pytest.raises(ValueError, match="rank 4"):
        layers.RandomFlip().init(KEY, kerax.spec((8, 8, 3)))


def test_in_a_model_training_vs_inference(rng):
    model = kerax.Sequential(
        [
            kerax.Input((8, 8, 3)),
            layers.RandomFlip(),
            layers.RandomRotation(0.1),
            layers.RandomCrop(6, 6),
            layers.Rescaling(2.0),
        ]
    )
    params, state = model.init(KEY)
    x = jnp.asarray(images(rng))
    y_inf, _ = model.apply(params, state, x)
    np.testing.assert_allclose(
        y_inf, 2 * keras_smart_resize(np.asarray(x), (6, 6)), rtol=1e-6, atol=1e-6
    )
    y1, _ = model.apply(params, state, x, key=jax.random.key(1), training=True)
    y2, _ = model.apply(params, state, x, key=jax.random.key(2), training=True)
    assert y1.shape == y2.shape == y_inf.shape == (2, 6, 6, 3) and not np.array_equal(
        y1, y2
    )


def test_from_keras_model_with_preprocessing_layers(rng):
    x = images(rng, height=10, width=12, high=255.0)
    norm = keras.layers.Normalization()
    norm.adapt(x / 255.0)
    k_model = keras.Sequential(
        [
            keras.Input((10, 12, 3)),
            keras.layers.Rescaling(1 / 255.0),
            norm,
            keras.layers.RandomFlip(),
            keras.layers.RandomRotation(0.1),
            keras.layers.RandomZoom(0.1),
            keras.layers.RandomTranslation(0.1, 0.1),
            keras.layers.RandomContrast(0.1, value_range=(0, 1)),
            keras.layers.RandomBrightness(0.1, value_range=(0, 1)),
            keras.layers.Resizing(8, 8),
            keras.layers.CenterCrop(6, 6),
            keras.layers.RandomCrop(6, 6),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    model, params, state = kerax.interop.from_keras(k_model)
    assert set(state) == {norm.name}
    y, _ = model.apply(params, state, jnp.asarray(x))
    np.testing.assert_allclose(y, k_model(x, training=False), rtol=1e-5, atol=1e-5)
    y_train, _ = model.apply(params, state, jnp.asarray(x), key=KEY, training=True)
    assert y_train.shape == y.shape and not np.allclose(y_train, y)
