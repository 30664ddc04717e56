"""RandAugment: a random pick of Keras's image augmentations, driven by the call's `key`.

The augmentations are kerax's own layers (`RandomShear`, `RandomTranslation`,
`RandomRotation`, `RandomBrightness`, `RandomColorDegeneration`,
`RandomContrast`, `RandomSharpness`, `RandomPosterization`, `Solarization`,
`AutoContrast`, `Equalization`), made from the layer's `factor`,
`value_range` and `interpolation` as Keras makes them. `AugMix` shares them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core.fields import field
from kerax.layers._args import data_format_field, integer, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._color_ops import check_images
from kerax.layers.preprocessing._fields import ARG_DOCS, base_factor, value_range
from kerax.layers.preprocessing._image_ops import AFFINE_INTERPOLATIONS, check_choice
from kerax.layers.preprocessing._random_base import _RandomImageLayer
from kerax.layers.preprocessing.color import RandomColorDegeneration
from kerax.layers.preprocessing.intensity import (
    AutoContrast,
    Equalization,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from kerax.layers.preprocessing.random_brightness import RandomBrightness
from kerax.layers.preprocessing.random_contrast import RandomContrast
from kerax.layers.preprocessing.random_rotation import RandomRotation
from kerax.layers.preprocessing.random_shear import RandomShear
from kerax.layers.preprocessing.random_translation import RandomTranslation

# Keras's `RandAugment._AUGMENT_LAYERS`, in its order (the op indices).
AUGMENT_LAYERS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
)


def non_negative_int(value) -> int:
    value = integer(value)
    if value < 0:
        raise ValueError(f"should be an integer >= 0. Received: {value!r}")
    return value


def augment_layers(layer, names) -> dict:
    """The sub-layers `names`, built from `layer`'s arguments as Keras builds them.

    They are config (made on demand, without params), take this layer's
    `data_format` and `dtype`, and no seed: the outer layer folds its seed
    into the key once.
    """
    factor, vr = layer.factor, layer.value_range
    common = {"data_format": layer.data_format, "dtype": layer.dtype}
    affine = {**common, "interpolation": layer.interpolation}
    colour = {**common, "value_range": vr}
    make = {
        "random_shear": lambda: RandomShear(x_factor=factor, y_factor=factor, **affine),
        "random_translation": lambda: RandomTranslation(
            height_factor=factor, width_factor=factor, **affine
        ),
        "random_rotation": lambda: RandomRotation(factor=factor, **affine),
        "random_brightness": lambda: RandomBrightness(factor=factor, **colour),
        "random_color_degeneration": lambda: RandomColorDegeneration(
            factor=factor, **colour
        ),
        "random_contrast": lambda: RandomContrast(factor=factor, **colour),
        "random_sharpness": lambda: RandomSharpness(factor=factor, **colour),
        "random_posterization": lambda: RandomPosterization(
            factor=max(1, int(8 * factor[1])), **colour
        ),
        "solarization": lambda: Solarization(
            addition_factor=factor, threshold_factor=factor, **colour
        ),
        "auto_contrast": lambda: AutoContrast(**colour),
        "equalization": lambda: Equalization(**colour),
    }
    return {name: make[name]() for name in names}


def operation_branches(augment_layers: dict, dtype) -> list:
    """One `lax.switch` branch per operation, `(images, transforms) ->
    images` in `dtype`: the operation's layer applied with its own draws."""
    return [
        lambda x, t, layer=layer, name=name: layer.transform_images(x, t[name]).astype(
            dtype
        )
        for name, layer in augment_layers.items()
    ]


def draw(sub_layer, images, key):
    """A sub-layer's transformation (None for the deterministic AutoContrast and Equalization)."""
    if not hasattr(sub_layer, "get_random_transformation"):
        return None
    return sub_layer.get_random_transformation(images, key=key)


