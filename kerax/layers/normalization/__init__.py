"""Keras's normalization layers: Batch, Layer, Group, RMS, Unit and Spectral normalization.

Numerics follow Keras 3 on its JAX backend step by step (same reductions, same
`rsqrt` form, same casts), so imported Keras weights give the same outputs.
Batch and group statistics are computed in at least float32, as Keras does,
and moving statistics live in `state`.
"""

from kerax.layers.normalization.batch_normalization import BatchNormalization
from kerax.layers.normalization.group_normalization import GroupNormalization
from kerax.layers.normalization.layer_normalization import LayerNormalization
from kerax.layers.normalization.rms_normalization import RMSNormalization
from kerax.layers.normalization.spectral_normalization import SpectralNormalization
from kerax.layers.normalization.unit_normalization import UnitNormalization

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "RMSNormalization",
    "SpectralNormalization",
    "UnitNormalization",
]
