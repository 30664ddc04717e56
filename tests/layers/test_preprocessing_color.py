"""Color and intensity augmentations: Keras's transforms given the same draws, draws, keys, errors.

Keras's image layers run eagerly op by op (Equalization loops over its 256
bins), so Keras is called jitted or once per test, and all inputs share one
shape: the eager and jitted programs compiled for one test serve the next.
"""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.core import serialization
from kerax.interop import layer_from_keras
from kerax.testing import check_layer as _check_layer

KEY = jax.random.key(0)
BATCH = 8


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, batch=BATCH, **kwargs)


def images(rng, channels_first=False, high=1.0):
    x = rng.uniform(0.0, high, (BATCH, 6, 6, 3)).astype(np.float32)
    return np.transpose(x, (0, 3, 1, 2)) if channels_first else x


def to_numpy(transformation):
    return jax.tree.map(np.asarray, transformation)


def assert_close_in_range(got, want, high):
    # float32 keeps ~7 digits: on a 0..255 range 1e-5 is below one ulp.
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * max(high, 1.0))


# Keras layers covering every random layer and its main options ("_cf": in
# channels_first); kerax layers are imported from their Keras configs.
RANDOM_LAYERS = {
    "solarization": lambda: keras.layers.Solarization(value_range=(0, 1)),
    "solarization_factors_cf": lambda: keras.layers.Solarization(
        addition_factor=(0.1, 0.3), threshold_factor=0.6, data_format="channels_first"
    ),
    "invert_cf": lambda: keras.layers.RandomInvert(
        (0.3, 0.9), data_format="channels_first"
    ),
    "posterization": lambda: keras.layers.RandomPosterization(4, value_range=(0, 1)),
    "sharpness": lambda: keras.layers.RandomSharpness(0.9, value_range=(0, 1)),
    "sharpness_cf": lambda: keras.layers.RandomSharpness(
        (0.0, 1.0), data_format="channels_first"
    ),
    "grayscale": lambda: keras.layers.RandomGrayscale(0.5),
    "grayscale_cf": lambda: keras.layers.RandomGrayscale(
        0.7, data_format="channels_first"
    ),
    "hue": lambda: keras.layers.RandomHue(0.6, value_range=(0, 1)),
    "hue_cf": lambda: keras.layers.RandomHue((0.2, 0.9), data_format="channels_first"),
    "saturation": lambda: keras.layers.RandomSaturation((0.2, 0.8), value_range=(0, 1)),
    "saturation_cf": lambda: keras.layers.RandomSaturation(
        0.7, data_format="channels_first"
    ),
    "degeneration": lambda: keras.layers.RandomColorDegeneration(
        0.6, value_range=(0, 1)
    ),
    "degeneration_cf": lambda: keras.layers.RandomColorDegeneration(
        (0.2, 1.0), data_format="channels_first"
    ),
}


def make(name, rng, factories=RANDOM_LAYERS):
    kl = factories[name]()
    kx = layer_from_keras(kl)
    high = float(getattr(kx, "value_range", (0, 255))[1])
    return kl, kx, images(rng, kx.data_format == "channels_first", high), high


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_transform_matches_keras_given_same_draws(name, rng):
    """kerax's transform equals Keras's `transform_images` on the transformation kerax drew."""
    kl, kx, x, high = make(name, rng)

    def draw_and_transform(x, key):
        transformation = kx.get_random_transformation(x, key=key)
        trained, _ = kx.apply({}, {}, x, key=key, training=True)
        return transformation, kx.transform_images(x, transformation), trained

    with jax.numpy_rank_promotion("raise"):
        transformation, got, trained = jax.jit(draw_and_transform)(jnp.asarray(x), KEY)
    keras_transform = jax.jit(lambda x, t: kl.transform_images(x, t, training=True))
    assert_close_in_range(got, keras_transform(x, to_numpy(transformation)), high)
    assert not np.allclose(got, x)
    # apply(training=True) is exactly those two steps.
    np.testing.assert_array_equal(trained, got)
    # Keras's own draw has the same structure, shapes and dtypes.
    keras_draw = kl.get_random_transformation(x, training=True)
    spec = lambda t: jax.tree.map(lambda a: (np.shape(a), np.asarray(a).dtype), t)  # noqa: E731
    assert spec(to_numpy(transformation)) == spec(to_numpy(keras_draw))
    # Inference: the input, as Keras returns it.
    np.testing.assert_array_equal(kl(x, training=False), x)
    np.testing.assert_array_equal(kx.apply({}, {}, jnp.asarray(x))[0], x)


