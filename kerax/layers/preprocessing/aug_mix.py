"""AugMix: chains of random augmentations mixed with the image, driven by the call's `key`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int, positive_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS, base_factor, value_range
from kerax.layers.preprocessing.mixing import positive_number
from kerax.layers.preprocessing.rand_augment import (
    _AugmentLayer,
    draw,
    operation_branches,
)

# Keras's `aug_mix.AUGMENT_LAYERS_ALL` and `AUGMENT_LAYERS`, in its order.
AUGMENT_LAYERS_ALL = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
)
AUGMENT_LAYERS = AUGMENT_LAYERS_ALL[:7]

_DOCS = {
    **ARG_DOCS,
    "value_range": "the range of values the incoming images will have. Represented "
    "as a two number tuple written (low, high). This is typically either `(0, 1)` or "
    "`(0, 255)` depending on how your preprocessing pipeline is set up.",
    "num_chains": "an integer representing the number of different chains to be "
    "mixed, defaults to 3.",
    "chain_depth": "an integer representing the maximum number of transformations "
    "to be applied in each chain. The actual number of transformations in each chain "
    "will be sampled randomly from the range `[0, chain_depth]`. Defaults to 3.",
    "factor": "The strength of the augmentation as a normalized value between 0 and "
    "1. Default is 0.3. A number `f` means `(0, f)`; a pair is sorted.",
    "alpha": "a float value used as the probability coefficients for the Beta and "
    "Dirichlet distributions, defaults to 1.0.",
    "all_ops": "Use all operations (including random_brightness, "
    "random_color_degeneration, random_contrast and random_sharpness). Default is "
    "True.",
    "interpolation": "The interpolation method to use for resizing operations. "
    'Options include `"nearest"`, `"bilinear"`. Default is `"bilinear"`.',
}


@document_args(_DOCS)
class AugMix(_AugmentLayer):
    """AugMix ([Hendrycks et al., 2019](https://arxiv.org/abs/1912.02781)), like `keras.layers.AugMix`.

    In training, `num_chains` chains each apply up to `chain_depth`
    augmentations: at each of the `chain_depth` steps an operation is drawn
    uniformly from `layer_names` plus "none" (as Keras's
    `random.choice(layers + [None])`), so a chain holds 0 to `chain_depth`
    of them. The chains' outputs are mixed with Dirichlet(`alpha`) weights,
    and the mix with the image with a Beta(`alpha`, `alpha`) weight `w`:
    `w x + (1 - w) sum_i m_i chain_i(x)`, clipped to `value_range`. As in
    Keras the operations and the weights are shared by the batch; each
    operation's own parameters are drawn per image. The operations are
    kerax's layers built as `RandAugment` builds them (`all_ops=False`
    keeps the first seven: shear, translation, rotation, posterization,
    solarization, AutoContrast, Equalization). Keras picks the operations
    with Python's `random` when it traces the layer; kerax draws them from
    the key, so every call (jitted or not) draws new ones. Inference
    returns the input (cast to the compute dtype). Images are batched RGB
    arrays; unlike Keras, dicts with bounding boxes or segmentation masks
    are not taken.

    The transformation: `{"chain_mixing_weights": (num_chains,),
    "weight_sample": (), "layer_idxes": (num_chains, chain_depth) ints
    (`len(layer_names)` means no operation), "transforms": {name: that
    layer's transformations, with leading (num_chains, chain_depth) axes}}`.

    Example:
        >>> layer = kerax.layers.AugMix(value_range=(0.0, 1.0), num_chains=2, chain_depth=2)
        >>> x = jax.random.uniform(jax.random.key(1), (2, 8, 8, 3))
        >>> augment = jax.jit(lambda x, k: layer.apply({}, {}, x, key=k, training=True)[0])
        >>> y = augment(x, jax.random.key(0))
        >>> y.shape, bool(jnp.all((y >= 0.0) & (y <= 1.0)))
        ((2, 8, 8, 3), True)
    """

    value_range: tuple[float, float] = field(
        (0, 255), converter=value_range(sort=False)
    )
    num_chains: int = field(3, converter=positive_int)
    chain_depth: int = field(3, converter=positive_int)
    factor: tuple[float, float] = field(0.3, converter=base_factor(0, 1))
    alpha: float = field(1.0, converter=positive_number)
    all_ops: bool = True
    interpolation: str = "bilinear"
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.all_ops, bool):
            raise ValueError(
                f"{self.describe()}: `all_ops` must be True or False, got {self.all_ops!r}."
            )

    @property
    def layer_names(self) -> tuple[str, ...]:
        return AUGMENT_LAYERS_ALL if self.all_ops else AUGMENT_LAYERS

    def get_random_transformation(self, images, *, key):
        dtype = self.policy.compute_dtype
        k_dirichlet, k_beta, k_ops, k_layers = jax.random.split(self._key(key), 4)
        gamma = jax.random.gamma(k_dirichlet, self.alpha, (self.num_chains,), dtype)
        steps = (self.num_chains, self.chain_depth)
        n_layers = len(self.layer_names)
        layer_keys = jax.random.split(k_layers, (n_layers, *steps))

        def draws(layer, keys):
            one = lambda k: draw(layer, images, k)  # noqa: E731
            return jax.vmap(jax.vmap(one))(keys)

        transforms = {
            name: draws(layer, layer_keys[i])
            for i, (name, layer) in enumerate(self.augment_layers().items())
        }
        return {
            "chain_mixing_weights": gamma / jnp.sum(gamma, axis=-1, keepdims=True),
            "weight_sample": jax.random.beta(k_beta, self.alpha, self.alpha, (), dtype),
            # `n_layers` (Keras's None): no operation at that step.
            "layer_idxes": jax.random.randint(k_ops, steps, 0, n_layers + 1, jnp.int32),
            "transforms": transforms,
        }

    def transform_images(self, images, transformation):
        dtype = self.policy.compute_dtype
        images = images.astype(dtype)
        weights = transformation["chain_mixing_weights"].astype(dtype)
        weight_sample = transformation["weight_sample"].astype(dtype)
        transforms = transformation["transforms"]
        # The last branch is "no operation" (Keras's None).
        branches = operation_branches(self.augment_layers(), dtype) + [lambda x, t: x]

        # Scans over the chains and their steps: one copy of the switch
        # (eleven operations) to compile, not one per step.
        def chain_step(chain, step):
            index, transform = step
            return lax.switch(index, branches, chain, transform), None

        def mix_chain(mixed, chain_draws):
            indexes, chain_transforms, weight = chain_draws
            chain, _ = lax.scan(chain_step, images, (indexes, chain_transforms))
            return mixed + chain * weight, None

        aug_images, _ = lax.scan(
            mix_chain,
            jnp.zeros_like(images),
            (transformation["layer_idxes"], transforms, weights),
        )
        images = weight_sample * images + (1 - weight_sample) * aug_images
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(dtype)
