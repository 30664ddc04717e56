"""Keras preprocessing layers that run inside models.

Numerical: `Rescaling`, `Normalization`, `Discretization`, `CategoryEncoding`.
Images: `Resizing`, `CenterCrop` and the augmentations `RandomFlip`,
`RandomCrop`, `RandomRotation`, `RandomZoom`, `RandomTranslation`,
`RandomContrast`, `RandomBrightness` (random only in training, driven by the
call's `key`; identity in inference except RandomCrop's centre crop).
Inputs are batched (Keras also takes single images; kerax does not).

Statistics learned from data (`Normalization`, `Discretization` with
`num_bins`) are the layer's `state`; `layer.adapt(data)` computes and returns
it. For a layer inside a model, `adapt(model, state, name, data)` returns the
model's state with that layer's entry replaced:

    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Normalization(), kerax.layers.Dense(1)])
    params, state = model.init(jax.random.key(0))
    state = kerax.layers.adapt(model, state, "normalization", x_train)
"""

from __future__ import annotations

from kerax.layers.preprocessing.adapt import adapt
from kerax.layers.preprocessing.category_encoding import CategoryEncoding
from kerax.layers.preprocessing.center_crop import CenterCrop
from kerax.layers.preprocessing.discretization import Discretization
from kerax.layers.preprocessing.normalization import Normalization
from kerax.layers.preprocessing.random_brightness import RandomBrightness
from kerax.layers.preprocessing.random_contrast import RandomContrast
from kerax.layers.preprocessing.random_crop import RandomCrop
from kerax.layers.preprocessing.random_flip import RandomFlip
from kerax.layers.preprocessing.random_rotation import RandomRotation
from kerax.layers.preprocessing.random_translation import RandomTranslation
from kerax.layers.preprocessing.random_zoom import RandomZoom
from kerax.layers.preprocessing.rescaling import Rescaling
from kerax.layers.preprocessing.resizing import Resizing

__all__ = [
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "Normalization",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "adapt",
]
