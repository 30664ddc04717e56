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

The code lives in private modules: `_attention_ops` (einsum equations,
masks, masked softmax, the fused attention call, dropout), `_attention_multihead`
(the shared projected-attention base and MultiHeadAttention),
`_attention_grouped` (GroupedQueryAttention) and `_attention_score`
(Attention, AdditiveAttention).
"""

from __future__ import annotations

from kerax.layers._attention_grouped import GroupedQueryAttention, GroupQueryAttention
from kerax.layers._attention_multihead import MultiHeadAttention
from kerax.layers._attention_score import AdditiveAttention, Attention

__all__ = [
    "AdditiveAttention",
    "Attention",
    "GroupQueryAttention",
    "GroupedQueryAttention",
    "MultiHeadAttention",
]
