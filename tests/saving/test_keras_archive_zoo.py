"""Every built-in layer that Keras also has, through `.keras` both ways.

For each layer, a tiny model around it (Input -> layer) with random weights:
kerax -> .keras -> `keras.saving.load_model` gives kerax's outputs (1e-5),
and Keras -> .keras -> `kerax.load_model` gives Keras's outputs. Together
with `test_keras_archive.py` this checks `_keras_layout.LAYOUTS` (Keras's
variable order and sublayer paths) against Keras itself.
"""

import inspect

import jax
import numpy as np
import pytest

import kerax
from kerax import layers as L

keras = pytest.importorskip("keras")

F = "float32"

# Layer class -> (arguments, input shape without the batch axis, input dtype).
SINGLE = {
    "Activation": ({"activation": "tanh"}, (4,), F),
    "ActivityRegularization": ({"l1": 0.01}, (4,), F),
    "AdaptiveAveragePooling1D": ({"output_size": 2}, (6, 2), F),
    "AdaptiveAveragePooling2D": ({"output_size": 2}, (4, 4, 2), F),
    "AdaptiveAveragePooling3D": ({"output_size": 2}, (4, 4, 4, 1), F),
    "AdaptiveMaxPooling1D": ({"output_size": 2}, (6, 2), F),
    "AdaptiveMaxPooling2D": ({"output_size": 2}, (4, 4, 2), F),
    "AdaptiveMaxPooling3D": ({"output_size": 2}, (4, 4, 4, 1), F),
    "AlphaDropout": ({"rate": 0.2}, (4,), F),
    "AveragePooling1D": ({"pool_size": 2}, (4, 2), F),
    "AveragePooling2D": ({"pool_size": 2}, (4, 4, 2), F),
    "AveragePooling3D": ({"pool_size": 2}, (4, 4, 4, 1), F),
    "BatchNormalization": ({}, (4,), F),
    "CategoryEncoding": ({"num_tokens": 5, "output_mode": "multi_hot"}, (3,), "int32"),
    "CenterCrop": ({"height": 2, "width": 2}, (4, 4, 2), F),
    "Conv1D": ({"filters": 3, "kernel_size": 2}, (5, 2), F),
    "Conv1DTranspose": ({"filters": 3, "kernel_size": 2}, (5, 2), F),
    "Conv2D": ({"filters": 3, "kernel_size": 2}, (4, 4, 2), F),
    "Conv2DTranspose": ({"filters": 3, "kernel_size": 2}, (4, 4, 2), F),
    "Conv3D": ({"filters": 2, "kernel_size": 2}, (3, 3, 3, 2), F),
    "Conv3DTranspose": ({"filters": 2, "kernel_size": 2}, (3, 3, 3, 2), F),
    "ConvLSTM1D": ({"filters": 2, "kernel_size": 2}, (3, 4, 2), F),
    "ConvLSTM2D": ({"filters": 2, "kernel_size": 2}, (3, 3, 3, 2), F),
    "ConvLSTM3D": ({"filters": 2, "kernel_size": 2}, (2, 3, 3, 3, 1), F),
    "Cropping1D": ({"cropping": 1}, (4, 2), F),
    "Cropping2D": ({"cropping": 1}, (4, 4, 2), F),
    "Cropping3D": ({"cropping": 1}, (4, 4, 4, 1), F),
    "Dense": ({"units": 3}, (4,), F),
    "DepthwiseConv1D": ({"kernel_size": 2, "depth_multiplier": 2}, (5, 2), F),
    "DepthwiseConv2D": ({"kernel_size": 2, "depth_multiplier": 2}, (4, 4, 2), F),
    "Discretization": ({"bin_boundaries": [-0.5, 0.0, 0.5]}, (4,), F),
    "Dropout": ({"rate": 0.2}, (4,), F),
    "ELU": ({}, (4,), F),
    "EinsumDense": (
        {"equation": "abc,cde->abde", "output_shape": (3, 2, 3), "bias_axes": "de"},
        (3, 4),
        F,
    ),
    "Embedding": ({"input_dim": 6, "output_dim": 3}, (4,), "int32"),
    "Flatten": ({}, (2, 3), F),
    "GRU": ({"units": 3}, (4, 2), F),
    "GaussianDropout": ({"rate": 0.2}, (4,), F),
    "GaussianNoise": ({"stddev": 0.2}, (4,), F),
    "GlobalAveragePooling1D": ({}, (4, 2), F),
    "GlobalAveragePooling2D": ({}, (4, 4, 2), F),
    "GlobalAveragePooling3D": ({}, (3, 3, 3, 2), F),
    "GlobalMaxPooling1D": ({}, (4, 2), F),
    "GlobalMaxPooling2D": ({}, (4, 4, 2), F),
    "GlobalMaxPooling3D": ({}, (3, 3, 3, 2), F),
    "GroupNormalization": ({"groups": 2}, (3, 4), F),
    "Identity": ({}, (4,), F),
    "LSTM": ({"units": 3}, (4, 2), F),
    "LayerNormalization": ({}, (4,), F),
    "LeakyReLU": ({"negative_slope": 0.2}, (4,), F),
    "Masking": ({"mask_value": 0.0}, (3, 2), F),
    "MaxPooling1D": ({"pool_size": 2}, (4, 2), F),
    "MaxPooling2D": ({"pool_size": 2}, (4, 4, 2), F),
    "MaxPooling3D": ({"pool_size": 2}, (4, 4, 4, 1), F),
    "Normalization": ({"axis": -1}, (4,), F),
    "PReLU": ({}, (4,), F),
    "Permute": ({"dims": (2, 1)}, (3, 2), F),
    "RMSNormalization": ({}, (4,), F),
    "RandomBrightness": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomContrast": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomCrop": ({"height": 2, "width": 2, "seed": 1}, (4, 4, 3), F),
    "RandomFlip": ({"seed": 1}, (4, 4, 3), F),
    "RandomRotation": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomTranslation": (
        {"height_factor": 0.2, "width_factor": 0.2, "seed": 1},
        (4, 4, 3),
        F,
    ),
    "RandomZoom": ({"height_factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "ReLU": ({}, (4,), F),
    "ReversibleEmbedding": ({"input_dim": 6, "output_dim": 3}, (4,), "int32"),
    "RepeatVector": ({"n": 2}, (4,), F),
    "Rescaling": ({"scale": 0.5, "offset": 1.0}, (4,), F),
    "Reshape": ({"target_shape": (2, 2)}, (4,), F),
    "Resizing": ({"height": 2, "width": 2}, (4, 4, 3), F),
    "SeparableConv1D": ({"filters": 3, "kernel_size": 2}, (5, 2), F),
    "SeparableConv2D": ({"filters": 3, "kernel_size": 2}, (4, 4, 2), F),
    "SimpleRNN": ({"units": 3}, (4, 2), F),
    "Softmax": ({}, (4,), F),
    "SpatialDropout1D": ({"rate": 0.2}, (3, 2), F),
    "SpatialDropout2D": ({"rate": 0.2}, (3, 3, 2), F),
    "SpatialDropout3D": ({"rate": 0.2}, (2, 2, 2, 2), F),
    "UnitNormalization": ({}, (4,), F),
    "UpSampling1D": ({"size": 2}, (3, 2), F),
    "UpSampling2D": ({"size": 2}, (3, 3, 2), F),
    "UpSampling3D": ({"size": 2}, (2, 2, 2, 1), F),
    "ZeroPadding1D": ({"padding": 1}, (3, 2), F),
    "ZeroPadding2D": ({"padding": 1}, (3, 3, 2), F),
    "ZeroPadding3D": ({"padding": 1}, (2, 2, 2, 1), F),
    # Image adjustments and augmentations (random ones are the identity in
    # inference: the config's round trip is what is checked).
    "AutoContrast": ({"value_range": (0, 1)}, (4, 4, 3), F),
    "ContrastLimitedAdaptiveHistogramEqualization": (
        {"tile_grid_size": (2, 2)},
        (4, 4, 3),
        F,
    ),
    "CutMix": ({"seed": 1}, (4, 4, 3), F),
    "MixUp": ({"seed": 1}, (4, 4, 3), F),
    "RandAugment": ({"value_range": (0, 1), "seed": 1}, (8, 8, 3), F),
    "AugMix": ({"value_range": (0, 1), "num_chains": 2, "seed": 1}, (8, 8, 3), F),
    "MaxNumBoundingBoxes": ({"max_number": 3}, (4, 4, 3), F),
    "RandomColorDegeneration": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomColorJitter": ({"brightness_factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomElasticTransform": ({"seed": 1}, (4, 4, 3), F),
    "RandomErasing": ({"seed": 1}, (4, 4, 3), F),
    "RandomGaussianBlur": ({"seed": 1}, (4, 4, 3), F),
    "RandomGrayscale": ({"seed": 1}, (4, 4, 3), F),
    "RandomHue": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomInvert": ({"seed": 1}, (4, 4, 3), F),
    "RandomPerspective": ({"seed": 1}, (4, 4, 3), F),
    "RandomPosterization": ({"factor": 4, "seed": 1}, (4, 4, 3), F),
    "RandomSaturation": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomSharpness": ({"factor": 0.2, "seed": 1}, (4, 4, 3), F),
    "RandomShear": ({"x_factor": (0.1, 0.2), "seed": 1}, (4, 4, 3), F),
    "Solarization": ({"addition_factor": 0.1, "seed": 1}, (4, 4, 3), F),
    "IntegerLookup": ({"vocabulary": [1, 2, 3]}, (4,), "int32"),
    "STFTSpectrogram": ({"frame_length": 4, "frame_step": 2}, (16, 1), F),
    "MelSpectrogram": (
        {
            "fft_length": 8,
            "sequence_stride": 4,
            "sequence_length": 8,
            "num_mel_bins": 4,
        },
        (32,),
        F,
    ),
    # Variants whose variables Keras stores differently.
    "Dense/no_bias": ({"units": 3, "use_bias": False}, (4,), F),
    "BatchNormalization/no_scale": ({"scale": False, "center": False}, (4,), F),
    "Dense/lora": ({"units": 3, "lora_rank": 2, "lora_alpha": 4.0}, (4,), F),
    "EinsumDense/lora": (
        {"equation": "ab,bc->ac", "output_shape": 3, "lora_rank": 2},
        (4,),
        F,
    ),
    "ReversibleEmbedding/untied": (
        {"input_dim": 6, "output_dim": 3, "tie_weights": False},
        (4,),
        "int32",
    ),
    "Embedding/lora": (
        {"input_dim": 6, "output_dim": 3, "lora_rank": 2},
        (4,),
        "int32",
    ),
    "Conv2D/lora": ({"filters": 3, "kernel_size": 2, "lora_rank": 2}, (4, 4, 2), F),
}


def _two(lib, layers, cls, shapes=((3,), (3,)), call_list=True, **kw):
    a, b = lib.Input(shapes[0]), lib.Input(shapes[1])
    layer = getattr(layers, cls)(**kw)
    return lib.Model([a, b], layer([a, b]) if call_list else layer(a, b))


def _wrap(lib, layers, cls, inner, shape, **kw):
    a = lib.Input(shape)
    inner_cls, inner_kw = inner
    return lib.Model(
        a, getattr(layers, cls)(getattr(layers, inner_cls)(**inner_kw), **kw)(a)
    )


def _rnn(lib, layers, cells):
    a = lib.Input((4, 2))
    made = [getattr(layers, c)(units) for c, units in cells]
    cell = made[0] if len(made) == 1 else layers.StackedRNNCells(made)
    return lib.Model(a, layers.RNN(cell)(a))


def _pipeline(lib, layers):
    a = lib.Input((4,))
    return lib.Model(a, layers.Pipeline([layers.Rescaling(0.5), layers.Dense(3)])(a))


_SEQS = ((3, 4), (2, 4))
# Case -> a builder `(module, its layers) -> model`, for layers with several
# inputs, wrapped layers or cells.
BUILT = {
    **{
        cls: (lambda lib, layers, cls=cls: _two(lib, layers, cls))
        for cls in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
    },
    "Concatenate": lambda lib, layers: _two(lib, layers, "Concatenate", axis=-1),
    "Dot": lambda lib, layers: _two(lib, layers, "Dot", axes=1),
    "Attention": lambda lib, layers: _two(
        lib, layers, "Attention", _SEQS, use_scale=True
    ),
    "Attention/concat": lambda lib, layers: _two(
        lib, layers, "Attention", _SEQS, use_scale=True, score_mode="concat"
    ),
    "AdditiveAttention": lambda lib, layers: _two(
        lib, layers, "AdditiveAttention", _SEQS
    ),
    "MultiHeadAttention": lambda lib, layers: _two(
        lib, layers, "MultiHeadAttention", _SEQS, False, num_heads=2, key_dim=3
    ),
    "GroupQueryAttention": lambda lib, layers: _two(
        lib,
        layers,
        "GroupQueryAttention",
        _SEQS,
        False,
        head_dim=2,
        num_query_heads=2,
        num_key_value_heads=1,
    ),
    "Bidirectional": lambda lib, layers: _wrap(
        lib, layers, "Bidirectional", ("GRU", {"units": 2}), (4, 2)
    ),
    "TimeDistributed": lambda lib, layers: _wrap(
        lib,
        layers,
        "TimeDistributed",
        ("Conv1D", {"filters": 2, "kernel_size": 2}),
        (2, 4, 2),
    ),
    "SpectralNormalization": lambda lib, layers: _wrap(
        lib, layers, "SpectralNormalization", ("Dense", {"units": 2}), (4,)
    ),
    "Pipeline": lambda lib, layers: _pipeline(lib, layers),
    "RNN/LSTMCell": lambda lib, layers: _rnn(lib, layers, [("LSTMCell", 3)]),
    "RNN/SimpleRNNCell": lambda lib, layers: _rnn(lib, layers, [("SimpleRNNCell", 3)]),
    "RNN/StackedRNNCells": lambda lib, layers: _rnn(
        lib, layers, [("GRUCell", 3), ("SimpleRNNCell", 2), ("GRUCell", 2)]
    ),
}

# Classes both have that no `.keras` file can hold, and why.
NOT_COVERED = {
    "Layer": "the abstract base class: a subclass is a user's layer (test_keras_archive.py)",
    "Wrapper": "an abstract base class: a subclass is a user's layer "
    "(test_reversible_wrapper_pipeline.py)",
    **{
        name: "a host-side layer of strings (NumPy, in the data pipeline): a .keras "
        "model's inputs are tensors; its config's round trip and Keras config import "
        "are tested with the layer"
        for name in ("StringLookup", "TextVectorization", "Hashing", "HashedCrossing")
    },
    "Equalization": "Keras 3.15 cannot build it into a model: its symbolic call returns "
    "its input tensor, which Keras then reports as 'part of a cycle'",
    "InputSpec": "not a layer: the input check a layer sets on itself (tests/test_namespaces.py)",
    "Lambda": "holds a Python function; Keras refuses to load code from a file in safe mode",
    "FlaxLayer": "wraps a Flax module object, which no config can name",
    "JaxLayer": "wraps Python functions, which no config can name",
}
# In every case's model.
IMPLICIT = {"InputLayer"}

# Saved and read both ways, but the two libraries' outputs differ for a
# reason outside saving.
OUTPUT_DIFFERS = {
    "RandomCrop": "Keras 3.15's RandomCrop returns its input uncropped at inference "
    "(`transform_images` crops only in training); kerax center-crops as Keras documents",
}

SLOW = {
    "AdaptiveMaxPooling3D",
    "Bidirectional",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GroupQueryAttention",
    "MultiHeadAttention",
    "RNN/StackedRNNCells",
}


def _case_params():
    return [
        pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
        for name in sorted({*SINGLE, *BUILT})
    ]


def _build(name, lib, layers):
    if name in BUILT:
        return BUILT[name](lib, layers)
    kwargs, shape, dtype = SINGLE[name]
    x = lib.Input(shape, dtype=dtype)
    return lib.Model(x, getattr(layers, name.split("/")[0])(**kwargs)(x))


def _inputs(name, shapes, rng):
    if name in SINGLE and SINGLE[name][2] == "int32":
        return [rng.integers(0, 5, size=(2, *s)).astype("int32") for s in shapes]
    return [rng.normal(size=(2, *s)).astype("float32") for s in shapes]


def _leaves(tree):
    return [np.asarray(t) for t in jax.tree.leaves(tree)]


def _assert_close(got, want, what):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want), what
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape, what
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5, err_msg=what)


