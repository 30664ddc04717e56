"""Keras's `keras.mixed_precision`: the dtype policy under its older names.

`LossScaleOptimizer` is `kerax.optimizers.LossScaleOptimizer` (dynamic loss
scaling for float16 training).

Example:
    >>> kerax.mixed_precision.set_global_policy("mixed_bfloat16")
    >>> kerax.mixed_precision.global_policy().name
    'mixed_bfloat16'
    >>> kerax.mixed_precision.dtype_policy().name
    'mixed_bfloat16'
    >>> kerax.mixed_precision.set_dtype_policy("float32")
"""

from __future__ import annotations

from kerax.core.policy import DTypePolicy, dtype_policy, set_dtype_policy
from kerax.core.policy import dtype_policy as global_policy
from kerax.core.policy import set_dtype_policy as set_global_policy
from kerax.optimizers.wrappers import LossScaleOptimizer

Policy = DTypePolicy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
