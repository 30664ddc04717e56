"""`keras.applications.imagenet_utils`: ImageNet preprocessing and decoding, without Keras.

`preprocess_input` computes what Keras's does, in NumPy for NumPy input
(and lists) and in `jax.numpy` for JAX arrays, and returns that kind of
array; unlike Keras's it never writes over its input. Integer images become
`kerax.config.floatx()` first, as in Keras; float images keep their dtype.

`decode_predictions` reads Keras's ImageNet class index (downloaded once by
`kerax.utils.get_file` into `~/.kerax/models`, checked against Keras's hash).
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np

from kerax import config
from kerax.utils.file_utils import get_file

__all__ = ["decode_predictions", "preprocess_input"]

CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/"
    "data/imagenet_class_index.json"
)
_CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

_MODES = ("caffe", "tf", "torch")
# Each family's `preprocess_input` (None: Keras's placeholder, which returns
# its input: these models rescale their [0, 255] inputs themselves).
FAMILY_MODES = {
    "convnext": None,
    "densenet": "torch",
    "efficientnet": None,
    "efficientnet_v2": None,
    "inception_resnet_v2": "tf",
    "inception_v3": "tf",
    "mobilenet": "tf",
    "mobilenet_v2": "tf",
    "mobilenet_v3": None,
    "nasnet": "tf",
    "resnet": "caffe",
    "resnet50": "caffe",
    "resnet_v2": "tf",
    "vgg16": "caffe",
    "vgg19": "caffe",
    "xception": "tf",
}
_MODE_DOC = {
    "tf": "Pixels in [0, 255] are scaled to [-1, 1].",
    "torch": (
        "Pixels in [0, 255] are scaled to [0, 1], then each channel is "
        "normalized with ImageNet's mean and standard deviation."
    ),
    "caffe": (
        "Images are converted from RGB to BGR, then each channel is "
        "zero-centered with ImageNet's mean, without scaling."
    ),
}


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a NumPy or JAX array encoding a batch of images.

    Keras's `keras.applications.imagenet_utils.preprocess_input`, the same
    numbers, returned as a new array of the input's kind (NumPy for NumPy
    and lists, JAX for JAX arrays); the input is never written over.

    Args:
        x: An array of images (3D or 4D, 3 color channels) with values in
            [0, 255]. Integer arrays become `kerax.config.floatx()` first;
            float arrays keep their dtype.
        data_format: `"channels_last"` or `"channels_first"`; None: the
            global `kerax.config.image_data_format()`.
        mode: One of "caffe", "tf" or "torch".
            - caffe: RGB to BGR, then each channel zero-centered with
              ImageNet's mean, without scaling.
            - tf: pixels scaled to [-1, 1].
            - torch: pixels scaled to [0, 1], then each channel normalized
              with ImageNet's mean and standard deviation.

    Returns:
        The preprocessed array.

    Raises:
        ValueError: In case of unknown `mode` or `data_format` argument.

    Example:
        >>> x = np.array([[[[0, 127.5, 255]]]], "float32")
        >>> kerax.applications.imagenet_utils.preprocess_input(x, mode="tf")
        array([[[[-1.,  0.,  1.]]]], dtype=float32)
    """
    if mode not in _MODES:
        raise ValueError(
            "Expected mode to be one of `caffe`, `tf` or `torch`. "
            f"Received: mode={mode}"
        )
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "Expected data_format to be one of `channels_first` or "
            f"`channels_last`. Received: data_format={data_format}"
        )
    xp = jnp if isinstance(x, jax.Array) else np
    x = xp.asarray(x)
    if not xp.issubdtype(x.dtype, xp.floating):
        x = x.astype(config.floatx())
    if mode == "tf":
        return x / 127.5 - 1.0
    channels_first = data_format == "channels_first"
    axis = (0 if x.ndim == 3 else 1) if channels_first else x.ndim - 1
    shape = [1] * x.ndim
    shape[axis] = 3

    def per_channel(values):
        return xp.asarray(values, x.dtype).reshape(shape)

    if mode == "torch":
        x = x / 255.0
        return (x - per_channel([0.485, 0.456, 0.406])) / per_channel(
            [0.229, 0.224, 0.225]
        )
    x = xp.flip(x, axis=axis)  # RGB -> BGR
    return x - per_channel([103.939, 116.779, 123.68])


def family_preprocess_input(family: str):
    """The `preprocess_input(x, data_format=None)` of a Keras family module."""
    mode = FAMILY_MODES[family]
    if mode is None:

        def fn(x, data_format=None):
            return x

        fn.__doc__ = (
            "A placeholder method for backward compatibility: returns `x` unchanged.\n\n"
            f"As Keras's: the {family} models rescale their [0, 255] inputs "
            "themselves (their first layers), so there is nothing to do.\n\n"
            "Args:\n"
            "    x: A NumPy or JAX array of images.\n"
            "    data_format: Unused.\n\n"
            "Returns:\n"
            "    `x`, unchanged.\n"
        )
    else:

        def fn(x, data_format=None):
            return preprocess_input(x, data_format=data_format, mode=mode)

        fn.__doc__ = (
            "Preprocesses a NumPy or JAX array encoding a batch of images.\n\n"
            f"{_MODE_DOC[mode]} Keras's numbers (`imagenet_utils.preprocess_input`, "
            f'mode="{mode}"), as a new array of the input\'s kind (NumPy or JAX); '
            "the input is never written over.\n\n"
            "Args:\n"
            "    x: An array of images (3D or 4D, 3 color channels) with values "
            "in [0, 255]. Integer arrays become `kerax.config.floatx()` first.\n"
            '    data_format: `"channels_last"` or `"channels_first"`; None: '
            "`kerax.config.image_data_format()`.\n\n"
            "Returns:\n"
            "    The preprocessed array.\n\n"
            "Raises:\n"
            "    ValueError: In case of unknown `data_format` argument.\n"
        )
    fn.__name__ = fn.__qualname__ = "preprocess_input"
    fn.__module__ = f"kerax.applications.{family}"
    return fn


@functools.cache
def _class_index() -> dict:
    path = get_file(
        "imagenet_class_index.json",
        CLASS_INDEX_PATH,
        cache_subdir="models",
        file_hash=_CLASS_INDEX_HASH,
    )
    with open(path) as f:
        return json.load(f)


def decode_predictions(preds, top=5):
    """Decodes the prediction of an ImageNet model.

    Keras's `decode_predictions`: the same class index (downloaded once) and
    the same result.

    Args:
        preds: NumPy or JAX array encoding a batch of predictions, shape
            `(samples, 1000)`.
        top: Integer, how many top-guesses to return. Defaults to `5`.

    Returns:
        A list of lists of top class prediction tuples
        `(class_name, class_description, score)`.
        One list of tuples per sample in batch input.

    Raises:
        ValueError: In case of invalid shape of the `pred` array
            (must be 2D).
    """
    if len(np.shape(preds)) != 2 or np.shape(preds)[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects "
            "a batch of predictions "
            "(i.e. a 2D array of shape (samples, 1000)). "
            f"Received array with shape: {np.shape(preds)}"
        )
    index = _class_index()
    results = []
    for pred in np.asarray(preds):
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda x: x[2], reverse=True)
        results.append(result)
    return results