def _call_keras(km, xs):
    return km(xs if len(xs) > 1 else xs[0], training=False)


def _call_kerax(model, params, state, xs):
    return model.apply(params, state, xs if len(xs) > 1 else xs[0])[0]


def test_every_shared_layer_is_covered():
    shared = sorted(
        n
        for n, c in vars(L).items()
        if inspect.isclass(c) and not n.startswith("_") and hasattr(keras.layers, n)
    )
    covered = {getattr(L, name.split("/")[0]) for name in {*SINGLE, *BUILT}}
    covered |= {L.LSTMCell, L.SimpleRNNCell, L.GRUCell, L.StackedRNNCells, L.RNN}
    missing = [
        n
        for n in shared
        if getattr(L, n) not in covered and n not in NOT_COVERED and n not in IMPLICIT
    ]
    assert not missing, f"no .keras zoo case for {missing}"
    assert set(NOT_COVERED) <= set(shared)


@pytest.mark.parametrize("name", _case_params())
def test_kerax_to_keras(name, tmp_path, rng):
    model = _build(name, kerax, L)
    params, state = model.init(jax.random.key(0))
    params = jax.tree.map(
        lambda a: a + rng.normal(size=a.shape).astype(a.dtype), params
    )
    state = jax.tree.map(
        lambda a: (
            (np.abs(a + rng.normal(size=a.shape)) + 0.1).astype(a.dtype)
            if np.issubdtype(a.dtype, np.floating)
            else a
        ),
        state,
    )
    shapes = [s.shape[1:] for s in jax.tree.leaves(model.input_spec)]
    xs = _inputs(name, shapes, rng)
    want = _call_kerax(model, params, state, xs)
    path = kerax.save_model(tmp_path / "m.keras", model, params, state)
    km = keras.saving.load_model(path)
    if name not in OUTPUT_DIFFERS:
        _assert_close(_call_keras(km, xs), want, f"{name}: Keras on kerax's file")
    model2, params2, state2 = kerax.load_model(path)
    _assert_close(
        _call_kerax(model2, params2, state2, xs), want, f"{name}: kerax reread"
    )


