"""RandAugment, AugMix and MaxNumBoundingBoxes against Keras.

Keras's RNG is not JAX's keys, so the random layers are compared on what
both compute from the same draws: kerax draws a transformation, and Keras's
own `transform_images` applies it (jitted: Keras's Equalization loops over
its bins op by op). Configs, sub-layers and their order are Keras's too.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.core import serialization
from kerax.interop import layer_from_keras

KEY = jax.random.key(0)
SHAPE = (2, 6, 6, 3)


def images(rng, high=1.0, channels_first=False):
    x = rng.uniform(0.0, high, SHAPE).astype(np.float32)
    return np.transpose(x, (0, 3, 1, 2)) if channels_first else x


def as_lists(config):
    """Keras keeps some pairs as tuples, kerax's JSON-safe configs as lists."""
    if isinstance(config, dict):
        return {k: as_lists(v) for k, v in config.items()}
    if isinstance(config, tuple | list):
        return [as_lists(v) for v in config]
    return config


def to_numpy(tree):
    return jax.tree.map(np.asarray, tree)


ARGUMENTS = {
    "rand_augment": lambda: keras.layers.RandAugment(
        value_range=(0, 1),
        num_ops=3,
        factor=(0.1, 0.4),
        interpolation="nearest",
        seed=3,
        data_format="channels_first",
    ),
    "rand_augment_default": lambda: keras.layers.RandAugment(),
    "aug_mix": lambda: keras.layers.AugMix(
        value_range=(0, 1),
        num_chains=2,
        chain_depth=4,
        factor=0.2,
        alpha=0.5,
        all_ops=False,
        seed=1,
    ),
    "aug_mix_default": lambda: keras.layers.AugMix(),
    "max_boxes": lambda: keras.layers.MaxNumBoundingBoxes(
        5, bounding_box_format="xyxy"
    ),
}


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
def test_config_matches_keras(name):
    kl = ARGUMENTS[name]()
    kx = layer_from_keras(kl)
    want = as_lists(kl.get_config())
    got = kx.get_config()
    # Keras's config keys, with its values (the dtype policy is kerax's own).
    for key in set(want) - {"dtype"}:
        assert got[key] == want[key], key
    # Keras 3.15 drops `fill_value` from its config; kerax keeps it.
    assert set(got) - set(want) <= {"fill_value", "bounding_box_format"}
    # The same layer as kerax's constructor with Keras's arguments.
    arguments = {k: v for k, v in want.items() if k not in ("dtype", "trainable")}
    assert type(kx)(**arguments) == kx
    rebuilt = serialization.from_config(serialization.to_json(kx))
    assert rebuilt == kx and rebuilt.get_config() == got


@pytest.mark.parametrize("name", ["rand_augment", "aug_mix", "aug_mix_default"])
def test_sub_layers_are_keras(name):
    """The op list (names and order) and each op's arguments are Keras's."""
    kl = ARGUMENTS[name]()
    kx = layer_from_keras(kl)
    names = getattr(kl, "_AUGMENT_LAYERS", None) or kl._augment_layers
    assert list(kx.layer_names) == list(names)
    subs = kx.augment_layers()
    assert list(subs) == list(names)
    for sub_name, sub in subs.items():
        want = as_lists(getattr(kl, sub_name).get_config())
        got = sub.get_config()
        for key in set(want) - {"dtype", "name", "seed", "data_format"}:
            assert got[key] == want[key], (sub_name, key)
        assert got["data_format"] == kx.data_format


def keras_chain(kl, x, steps):
    """Keras's sub-layers applied in turn, eagerly: `steps` is `[(name, transformation)]`."""
    for name, t in steps:
        x = getattr(kl, name).transform_images(x, t, training=True)
    return np.asarray(x)


# Keras's Equalization loops over its 256 bins op by op (seconds, eagerly or
# to compile), so the forced op choices leave it out; kerax's Equalization
# is compared with Keras's in test_preprocessing_color.py.


