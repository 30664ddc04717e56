"""Keras's `keras.mixed_precision`: the dtype policy under its older names.

Example:
    >>> kerax.mixed_precision.set_global_policy("mixed_bfloat16")
    >>> kerax.mixed_precision.global_policy().name
    'mixed_bfloat16'
    >>> kerax.mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from kerax.core.policy import DTypePolicy
from kerax.core.policy import dtype_policy as global_policy
from kerax.core.policy import set_dtype_policy as set_global_policy

Policy = DTypePolicy

__all__ = ["DTypePolicy", "Policy", "global_policy", "set_global_policy"]
