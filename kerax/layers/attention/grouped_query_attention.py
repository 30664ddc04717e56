"""GroupedQueryAttention (Keras's GroupQueryAttention) (see `kerax.layers.attention`)."""

from __future__ import annotations

import math

import jax.numpy as jnp

from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.spec import shape_str
from kerax.layers._args import (
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    initializer_field,
    optional_int,
    optional_positive_int,
    positive_int,
    regularizer_field,
)
from kerax.layers._docs import document_args
from kerax.layers.attention._fields import (
    ARG_DOCS,
    sublayer_constraint_field,
    sublayer_regularizer_field,
)
from kerax.layers.attention._ops import (
    _causal_mask,
    _dropout,
    _expand_mask,
    _fused_attention,
    _masked_softmax,
    _Proj,
)
from kerax.layers.attention.multi_head_attention import _ProjectedAttention


@document_args(ARG_DOCS)
class GroupedQueryAttention(_ProjectedAttention):
    """Grouped-query attention (Ainslie et al., 2023), as `keras.layers.GroupQueryAttention`.

    `num_query_heads` query heads share `num_key_value_heads` key/value
    heads. Inputs are `(batch, length, features)`; `query` and `value` must
    have the same feature size. Called like `MultiHeadAttention`
    (`key_input` is Keras's `key` tensor). Params: `query` `(dim, heads,
    head_dim)`, `key`/`value` `(dim, kv_heads, head_dim)`,
    `attention_output` `(heads, head_dim, dim)`, as in Keras.

    Example:
        >>> gqa = kerax.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
        >>> params, state = gqa.init(jax.random.key(0), kerax.spec((None, 5, 8)), kerax.spec((None, 6, 8)))
    """

    head_dim: int = field(converter=positive_int)
    num_query_heads: int = field(converter=positive_int)
    num_key_value_heads: int = field(converter=positive_int)
    dropout: float = 0.0
    use_bias: bool = True
    sliding_window: int | None = field(None, converter=optional_positive_int)
    flash_attention: bool | None = None
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = sublayer_regularizer_field()
    bias_regularizer: RegularizerArg = sublayer_regularizer_field()
    activity_regularizer: RegularizerArg = regularizer_field(None)
    kernel_constraint: ConstraintArg = sublayer_constraint_field()
    bias_constraint: ConstraintArg = sublayer_constraint_field()
    use_gate: bool = False
    seed: int | None = field(None, converter=optional_int)

    def __post_init__(self):
        super().__post_init__()
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(
                f"{self.describe()}: `num_query_heads` ({self.num_query_heads}) must be divisible by "
                f"`num_key_value_heads` ({self.num_key_value_heads})."
            )
        self._check_flash()

    def _projections(self, query_shape, value_shape, key_shape):
        u, kv, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        projs = {
            "query": _Proj(
                "bqm,muh->bquh", (query_shape[-1], u, h), (u, h), (0,), (1, 2)
            ),
            "key": _Proj(
                "bkm,mvh->bkvh", (key_shape[-1], kv, h), (kv, h), (0,), (1, 2)
            ),
            "value": _Proj(
                "bkm,mvh->bkvh", (value_shape[-1], kv, h), (kv, h), (0,), (1, 2)
            ),
        }
        if self.use_gate:
            projs["gate"] = _Proj(
                "bqm,muh->bquh",
                (query_shape[-1], u, h),
                (u, h),
                (0,),
                (1, 2),
                "sigmoid",
            )
        projs["attention_output"] = _Proj(
            "bquh,uhm->bqm", (u, h, query_shape[-1]), (query_shape[-1],), (0, 1), (2,)
        )
        return projs

    def check_input(self, query, value=None, key_input=None):
        self._check_common(query, value, key_input)
        for what, s in (
            ("query", query),
            ("value", value),
            ("key", value if key_input is None else key_input),
        ):
            self.expect_ndim(s, ndim=3, what=f"`{what}` inputs")
        if query.shape[-1] != value.shape[-1]:
            raise ValueError(
                f"{self.describe()}: the last dimension of `query_shape` and `value_shape` must be equal, "
                f"but are {query.shape[-1]}, {value.shape[-1]}. Received: query_shape={shape_str(query.shape)}, "
                f"value_shape={shape_str(value.shape)}."
            )

    def call(
        self,
        params,
        state,
        query,
        value,
        key_input=None,
        *,
        key,
        training,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
        mask=None,
    ):
        query_mask, value_mask, key_mask = self._input_masks(
            params, key_input, mask, query_mask, value_mask, key_mask
        )
        k_in = value if key_input is None else key_input
        attention_mask, causal_only = self._merged_mask(
            query,
            value,
            (query_mask, value_mask, key_mask, attention_mask),
            use_causal_mask,
        )
        projs, q, k, v, gate = self._project_inputs(params, query, value, k_in)
        scale = 1.0 / math.sqrt(float(self.head_dim))
        if not (self.dropout > 0.0 or return_attention_scores):
            # jax.nn groups heads itself: no need to repeat keys and values.
            if causal_only:
                out = _fused_attention(q, k, v, None, True, scale)
            else:
                m = (
                    None
                    if attention_mask is None
                    else _expand_mask(attention_mask, 4, 1).astype(bool)
                )
                out = _fused_attention(q, k, v, m, False, scale)
            scores = None
        else:
            repeats = self.num_query_heads // self.num_key_value_heads
            k, v = jnp.repeat(k, repeats, axis=2), jnp.repeat(v, repeats, axis=2)
            if causal_only:
                attention_mask = _causal_mask(q.shape[1], v.shape[1])
            q = q * jnp.asarray(scale, q.dtype)
            scores = jnp.einsum("bquh,bkuh->buqk", q, k)
            scores = _masked_softmax(scores, attention_mask, (-1,), 1)
            dropped = scores
            if training and self.dropout > 0.0:
                dropped = _dropout(self, key, scores, self.dropout)
            out = jnp.einsum("buqk,bkuh->bquh", dropped, v)
        if gate is not None:
            out = out * gate
        out = self._project(params["attention_output"], projs["attention_output"], out)
        # Keras also applies GroupQueryAttention's own activity regularizer to its outputs.
        result = (out, scores) if return_attention_scores else out
        add_activity_loss(self.activity_regularizer, result)
        return result, state

    def axes(self):
        axes = {
            name: {"kernel": ("embed", "heads", "kv")}
            for name in ("query", "key", "value")
        }
        if self.use_gate:
            axes["gate"] = {"kernel": ("embed", "heads", "kv")}
        axes["attention_output"] = {"kernel": ("heads", "kv", "embed")}
        if self.use_bias:
            for name in axes:
                axes[name]["bias"] = (
                    ("embed",) if name == "attention_output" else ("heads", "kv")
                )
        return axes


GroupQueryAttention = GroupedQueryAttention
