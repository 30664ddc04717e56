"""The 40 `keras.applications` constructors as functions returning kerax models.

One factory, `constructor(name)`, makes each: it builds the Keras model with
the arguments it was given (Keras checks them, downloads and caches the
weights with their hash check, and loads them) and converts it with
`kerax.interop.from_keras`. Keras is imported on the first call, so that
importing `kerax.applications` does not need the `keras` extra; that is also
why the signatures are written here (the tests compare all 40 with Keras's).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys

from kerax.applications.imagenet_utils import FAMILY_MODES
from kerax.core.node import Node
from kerax.interop import from_keras

# Keras's arguments, in each family's order; `name` (its default per model)
# comes last everywhere.
_STANDARD = (
    "include_top",
    "weights",
    "input_tensor",
    "input_shape",
    "pooling",
    "classes",
    "classifier_activation",
)
_ARGUMENTS = {
    "standard": _STANDARD,
    "convnext": ("include_top", "include_preprocessing", *_STANDARD[1:]),
    "efficientnet_v2": (*_STANDARD, "include_preprocessing"),
    "mobilenet": (
        "input_shape",
        "alpha",
        "depth_multiplier",
        "dropout",
        "include_top",
        "weights",
        "input_tensor",
        "pooling",
        "classes",
        "classifier_activation",
    ),
    "mobilenet_v2": (
        "input_shape",
        "alpha",
        "include_top",
        "weights",
        "input_tensor",
        "pooling",
        "classes",
        "classifier_activation",
    ),
    "mobilenet_v3": (
        "input_shape",
        "alpha",
        "minimalistic",
        "include_top",
        "weights",
        "input_tensor",
        "classes",
        "pooling",
        "dropout_rate",
        "classifier_activation",
        "include_preprocessing",
    ),
    "nasnet": (
        "input_shape",
        "include_top",
        "weights",
        "input_tensor",
        "pooling",
        "classes",
        "classifier_activation",
    ),
}
_DEFAULTS = {
    "include_top": True,
    "include_preprocessing": True,
    "weights": "imagenet",
    "input_tensor": None,
    "input_shape": None,
    "pooling": None,
    "classes": 1000,
    "classifier_activation": "softmax",
    "alpha": 1.0,
    "depth_multiplier": 1,
    "dropout": 1e-3,
    "minimalistic": False,
    "dropout_rate": 0.2,
}

# name: (Keras's family module, its default `name`, the first line of
# Keras's docstring where it is not "Instantiates the {name} architecture.").
APPLICATIONS = {
    "ConvNeXtBase": ("convnext", "convnext_base", None),
    "ConvNeXtLarge": ("convnext", "convnext_large", None),
    "ConvNeXtSmall": ("convnext", "convnext_small", None),
    "ConvNeXtTiny": ("convnext", "convnext_tiny", None),
    "ConvNeXtXLarge": ("convnext", "convnext_xlarge", None),
    "DenseNet121": (
        "densenet",
        "densenet121",
        "Instantiates the Densenet121 architecture.",
    ),
    "DenseNet169": (
        "densenet",
        "densenet169",
        "Instantiates the Densenet169 architecture.",
    ),
    "DenseNet201": (
        "densenet",
        "densenet201",
        "Instantiates the Densenet201 architecture.",
    ),
    **{
        f"EfficientNetB{i}": ("efficientnet", f"efficientnetb{i}", None)
        for i in range(8)
    },
    **{
        f"EfficientNetV2{s}": ("efficientnet_v2", f"efficientnetv2-{s.lower()}", None)
        for s in ("B0", "B1", "B2", "B3", "L", "M", "S")
    },
    "InceptionResNetV2": (
        "inception_resnet_v2",
        "inception_resnet_v2",
        "Instantiates the Inception-ResNet v2 architecture.",
    ),
    "InceptionV3": (
        "inception_v3",
        "inception_v3",
        "Instantiates the Inception v3 architecture.",
    ),
    "MobileNet": ("mobilenet", None, None),
    "MobileNetV2": ("mobilenet_v2", None, None),
    "MobileNetV3Large": ("mobilenet_v3", "MobileNetV3Large", None),
    "MobileNetV3Small": ("mobilenet_v3", "MobileNetV3Small", None),
    "NASNetLarge": (
        "nasnet",
        "nasnet_large",
        "Instantiates a NASNet model in ImageNet mode.",
    ),
    "NASNetMobile": (
        "nasnet",
        "nasnet_mobile",
        "Instantiates a Mobile NASNet model in ImageNet mode.",
    ),
    "ResNet50": ("resnet", "resnet50", None),
    "ResNet101": ("resnet", "resnet101", None),
    "ResNet152": ("resnet", "resnet152", None),
    "ResNet50V2": ("resnet_v2", "resnet50v2", None),
    "ResNet101V2": ("resnet_v2", "resnet101v2", None),
    "ResNet152V2": ("resnet_v2", "resnet152v2", None),
    "VGG16": ("vgg16", "vgg16", "Instantiates the VGG16 model."),
    "VGG19": ("vgg19", "vgg19", "Instantiates the VGG19 model."),
    "Xception": ("xception", "xception", None),
}

_DOC = """{summary}

kerax's `keras.applications.{name}`: the same arguments, with Keras's names
and defaults (`help(keras.applications.{name})` describes them). Keras builds
the model from them (it checks them, and downloads `weights="imagenet"`
once into `~/.keras/models`, checked against its hash), and
`kerax.interop.from_keras` converts it, with identical outputs.

