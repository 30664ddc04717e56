"""The `keras.ops` added last to kerax, against `keras.ops` on the JAX backend.

Pooling, transposed convolution, CTC, pixel shuffles, fold/unfold, STFT,
rearrange, view, slogdet and the `ops.image` geometry, filter and color ops:
the same numbers as Keras over the main argument combinations, under
`jax.jit` (and `jax.grad` where they are differentiable), and a ValueError
that names the argument for bad ones.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import ops

FAMILIES = ["", "nn", "numpy", "image", "linalg"]


def close(actual, expected, atol=1e-5, rtol=1e-5):
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), atol=atol, rtol=rtol
    )


def both(name, *args, family=None, **kwargs):
    """`(kerax result, keras result)` of the op `name` (in `family`, if given).

    Both run under `jax.jit` (the arguments are constants of the program):
    that checks that kerax's traces, and each side compiles once rather than
    op by op. Keras's ops that need concrete values run eagerly (its
    `rearrange` of a split axis fails under `jit`; kerax's does not).
    """
    ours = getattr(getattr(ops, family) if family else ops, name)
    theirs = getattr(getattr(keras.ops, family) if family else keras.ops, name)
    try:
        expected = jax.jit(lambda: theirs(*args, **kwargs))()
    except TypeError:  # A concrete value needed: jax.errors.JAXTypeError and others.
        expected = theirs(*args, **kwargs)
    with jax.numpy_rank_promotion("raise"):  # kerax's code never relies on it.
        return jax.jit(lambda: ours(*args, **kwargs))(), expected


def check(name, *args, family=None, atol=1e-5, **kwargs):
    ours, theirs = both(name, *args, family=family, **kwargs)
    jax.tree.map(lambda a, b: close(a, b, atol=atol), ours, theirs)
    return ours


@pytest.mark.parametrize("family", FAMILIES)
def test_every_keras_op_name_exists(family):
    theirs = getattr(keras.ops, family) if family else keras.ops
    ours = getattr(ops, family) if family else ops
    public = {n for n in dir(theirs) if not n.startswith("_")}
    assert sorted(public - set(dir(ours))) == []


def test_layers_share_the_op_implementations():
    from kerax.layers.preprocessing import _color_ops, _image_ops, random_perspective
    from kerax.ops import _image_impl

    assert _image_ops.affine_transform is _image_impl.affine_transform
    assert _image_ops.gaussian_blur is _image_impl.gaussian_blur
    assert _image_ops.map_coordinates is _image_impl.map_coordinates
    assert _color_ops.rgb_to_hsv is _image_impl.rgb_to_hsv
    assert random_perspective.perspective_transform is _image_impl.perspective_transform
    assert ops.linalg.jvp is ops.math.jvp is ops.jvp


# ------------------------------------------------------------------ nn ops
@pytest.mark.parametrize(
    "kind, shape, output_size, data_format",
    [
        ("adaptive_average_pool", (2, 7, 3), 3, "channels_last"),
        ("adaptive_average_pool", (2, 2, 5, 7), (2, 3), "channels_first"),
        ("adaptive_max_pool", (2, 5, 7, 2), (4, 3), "channels_last"),
        ("adaptive_max_pool", (1, 2, 4, 5, 6), (2, 3, 2), "channels_first"),
    ],
)
def test_adaptive_pools(rng, kind, shape, output_size, data_format):
    x = rng.normal(size=shape).astype("float32")
    check(kind, x, output_size, data_format=data_format)


@pytest.mark.parametrize(
    "shape, kernel, kwargs",
    [
        ((2, 5, 3), (3, 4, 3), {"strides": 2, "padding": "same"}),
        ((1, 4, 5, 2), (3, 2, 3, 2), {"strides": (2, 1), "padding": "same"}),
        ((1, 4, 5, 2), (3, 3, 3, 2), {"strides": 2, "output_padding": 1}),
        ((1, 4, 4, 2), (2, 3, 3, 2), {"strides": 3, "output_padding": (2, 0)}),
        ((1, 4, 5, 2), (3, 3, 3, 2), {"dilation_rate": 2, "padding": "SAME"}),
        ((1, 3, 3, 3, 2), (2, 2, 2, 3, 2), {"strides": 2}),
    ],
)
def test_conv_transpose(rng, shape, kernel, kwargs):
    x = rng.normal(size=shape).astype("float32")
    w = rng.normal(size=kernel).astype("float32")
    check("conv_transpose", x, w, **kwargs)
    x = np.moveaxis(x, -1, 1)
    check("conv_transpose", x, w, data_format="channels_first", **kwargs)


def test_conv_transpose_is_the_layers():
    layer = kerax.layers.Conv2DTranspose(3, 3, 2, padding="same", use_bias=False)
    x = jnp.ones((1, 4, 4, 2))
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 4, 4, 2)))
    close(
        layer.apply(params, state, x)[0],
        ops.conv_transpose(x, params["kernel"], 2, "same"),
    )


def ctc_inputs(rng, batch=3, time=6, classes=5, labels=3):
    logits = rng.normal(size=(batch, time, classes)).astype("float32")
    target = rng.integers(1, classes, size=(batch, labels)).astype("int32")
    target[0, 1] = target[0, 0]  # A repeated label needs a blank between.
    return logits, target, np.array([3, 2, 1]), np.array([6, 5, 4])


def test_ctc_loss(rng, mask_index=2):
    logits, target, target_length, output_length = ctc_inputs(rng)
    args = (target, logits, target_length, output_length)
    check("ctc_loss", *args, mask_index=mask_index, atol=1e-4)

    def loss(y):
        return jnp.sum(ops.ctc_loss(target, y, target_length, output_length))

    assert np.isfinite(np.asarray(jax.jit(jax.grad(loss))(logits))).all()


def test_ctc_loss_is_the_loss(rng):
    logits, target, *_ = ctc_inputs(rng)
    target[1, 2] = 0  # Padding: the label is the first count(label != 0).
    theirs = jax.jit(lambda: keras.losses.ctc(target, logits))()
    close(jax.jit(kerax.losses.ctc)(target, logits), theirs, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"merge_repeated": False},
        {"mask_index": None},
        {"strategy": "beam_search", "beam_width": 3, "top_paths": 2, "mask_index": 4},
    ],
)
def test_ctc_decode(rng, kwargs):
    logits, _, _, lengths = ctc_inputs(rng, time=5)
    logits[0, 1] = logits[0, 0]  # A repeat for merge_repeated.
    with jax.numpy_rank_promotion("raise"):
        decode = jax.jit(lambda y, n: ops.ctc_decode(y, n, **kwargs))
        paths, scores = decode(logits, lengths)
    their_paths, their_scores = jax.jit(
        lambda: keras.ops.ctc_decode(logits, lengths, **kwargs)
    )()
    np.testing.assert_array_equal(paths, their_paths)
    close(scores, their_scores, atol=1e-4)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depth_to_space_and_back(rng, data_format):
    x = rng.normal(size=(2, 3, 4, 8)).astype("float32")
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    y = check("depth_to_space", x, 2, data_format=data_format)
    close(ops.space_to_depth(y, 2, data_format=data_format), x)
    check("space_to_depth", np.asarray(y), 2, data_format=data_format)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": (2, 3), "stride": 2, "padding": 1},
        {"kernel_size": 2, "dilation": 2, "padding": (0, 1), "stride": (1, 2)},
    ],
)
def test_unfold_and_fold(rng, kwargs):
    x = rng.normal(size=(2, 3, 5, 6)).astype("float32")
    blocks = check("unfold", x, **kwargs)
    check("fold", np.asarray(blocks), (5, 6), **kwargs)
    # fold is unfold's adjoint: <unfold(x), b> == <x, fold(b)>.
    b = rng.normal(size=blocks.shape).astype("float32")
    folded = ops.fold(b, (5, 6), **kwargs)
    close(jnp.vdot(blocks, b), jnp.vdot(x, folded), rtol=1e-4)


def test_fold_fills_what_no_block_reaches():
    # Stride 2 over 6 columns with a 3-wide kernel: column 5 gets no block.
    y = ops.fold(jnp.ones((1, 9, 2 * 2)), (5, 6), kernel_size=3, stride=2)
    assert y.shape == (1, 1, 5, 6)
    np.testing.assert_array_equal(y[0, 0, :, 5], 0.0)


# ---------------------------------------------------------------- STFT
@pytest.mark.parametrize(
    "length, stride, fft, window, center",
    [
        (16, 4, 32, "hamming", True),
        (12, 3, 16, None, False),
        (8, 4, 8, "array", True),
    ],
)
def test_stft_and_istft(rng, length, stride, fft, window, center):
    x = rng.normal(size=(2, 64)).astype("float32")
    if window == "array":
        window = rng.uniform(0.5, 1.0, size=(length,)).astype("float32")
    args = (length, stride, fft)
    spectrum = check("stft", x, *args, window=window, center=center, atol=1e-4)
    spectrum = tuple(np.asarray(s) for s in spectrum)
    trim = {"length": 40} if center else {}
    check("istft", spectrum, *args, window=window, center=center, **trim, atol=1e-4)


def test_stft_round_trip_jit_and_grad(rng):
    x = jnp.asarray(rng.normal(size=(3, 64)).astype("float32"))

    def round_trip(x):
        return ops.istft(ops.stft(x, 16, 4, 16), 16, 4, 16, length=64)

    close(jax.jit(round_trip)(x), x, atol=1e-5)
    grad = jax.jit(jax.grad(lambda x: jnp.sum(ops.stft(x, 16, 4, 32)[0] ** 2)))(x)
    assert grad.shape == x.shape and np.isfinite(np.asarray(grad)).all()


@pytest.mark.parametrize("window", ["hann", None])
def test_mel_spectrogram_uses_the_op(rng, window):
    # window=None with sequence_length < fft_length: ones over the whole frame.
    x = rng.normal(size=(2, 128)).astype("float32")
    kwargs = {"fft_length": 64, "sequence_stride": 16, "sequence_length": 40}
    kwargs.update(num_mel_bins=8, window=window)
    ours = kerax.layers.MelSpectrogram(**kwargs).apply({}, {}, x)[0]
    theirs = jax.jit(lambda: keras.layers.MelSpectrogram(**kwargs)(x))()
    close(ours, theirs, atol=1e-3)


# -------------------------------------------------- rearrange, view, slogdet
@pytest.mark.parametrize(
    "shape, pattern, lengths",
    [
        ((2, 3, 4), "b h w -> w b h", {}),
        ((2, 12), "b (h w) -> w b h", {"h": 3}),
        ((2, 6, 4, 3), "b (h p) w c -> b h (w p c)", {"p": 2}),
    ],
)
def test_rearrange(rng, shape, pattern, lengths):
    x = rng.normal(size=shape).astype("float32")
    ours = check("rearrange", x, pattern, **lengths)
    close(jax.jit(lambda x: ops.rearrange(x, pattern, **lengths))(x), ours)


@pytest.mark.parametrize("dtype", [None, "float32", "int16", "uint8"])
def test_view(dtype):
    x = np.arange(6, dtype="int32").reshape(2, 3)
    ours, theirs = both("view", x, dtype)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    assert ops.numpy.view is ops.view


def test_slogdet_and_jvp(rng):
    a = rng.normal(size=(2, 3, 3)).astype("float32")
    check("slogdet", a, atol=1e-4)
    assert isinstance(ops.numpy.slogdet(a), tuple)
    _, tangent = ops.linalg.jvp(jnp.sin, (jnp.ones(3),), (jnp.ones(3),))
    close(tangent, jnp.cos(jnp.ones(3)))


# ------------------------------------------------------------------- image
def images(rng, shape=(2, 6, 7, 3), data_format="channels_last"):
    x = rng.uniform(size=shape).astype("float32")
    return x if data_format == "channels_last" else np.moveaxis(x, -1, 1)


def check_image(name, x, *args, atol=1e-5, **kwargs):
    """The op on a batch and on its first image (Keras takes both)."""
    check(name, x, *args, family="image", atol=atol, **kwargs)
    single = [a[0] if isinstance(a, np.ndarray) and a.ndim > 2 else a for a in args]
    check(name, x[0], *single, family="image", atol=atol, **kwargs)


@pytest.mark.parametrize(
    "interpolation, fill_mode, data_format",
    [
        ("bilinear", "constant", "channels_last"),
        ("nearest", "constant", "channels_first"),
        ("bilinear", "nearest", "channels_first"),
        ("nearest", "wrap", "channels_last"),
        ("bilinear", "mirror", "channels_last"),
        ("bilinear", "reflect", "channels_first"),
    ],
)
def test_affine_transform(rng, interpolation, fill_mode, data_format):
    x = images(rng, data_format=data_format)
    transform = np.array(
        [[0.9, -0.3, 1.5, 0.2, 1.1, -1.0, 0, 0], [1.2, 0, -2.0, 0, 0.8, 2.5, 0, 0]],
        "float32",
    )
    args = {"interpolation": interpolation, "fill_mode": fill_mode, "fill_value": 0.5}
    check(
        "affine_transform",
        x,
        transform,
        family="image",
        data_format=data_format,
        **args,
    )
    if fill_mode == "constant":  # One image and one transform.
        kwargs = {"family": "image", "data_format": data_format, **args}
        check("affine_transform", x[1], transform[1], **kwargs)


@pytest.mark.parametrize(
    "interpolation, data_format",
    [("bilinear", "channels_last"), ("nearest", "channels_first")],
)
def test_perspective_transform(rng, interpolation, data_format):
    x = images(rng, data_format=data_format)
    start = np.array([[0, 0], [6, 0], [0, 5], [6, 5]], "float32")
    end = start + rng.uniform(-1, 1, size=(2, 4, 2)).astype("float32")
    start = np.stack([start, start])
    args = {
        "interpolation": interpolation,
        "fill_value": 0.25,
        "data_format": data_format,
    }
    check("perspective_transform", x, start, end, family="image", **args)
    if data_format == "channels_first":
        single = (x[1], start[1], end[1])
        check("perspective_transform", *single, family="image", **args)


@pytest.mark.parametrize(
    "order, fill_mode",
    [(1, "constant"), (0, "nearest"), (1, "wrap"), (0, "mirror"), (1, "reflect")],
)
def test_map_coordinates(rng, order, fill_mode):
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    coordinates = rng.uniform(-2, 6, size=(3, 7, 2)).astype("float32")
    check("map_coordinates", x, coordinates, order, fill_mode, 1.5, family="image")


@pytest.mark.parametrize(
    "kernel_size, sigma, data_format",
    [
        ((3, 3), (1.0, 1.0), "channels_last"),
        ((5, 3), (1.5, 0.7), "channels_first"),
        ((1, 7), (2.0, 2.0), "channels_last"),
    ],
)
def test_gaussian_blur(rng, kernel_size, sigma, data_format):
    x = images(rng, data_format=data_format)
    check_image("gaussian_blur", x, kernel_size, sigma, data_format=data_format)


def test_gaussian_blur_default_is_channels_last(rng):
    # Keras 3.15's JAX backend reads data_format=None as channels-first here.
    x = images(rng)
    theirs = keras.ops.image.gaussian_blur(x, data_format="channels_last")
    close(ops.image.gaussian_blur(x), theirs)
    close(ops.image.gaussian_blur(x, sigma=1.0), theirs)


@pytest.mark.parametrize(
    "interpolation, fill_mode, data_format",
    [
        ("bilinear", "reflect", "channels_last"),
        ("nearest", "constant", "channels_first"),
    ],
)
def test_elastic_transform(rng, interpolation, fill_mode, data_format):
    x = images(rng, (2, 5, 5, 5), data_format)  # One shape in both layouts.
    args = {"alpha": 3.0, "sigma": 1.0, "interpolation": interpolation}
    args.update(fill_mode=fill_mode, fill_value=0.5, data_format=data_format)
    # Keras's int seed s is the raw JAX key uint32[s, 0].
    key = jnp.array([7, 0], jnp.uint32)
    ours = jax.jit(lambda x, key: ops.image.elastic_transform(x, seed=key, **args))(
        x, key
    )
    close(ours, keras.ops.image.elastic_transform(x, seed=7, **args), atol=1e-4)


@pytest.mark.parametrize(
    "size, kwargs, data_format",
    [
        (2, {}, "channels_last"),
        ((2, 3), {"strides": 1, "padding": "same"}, "channels_first"),
        ((3, 2), {"strides": (2, 1), "dilation_rate": (1, 2)}, "channels_last"),
    ],
)
def test_extract_patches(rng, size, kwargs, data_format):
    x = images(rng, (2, 6, 7, 3), data_format)
    check_image("extract_patches", x, size, data_format=data_format, **kwargs)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_extract_patches_3d(rng, data_format):
    x = rng.normal(size=(1, 4, 4, 6, 2)).astype("float32")
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    check("extract_patches", x, (2, 2, 2), data_format=data_format, family="image")
    check_image("extract_patches_3d", x, (2, 1, 3), 1, 1, "same", data_format)


@pytest.mark.parametrize(
    "sides, data_format",
    [
        ({"top": 1, "bottom": 2, "left": 0, "right": 3}, "channels_last"),
        (
            {"top": 1, "target_height": 9, "left": 2, "target_width": 10},
            "channels_first",
        ),
        (
            {"bottom": 0, "target_height": 8, "right": 1, "target_width": 9},
            "channels_last",
        ),
    ],
)
def test_pad_and_crop_images(rng, sides, data_format):
    x = images(rng, data_format=data_format)

    def named(kind, sides):
        edges = ("top", "bottom", "left", "right")
        return {(f"{k}_{kind}" if k in edges else k): v for k, v in sides.items()}

    pad = named("padding", sides)
    padded = check("pad_images", x, **pad, data_format=data_format, family="image")
    check("pad_images", x[0], **pad, data_format=data_format, family="image")
    crop = named("cropping", sides)
    crop = {k: (v - 3 if k.startswith("target") else v) for k, v in crop.items()}
    check_image("crop_images", np.asarray(padded), **crop, data_format=data_format)


@pytest.mark.parametrize("method", ["linear"])
def test_scale_and_translate(rng, method):
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    scale = np.array([1.6, 0.8], "float32")
    translation = np.array([0.5, -1.0], "float32")
    args = ((2, 8, 5, 3), scale, translation, (1, 2), method)
    check("scale_and_translate", x, *args, family="image")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_sobel_edges(rng, data_format):
    x = images(rng, data_format=data_format)
    check("sobel_edges", x, data_format=data_format, family="image")
    single = ops.image.sobel_edges(x[0], data_format=data_format)
    close(single, ops.image.sobel_edges(x, data_format=data_format)[0])


@pytest.mark.parametrize(
    "data_format, filter_size, max_val",
    [("channels_last", 3, 1.0), ("channels_first", 5, 2.0)],
)
def test_ssim(rng, data_format, filter_size, max_val):
    a = images(rng, (2, 8, 9, 3), data_format)
    b = np.clip(a + rng.normal(scale=0.1, size=a.shape), 0, 1).astype("float32")
    args = {"max_val": max_val, "filter_size": filter_size, "data_format": data_format}
    if filter_size == 3:
        check_image("ssim", a, b, **args)
    else:
        check("ssim", a, b, family="image", **args)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_rgb_hsv(rng, data_format):
    x = images(rng, data_format=data_format)
    hsv = check("rgb_to_hsv", x, data_format=data_format, family="image")
    check("hsv_to_rgb", np.asarray(hsv), data_format=data_format, family="image")
    close(ops.image.hsv_to_rgb(hsv, data_format=data_format), x, atol=1e-5)


# ------------------------------------------------------------ jit and grad
IMG = np.random.default_rng(0).uniform(size=(2, 6, 6, 3)).astype("float32")
AFFINE = np.array([1.1, 0.1, -0.5, 0.0, 0.9, 0.5, 0, 0], "float32")
CORNERS = np.array([[0, 0], [5, 0], [0, 5], [5, 5]], "float32")

# name -> a function of one float array (differentiable in it).
DIFFERENTIABLE = {
    "adaptive_average_pool": lambda x: ops.adaptive_average_pool(x, (4, 4)),
    "adaptive_max_pool": lambda x: ops.adaptive_max_pool(x, 4),
    "conv_transpose": lambda x: ops.conv_transpose(x, jnp.ones((3, 3, 2, 3)), 2),
    "depth_to_space": lambda x: ops.depth_to_space(x[..., :1].repeat(4, -1), 2),
    "space_to_depth": lambda x: ops.space_to_depth(x, 2),
    "unfold": lambda x: ops.unfold(jnp.moveaxis(x, -1, 1), 2),
    "fold": lambda x: ops.fold(jnp.reshape(x, (2, 12, 9)), (4, 4), 2),
    "stft": lambda x: ops.stft(jnp.reshape(x, (2, -1)), 8, 4, 8)[0],
    "istft": lambda x: ops.istft((x[0, :5, :5, 0], x[1, :5, :5, 0]), 8, 4, 8),
    "rearrange": lambda x: ops.rearrange(x, "b h w c -> c (b h) w"),
    "affine_transform": lambda x: ops.image.affine_transform(x, AFFINE),
    "perspective_transform": lambda x: ops.image.perspective_transform(
        x, CORNERS, CORNERS + 0.5
    ),
    "map_coordinates": lambda x: ops.image.map_coordinates(
        x[0, :, :, 0], x[:, :, :, 1] * 5, 1
    ),
    "gaussian_blur": lambda x: ops.image.gaussian_blur(x),
    "elastic_transform": lambda x: ops.image.elastic_transform(x, 2.0, 1.0, seed=1),
    "extract_patches": lambda x: ops.image.extract_patches(x, 3),
    "extract_patches_3d": lambda x: ops.image.extract_patches_3d(x[..., None], 2),
    "pad_images": lambda x: ops.image.pad_images(x, 1, 2, 0, 1),
    "crop_images": lambda x: ops.image.crop_images(x, 1, 2, 0, target_width=2),
    "scale_and_translate": lambda x: ops.image.scale_and_translate(
        x, (2, 9, 9, 3), jnp.array([1.5, 1.5]), jnp.zeros(2), (1, 2), "linear"
    ),
    "sobel_edges": lambda x: ops.image.sobel_edges(x),
    "ssim": lambda x: ops.image.ssim(x, x[::-1], filter_size=3),
    "rgb_to_hsv": lambda x: ops.image.rgb_to_hsv(x),
    "hsv_to_rgb": lambda x: ops.image.hsv_to_rgb(x),
    "slogdet": lambda x: ops.slogdet(x[0, :3, :3, 0] + 3 * jnp.eye(3))[1],
}


# Grouped so that each group compiles once: reshuffles, sampling, filters.
GRAD_GROUPS = {
    "layout": "depth_to_space space_to_depth unfold fold rearrange extract_patches "
    "extract_patches_3d pad_images crop_images",
    "sampling": "affine_transform perspective_transform map_coordinates "
    "elastic_transform scale_and_translate",
    "filters": "adaptive_average_pool adaptive_max_pool conv_transpose stft istft "
    "gaussian_blur sobel_edges ssim rgb_to_hsv hsv_to_rgb slogdet",
}


def test_grad_groups_cover_the_ops():
    names = " ".join(GRAD_GROUPS.values()).split()
    assert sorted(names) == sorted(DIFFERENTIABLE)


@pytest.mark.parametrize("group", sorted(GRAD_GROUPS))
def test_jit_and_grad(group, strict_promotion):
    names = GRAD_GROUPS[group].split()

    def value_and_grad(name):
        return jax.value_and_grad(lambda x: jnp.sum(jnp.sin(DIFFERENTIABLE[name](x))))

    results = jax.jit(lambda x: {n: value_and_grad(n)(x) for n in names})(IMG)
    for name, (value, grad) in results.items():
        assert np.isfinite(float(value)), name
        assert grad.shape == IMG.shape and np.isfinite(np.asarray(grad)).all(), name


def test_view_jit(strict_promotion):
    x = jnp.arange(12, dtype=jnp.int32).reshape(3, 4)
    assert jax.jit(lambda x: ops.view(x, "float32"))(x).dtype == jnp.float32


# ------------------------------------------------------------------ errors
X4 = jnp.ones((1, 4, 4, 3))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ops.adaptive_average_pool(X4, (2, 2, 2)), "output_size"),
        (lambda: ops.adaptive_max_pool(jnp.ones((2, 3)), 2), "inputs"),
        (lambda: ops.adaptive_max_pool(X4, 2, data_format="NHWC"), "data_format"),
        (lambda: ops.conv_transpose(X4, jnp.ones((3, 3, 2, 4))), "kernel"),
        (
            lambda: ops.conv_transpose(X4, jnp.ones((3, 3, 2, 3)), padding="full"),
            "padding",
        ),
        (
            lambda: ops.ctc_loss(jnp.ones((2, 3)), jnp.ones((2, 5, 4)), 3, [5, 5]),
            "target_length",
        ),
        (lambda: ops.ctc_decode(jnp.ones((2, 5, 4)), [5, 5], "best"), "strategy"),
        (
            lambda: ops.ctc_decode(jnp.ones((2, 5, 4)), [5, 5], "beam_search", 2, 3),
            "top_paths",
        ),
        (lambda: ops.depth_to_space(X4, 1), "block_size"),
        (lambda: ops.depth_to_space(X4, 2), "block_size"),
        (lambda: ops.space_to_depth(jnp.ones((1, 3, 4, 1)), 2), "block_size"),
        (lambda: ops.unfold(jnp.ones((2, 3, 4)), 2), "x"),
        (lambda: ops.fold(jnp.ones((1, 6, 9)), (4, 4), 2), "divisible"),
        (lambda: ops.fold(jnp.ones((1, 8, 5)), (4, 4), 2), "output_size"),
        (lambda: ops.stft(jnp.ones(64), 16, 0, 16), "sequence_stride"),
        (lambda: ops.stft(jnp.ones(64), 16, 4, 8), "fft_length"),
        (lambda: ops.stft(jnp.ones(64), 16, 4, 16, window="blackman"), "window"),
        (lambda: ops.stft(jnp.ones(64), 16, 4, 16, window=jnp.ones(8)), "window"),
        (lambda: ops.istft((jnp.ones((3, 5)),) * 2, 8, 4, 16), "frequency bins"),
        (lambda: ops.rearrange(X4, "b h w -> b (h w)"), "rank"),
        (lambda: ops.rearrange(X4, "b h w c -> b (h w)"), "same axes"),
        (lambda: ops.rearrange(jnp.ones((2, 12)), "b (h w) -> b h w"), "axes_lengths"),
        (lambda: ops.image.affine_transform(X4, jnp.ones(6)), "transform"),
        (
            lambda: ops.image.affine_transform(X4, jnp.ones(8), "bicubic"),
            "interpolation",
        ),
        (
            lambda: ops.image.affine_transform(X4, jnp.ones(8), fill_mode="edge"),
            "fill_mode",
        ),
        (lambda: ops.image.affine_transform(jnp.ones((4, 4)), jnp.ones(8)), "images"),
        (
            lambda: ops.image.perspective_transform(X4, CORNERS, CORNERS[:3]),
            "end_points",
        ),
        (
            lambda: ops.image.map_coordinates(jnp.ones((3, 3)), jnp.ones((3, 2)), 1),
            "coordinates",
        ),
        (
            lambda: ops.image.map_coordinates(jnp.ones((3, 3)), jnp.ones((2, 2)), 3),
            "order",
        ),
        (lambda: ops.image.gaussian_blur(X4, (3, 0)), "kernel_size"),
        (lambda: ops.image.gaussian_blur(X4, sigma=(1.0, 2.0, 3.0)), "sigma"),
        (lambda: ops.image.elastic_transform(X4, seed=None), "seed"),
        (
            lambda: ops.image.elastic_transform(X4, fill_mode="edge", seed=0),
            "fill_mode",
        ),
        (lambda: ops.image.extract_patches(X4, (2, 2, 2, 2)), "size"),
        (lambda: ops.image.extract_patches(X4, 2, padding="full"), "padding"),
        (lambda: ops.image.pad_images(X4, 1, 1), "bottom_padding"),
        (
            lambda: ops.image.pad_images(X4, 1, 1, target_height=3, target_width=6),
            "bottom_padding",
        ),
        (lambda: ops.image.crop_images(X4, -1, 0, 1, 1), "top_cropping"),
        (
            lambda: ops.image.crop_images(X4, 3, 0, target_height=3, right_cropping=0),
            "fit",
        ),
        (
            lambda: ops.image.scale_and_translate(
                X4, (1, 8, 8, 3), [2, 2], [0, 0], (1, 2), "nearest"
            ),
            "method",
        ),
        (lambda: ops.image.ssim(X4, jnp.ones((1, 4, 5, 3))), "image2"),
        (lambda: ops.image.rgb_to_hsv(jnp.ones((1, 4, 4, 4))), "channels"),
        (lambda: ops.image.hsv_to_rgb(jnp.ones((1, 4, 4, 3), jnp.int32)), "float"),
        (lambda: ops.image.sobel_edges(X4, data_format="NCHW"), "data_format"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types():
    with pytest.raises(TypeError, match="size"):
        ops.image.extract_patches(X4, "2")
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.stft(jnp.ones(64, jnp.int32), 16, 4, 16)
