"""Keras's core layers: Dense, EinsumDense, Embedding, Identity, Lambda, Masking."""

from kerax.layers.core.dense import Dense
from kerax.layers.core.einsum_dense import EinsumDense
from kerax.layers.core.embedding import Embedding
from kerax.layers.core.identity import Identity
from kerax.layers.core.lambda_layer import Lambda
from kerax.layers.core.masking import Masking

__all__ = ["Dense", "EinsumDense", "Embedding", "Identity", "Lambda", "Masking"]

# Transitional, until the convolution and attention modules import these from
# `kerax.core.aux_losses` and `kerax.layers._lora` (they are not public names).
from kerax.core.aux_losses import add_activity_loss  # noqa: E402, F401
from kerax.layers import _lora  # noqa: E402
from kerax.layers._args import optional_positive_int as _optional_positive_int  # noqa: E402

_lora_regularization = _lora.regularization
_weight = _lora.weight
_weight_and_lora = _lora.weight_and_lora


def _check_lora(layer, constraint, constraint_name: str) -> None:
    try:
        _optional_positive_int(layer.lora_rank)
    except ValueError as e:
        raise ValueError(f"{layer.describe()}: argument `lora_rank`: {e}") from None
    _lora.check_lora(layer, constraint, constraint_name)
