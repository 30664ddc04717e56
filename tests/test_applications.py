"""`kerax.applications`: Keras's application constructors, family modules and preprocessing.

- every Keras constructor is there with Keras's signature, name and summary
  line, and every family module with Keras's public names;
- `preprocess_input` gives Keras's numbers for every family (NumPy in, NumPy
  out, input untouched; JAX in, JAX out); `decode_predictions` Keras's result;
- a few small models (`weights=None`, 32x32): the same seed gives the same
  params as `from_keras` of the Keras model, and a Keras-saved weights file
  loads with outputs equal to Keras's;
- Keras's own errors for bad arguments, a clear one for a bad name, and an
  ImportError naming `kerax[keras]` without Keras.
"""

import inspect
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

keras = pytest.importorskip("keras")

import kerax  # noqa: E402
from kerax.interop import from_keras  # noqa: E402

KERAS_NAMES = [n for n in dir(keras.applications) if n[0].isupper()]
FAMILIES = [n for n in dir(keras.applications) if n.islower() and not n.startswith("_")]


def test_there_are_40_constructors_and_17_family_modules():
    assert len(KERAS_NAMES) == 40 and len(FAMILIES) == 17
    assert [n for n in dir(kerax.applications) if n[0].isupper()] == KERAS_NAMES
    assert sorted(kerax.applications.__all__) == sorted(KERAS_NAMES + FAMILIES)


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_constructor_signature_name_and_summary_are_keras(name):
    ours, theirs = getattr(kerax.applications, name), getattr(keras.applications, name)
    assert inspect.signature(ours) == inspect.signature(theirs)
    assert ours.__name__ == theirs.__name__ == name
    assert ours.__module__ == "kerax.applications"
    first = theirs.__doc__.strip().splitlines()[0]
    assert ours.__doc__.splitlines()[0] == first
    assert "(model, params, state)" in ours.__doc__


@pytest.mark.parametrize("family", FAMILIES)
def test_family_module_has_keras_names(family):
    import importlib

    ours = importlib.import_module(f"kerax.applications.{family}")
    theirs = getattr(keras.applications, family)
    public = sorted(n for n in dir(theirs) if not n.startswith("_"))
    assert sorted(ours.__all__) == public
    for n in public:
        if n[0].isupper():  # The same function as kerax.applications.<name>.
            assert getattr(ours, n) is getattr(kerax.applications, n)
        else:
            assert inspect.signature(getattr(ours, n)) == inspect.signature(
                getattr(theirs, n)
            )
    assert getattr(kerax.applications, family) is ours


def _images(shape, dtype, seed=0):
    x = np.random.default_rng(seed).uniform(0, 255, size=shape)
    return x.astype(dtype)