def test_contract(rng):
    """The full contract, for one layer: it runs eagerly op by op, so it is costly."""
    _, kx, x, _ = make("sharpness_cf", rng)
    check_layer(kx, kerax.spec((None, *x.shape[1:])), training_changes_state=False)


def test_config_round_trip():
    every = [layer_from_keras(f()) for f in RANDOM_LAYERS.values()] + [
        layers.AutoContrast((0, 1), data_format="channels_first"),
        layers.Equalization(bins=16),
        layers.RandomColorJitter(
            (0, 1), 0.2, (0.1, 0.3), saturation_factor=[0.2, 0.6], seed=3
        ),
    ]
    for layer in every:
        rebuilt = serialization.from_config(serialization.to_json(layer))
        assert rebuilt == layer and rebuilt.get_config() == layer.get_config()


def test_draw_ranges():
    x = jnp.zeros((4000, 2, 2, 3))
    draw_layers = {
        "solarization": layers.Solarization((0.2, 0.4), 0.5),
        "invert": layers.RandomInvert((0.2, 0.6)),
        "posterization": layers.RandomPosterization(4),
        "posterization_1": layers.RandomPosterization(1),
        "grayscale": layers.RandomGrayscale(0.3),
        "hue": layers.RandomHue((0.2, 0.6)),
        "saturation": layers.RandomSaturation(0.5),
        "degeneration": layers.RandomColorDegeneration(0.4),
        "sharpness": layers.RandomSharpness(0.7),
    }
    t = jax.jit(
        lambda key: {
            name: layer.get_random_transformation(x, key=key)
            for name, layer in draw_layers.items()
        }
    )(KEY)

    def within(a, low, high, slack=0.05):
        a = np.asarray(a, np.float64)
        span = (high - low) * slack
        return low <= a.min() < low + span and high - span < a.max() <= high

    # Keras scales only the upper bounds by 255.
    assert within(t["solarization"]["additions"], 0.2, 0.4 * 255)
    assert within(t["solarization"]["thresholds"], 0, 127.5)
    invert = t["invert"]["apply_inversion"]
    assert invert.dtype == jnp.bool_ and abs(float(invert.mean()) - 0.4) < 0.03
    # Bits in [1, 4): Keras's randint excludes its upper bound.
    assert set(np.unique(t["posterization"]["shift_factor"])) == {5, 6, 7}
    assert set(np.unique(t["posterization_1"]["shift_factor"])) == {7}
    gray = t["grayscale"]
    assert gray.shape == (4000, 1, 1, 1) and abs(float(gray.mean()) - 0.3) < 0.03
    hue = np.asarray(t["hue"]["factor"])
    assert within(np.abs(hue), 0.1, 0.3) and abs(float((hue > 0).mean()) - 0.5) < 0.03
    odds = np.asarray(t["saturation"]["factor"], np.float64)
    assert within(odds / (1 + odds), -0.5, 0.5, slack=0.1)  # A number f: [-f, f].
    assert within(t["degeneration"]["factor"], -0.4, 0.4)
    assert within(t["sharpness"]["factor"], 0.0, 0.7)


def test_keys_drive_randomness(rng):
    x = jnp.asarray(images(rng, high=255.0))
    random_layers = [
        layers.Solarization((0.0, 0.2), (0.3, 0.6)),
        layers.RandomGrayscale(),
        layers.RandomHue(0.5),
        layers.RandomColorJitter(brightness_factor=0.3, hue_factor=0.5),
    ]

    @jax.jit
    def apply(x, key, other_key):
        def run(layer, k):
            return layer.apply({}, {}, x, key=k, training=True)[0]

        # Per layer: a key, another key, the first key with a seed.
        return [
            (
                run(lay, key),
                run(lay, other_key),
                run(dataclasses.replace(lay, seed=7), key),
            )
            for lay in random_layers
        ]

    first = apply(x, jax.random.key(1), jax.random.key(2))
    again = apply(x, jax.random.key(1), jax.random.key(3))
    for layer, (a, b, seeded), (a_again, _, _) in zip(random_layers, first, again):
        np.testing.assert_array_equal(a_again, a)
        assert not np.array_equal(a, b) and not np.array_equal(a, seeded), layer
        with pytest.raises(
            ValueError, match="is random in training and needs a PRNG key"
        ):
            layer.apply({}, {}, x, training=True)


