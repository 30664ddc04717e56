"""Keras's `keras.dtype_policies`: `DTypePolicy`, `get`, `serialize`, `deserialize`.

kerax's policies are Keras's float ones (`"float32"`, `"bfloat16"`,
`"mixed_float16"`, `"mixed_bfloat16"`, ...). Quantized policies (int8, int4,
float8, GPTQ, AWQ) and `DTypePolicyMap` are not in kerax: their names raise
an error that says so.

Example:
    >>> p = kerax.dtype_policies.get("mixed_bfloat16")
    >>> p.compute_dtype, p.variable_dtype
    (dtype(bfloat16), dtype('float32'))
    >>> kerax.dtype_policies.serialize(p)["config"]
    {'name': 'mixed_bfloat16'}
    >>> kerax.dtype_policies.deserialize(kerax.dtype_policies.serialize(p)) == p
    True
"""

from __future__ import annotations

from typing import Any

from kerax.core.policy import DTypePolicy, get_policy

__all__ = [
    "AWQDTypePolicy",
    "DTypePolicy",
    "DTypePolicyMap",
    "FloatDTypePolicy",
    "GPTQDTypePolicy",
    "Int4DTypePolicy",
    "QuantizedDTypePolicy",
    "QuantizedFloat8DTypePolicy",
    "deserialize",
    "get",
    "serialize",
]

# Keras 3 keeps FloatDTypePolicy as another name of DTypePolicy.
FloatDTypePolicy = DTypePolicy


def _unsupported(name: str, what: str):
    def make(*args, **kwargs):
        raise NotImplementedError(
            f"kerax.dtype_policies.{name}: {what} are not in kerax. Use a float policy "
            "(DTypePolicy('mixed_bfloat16'), ...); quantize exported models with the "
            "tools of your serving runtime."
        )

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"Not in kerax: {what} (raises NotImplementedError)."
    return make


QuantizedDTypePolicy = _unsupported("QuantizedDTypePolicy", "quantized dtype policies")
QuantizedFloat8DTypePolicy = _unsupported(
    "QuantizedFloat8DTypePolicy", "quantized dtype policies"
)
Int4DTypePolicy = _unsupported("Int4DTypePolicy", "quantized dtype policies")
GPTQDTypePolicy = _unsupported("GPTQDTypePolicy", "quantized dtype policies")
AWQDTypePolicy = _unsupported("AWQDTypePolicy", "quantized dtype policies")
DTypePolicyMap = _unsupported(
    "DTypePolicyMap",
    "per-layer policy maps (set `dtype=` on each layer instead)",
)


def serialize(dtype_policy: DTypePolicy) -> dict[str, Any]:
    """Keras's format: `{"module": "keras", "class_name": "DTypePolicy",
    "config": {"name": ...}, "registered_name": None}`."""
    if not isinstance(dtype_policy, DTypePolicy):
        raise TypeError(
            "kerax.dtype_policies.serialize expects a DTypePolicy, got "
            f"{type(dtype_policy).__name__}: {dtype_policy!r}."
        )
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": dtype_policy.name},
        "registered_name": None,
    }


def deserialize(config: dict[str, Any], custom_objects=None) -> DTypePolicy:
    """The `DTypePolicy` a `serialize` dict (Keras's, too) describes."""
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(
            "A dtype policy config must be a dict with 'class_name' and 'config' "
            f"keys. Received: {config!r}"
        )
    class_name = config.get("class_name")
    if class_name not in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        raise ValueError(
            f"Unknown dtype policy class {class_name!r}: kerax has float policies only "
            "('DTypePolicy')."
        )
    return DTypePolicy(config["config"]["name"])


def get(identifier) -> DTypePolicy:
    """A `DTypePolicy` from a name, a serialized dict, a dtype or a policy
    (None: the global one).

    Raises:
        ValueError: anything else, as Keras.
    """
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if identifier is None or isinstance(identifier, (str, DTypePolicy)):
        return get_policy(identifier)
    if isinstance(identifier, (int, float, bool)):
        raise ValueError(
            "Cannot interpret `dtype` argument. Expected a string or an instance of "
            f"DTypePolicy. Received: dtype={identifier!r}"
        )
    return get_policy(identifier)
