"""Dtype policies (Keras names): where variables live and where math happens.

`mixed_bfloat16` keeps params in float32 and computes in bfloat16, like Keras.
A layer's `dtype` field names its policy; `None` means the global one.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

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


# Keras's `dtypes.ALLOWED_DTYPES` and what its Python types stand for.
_ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
# Keras's JAX backend: Python ints and complexes are 32-bit and complex64.
_PYTHON_DTYPES = {
    bool: "bool",
    int: "int32",
    "int": "int32",
    float: "float32",
    str: "string",
    complex: "complex64",
}


def dtype_name(dtype) -> str:
    """Keras's name of a dtype (`"float32"`), from a name, a NumPy or JAX
    dtype, or a Python type (`kerax.backend.standardize_dtype` less its
    `None` -> `floatx()`)."""
    dtype = (
        _PYTHON_DTYPES.get(dtype, dtype) if isinstance(dtype, (type, str)) else dtype
    )
    if isinstance(dtype, str):
        name = dtype
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = getattr(dtype, "name", getattr(dtype, "__name__", str(dtype)))
    if name not in _ALLOWED_DTYPES:
        raise ValueError(
            f"Invalid dtype: {dtype!r}. Expected one of {', '.join(_ALLOWED_DTYPES)}."
        )
    return name
