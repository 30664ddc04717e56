"""LoRA weights shared by Dense, EinsumDense, Embedding and the convolutions.

Keras's `enable_lora(rank)` freezes a layer's weight and trains a low-rank
update: `weight + lora_a @ lora_b * lora_alpha / lora_rank`. kerax keeps the
frozen weight in `state` (Keras marks it non-trainable) and the factors
`lora_<name>_a` and `lora_<name>_b` in `params`, under Keras's variable
names, so an imported Keras LoRA layer keeps its weights.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerax import initializers
from kerax.core.fields import field
from kerax.layers._args import optional_positive_int


def rank_field() -> int | None:
    """The `lora_rank` field: None (no LoRA) or a positive int."""
    return field(None, converter=optional_positive_int)


def check_lora(layer, constraint, constraint_name: str) -> None:
    """Keras's own rule: a frozen weight cannot also be constrained."""
    if layer.lora_rank is not None and constraint is not None:
        raise ValueError(
            f"{layer.describe()}: Lora is incompatible with kernel constraints. In order to enable lora on "
            f"this layer, remove the `{constraint_name}` argument."
        )


def _factors(key, shape, rank):
    """Keras's `enable_lora` defaults: A he_uniform, B zeros (the update starts at 0)."""
    a = initializers.get("he_uniform")(key, (*shape[:-1], rank), jnp.float32)
    b = jnp.zeros((rank, shape[-1]), jnp.float32)
    return a, b


def weight_and_lora(layer, key, name: str, weight) -> tuple[dict, dict]:
    """`(params, state)` holding `weight` as `name`.

    Without `layer.lora_rank`, `weight` is a trainable param. With it, the
    weight is frozen in `state` beside the trainable factors
    `lora_<name>_a` and `lora_<name>_b` in `params`.
    """
    if not layer.lora_rank:
        return {name: weight}, {}
    a, b = _factors(key, weight.shape, layer.lora_rank)
    return {f"lora_{name}_a": a, f"lora_{name}_b": b}, {name: weight}


def weight(layer, params, state, name: str, dtype):
    """The weight `name` as the layer computes with it (LoRA factors merged)."""
    if not layer.lora_rank:
        return params[name]
    a, b = params[f"lora_{name}_a"], params[f"lora_{name}_b"]
    alpha = layer.lora_alpha if layer.lora_alpha is not None else layer.lora_rank
    # Merged in float32, then cast: the update is small next to the weight.
    merged = state[name].astype(jnp.float32) + (alpha / layer.lora_rank) * jnp.matmul(
        a.astype(jnp.float32), b.astype(jnp.float32)
    )
    return merged.astype(dtype)


def regularization(layer, params, name: str, regularizer) -> jnp.ndarray:
    """The weight regularizer's penalty on the LoRA factors.

    Keras regularizes only trainable weights: with LoRA the frozen weight
    drops out and the two factors carry the weight's regularizer.
    """
    total = jnp.zeros((), jnp.float32)
    if layer.lora_rank and regularizer is not None:
        for part in ("a", "b"):
            total = total + jnp.asarray(
                regularizer(params[f"lora_{name}_{part}"]), jnp.float32
            )
    return total