class _AugmentLayer(_RandomImageLayer):
    """Shared checks of RandAugment and AugMix: `interpolation`, RGB input, inference cast."""

    def __post_init__(self):
        super().__post_init__()
        check_choice(self, "interpolation", AFFINE_INTERPOLATIONS)
        self.augment_layers()  # Checks the sub-layers' arguments now.

    def check_input(self, spec):
        # RandomColorDegeneration (in both op lists) needs RGB images.
        check_images(self, spec, (3,))

    def augment_layers(self) -> dict:
        return augment_layers(self, self.layer_names)


_DOCS = {
    **ARG_DOCS,
    "value_range": "The range of values the input image can take. Default is "
    "`(0, 255)`. Typically, this would be `(0, 1)` for normalized images or "
    "`(0, 255)` for raw images.",
    "num_ops": "The number of augmentation operations to apply sequentially to each "
    "image. Default is 2.",
    "factor": "The strength of the augmentation as a normalized value between 0 and "
    "1. Default is 0.5. A number `f` means `(0, f)`; a pair is sorted.",
    "interpolation": "The interpolation method to use for resizing operations. "
    "Options include `nearest`, `bilinear`. Default is `bilinear`.",
}


@document_args(_DOCS)
class RandAugment(_AugmentLayer):
    """RandAugment ([Cubuk et al., 2019](https://arxiv.org/abs/1909.13719)), like `keras.layers.RandAugment`.

    In training, `num_ops` operations are drawn (uniformly, with repetition)
    from Keras's eleven augmentations (`layer_names`) and applied in turn;
    as in Keras the same operations apply to the whole batch, while each
    operation's own parameters are drawn per image, once per call (an
    operation drawn twice applies the same parameters twice). Each
    augmentation is kerax's layer built as Keras builds it: shear,
    translation and rotation with `factor` and `interpolation` (fill mode
    `"reflect"`); brightness, colour degeneration, contrast and sharpness
    with `factor`; posterization keeping `max(1, int(8 * factor[1]))` bits
    at most; solarization with `factor` as both its factors; AutoContrast
    and Equalization. Inference returns the input (cast to the compute
    dtype). Images are batched RGB arrays; unlike Keras, dicts with
    bounding boxes or segmentation masks are not taken.

    The transformation is Keras's: `{"layer_idxes": (num_ops,) ints,
    "transforms": {name: that layer's transformation}}` (None for
    AutoContrast and Equalization, which draw nothing).

    Example:
        >>> layer = kerax.layers.RandAugment(value_range=(0.0, 1.0), num_ops=2, factor=0.3)
        >>> x = jax.random.uniform(jax.random.key(1), (2, 8, 8, 3))
        >>> y, _ = layer.apply({}, {}, x, key=jax.random.key(0), training=True)
        >>> y.shape, bool(jnp.all((y >= 0.0) & (y <= 1.0)))
        ((2, 8, 8, 3), True)
    """

    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    num_ops: int = field(2, converter=non_negative_int)
    factor: tuple[float, float] = field(0.5, converter=base_factor(0, 1))
    interpolation: str = "bilinear"
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    layer_names = AUGMENT_LAYERS

    def get_random_transformation(self, images, *, key):
        key = self._key(key)
        op_key, *keys = jax.random.split(key, 1 + len(self.layer_names))
        transforms = {
            name: draw(layer, images, k)
            for (name, layer), k in zip(
                self.augment_layers().items(), keys, strict=True
            )
        }
        layer_idxes = jax.random.randint(
            op_key, (self.num_ops,), 0, len(self.layer_names), dtype=jnp.int32
        )
        return {"transforms": transforms, "layer_idxes": layer_idxes}

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        images = images.astype(dtype)
        transforms = transformation["transforms"]
        branches = operation_branches(self.augment_layers(), dtype)

        # A scan over the drawn operations: one copy of the switch to compile.
        def apply_op(x, index):
            return lax.switch(index, branches, x, transforms), None

        return lax.scan(apply_op, images, transformation["layer_idxes"])[0]
