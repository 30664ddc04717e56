"""`keras.applications` in kerax: Keras's 40 pretrained image models as kerax models.

Each constructor has Keras's signature (the same argument names and
defaults, `weights="imagenet"` included) and returns the
`kerax.interop.from_keras` triple `(model, params, state)`: Keras builds the
model with the arguments given (checks them, downloads and caches the
weights with its hash check) and kerax converts it, with identical outputs.

```python
model, params, state = kerax.applications.MobileNetV2(
    input_shape=(96, 96, 3), include_top=False, weights="imagenet", pooling="avg"
)
x = kerax.applications.mobilenet_v2.preprocess_input(images)  # [0, 255] -> [-1, 1]
features, _ = model.apply(params, state, x)
```

The constructors need Keras (the optional extra: `pip install "kerax[keras]"`),
imported on the first call; importing this package does not. The family
modules (`mobilenet_v2`, `resnet`, ...) are Keras's: each has its
constructors, `preprocess_input` (NumPy or JAX arrays in, the same kind out,
Keras's numbers) and `decode_predictions`, which need no Keras.
"""

import difflib as _difflib

from kerax.applications import (
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from kerax.applications._factory import CONSTRUCTORS as _CONSTRUCTORS

# The 40 constructors, one factory-made function each (`_factory.py`).
globals().update(_CONSTRUCTORS)

__all__ = [
    "convnext",
    "densenet",
    "efficientnet",
    "efficientnet_v2",
    "imagenet_utils",
    "inception_resnet_v2",
    "inception_v3",
    "mobilenet",
    "mobilenet_v2",
    "mobilenet_v3",
    "nasnet",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
    "xception",
]
_FAMILIES = tuple(__all__)
__all__ += sorted(_CONSTRUCTORS)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    close = _difflib.get_close_matches(name, __all__, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise AttributeError(
        f"kerax.applications has no {name!r}: it has Keras's applications "
        f"{', '.join(sorted(_CONSTRUCTORS))} and the family modules "
        f"{', '.join(_FAMILIES)}.{hint}"
    )