# ------------------------------------------------------- deterministic layers
def test_auto_contrast_matches_keras_in_both_modes(rng):
    x = images(rng, high=255.0)
    x[1, ..., 2] = 70.0  # A constant channel: Keras leaves it as is.
    for value_range, scale in [((0, 255), 1.0), ((0.0, 1.0), 1 / 255)]:
        kl = keras.layers.AutoContrast(value_range=value_range)
        kx = layer_from_keras(kl)
        want = kl(x * scale)
        run = jax.jit(
            lambda x, kx=kx: [kx.apply({}, {}, x, training=t)[0] for t in (False, True)]
        )
        for y in run(jnp.asarray(x * scale)):
            assert_close_in_range(y, want, value_range[1])
        np.testing.assert_allclose(y[1, ..., 2], x[1, ..., 2] * scale)
    # channels_first: the same per-channel stretch (Keras 3.15 reduces over
    # axes 1 and 2 whatever data_format is; kerax over height and width).
    cf = layers.AutoContrast(value_range, data_format="channels_first")
    y, _ = cf.apply({}, {}, jnp.asarray(np.transpose(x * scale, (0, 3, 1, 2))))
    assert_close_in_range(np.transpose(y, (0, 2, 3, 1)), want, 1.0)


@pytest.mark.parametrize(
    "make_layer,high",
    [
        (lambda: keras.layers.Equalization(), 255.0),
        (
            lambda: keras.layers.Equalization(
                value_range=(0, 1), bins=16, data_format="channels_first"
            ),
            1.0,
        ),
    ],
    ids=["default", "bins16_cf"],
)
def test_equalization_matches_keras(make_layer, high, rng):
    kl = make_layer()
    kx = layer_from_keras(kl)
    channels_first = kx.data_format == "channels_first"
    x = images(rng, channels_first, high)
    # Quantized values, as in 8-bit images: bins hold several pixels.
    x = np.round(x * 20 / high) * high / 20
    # A channel with one value in the whole batch keeps its values.
    x[(slice(None),) * (1 if channels_first else 3) + (1,)] = 0.4 * high
    want = kl(x, training=True)
    y = jax.jit(lambda x: kx.apply({}, {}, x, training=True)[0])(jnp.asarray(x))
    assert_close_in_range(y, want, high)
    assert not np.allclose(y, x)
    # Inference returns the input, as Keras's code does.
    np.testing.assert_array_equal(kl(x, training=False), x)
    np.testing.assert_array_equal(kx.apply({}, {}, jnp.asarray(x))[0], x)


# ----------------------------------------------------------- color jitter
JITTER_LAYERS = {
    "jitter_all": lambda: keras.layers.RandomColorJitter(
        value_range=(0, 1),
        brightness_factor=0.2,
        contrast_factor=(0.3, 0.5),
        saturation_factor=(0.2, 0.9),
        hue_factor=0.4,
    ),
    "jitter_some_cf": lambda: keras.layers.RandomColorJitter(
        contrast_factor=0.5, hue_factor=(0.1, 0.3), data_format="channels_first"
    ),
}
KERAS_STAGES = {
    "brightness": keras.layers.RandomBrightness,
    "contrast": keras.layers.RandomContrast,
    "saturation": keras.layers.RandomSaturation,
    "hue": keras.layers.RandomHue,
}


