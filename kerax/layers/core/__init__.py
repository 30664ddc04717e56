"""Keras's core layers: Dense, EinsumDense, Embedding, Identity, Lambda, Masking,
ReversibleEmbedding and the `Wrapper` base class.

And `Repeat`, kerax's scan-over-layers wrapper (one block, stacked params).
"""

from kerax.layers.core.dense import Dense
from kerax.layers.core.einsum_dense import EinsumDense
from kerax.layers.core.embedding import Embedding
from kerax.layers.core.identity import Identity
from kerax.layers.core.lambda_layer import Lambda
from kerax.layers.core.masking import Masking
from kerax.layers.core.repeat import Repeat
from kerax.layers.core.reversible_embedding import ReversibleEmbedding
from kerax.layers.core.wrapper import Wrapper

__all__ = [
    "Dense",
    "EinsumDense",
    "Embedding",
    "Identity",
    "Lambda",
    "Masking",
    "Repeat",
    "ReversibleEmbedding",
    "Wrapper",
]
