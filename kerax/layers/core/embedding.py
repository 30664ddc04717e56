"""`Embedding`: turns integer indices into dense vectors."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers import _lora
from kerax.layers._args import (
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    constraint_field,
    initializer_field,
    positive_int,
    regularizer_field,
)


class Embedding(Layer):
    """Turns nonnegative integers (indexes) into dense vectors: `embeddings[x]`.

    Inputs of any rank; non-integer inputs are cast to int32 as in Keras.
    With `mask_zero=True` index 0 is padding: `compute_mask` returns
    `x != 0` for downstream layers (RNNs, attention, pooling). With
    `lora_rank`, the table is frozen and a low-rank delta trains, as in
    `Dense`.

    Args:
        input_dim: Integer. Size of the vocabulary, i.e. maximum integer
            index + 1.
        output_dim: Integer. Dimension of the dense embedding.
        embeddings_initializer: Initializer for the `embeddings` matrix
            (see `kerax.initializers`).
        embeddings_regularizer: Regularizer function applied to the
            `embeddings` matrix (see `kerax.regularizers`).
        embeddings_constraint: Constraint function applied to the
            `embeddings` matrix (see `kerax.constraints`).
        mask_zero: Boolean, whether or not the input value 0 is a special
            "padding" value that should be masked out. This is useful when
            using recurrent layers which may take variable length input. If
            `mask_zero` is `True`, index 0 cannot be used in the vocabulary
            (`input_dim` should equal size of vocabulary + 1).
        lora_rank: Optional integer. If set, the layer's forward pass
            implements LoRA (Low-Rank Adaptation) with the provided rank.
        lora_alpha: Optional number. If set, the LoRA delta is scaled by
            `lora_alpha / lora_rank`.
        activity_regularizer: Regularizer function applied to the output of
            the layer (keyword-only, as a Keras base-layer argument).
        input_length: Deprecated in Keras ("Just remove it") and ignored;
            accepted so that old code runs.

    Example:
        >>> emb = kerax.layers.Embedding(1000, 64, mask_zero=True)
        >>> params, state = emb.init(jax.random.key(0), kerax.spec((None, 10), "int32"))
        >>> y, _ = emb.apply(params, state, jnp.ones((2, 10), jnp.int32))
        >>> y.shape
        (2, 10, 64)
    """

    input_dim: int = field(converter=positive_int)
    output_dim: int = field(converter=positive_int)
    embeddings_initializer: InitializerArg = initializer_field("uniform")
    embeddings_regularizer: RegularizerArg = regularizer_field("embeddings")
    embeddings_constraint: ConstraintArg = constraint_field("embeddings")
    mask_zero: bool = False
    lora_rank: int | None = _lora.rank_field()
    lora_alpha: float | None = None
    activity_regularizer: RegularizerArg = regularizer_field(None, kw_only=True)
    input_length: int | None = field(None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        _lora.check_lora(self, self.embeddings_constraint, "embeddings_constraint")

    @property
    def supports_masking(self) -> bool:  # Keras: `supports_masking = mask_zero`.
        return bool(self.mask_zero)

    def build(self, key, spec):
        del spec  # The table's shape comes from the config alone.
        k_emb, k_lora = jax.random.split(key)
        shape = (self.input_dim, self.output_dim)
        table = self.embeddings_initializer(k_emb, shape, jnp.float32)
        return _lora.weight_and_lora(self, k_lora, "embeddings", table)

    def call(self, params, state, x, *, key, training):
        del key, training
        dtype = params["lora_embeddings_a" if self.lora_rank else "embeddings"].dtype
        table = _lora.weight(self, params, state, "embeddings", dtype)
        if x.dtype not in (jnp.int32, jnp.int64):
            x = x.astype(jnp.int32)
        y = jnp.take(table, x, axis=0)
        add_activity_loss(self.activity_regularizer, y)
        return y, state

    def compute_mask(self, x, mask=None):
        del mask  # Keras ignores an incoming mask here.
        if not self.mask_zero:
            return None
        return jnp.not_equal(x, 0)

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora.regularization(
            self, params, "embeddings", self.embeddings_regularizer
        )

    def axes(self):
        return {"embeddings": ("vocab", "embed")}