@pytest.mark.parametrize("name", _case_params())
def test_keras_to_kerax(name, tmp_path, rng):
    km = _build(name, keras, keras.layers)
    for v in km.weights:
        if "float" not in str(v.dtype):
            continue
        value = rng.normal(size=v.shape).astype(str(v.dtype))
        v.assign(value if v.trainable else np.abs(value) + 0.1)
    for layer in km.layers:
        if hasattr(layer, "finalize_state"):  # Normalization's mean/variance tensors.
            layer.finalize_state()
    xs = _inputs(name, [tuple(t.shape[1:]) for t in km.inputs], rng)
    want = _call_keras(km, xs)
    km.save(tmp_path / "k.keras")
    model, params, state = kerax.load_model(tmp_path / "k.keras")
    if name in OUTPUT_DIFFERS:  # The same layer built in kerax directly.
        reference = _build(name, kerax, L)
        want = _call_kerax(reference, *reference.init(jax.random.key(0)), xs)
    _assert_close(
        _call_kerax(model, params, state, xs), want, f"{name}: kerax on Keras's file"
    )


def test_variable_outside_its_layers_table_is_an_error():
    # `save_model` first refuses params that do not match the model; the
    # layout (used by the writer and the reader) refuses a variable its
    # layer's Keras table entry lacks, naming the layer.
    from kerax.saving.keras_archive import weight_layout

    model = kerax.Sequential([kerax.Input((4,)), L.Dense(3)])
    params, state = model.init(jax.random.key(0))
    params = {"dense": {**params["dense"], "extra": np.zeros(3, np.float32)}}
    with pytest.raises(
        kerax.saving.ModelFileError,
        match=r"Dense 'dense': Keras's Dense has no variable 'extra'",
    ):
        weight_layout(model, params, state)
