"""Keras preprocessing layers.

- Numerical: `Rescaling`, `Normalization`, `Discretization`,
  `CategoryEncoding`.
- Image geometry: `Resizing`, `CenterCrop`.
- Random image augmentations (random only in training, driven by the call's
  `key`; identity in inference except RandomCrop's centre crop):
  - spatial: `RandomFlip`, `RandomCrop`, `RandomRotation`, `RandomZoom`,
    `RandomTranslation`, `RandomShear`, `RandomPerspective`,
    `RandomElasticTransform`;
  - colour and intensity: `RandomBrightness`, `RandomContrast`, `RandomHue`,
    `RandomSaturation`, `RandomGrayscale`, `RandomColorDegeneration`,
    `RandomColorJitter`, `RandomInvert`, `Solarization`,
    `RandomPosterization`, `RandomSharpness`;
  - occlusion and blur: `RandomErasing`, `RandomGaussianBlur`;
  - batch mixing: `MixUp`, `CutMix` (images; `transform_labels` mixes the
    labels with the same draw);
  - composite policies: `RandAugment`, `AugMix` (built from the layers above).
- Bounding boxes: `MaxNumBoundingBoxes` (pads or truncates Keras's
  `{"images", "bounding_boxes"}` dicts).
- Deterministic image adjustments: `AutoContrast` and
  `ContrastLimitedAdaptiveHistogramEqualization` (always applied),
  `Equalization` (in training, as Keras).
- Lookups and text: `IntegerLookup` (a JAX layer) and the host-side
  `StringLookup` and `TextVectorization` (NumPy strings, in the data
  pipeline); their vocabulary is config, so `adapt` returns a new layer.
- Hashing, host-side: `Hashing` and `HashedCrossing` (Keras's TensorFlow
  hash bins, computed bit for bit in NumPy).
- Audio: `STFTSpectrogram` (its DFT kernels are params), `MelSpectrogram`.
- `Pipeline`: preprocessing layers applied in sequence.

Image inputs are batched (Keras also takes single images; kerax does not).

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
from kerax.layers.preprocessing.aug_mix import AugMix
from kerax.layers.preprocessing.category_encoding import CategoryEncoding
from kerax.layers.preprocessing.center_crop import CenterCrop
from kerax.layers.preprocessing.clahe import (
    ContrastLimitedAdaptiveHistogramEqualization,
)
from kerax.layers.preprocessing.color import (
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGrayscale,
    RandomHue,
    RandomSaturation,
)
from kerax.layers.preprocessing.discretization import Discretization
from kerax.layers.preprocessing.hashing import HashedCrossing, Hashing
from kerax.layers.preprocessing.intensity import (
    AutoContrast,
    Equalization,
    RandomInvert,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from kerax.layers.preprocessing.lookup import IntegerLookup, StringLookup
from kerax.layers.preprocessing.max_num_bounding_boxes import MaxNumBoundingBoxes
from kerax.layers.preprocessing.mixing import CutMix, MixUp
from kerax.layers.preprocessing.normalization import Normalization
from kerax.layers.preprocessing.pipeline import Pipeline
from kerax.layers.preprocessing.rand_augment import RandAugment
from kerax.layers.preprocessing.random_brightness import RandomBrightness
from kerax.layers.preprocessing.random_contrast import RandomContrast
from kerax.layers.preprocessing.random_crop import RandomCrop
from kerax.layers.preprocessing.random_elastic_transform import RandomElasticTransform
from kerax.layers.preprocessing.random_erasing import RandomErasing
from kerax.layers.preprocessing.random_flip import RandomFlip
from kerax.layers.preprocessing.random_gaussian_blur import RandomGaussianBlur
from kerax.layers.preprocessing.random_perspective import RandomPerspective
from kerax.layers.preprocessing.random_rotation import RandomRotation
from kerax.layers.preprocessing.random_shear import RandomShear
from kerax.layers.preprocessing.random_translation import RandomTranslation
from kerax.layers.preprocessing.random_zoom import RandomZoom
from kerax.layers.preprocessing.rescaling import Rescaling
from kerax.layers.preprocessing.resizing import Resizing
from kerax.layers.preprocessing.spectrogram import MelSpectrogram, STFTSpectrogram
from kerax.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "AugMix",
    "AutoContrast",
    "CategoryEncoding",
    "CenterCrop",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Discretization",
    "Equalization",
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "MaxNumBoundingBoxes",
    "MelSpectrogram",
    "MixUp",
    "Normalization",
    "Pipeline",
    "RandAugment",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomCrop",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomFlip",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "STFTSpectrogram",
    "Solarization",
    "StringLookup",
    "TextVectorization",
    "adapt",
]