def test_rand_augment_matches_keras_given_same_draws(rng):
    kl = keras.layers.RandAugment(value_range=(0, 255), data_format="channels_first")
    kx = layer_from_keras(kl)
    names = kl._AUGMENT_LAYERS
    x = jnp.asarray(images(rng, 255.0, channels_first=True))

    t = jax.jit(lambda x, k: kx.get_random_transformation(x, key=k))(x, KEY)
    transform = jax.jit(kx.transform_images)
    # Keras's draw has the same ops, op indices and (per op) arrays.
    keras_draw = kl.get_random_transformation(np.asarray(x), training=True)
    assert list(t["transforms"]) == sorted(keras_draw["transforms"])
    assert t["layer_idxes"].shape == keras_draw["layer_idxes"].shape == (2,)
    transforms = to_numpy(t["transforms"])
    # AutoContrast (9) is compared in channels_last in the AugMix test: Keras
    # 3.15 takes its min and max over axes 1 and 2 whatever the data format.
    for pair in ([0, 1], [2, 3], [4, 5], [6, 7], [8, 0]):
        forced = {**t, "layer_idxes": jnp.asarray(pair, jnp.int32)}
        got = transform(x, forced)
        want = keras_chain(kl, x, [(names[i], transforms[names[i]]) for i in pair])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
        assert not np.allclose(got, x)


def test_aug_mix_matches_keras_given_same_draws(rng):
    kl = keras.layers.AugMix(value_range=(0, 1), num_chains=2, chain_depth=2)
    kx = layer_from_keras(kl)
    names = kl._augment_layers
    x = jnp.asarray(images(rng))
    t = jax.jit(lambda x, k: kx.get_random_transformation(x, key=k))(x, KEY)
    assert t["layer_idxes"].shape == (2, 2)
    assert 0 <= int(t["layer_idxes"].min()) and int(t["layer_idxes"].max()) <= 11
    weights = np.asarray(t["chain_mixing_weights"])
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-6)
    assert 0.0 <= float(t["weight_sample"]) <= 1.0
    # Forced ops: chain 0 auto-contrasts then (11) does nothing; chain 1
    # solarizes then sharpens.
    idx = np.array([[5, 11], [4, 10]])
    t = {**t, "layer_idxes": jnp.asarray(idx, jnp.int32)}
    got = jax.jit(kx.transform_images)(x, t)
    transforms = to_numpy(t["transforms"])
    chains = [
        [
            {
                "layer_name": names[idx[c, d]],
                "transformation": jax.tree.map(
                    lambda a, c=c, d=d: a[c, d], transforms[names[idx[c, d]]]
                ),
            }
            for d in range(2)
            if idx[c, d] < len(names)
        ]
        for c in range(2)
    ]
    keras_t = {
        "chain_mixing_weights": np.asarray(t["chain_mixing_weights"]),
        "weight_sample": np.asarray(t["weight_sample"]),
        "chain_transforms": chains,
    }
    want = kl.transform_images(np.asarray(x), keras_t, training=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, x)


SMALL = {  # Few ops: each op compiles all its candidate layers.
    "RandAugment": {"num_ops": 1},
    "AugMix": {"num_chains": 1, "chain_depth": 2, "all_ops": False},
}


@pytest.mark.parametrize("make", [layers.RandAugment, layers.AugMix])
def test_keys_jit_vmap_and_inference(make, rng):
    small = SMALL[make.__name__]
    kx = make(value_range=(0.0, 1.0), **small)
    x = jnp.asarray(images(rng))
    # One compiled program (jit of vmap, a key per image) for every check:
    # the matches-Keras tests run the batched form.
    run = jax.jit(
        jax.vmap(lambda im, k: kx.apply({}, {}, im[None], key=k, training=True)[0][0])
    )
    ys = [run(x, jax.random.split(jax.random.key(i), len(x))) for i in range(3)]
    for y in ys:
        assert y.shape == x.shape and y.dtype == jnp.float32
        assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert not np.allclose(ys[0], ys[1]) or not np.allclose(ys[0], ys[2])
    np.testing.assert_array_equal(
        run(x, jax.random.split(jax.random.key(0), len(x))), ys[0]
    )
    # A seed changes the draws for the same key: every draw comes from the
    # layer's `_key(key)`, which folds the seed in (jitting the draws of
    # eleven operations twice would cost seconds).
    seeded = make(value_range=(0.0, 1.0), seed=5, **small)
    assert not np.array_equal(
        jax.random.key_data(seeded._key(KEY)), jax.random.key_data(kx._key(KEY))
    )
    # Inference: the input, as Keras returns it; no key needed.
    np.testing.assert_array_equal(kx.apply({}, {}, x)[0], x)
    kl = getattr(keras.layers, make.__name__)(value_range=(0, 1))
    np.testing.assert_array_equal(kl(np.asarray(x), training=False), x)


