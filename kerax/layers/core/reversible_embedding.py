"""`ReversibleEmbedding`: an embedding that also projects back to the vocabulary."""

from __future__ import annotations

import jax.numpy as jnp

from kerax.core import naming
from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.spec import shape_str
from kerax.layers import _lora
from kerax.layers.core.embedding import Embedding


def _optional_dtype(value) -> str | None:
    """None (the compute dtype) or a dtype, stored by name (`"float32"`)."""
    return None if value is None else jnp.dtype(value).name


def _optional_soft_cap(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"expected None or a positive number, got {value!r}.")
    return value


class ReversibleEmbedding(Embedding):
    """An `Embedding` that can also map hidden states back to vocabulary logits.

    `apply(params, state, ids)` embeds like `Embedding`;
    `apply(params, state, hidden, reverse=True)` projects `(..., output_dim)`
    to `(..., input_dim)` logits: `hidden @ embeddings.T` with tied weights
    (the default, Press and Wolf 2016), else `hidden @ reverse_embeddings`,
    a separate trainable `(output_dim, input_dim)` param drawn with
    `embeddings_initializer`. With `logit_soft_cap`, the logits become
    `tanh(logits / logit_soft_cap) * logit_soft_cap`. There is no bias.
    Variables are named as in Keras (`embeddings`, `reverse_embeddings`);
    with `lora_rank` the tied projection uses the LoRA-merged table, as
    Keras's `embeddings` property does, and `reverse_embeddings` stays
    trainable.

    kerax keeps `Embedding`'s positional arguments: pass `tie_weights` and
    the arguments after it by keyword (Keras takes `tie_weights` third).

    Args:
        input_dim: Integer. Size of the vocabulary, i.e. maximum integer
            index + 1.
        output_dim: Integer. Dimension of the dense embedding.
        tie_weights: Boolean, whether or not the matrix for embedding and
            the matrix for the `reverse` projection should share the same
            weights.
        embeddings_initializer: Initializer for the `embeddings` matrix
            (see `kerax.initializers`).
        embeddings_regularizer: Regularizer function applied to the
            `embeddings` matrix (see `kerax.regularizers`).
        embeddings_constraint: Constraint function applied to the
            `embeddings` matrix (see `kerax.constraints`).
        mask_zero: Boolean, whether or not the input value 0 is a special
            "padding" value that should be masked out (forward calls only).
        reverse_dtype: The dtype for the reverse projection computation.
            Defaults to the `compute_dtype` of the layer.
        logit_soft_cap: If `logit_soft_cap` is set and `reverse=True`, the
            output logits will be scaled by
            `tanh(logits / logit_soft_cap) * logit_soft_cap`. This narrows the
            range of output logits and can improve training.
        lora_rank: Optional integer: LoRA on `embeddings`, as in `Embedding`.
        lora_alpha: Optional number: the LoRA delta is scaled by
            `lora_alpha / lora_rank`.
        activity_regularizer: Regularizer function applied to the output of
            the layer (keyword-only, as a Keras base-layer argument).
        input_length: Deprecated in Keras and ignored, as in `Embedding`.

    Call arguments:
        reverse: Boolean. If `True` the layer will perform a linear projection
            from `output_dim` to `input_dim`, instead of a normal embedding
            call. Default to `False`.

    Example:
        >>> emb = kerax.layers.ReversibleEmbedding(100, 8)
        >>> params, state = emb.init(jax.random.key(0), kerax.spec((None, 5), "int32"))
        >>> hidden, _ = emb.apply(params, state, jnp.ones((2, 5), jnp.int32))
        >>> logits, _ = emb.apply(params, state, hidden, reverse=True)
        >>> logits.shape
        (2, 5, 100)
    """

    tie_weights: bool = field(True, kw_only=True)
    reverse_dtype: str | None = field(None, converter=_optional_dtype, kw_only=True)
    logit_soft_cap: float | None = field(
        None, converter=_optional_soft_cap, kw_only=True
    )

    def __post_init__(self):
        if isinstance(self.embeddings_initializer, bool):
            # Keras's positional order: `ReversibleEmbedding(vocab, dim, False)`.
            raise TypeError(
                f"{self.describe()}: got a bool ({self.embeddings_initializer}) as the third "
                "positional argument, which is `embeddings_initializer` in kerax; pass "
                f"`tie_weights={self.embeddings_initializer}` by keyword."
            )
        super().__post_init__()
        if not isinstance(self.tie_weights, bool):
            raise TypeError(
                f"{self.describe()}: `tie_weights` must be a bool, got {self.tie_weights!r}."
            )

    def build(self, key, spec):
        params, state = super().build(key, spec)
        if not self.tie_weights:
            # Its own key, so the embeddings match a tied layer's for the same key.
            k_rev = naming.child_key(key, "reverse_embeddings")
            shape = (self.output_dim, self.input_dim)
            params["reverse_embeddings"] = self.embeddings_initializer(
                k_rev, shape, jnp.float32
            )
        return params, state

    def call(self, params, state, x, *, key, training, reverse=False):
        if not reverse:
            return super().call(params, state, x, key=key, training=training)
        if x.shape[-1] != self.output_dim:
            raise ValueError(
                f"{self.describe()}: reverse=True projects hidden states of size output_dim="
                f"{self.output_dim} to logits; got inputs {shape_str(x.shape)}."
            )
        if self.tie_weights:
            dtype = params[
                "lora_embeddings_a" if self.lora_rank else "embeddings"
            ].dtype
            kernel = _lora.weight(self, params, state, "embeddings", dtype).T
        else:
            kernel = params["reverse_embeddings"]
        if self.reverse_dtype is not None:
            x, kernel = x.astype(self.reverse_dtype), kernel.astype(self.reverse_dtype)
        logits = jnp.matmul(x, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = jnp.tanh(logits / cap) * cap
        # Keras's base layer regularizes every call's outputs, logits included.
        add_activity_loss(self.activity_regularizer, logits)
        return logits, state

    def compute_mask(self, x, mask=None, reverse=False):
        # Logits carry no padding mask (Keras masks forward calls only).
        return None if reverse else super().compute_mask(x, mask=mask)

    def apply_masked(
        self, params, state, x, *, key=None, training=False, mask=None, reverse=False
    ):
        y, state = self.apply(
            params, state, x, key=key, training=training, reverse=reverse
        )
        return y, state, self.compute_mask(x, mask=mask, reverse=reverse)

    def axes(self):
        return {**super().axes(), "reverse_embeddings": ("embed", "vocab")}