Keras is the optional extra `kerax[keras]`; it is imported on the first call,
on its JAX backend unless Keras was imported already or `KERAS_BACKEND` says
otherwise.

Returns:
    `(model, params, state)`: a kerax functional `Model` (`model.name` is
    Keras's), its weights, and its non-trainable state (BatchNormalization
    statistics), as `kerax.interop.from_keras` returns them.

Raises:
    ImportError: Keras is not installed (`pip install "kerax[keras]"`).
    ValueError: Keras's own errors for arguments it refuses, unchanged
        (an unknown `weights` path, `include_top=True` with another
        `input_shape` than ImageNet's, ...).

Example:
    ```python
    model, params, state = kerax.applications.{name}(
        include_top=False, weights="imagenet", pooling="avg"
    )
    y, _ = model.apply(params, state, {inputs}
    ```
"""


def signature(name: str) -> inspect.Signature:
    """Keras's signature of `keras.applications.<name>`."""
    family, default_name, _ = APPLICATIONS[name]
    arguments = _ARGUMENTS.get(family, _STANDARD)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature(
        [inspect.Parameter(a, kind, default=_DEFAULTS[a]) for a in arguments]
        + [inspect.Parameter("name", kind, default=default_name)]
    )


def import_keras(what: str):
    """`keras`, or an ImportError saying how to install it."""
    if "keras" not in sys.modules:
        # kerax runs on JAX; Keras's own default would be TensorFlow.
        os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError as e:
        raise ImportError(
            f"{what} builds the Keras application and converts it: it needs "
            f'Keras 3, kerax\'s optional extra: pip install "kerax[keras]" '
            f"({e})."
        ) from e
    return keras


@contextlib.contextmanager
def numpy_initial_values(seed: int = 0):
    """Keras's random initializers drawing with NumPy while a model is built.

    On its JAX backend Keras draws each variable's first values with a
    program compiled for that shape (`truncated_normal`: ~0.15 s each on a
    CPU, 81 of them in EfficientNetB0). NumPy draws from the same
    distributions without compiling. For a model whose weights are loaded
    next (and for tests that compare kerax with whatever weights Keras
    holds), those first values do not matter. A Keras without these
    internals is left as it is.
    """
    import jax.numpy as jnp
    import numpy as np

    try:
        from keras.src.backend import random as backend_random
    except ImportError:
        yield
        return
    rng = np.random.default_rng(seed)

    def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        x = rng.standard_normal(shape)
        while (far := np.abs(x) > 2).any():  # Redraw beyond 2 stddev, as Keras.
            x[far] = rng.standard_normal(int(far.sum()))
        return jnp.asarray(x * stddev + mean, dtype or "float32")

    def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return jnp.asarray(rng.normal(mean, stddev, shape), dtype or "float32")

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        return jnp.asarray(rng.uniform(minval, maxval, shape), dtype or "float32")

    replaced = {
        "truncated_normal": truncated_normal,
        "normal": normal,
        "uniform": uniform,
    }
    if not all(hasattr(backend_random, n) for n in replaced):
        yield
        return
    saved = {n: getattr(backend_random, n) for n in replaced}
    for n, fn in replaced.items():
        setattr(backend_random, n, fn)
    try:
        yield
    finally:
        for n, fn in saved.items():
            setattr(backend_random, n, fn)


def constructor(name: str):
    """The kerax function for `keras.applications.<name>`."""
    family, _, summary = APPLICATIONS[name]
    sig = signature(name)
    qualified = f"kerax.applications.{name}"

    def application(*args, **kwargs):
        keras = import_keras(qualified)
        try:
            input_tensor = sig.bind(*args, **kwargs).arguments.get("input_tensor")
        except TypeError:
            input_tensor = None  # Keras says what is wrong with the arguments.
        if isinstance(input_tensor, Node):
            raise TypeError(
                f"{qualified}: input_tensor takes a Keras tensor, not a kerax "
                "node. Build the model with input_shape=... and call it on your "
                "node instead: `model, params, state = "
                f"kerax.applications.{name}(input_shape=...)`, then `y = model(x)`."
            )
        try:
            weights = sig.bind(*args, **kwargs).arguments.get("weights", "imagenet")
        except TypeError:
            weights = None
        # Loaded weights replace the initial values: draw those with NumPy
        # (EfficientNetB0: Keras's build 14.5 -> 1.8 s on 2 CPU cores).
        # `weights=None` keeps Keras's own draws, as Keras's model has them.
        drawing = (
            numpy_initial_values() if weights is not None else contextlib.nullcontext()
        )
        with drawing:
            keras_model = getattr(keras.applications, name)(*args, **kwargs)
        return from_keras(keras_model)

    application.__name__ = application.__qualname__ = name
    application.__module__ = "kerax.applications"
    application.__signature__ = sig
    inputs = (
        "images)  # The model rescales [0, 255] pixels itself."
        if FAMILY_MODES[family] is None
        else f"kerax.applications.{family}.preprocess_input(images))"
    )
    application.__doc__ = _DOC.format(
        summary=summary or f"Instantiates the {name} architecture.",
        name=name,
        inputs=inputs,
    )
    return application


CONSTRUCTORS = {name: constructor(name) for name in APPLICATIONS}