@pytest.mark.parametrize("name", sorted(JITTER_LAYERS))
def test_color_jitter_is_keras_stages_in_order(name, rng):
    kl, kx, x, high = make(name, rng, JITTER_LAYERS)
    with jax.numpy_rank_promotion("raise"):
        transformation, got = jax.jit(
            lambda x, key: (
                t := kx.get_random_transformation(x, key=key),
                kx.transform_images(x, t),
            )
        )(jnp.asarray(x), KEY)
    # Keras draws inside `transform_images`: replay its stages on kerax's draws,
    # with Keras stage layers in this data format (Keras's own ignore it).
    stages = [
        cls(factor, value_range=kl.value_range, data_format=kx.data_format)
        for stage, cls in KERAS_STAGES.items()
        if (factor := getattr(kl, f"{stage}_factor")) is not None
    ]
    names = [s for s in KERAS_STAGES if getattr(kl, f"{s}_factor") is not None]
    assert sorted(transformation) == sorted(names)

    def replay(x, t):
        for stage, layer in zip(names, stages):
            x = layer.transform_images(x, t[stage], training=True)
        return x

    assert_close_in_range(got, jax.jit(replay)(x, to_numpy(transformation)), high)
    assert not np.allclose(got, x)
    np.testing.assert_array_equal(kx.apply({}, {}, jnp.asarray(x))[0], x)
    # A stage's draw does not depend on which other stages are on.
    hue_only = dataclasses.replace(
        kx, brightness_factor=None, contrast_factor=None, saturation_factor=None
    )
    np.testing.assert_array_equal(
        hue_only.get_random_transformation(jnp.asarray(x), key=KEY)["hue"]["factor"],
        transformation["hue"]["factor"],
    )


# -------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make_layer,match",
    [
        (lambda: layers.Solarization(1.5), "addition_factor.*range \\[0, 1\\]"),
        (
            lambda: layers.Solarization(threshold_factor=(0.1, 0.2, 0.3)),
            "threshold_factor",
        ),
        (lambda: layers.RandomInvert(-0.5), "RandomInvert.*factor"),
        (lambda: layers.RandomPosterization(9), "range \\[1, 8\\]"),
        (lambda: layers.RandomPosterization(2.5), "integer number of bits"),
        (lambda: layers.RandomSharpness(1.5), "RandomSharpness.*factor"),
        (lambda: layers.RandomGrayscale(1.2), "between 0 and 1"),
        (lambda: layers.RandomHue(-0.1), "RandomHue.*factor"),
        (lambda: layers.RandomSaturation(0.5, value_range=(0, 1, 2)), "value_range"),
        (lambda: layers.Equalization(bins=0), "bins"),
        (lambda: layers.AutoContrast(value_range=3), "value_range"),
        (
            lambda: layers.RandomColorJitter(hue_factor=2.0),
            "RandomColorJitter.*hue_factor",
        ),
        (lambda: layers.RandomColorJitter(brightness_factor="a"), "brightness_factor"),
    ],
)
def test_bad_arguments(make_layer, match):
    with pytest.raises(ValueError, match=match):
        make_layer()


def test_input_checks():
    with pytest.raises(ValueError, match="batched inputs only.*images\\[None\\]"):
        layers.RandomHue(0.5).init(KEY, kerax.spec((8, 8, 3)))
    with pytest.raises(
        ValueError, match="RandomSaturation 'random_saturation' expected 3 channels"
    ):
        layers.RandomSaturation(0.5).init(KEY, kerax.spec((None, 8, 8, 4)))
    with pytest.raises(ValueError, match="expected 1 or 3 channels"):
        layers.RandomGrayscale(data_format="channels_first").init(
            KEY, kerax.spec((None, 8, 8, 3))
        )
    with pytest.raises(ValueError, match="RandomColorJitter .* expected 3 channels"):
        layers.RandomColorJitter(saturation_factor=0.5).init(
            KEY, kerax.spec((None, 4, 4, 1))
        )
    # Brightness and contrast alone take any channel count, as in Keras.
    layers.RandomColorJitter(brightness_factor=0.5).init(
        KEY, kerax.spec((None, 4, 4, 1))
    )
    layers.RandomGrayscale().init(KEY, kerax.spec((None, 4, 4, 1)))


def test_keras_model_imported(rng):
    x = images(rng, high=255.0)
    k_model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.AutoContrast(),
            keras.layers.RandomHue(0.2),
            keras.layers.Solarization(threshold_factor=0.5),
            keras.layers.RandomColorJitter(brightness_factor=0.1),
            keras.layers.Rescaling(1 / 255.0),
        ]
    )
    model, params, state = kerax.interop.from_keras(k_model)
    run = jax.jit(
        lambda x: (
            model.apply(params, state, x)[0],
            model.apply(params, state, x, key=KEY, training=True)[0],
        )
    )
    y, y_train = run(jnp.asarray(x))
    assert_close_in_range(y, k_model(x, training=False), 1.0)
    assert y_train.shape == y.shape and not np.allclose(y_train, y)