@pytest.mark.parametrize("family", FAMILIES)
def test_preprocess_input_equals_keras(family):
    ours = getattr(kerax.applications, family).preprocess_input
    theirs = getattr(keras.applications, family).preprocess_input
    cases = [
        ((2, 5, 4, 3), "float32", None),
        ((2, 5, 4, 3), "uint8", "channels_last"),
        ((5, 4, 3), "float64", None),
        ((2, 3, 5, 4), "float32", "channels_first"),
        ((3, 5, 4), "int32", "channels_first"),
    ]
    for i, (shape, dtype, data_format) in enumerate(cases):
        x = _images(shape, dtype, seed=i)
        before = x.copy()
        want = theirs(x.copy(), data_format=data_format)  # Keras writes over x.
        got = ours(x, data_format=data_format)
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, err_msg=f"{family} {shape} {dtype}")
        np.testing.assert_array_equal(x, before)  # kerax never writes over x.
        # JAX in, JAX out, the same numbers.
        got_jax = ours(jnp.asarray(x), data_format=data_format)
        assert isinstance(got_jax, jax.Array)
        np.testing.assert_allclose(np.asarray(got_jax), want, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_imagenet_utils_preprocess_input_modes_and_errors(mode):
    x = _images((2, 4, 4, 3), "float32")
    got = kerax.applications.imagenet_utils.preprocess_input(x, mode=mode)
    want = keras.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_array_equal(got, want)
    for kwargs in ({"mode": "bad"}, {"mode": mode, "data_format": "channels_middle"}):
        with pytest.raises(ValueError) as ours:
            kerax.applications.imagenet_utils.preprocess_input(x, **kwargs)
        with pytest.raises(ValueError) as theirs:
            keras.applications.imagenet_utils.preprocess_input(x.copy(), **kwargs)
        assert str(ours.value) == str(theirs.value)


def test_decode_predictions_equals_keras(monkeypatch):
    import keras.src.applications.imagenet_utils as keras_utils

    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(keras_utils, "CLASS_INDEX", index)  # No download.
    monkeypatch.setattr(
        kerax.applications.imagenet_utils, "_class_index", lambda: index
    )
    preds = np.random.default_rng(0).random((3, 1000)).astype("float32")
    want = keras.applications.mobilenet_v2.decode_predictions(preds, top=3)
    for family in ("mobilenet_v2", "resnet", "imagenet_utils"):
        decode = getattr(kerax.applications, family).decode_predictions
        assert decode(preds, top=3) == want
        assert decode(jnp.asarray(preds), top=3) == want
    with pytest.raises(ValueError) as ours:
        kerax.applications.vgg16.decode_predictions(preds[:, :10])
    with pytest.raises(ValueError) as theirs:
        keras.applications.vgg16.decode_predictions(preds[:, :10])
    assert str(ours.value) == str(theirs.value)


def _randomize_batchnorm(k_model, seed=1):
    """Non-trivial BatchNormalization weights and statistics (fresh BN is ~identity)."""
    rng = np.random.default_rng(seed)
    for v in k_model.weights:
        kind = v.path.split("/")[-1]
        if kind in ("gamma", "moving_variance"):
            v.assign(rng.uniform(0.5, 1.5, tuple(v.shape)).astype("float32"))
        elif kind in ("beta", "moving_mean"):
            v.assign(rng.normal(0, 0.1, tuple(v.shape)).astype("float32"))


def _shapes(tree):
    return jax.tree.map(np.shape, tree)


# Small settings of a few families: (arguments, the batch's image shape).
PARITY = {
    "MobileNetV2": (
        dict(input_shape=(32, 32, 3), alpha=0.35, classes=10),
        (32, 32, 3),
    ),
    "MobileNetV3Small": (
        dict(input_shape=(32, 32, 3), alpha=0.75, minimalistic=True, classes=10),
        (32, 32, 3),
    ),
    "VGG16": (dict(input_shape=(32, 32, 3), include_top=False, pooling="max"), None),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_same_seed_same_model_and_weights_file_same_outputs(
    name, tmp_path, keras_numpy_init
):
    kwargs, _ = PARITY[name]
    if kwargs.get("include_top", True):
        kwargs = dict(kwargs, classifier_activation=None)  # Logits, not softmax.
    keras_fn, kerax_fn = (
        getattr(keras.applications, name),
        getattr(kerax.applications, name),
    )
    with keras_numpy_init():  # The same seed for both: the same initial draws.
        k_model = keras_fn(weights=None, **kwargs)
    with keras_numpy_init():
        model, params, state = kerax_fn(weights=None, **kwargs)
    _, want_params, want_state = from_keras(k_model)
    assert _shapes((params, state)) == _shapes((want_params, want_state))
    jax.tree.map(
        np.testing.assert_array_equal, (params, state), (want_params, want_state)
    )
    assert model.name == k_model.name

    # A Keras-saved weights file of the same architecture: Keras's outputs.
    _randomize_batchnorm(k_model)
    path = tmp_path / f"{name}.weights.h5"
    k_model.save_weights(path)
    with keras_numpy_init():  # Keras builds the model before loading the file.
        model, params, state = kerax_fn(weights=str(path), **kwargs)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    want = np.asarray(k_model.predict_on_batch(x))
    got, _ = jax.jit(model.apply)(params, state, x)
    scale = float(np.abs(want).max())
    assert scale > 1e-3 and np.std(want) > 0  # Else the check proves nothing.
    assert np.abs(np.asarray(got) - want).max() <= 1e-4 * max(1.0, scale)


def test_positional_arguments_as_keras(keras_numpy_init):
    with keras_numpy_init():
        model, params, _ = kerax.applications.VGG16(
            False, None, None, (32, 32, 3), "avg"
        )
    assert model.output_spec(kerax.spec((None, 32, 32, 3))).shape[1:] == (512,)
    assert "block5_conv3" in params


def _error(fn, **kwargs):
    with pytest.raises(Exception) as info:
        fn(**kwargs)
    return type(info.value), str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(weights="no/such/file.weights.h5"),
        dict(weights="imagenet", include_top=True, input_shape=(64, 64, 3)),
        dict(weights=None, input_shape=(16, 16, 3), include_top=False),
        dict(pooling="avg", classes=10, not_an_argument=1),
    ],
)
def test_bad_arguments_give_keras_errors(kwargs):
    want = _error(keras.applications.MobileNetV2, **kwargs)
    assert _error(kerax.applications.MobileNetV2, **kwargs) == want