BOX_CASES = {
    "pad": (3, 4, -1),
    "truncate": (5, 2, -1),
    "exact": (3, 3, 7),
    "pad_fill": (1, 3, -5),
}


@pytest.mark.parametrize("case", sorted(BOX_CASES))
def test_max_num_bounding_boxes_matches_keras(case, rng):
    n, max_number, fill_value = BOX_CASES[case]
    boxes = rng.uniform(0, 8, (2, n, 4)).astype(np.float32)
    labels = rng.integers(0, 5, (2, n)).astype(np.int32)
    x = rng.uniform(0, 1, (2, 8, 8, 3)).astype(np.float32)
    kl = keras.layers.MaxNumBoundingBoxes(
        max_number, fill_value=fill_value, bounding_box_format="xyxy"
    )
    kx = layers.MaxNumBoundingBoxes(
        max_number, fill_value=fill_value, bounding_box_format="xyxy"
    )
    for batch in (slice(None), 0):  # Batched and a single image.
        data = {
            "images": x[batch],
            "bounding_boxes": {"boxes": boxes[batch], "labels": labels[batch]},
            "labels": labels[batch, 0],
        }
        want = kl({**data, "bounding_boxes": dict(data["bounding_boxes"])})
        got, _ = jax.jit(lambda d: kx.apply({}, {}, d))(data)
        for k in ("boxes", "labels"):
            np.testing.assert_array_equal(
                got["bounding_boxes"][k], want["bounding_boxes"][k]
            )
            assert got["bounding_boxes"][k].dtype == want["bounding_boxes"][k].dtype
        np.testing.assert_array_equal(got["images"], x[batch])
        np.testing.assert_array_equal(got["labels"], labels[batch, 0])
    # Keras's method on a bounding-box dict, and images alone pass through.
    np.testing.assert_array_equal(
        kx.transform_bounding_boxes({"boxes": boxes, "labels": labels})["boxes"],
        kl.transform_bounding_boxes({"boxes": boxes, "labels": labels}, None)["boxes"],
    )
    np.testing.assert_array_equal(kx.apply({}, {}, jnp.asarray(x))[0], x)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="factor"):
        layers.RandAugment(factor=1.5)
    with pytest.raises(ValueError, match="interpolation"):
        layers.AugMix(interpolation="bicubic")
    with pytest.raises(ValueError, match="num_ops"):
        layers.RandAugment(num_ops=-1)
    with pytest.raises(ValueError, match="alpha"):
        layers.AugMix(alpha=0.0)
    with pytest.raises(ValueError, match="max_number"):
        layers.MaxNumBoundingBoxes(0)
    with pytest.raises(ValueError, match="rank 4"):
        layers.RandAugment().init(KEY, kerax.spec((6, 6, 3)))
    data = {
        "images": jnp.zeros((1, 4, 4, 3)),
        "bounding_boxes": {"boxes": jnp.zeros((1, 2, 4)), "labels": jnp.zeros((1, 2))},
    }
    with pytest.raises(ValueError, match="bounding_box_format"):
        layers.MaxNumBoundingBoxes(3).apply({}, {}, data)
    bad = {**data, "bounding_boxes": {**data["bounding_boxes"], "scores": jnp.zeros(2)}}
    with pytest.raises(ValueError, match="'boxes' and 'labels' only"):
        layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy").apply({}, {}, bad)
