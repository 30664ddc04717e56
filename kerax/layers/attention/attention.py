"""Attention (dot-product/Luong) and AdditiveAttention (Bahdanau) (see `kerax.layers.attention`).

Both take a list `[query, value(, key)]` and share `_ScoreAttention`'s
masking, softmax, dropout and output; they differ only in how they score.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers._args import optional_int
from kerax.layers._docs import document_args
from kerax.layers.attention._fields import ARG_DOCS
from kerax.layers.attention._ops import (
    _causal_mask,
    _check_rate_and_seed,
    _dropout,
)


class _ScoreAttention(Layer):
    """What Attention and AdditiveAttention share: inputs `[query, value(, key)]` (private)."""

    supports_masking = True

    def _unpack(self, inputs, what="inputs"):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{self.describe()} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: {what} of type {type(inputs).__name__}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{self.describe()} accepts a list of 2 or 3 inputs, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        q, v = inputs[0], inputs[1]
        return q, v, inputs[2] if len(inputs) > 2 else v

    def check_input(self, inputs):
        q, v, k = self._unpack(inputs)
        for what, s in (("query", q), ("value", v), ("key", k)):
            self.expect_ndim(s, min_ndim=2, what=f"`{what}` inputs")
        if q.shape[-1] != k.shape[-1]:
            raise ValueError(
                f"{self.describe()}: `query` and `key` must have the same last dimension, got "
                f"{shape_str(q.shape)} and {shape_str(k.shape)}."
            )
        if tuple(v.shape[:-1]) != tuple(k.shape[:-1]):
            raise ValueError(
                f"{self.describe()}: `value` and `key` must agree except in the last dimension, got "
                f"{shape_str(v.shape)} and {shape_str(k.shape)}."
            )

    def _check_dropout(self):
        _check_rate_and_seed(self)

    def _scores(self, params, q, k):
        raise NotImplementedError

    def call(
        self,
        params,
        state,
        inputs,
        *,
        key,
        training,
        mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        q, v, k = self._unpack(inputs)
        q_mask = v_mask = None
        if mask is not None:
            if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
                raise ValueError(
                    f"{self.describe()}: `mask` must be a list [query_mask, value_mask], got {type(mask).__name__}."
                )
            q_mask, v_mask = mask[0], mask[1]
        scores = self._scores(params, q, k)
        if v_mask is not None:
            v_mask = jnp.asarray(v_mask).astype(bool)
        scores_mask = v_mask
        if use_causal_mask:
            causal = _causal_mask(scores.shape[-2], scores.shape[-1])
            scores_mask = (
                causal if v_mask is None else jnp.expand_dims(v_mask, -2) & causal
            )
        if scores_mask is not None:
            padding = jnp.logical_not(scores_mask)
            if padding.ndim == 2:
                padding = jnp.expand_dims(padding, -2)
            # Keras subtracts a large value (float16's max in float16).
            big = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
            scores = jnp.where(padding, scores - big, scores)
        weights = jax.nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = _dropout(self, key, weights, self.dropout)
        out = jnp.matmul(weights, v)
        if q_mask is not None:
            out = jnp.where(
                jnp.expand_dims(jnp.asarray(q_mask).astype(bool), -1),
                out,
                jnp.zeros_like(out),
            )
        return ((out, weights) if return_attention_scores else out), state

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def apply_masked(
        self, params, state, *inputs, key=None, training=False, mask=None, **kwargs
    ):
        y, state = self.apply(
            params, state, *inputs, key=key, training=training, mask=mask, **kwargs
        )
        out_mask = self.compute_mask(*inputs, mask=mask)
        if out_mask is not None and kwargs.get("return_attention_scores"):
            return y, state, (out_mask, None)
        return y, state, out_mask


@document_args(ARG_DOCS)
class Attention(_ScoreAttention):
    """Dot-product (Luong-style) attention, as `keras.layers.Attention`.

    Inputs are a list `[query, value]` or `[query, value, key]` (key defaults
    to value): `query (batch, Tq, dim)`, `value (batch, Tv, dim_v)`,
    `key (batch, Tv, dim)`. `score_mode="dot"` scores `query @ key^T`
    (times a learned scalar `scale` if `use_scale`); `"concat"` scores
    `concat_score_weight * sum(tanh(query + key))`. `mask=[query_mask,
    value_mask]`; `use_causal_mask` and `return_attention_scores` as in Keras.

    Example:
        >>> att = kerax.layers.Attention()
        >>> specs = [kerax.spec((None, 4, 8)), kerax.spec((None, 6, 8))]
        >>> params, state = att.init(jax.random.key(0), specs)
        >>> y, _ = att.apply(params, state, [jnp.ones((2, 4, 8)), jnp.ones((2, 6, 8))])
    """

    use_scale: bool = False
    score_mode: str = "dot"
    dropout: float = 0.0
    seed: int | None = field(None, converter=optional_int)

    def __post_init__(self):
        super().__post_init__()
        if self.score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{self.describe()}: invalid value for argument score_mode. Expected one of "
                f"{{'dot', 'concat'}}. Received: score_mode={self.score_mode!r}."
            )
        self._check_dropout()

    def build(self, key, inputs):
        del key  # Deterministic (ones).
        params = {}
        if self.use_scale:
            params["scale"] = jnp.ones((), jnp.float32)
        if self.score_mode == "concat":
            params["concat_score_weight"] = jnp.ones((), jnp.float32)
        return params, {}

    def _scores(self, params, q, k):
        if self.score_mode == "dot":
            scores = jnp.matmul(q, jnp.swapaxes(k, -2, -1))
            if self.use_scale:
                scores = scores * params["scale"]
            return scores
        qe, ke = jnp.expand_dims(q, -2), jnp.expand_dims(k, -3)
        if self.use_scale:
            return params["concat_score_weight"] * jnp.sum(
                jnp.tanh(params["scale"] * (qe + ke)), axis=-1
            )
        return params["concat_score_weight"] * jnp.sum(jnp.tanh(qe + ke), axis=-1)
