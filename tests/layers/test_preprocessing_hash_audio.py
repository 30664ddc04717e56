"""Hashing, HashedCrossing (TF's hashes in NumPy), STFTSpectrogram and MelSpectrogram against Keras."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop import layer_from_keras, layer_weights
from kerax.layers.preprocessing import _hash
from kerax.testing import check_layer as _check_layer

# Keras's string layers and hash functions run on TensorFlow (the export extra).
tf = pytest.importorskip("tensorflow")

KEY = jax.random.key(0)
STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
# Two coprime moduli whose product exceeds 2**64: a 64-bit hash is determined by
# its two residues, so matching TF's buckets modulo both is matching all 64 bits.
MODULI = (2**63 - 1, 2**63 - 25)


def check_layer(*args, **kwargs):
    """The contract check under strict rank promotion (kerax code only: Keras fails it)."""
    with jax.numpy_rank_promotion("raise"):
        return _check_layer(*args, **kwargs)


def sample_strings(rng):
    """Byte strings of every length 0..100 (each FarmHash length class), random bytes and unicode."""
    data = [bytes(rng.integers(0, 256, n, dtype=np.uint8)) for n in range(101)]
    data += [
        bytes(rng.integers(97, 123, n, dtype=np.uint8)) for n in (127, 128, 129, 200)
    ]
    data += [s.encode() for s in ("A", "héllo wörld", "日本語のテキスト" * 5, "✓" * 30)]
    ints = [0, 1, -1, 7, 101, -(2**63), 2**63 - 1, 2**40, -123456789]
    return data + [str(i).encode() for i in ints]


# ------------------------------------------------------------------- hashes
def test_fingerprint64_matches_tensorflow_bit_for_bit(rng):
    data = sample_strings(rng)
    got = _hash.fingerprint64(data)
    for m in MODULI:
        want = tf.strings.to_hash_bucket_fast(data, m).numpy()
        np.testing.assert_array_equal((got % np.uint64(m)).astype(np.int64), want)


@pytest.mark.parametrize("key", [(133, 137), (0, 2**64 - 1), (2**63 + 5, 1)])
def test_siphash24_matches_tensorflow_bit_for_bit(key, rng):
    data = sample_strings(rng)
    got = _hash.siphash24(data, key)
    tf_key = [k - 2**64 if k >= 2**63 else k for k in key]  # TF's attr is int64.
    for m in MODULI:
        want = tf.strings.to_hash_bucket_strong(data, m, key=tf_key).numpy()
        np.testing.assert_array_equal((got % np.uint64(m)).astype(np.int64), want)


# ------------------------------------------------------------------ Hashing
def hashing_inputs(rng):
    return {
        "strings": np.array([["A", ""], ["héllo ✓", "x" * 70], ["B", "A"]]),
        "bytes": np.array([b"A", b"", b"zz" * 20]),
        "ints": np.array([[0, -1, 2**40], [-(2**62), 7, 101]]),
        "int32": rng.integers(-1000, 1000, (4, 3)).astype(np.int32),
        "floats": np.array([[1.7, -2.5], [0.0, 3.0]]),
        "bools": np.array([[True], [False]]),
        "list": [["a"], ["b"], ["c"]],
        "scalar": np.array("A"),
    }


def assert_same_bins(got, want):
    # Keras on JAX returns int32 bins (no x64); kerax returns Keras's int64.
    want = np.asarray(want)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_bins": 3},
        {"num_bins": 7, "salt": 133},
        {"num_bins": 5, "salt": [133, 137]},
        {"num_bins": 4, "mask_value": ""},
        {"num_bins": 4, "mask_value": 7},
        {"num_bins": 1, "mask_value": "A"},  # One bin: no mask bin, as Keras.
    ],
)
@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_hashing_matches_keras(kwargs, output_mode, rng):
    keras_layer = keras.layers.Hashing(output_mode=output_mode, **kwargs)
    layer = layer_from_keras(keras_layer)
    assert layer == layers.Hashing(
        output_mode=output_mode, name=layer.name, dtype=layer.dtype, **kwargs
    )
    mask = kwargs.get("mask_value")
    for name, x in hashing_inputs(rng).items():
        if output_mode == "one_hot" and name == "scalar":
            continue  # Keras fails on a scalar in one_hot mode (IndexError).
        text = name in ("strings", "bytes", "list", "scalar")
        if mask is not None and (isinstance(mask, str) != text or name == "bools"):
            continue  # TF compares the mask value with inputs of its own type only.
        got = layer(x)
        assert_same_bins(got, keras_layer(x))
        np.testing.assert_array_equal(layer.apply({}, {}, x)[0], got)
        dtype = np.int64 if output_mode == "int" else np.float32
        assert got.dtype == dtype, name


def test_hashing_config_import_and_round_trip():
    keras_layer = keras.layers.Hashing(
        num_bins=5, salt=11, mask_value="x", dtype="int32"
    )
    layer = layer_from_keras(keras_layer)
    assert (layer.num_bins, layer.salt, layer.mask_value) == (5, (11, 11), "x")
    assert layer(np.array(["x", "y"])).dtype == np.int32
    np.testing.assert_array_equal(
        layer(np.array(["x", "y"])), keras_layer(np.array(["x", "y"]))
    )
    assert kerax.layers.deserialize(kerax.layers.serialize(layer)) == layer
    assert layers.Hashing(3, salt=[1, 2]).get_config()["salt"] == [1, 2]


def test_hashing_errors():
    with pytest.raises(ValueError, match="Hashing 'hashing'.*num_bins"):
        layers.Hashing(0)
    with pytest.raises(ValueError, match="output_mode"):
        layers.Hashing(3, output_mode="binary")
    with pytest.raises(ValueError, match="sparse=True"):
        layers.Hashing(3, output_mode="count", sparse=True)
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(3, salt=[1, 2, 3])
    with pytest.raises(ValueError, match="'int32' or 'int64'"):
        layers.Hashing(3, dtype="float32")
    with pytest.raises(TypeError, match="string `mask_value`"):
        layers.Hashing(3, mask_value=0)(["a"])
    with pytest.raises(ValueError, match="runs on the host"):
        jax.jit(lambda x: layers.Hashing(3).apply({}, {}, x))(jnp.array([1, 2]))
    with pytest.raises(ValueError, match="runs on the host"):
        layers.Hashing(3)(kerax.Input((1,), dtype="int32"))


# ----------------------------------------------------------- HashedCrossing
# Keras on JAX casts its int64 output to int32 (no x64) and says so.
@pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")
@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
def test_hashed_crossing_matches_keras(output_mode):
    a = np.array(["A", "B", "A", "ü", "x" * 40])
    b = np.array([101, -101, 101, 102, 2**40])
    cases = [
        (a, b),
        (a[:, None], b[:, None]),
        (np.array("A"), np.array(3)),
        (a, a[::-1], b),
        (b, b.astype(np.int32)),
        ([1, 2], ["p", "q"]),
    ]
    keras_layer = keras.layers.HashedCrossing(num_bins=11, output_mode=output_mode)
    layer = layer_from_keras(keras_layer)
    for features in cases:
        got = layer(features)
        assert_same_bins(got, keras_layer(tuple(np.asarray(f) for f in features)))
        assert got.dtype == (np.int64 if output_mode == "int" else np.float32)


def test_hashed_crossing_errors():
    layer = layers.HashedCrossing(num_bins=4)
    with pytest.raises(ValueError, match="at least two inputs"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="equal shape"):
        layer((np.array([1, 2]), np.array([1, 2, 3])))
    with pytest.raises(ValueError, match="batch_size, 1"):
        layer((np.ones((2, 2), int), np.ones((2, 2), int)))
    with pytest.raises(ValueError, match="integer or string dtype"):
        layer((np.array([1.0]), np.array([1])))
    with pytest.raises(ValueError, match="output_mode"):
        layers.HashedCrossing(4, output_mode="count")
    with pytest.raises(ValueError, match="num_bins"):
        layers.HashedCrossing(None)


# ---------------------------------------------------------- STFTSpectrogram
# Every mode in Keras's default layout, and every layout in "stft" mode (real
# and imaginary parts side by side: the layout most easily got wrong).
STFT_CASES = [(mode, "channels_last", False, "valid") for mode in STFT_MODES] + [
    ("stft", data_format, expand_dims, padding)
    for data_format in ("channels_last", "channels_first")
    for expand_dims in (False, True)
    for padding in ("valid", "same")
    if (data_format, expand_dims, padding) != ("channels_last", False, "valid")
]


def keras_vs_kerax(keras_layer, x):
    """Keras's output and kerax's (the layer imported with Keras's weights), each jitted.

    Jitted, each side compiles once instead of once per eager op. kerax runs
    under strict rank promotion.
    """
    keras_layer.build(x.shape)
    want = np.asarray(jax.jit(keras_layer)(x))
    layer = layer_from_keras(keras_layer)
    params, state = layer_weights(
        keras_layer, layer, (kerax.spec((None, *x.shape[1:])),)
    )
    with jax.numpy_rank_promotion("raise"):
        got = np.asarray(jax.jit(layer.apply)(params, state, x)[0])
    assert got.shape == want.shape
    return got, want


@pytest.mark.parametrize("mode,data_format,expand_dims,padding", STFT_CASES)
def test_stft_spectrogram_matches_keras(mode, data_format, expand_dims, padding, rng):
    x = rng.standard_normal((2, 48, 3)).astype(np.float32)
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.swapaxes(x, 1, 2))
    keras_layer = keras.layers.STFTSpectrogram(
        mode=mode,
        frame_length=12,
        frame_step=5,
        fft_length=16,
        window="hamming",
        periodic=True,
        scaling="spectrum",
        padding=padding,
        expand_dims=expand_dims,
        data_format=data_format,
    )
    got, want = keras_vs_kerax(keras_layer, x)
    if mode == "angle":  # Compare angles on the circle (-pi and pi are one angle).
        np.testing.assert_allclose(np.cos(got), np.cos(want), atol=1e-4)
        np.testing.assert_allclose(np.sin(got), np.sin(want), atol=1e-4)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"mode": "real", "window": "hamming", "periodic": True, "scaling": "spectrum"},
        {"mode": "imag", "window": [0.25, 0.5, 1.0, 0.5] * 3, "scaling": None},
    ],
)
def test_stft_spectrogram_init_makes_keras_kernels(config):
    keras_layer = keras.layers.STFTSpectrogram(frame_length=12, fft_length=16, **config)
    keras_layer.build((None, 40, 1))
    layer = layer_from_keras(keras_layer)
    want, _ = layer_weights(keras_layer, layer)
    got, state = jax.jit(lambda k: layer.init(k, kerax.spec((None, 40, 1))))(KEY)
    assert not state
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-6), got, want)


def test_stft_spectrogram_contract():
    layer = layers.STFTSpectrogram(
        mode="psd",
        frame_length=6,
        frame_step=3,
        padding="same",
        expand_dims=True,
        data_format="channels_first",
    )
    check_layer(layer, kerax.spec((None, 2, 20)), training_changes_state=False)


def test_stft_spectrogram_frozen_kernels_import_as_params(rng):
    keras_layer = keras.layers.STFTSpectrogram(
        mode="magnitude",
        frame_length=8,
        trainable=False,
        window=[0.5] * 8,
        scaling=None,
    )
    x = rng.standard_normal((1, 24, 1)).astype(np.float32)
    got, want = keras_vs_kerax(keras_layer, x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    layer = layer_from_keras(keras_layer)
    params, state = layer_weights(keras_layer, layer)
    assert sorted(params) == ["imag_kernel", "real_kernel"] and not state
    assert not any(jax.tree.leaves(layer.trainable_mask(params)))


def test_stft_spectrogram_errors():
    with pytest.raises(ValueError, match="frame_step"):
        layers.STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="fft_length"):
        layers.STFTSpectrogram(frame_length=8, fft_length=4)
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=8, fft_length=12)
    with pytest.raises(ValueError, match="mode=.spectrum"):
        layers.STFTSpectrogram(mode="spectrum")
    with pytest.raises(ValueError, match="Scaling"):
        layers.STFTSpectrogram(scaling="l2")
    with pytest.raises(ValueError, match="Padding"):
        layers.STFTSpectrogram(padding="causal")
    with pytest.raises(
        ValueError, match="STFTSpectrogram 'stft_spectrogram': argument `window`"
    ):
        layers.STFTSpectrogram(window="no-such-window")
    with pytest.raises(ValueError, match="window"):
        layers.STFTSpectrogram(frame_length=8, window=[1.0] * 4)
    layer = layers.STFTSpectrogram(frame_length=8)
    with pytest.raises(ValueError, match="rank 3"):
        layer.init(KEY, kerax.spec((None, 32)))
    with pytest.raises(TypeError, match="Invalid input type"):
        layer.apply({}, {}, jnp.ones((1, 32, 1), jnp.int32))


# ----------------------------------------------------------- MelSpectrogram
MEL_CONFIGS = [
    # Keras's defaults but smaller, with a non-default decibel scale.
    dict(
        fft_length=64, sequence_stride=16, num_mel_bins=10, top_db=20.0, ref_power=2.0
    ),
    # A window shorter than the FFT, no decibels, another band.
    dict(
        fft_length=64,
        sequence_length=40,
        sequence_stride=7,
        num_mel_bins=12,
        window="hamming",
        power_to_db=False,
        mag_exp=1.0,
        sampling_rate=8000,
        min_freq=50.0,
        max_freq=3000.0,
    ),
]


@pytest.mark.parametrize("config", MEL_CONFIGS)
def test_mel_spectrogram_matches_keras(config, rng):
    signal = rng.standard_normal((2, 300)).astype(np.float32)
    keras_layer = keras.layers.MelSpectrogram(**config)
    layer = layer_from_keras(keras_layer)
    assert layer == layers.MelSpectrogram(
        **{
            **config,
            "sequence_length": keras_layer.sequence_length,
            "max_freq": keras_layer.max_freq,
        },
        name=layer.name,
    )
    # A batch, and (first config only) a single signal.
    for x in (signal, signal[0]) if "window" not in config else (signal,):
        got, want = keras_vs_kerax(keras_layer, x)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    args = (config["num_mel_bins"], config["fft_length"] // 2 + 1, 16000, 30.0, 7000.0)
    np.testing.assert_allclose(
        layer.linear_to_mel_weight_matrix(*args),
        keras_layer.linear_to_mel_weight_matrix(*args),
        rtol=1e-5,
        atol=1e-6,
    )


def test_mel_spectrogram_contract():
    layer = layers.MelSpectrogram(
        fft_length=32, sequence_stride=8, num_mel_bins=5, window=None
    )
    y = check_layer(layer, kerax.spec((None, 64)), training_changes_state=False)[-1]
    assert y.shape == (3, 5, 9)


def test_mel_spectrogram_errors():
    with pytest.raises(ValueError, match="sequence_length"):
        layers.MelSpectrogram(fft_length=32, sequence_length=64)
    with pytest.raises(ValueError, match='"hann"'):
        layers.MelSpectrogram(window="blackman")
    with pytest.raises(ValueError, match="sequence_stride"):
        layers.MelSpectrogram(sequence_stride=0)
    with pytest.raises(ValueError, match="rank 3"):
        layers.MelSpectrogram().init(KEY, kerax.spec((None, 2, 64)))
