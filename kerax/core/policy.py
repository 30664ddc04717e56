"""Dtype policies (Keras names): where variables live and where math happens.

`mixed_bfloat16` keeps params in float32 and computes in bfloat16, like Keras.
A layer's `dtype` field names its policy; `None` means the global one.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

_POLICIES = {
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "float16": ("float16", "float16"),
    "bfloat16": ("bfloat16", "bfloat16"),
    "mixed_float16": ("float16", "float32"),
    "mixed_bfloat16": ("bfloat16", "float32"),
}


@dataclasses.dataclass(frozen=True)
class DTypePolicy:
    """A named pair (compute dtype, variable dtype)."""

    name: str

    def __post_init__(self):
        if self.name not in _POLICIES:
            raise ValueError(
                f"Unknown dtype policy {self.name!r}; valid policies: {sorted(_POLICIES)}."
            )

    @property
    def compute_dtype(self):
        return jnp.dtype(_POLICIES[self.name][0])

    @property
    def variable_dtype(self):
        return jnp.dtype(_POLICIES[self.name][1])

    @property
    def is_mixed(self) -> bool:
        return self.compute_dtype != self.variable_dtype


_global_policy = DTypePolicy("float32")


def set_dtype_policy(policy: str | DTypePolicy) -> None:
    """Sets the global dtype policy used by layers whose `dtype` is None.

    Like `keras.config.set_dtype_policy`; set it before building and tracing.
    """
    global _global_policy
    _global_policy = get_policy(policy)


def dtype_policy() -> DTypePolicy:
    """The global dtype policy."""
    return _global_policy


def get_policy(policy) -> DTypePolicy:
    if policy is None:
        return _global_policy
    if isinstance(policy, DTypePolicy):
        return policy
    if isinstance(policy, str):
        return DTypePolicy(policy)
    try:  # A plain dtype (jnp.float32, "float32" as np.dtype).
        return DTypePolicy(jnp.dtype(policy).name)
    except TypeError:
        raise ValueError(
            f"Unknown dtype policy {policy!r}; valid policies: {sorted(_POLICIES)}."
        ) from None
