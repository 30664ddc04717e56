"""Attention layers: MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention.

The projections are Keras's `EinsumDense` sublayers (`query`, `key`, `value`,
`attention_output`, and `gate` with `use_gate=True`): their params nest under
those names with Keras's kernel shapes, so Keras weights import by variable
path. The einsum equations, masks and the choice between the fused
`jax.nn.dot_product_attention` and the explicit einsum path are Keras's own,
so outputs match Keras on the same weights.

kerax names its PRNG argument `key`, so the Keras `key` *tensor* of
MultiHeadAttention/GroupedQueryAttention is `key_input`, the third positional
argument: `mha.apply(params, state, query, value, key_input)`. In a
functional model pass it positionally too (`mha(query, value, key_tensor)`):
params are built from the positional inputs' shapes.

One module per layer, named as Keras names its files:
`multi_head_attention` (with the projected-attention base that
GroupedQueryAttention shares), `grouped_query_attention`, `attention` (with
the score-attention base) and `additive_attention`; `_ops` holds the einsum
equations, masks, masked softmax, the fused attention call and dropout.
"""

from __future__ import annotations

from kerax.layers.attention.additive_attention import AdditiveAttention
from kerax.layers.attention.attention import Attention
from kerax.layers.attention.grouped_query_attention import (
    GroupedQueryAttention,
    GroupQueryAttention,
)
from kerax.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = [
    "AdditiveAttention",
    "Attention",
    "GroupQueryAttention",
    "GroupedQueryAttention",
    "MultiHeadAttention",
]
