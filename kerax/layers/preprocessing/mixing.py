"""MixUp and CutMix: augmentations that mix each image with another image of its batch.

kerax's layers take arrays, not Keras's `{"images": ..., "labels": ...}`
dicts, so `apply` mixes the images only. The labels must be mixed with the
same draw; do the two steps yourself:

    t = layer.get_random_transformation(images, key=key)
    images = layer.transform_images(images, t)
    labels = layer.transform_labels(labels, t)  # (batch, classes), e.g. one-hot
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.layers._args import data_format_field, optional_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS, _is_number, base_factor
from kerax.layers.preprocessing._random_base import _RandomImageLayer
from kerax.layers.preprocessing._random_boxes import box_masks, crop_bounds


def positive_number(value) -> float:
    if not _is_number(value) or value <= 0:
        raise ValueError(f"should be a number > 0. Received: {value!r}")
    return value


def _mix(x, mix_weight, permutation_order):
    """`w x + (1 - w) x[permutation]`, `w` per example (Keras's label mixing)."""
    w = jnp.reshape(mix_weight, (-1, *(1,) * (x.ndim - 1)))
    if jnp.issubdtype(x.dtype, jnp.floating):
        w = w.astype(x.dtype)  # Integer labels promote instead, as in Keras.
    return w * x + (1.0 - w) * jnp.take(x, permutation_order, axis=0)


DOCS = {
    **ARG_DOCS,
    "alpha": "Float > 0. The mix weights are drawn from Beta(alpha, alpha): small "
    "values keep images mostly as they are. Defaults to 0.2.",
    "factor": "A single float or a tuple of two floats in `[0, 1]`: the Beta "
    "distribution's parameter `alpha` is drawn in this range per call (plus 1e-6; a "
    "single float `f` means `(0, f)`), then each image's mix weight from "
    "Beta(alpha, alpha). Defaults to 1.0.",
}


@document_args(DOCS)
class MixUp(_RandomImageLayer):
    """Mixes each image with another of its batch in training, like `keras.layers.MixUp`.

    MixUp ([Zhang et al., 2017](https://arxiv.org/abs/1710.09412)): image
    `i` becomes `w_i x_i + (1 - w_i) x_{p(i)}`, `p` a random permutation of
    the batch, `w_i ~ Beta(alpha, alpha)`. `apply` mixes the images; mix
    the labels with `transform_labels` and the same transformation (see
    the module docstring). Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.MixUp(alpha=0.2)
        >>> images, labels = jnp.ones((4, 8, 8, 3)), jax.nn.one_hot(jnp.arange(4), 4)
        >>> t = layer.get_random_transformation(images, key=jax.random.key(0))
        >>> mixed, mixed_labels = layer.transform_images(images, t), layer.transform_labels(labels, t)
    """

    alpha: float = field(0.2, converter=positive_number)
    data_format: str = data_format_field()
    seed: int | None = field(None, converter=optional_int)

    def inference(self, images):
        return images

    def get_random_transformation(self, images, *, key):
        k_permutation, k_weight = jax.random.split(self._key(key))
        batch = images.shape[0]
        return {
            "mix_weight": jax.random.beta(k_weight, self.alpha, self.alpha, (batch,)),
            "permutation_order": jax.random.permutation(k_permutation, batch),
        }

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        return _mix(
            images, transformation["mix_weight"], transformation["permutation_order"]
        )

    def transform_labels(self, labels, transformation):
        """Mixes `(batch, ...)` labels (one-hot or soft) as the images were mixed."""
        return _mix(
            labels, transformation["mix_weight"], transformation["permutation_order"]
        )


@document_args(DOCS)
class CutMix(_RandomImageLayer):
    """Pastes a box of another image of the batch in training, like `keras.layers.CutMix`.

    CutMix ([Yun et al., 2019](https://arxiv.org/abs/1905.04899)): per
    image, `lam ~ Beta(alpha, alpha)` (`alpha` drawn in `factor`), and a
    box of sides `sqrt(1 - lam)` times the image's, at a uniform position,
    is replaced by the same box of image `p(i)`, `p` a random permutation of
    the batch. `mix_weight` is the fraction of the image kept; mix the labels
    with `transform_labels` and the same transformation (see the module
    docstring). Inference returns the input unchanged.

    Example:
        >>> layer = kerax.layers.CutMix()
        >>> y, _ = layer.apply({}, {}, jnp.ones((4, 8, 8, 3)), key=jax.random.key(0), training=True)
    """

    factor: tuple[float, float] = field(1.0, converter=base_factor(0, 1))
    seed: int | None = field(None, converter=optional_int)
    data_format: str = data_format_field()

    def get_random_transformation(self, images, *, key):
        k_alpha, k_weight, k_x, k_y, k_permutation = jax.random.split(self._key(key), 5)
        dtype = self.policy.compute_dtype
        batch = images.shape[0]
        height, width = self._hw(images)
        alpha = jax.random.uniform(k_alpha, (), dtype, *self.factor) + 1e-6
        mix_weight = jax.random.beta(k_weight, alpha, alpha, (batch,), dtype)
        ratio = jnp.sqrt(1.0 - mix_weight)
        x0, x1 = crop_bounds(k_x, width, ratio, dtype)
        y0, y1 = crop_bounds(k_y, height, ratio, dtype)
        return {
            "permutation_order": jax.random.permutation(k_permutation, batch),
            "batch_masks": box_masks(
                images.shape, self.data_format, x0, x1, y0, y1, dtype
            ),
            "mix_weight": 1.0 - (x1 - x0) * (y1 - y0) / (width * height),
        }

    def transform_images(self, images, transformation):
        images = images.astype(self.policy.compute_dtype)
        permuted = jnp.take(images, transformation["permutation_order"], axis=0)
        return jnp.where(transformation["batch_masks"], permuted, images)

    def transform_labels(self, labels, transformation):
        """Mixes `(batch, ...)` labels in proportion to the pasted box's area."""
        return _mix(
            labels, transformation["mix_weight"], transformation["permutation_order"]
        )