def test_bad_names_and_kerax_input_tensor():
    with pytest.raises(AttributeError, match="no 'MobileNetV4'.*MobileNetV2"):
        kerax.applications.MobileNetV4  # noqa: B018
    with pytest.raises(ImportError):
        from kerax.applications import mobilenet_v4  # noqa: F401
    node = kerax.Input((32, 32, 3))
    with pytest.raises(TypeError, match="input_tensor takes a Keras tensor"):
        kerax.applications.MobileNetV2(input_tensor=node, weights=None)


def test_without_keras_calling_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)  # `import keras` fails.
    with pytest.raises(ImportError, match=r'pip install "kerax\[keras\]"'):
        kerax.applications.MobileNetV2(weights=None)


def test_without_keras_importing_and_preprocessing_work():
    # A fresh process in which `import keras` fails (as without the extra).
    code = (
        "import sys; sys.modules['keras'] = None\n"
        "import numpy as np, kerax\n"
        "from kerax.applications import mobilenet_v2\n"
        "x = mobilenet_v2.preprocess_input(np.full((1, 2, 2, 3), 255, 'uint8'))\n"
        "assert x.max() == 1.0\n"
        "try:\n"
        "    kerax.applications.MobileNetV2(weights=None)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert 'pip install "kerax[keras]"' in out.stdout
    assert "kerax.applications.MobileNetV2" in out.stdout


def test_inception_resnet_v2_scale_layer_converts():
    # InceptionResNetV2's private residual layer (kerax.interop.CustomScaleLayer).
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    keras.utils.set_random_seed(0)
    x_in = keras.Input((4,))
    r = keras.layers.Dense(4)(x_in)
    k_model = keras.Model(x_in, CustomScaleLayer(scale=0.17)([x_in, r]))
    model, params, state = from_keras(k_model)
    assert type(model.get_layer(index=-1)) is kerax.interop.CustomScaleLayer
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    got, _ = model.apply(params, state, x)
    np.testing.assert_allclose(np.asarray(got), np.asarray(k_model(x)), rtol=1e-6)
    again = kerax.from_config(kerax.serialize(model))
    np.testing.assert_array_equal(again.apply(params, state, x)[0], got)


def test_initial_values_before_loading_weights_are_drawn_with_numpy():
    # Weights loaded next replace them: no JAX program per variable shape.
    from keras.src.backend import random as backend_random

    from kerax.applications._factory import numpy_initial_values

    before = backend_random.truncated_normal
    with numpy_initial_values():
        assert backend_random.truncated_normal is not before
        draw = backend_random.truncated_normal((1000,), stddev=2.0)
    assert backend_random.truncated_normal is before
    assert abs(float(draw.std()) - 2.0 * 0.88) < 0.15  # Truncated at 2 stddev.
    assert float(abs(draw).max()) <= 4.0
