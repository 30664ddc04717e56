"""MultiHeadAttention and the projected-attention base it shares with GroupedQueryAttention.

See `kerax.layers.attention`. `_ProjectedAttention` builds, projects,
regularizes and constrains the `EinsumDense`-shaped sublayer params;
`MultiHeadAttention` adds Keras's arbitrary attention axes and output shape.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from kerax import activations
from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
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
    attention_axes,
    output_shape,
    sublayer_constraint_field,
    sublayer_regularizer_field,
)
from kerax.layers.attention._ops import (
    _attention_equations,
    _causal_mask,
    _check_rate_and_seed,
    _dropout,
    _einsum_initializer,
    _expand_mask,
    _fused_attention,
    _lead_ones,
    _masked_softmax,
    _merge_attention_mask,
    _Proj,
    _proj_equation,
    _split_container_mask,
)

# ------------------------------------------------------ shared MHA/GQA code


class _ProjectedAttention(Layer):
    """What MultiHeadAttention and GroupedQueryAttention share (private)."""

    supports_masking = True

    def _projections(self, query_shape, value_shape, key_shape) -> dict[str, _Proj]:
        raise NotImplementedError

    def _check_flash(self):
        if self.flash_attention:
            raise ValueError(
                f"{self.describe()}: flash_attention=True is not supported: kerax always uses "
                "jax.nn.dot_product_attention (which picks the fastest kernel it can) where Keras "
                "would. Pass flash_attention=None."
            )
        if self.sliding_window is not None and (
            not isinstance(self.sliding_window, int)
            or isinstance(self.sliding_window, bool)
            or self.sliding_window <= 0
        ):
            raise ValueError(
                f"{self.describe()}: `sliding_window` must be None or a positive int, got {self.sliding_window!r}."
            )
        _check_rate_and_seed(self)

    def build(self, key, query_spec, value_spec=None, key_spec=None):
        key_spec = value_spec if key_spec is None else key_spec
        projs = self._projections(query_spec.shape, value_spec.shape, key_spec.shape)
        params = {}
        keys = jax.random.split(key, 2 * len(projs))
        for i, (name, p) in enumerate(projs.items()):
            init = _einsum_initializer(
                self.kernel_initializer, p.input_axes, p.output_axes
            )
            params[name] = {"kernel": init(keys[2 * i], p.kernel_shape, jnp.float32)}
            if self.use_bias:
                params[name]["bias"] = self.bias_initializer(
                    keys[2 * i + 1], p.bias_shape, jnp.float32
                )
        return params, {}

    def _project(self, params, proj: _Proj, x):
        y = jnp.einsum(proj.equation, x, params["kernel"])
        if "bias" in params:
            y = y + _lead_ones(params["bias"], y.ndim)
        if proj.activation is not None:
            y = activations.get(proj.activation)(y)
        add_activity_loss(self.activity_regularizer, y)
        return y

    def _input_masks(self, params, key_input, mask, query_mask, value_mask, key_mask):
        """`(query_mask, value_mask, key_mask)`: the explicit masks, else those
        the inputs carry (`mask`, one per positional input); checks
        `key_input` against the built `key` projection first."""
        self._check_key_input(params, key_input)
        cq, cv, ck = _split_container_mask(mask, 2 if key_input is None else 3)
        return (
            cq if query_mask is None else query_mask,
            cv if value_mask is None else value_mask,
            ck if key_mask is None else key_mask,
        )

    def _merged_mask(self, query, value, masks, use_causal_mask):
        """`(attention_mask, causal_only)`: Keras's `(B, T, S)` mask from every
        source; like Keras, a causal mask alone is not built but goes to the
        fused kernel's `is_causal` (`causal_only`)."""
        query_mask, value_mask, key_mask, attention_mask = masks
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self.sliding_window is None
        )
        if not causal_only:
            attention_mask = _merge_attention_mask(
                query,
                value,
                query_mask,
                value_mask,
                key_mask,
                attention_mask,
                use_causal_mask,
                self.sliding_window,
            )
        return attention_mask, causal_only

    def _project_inputs(self, params, query, value, k_in):
        """`(projs, q, k, v, gate)`: the einsum projections of the inputs."""
        projs = self._projections(query.shape, value.shape, k_in.shape)
        gate = (
            self._project(params["gate"], projs["gate"], query)
            if self.use_gate
            else None
        )
        q = self._project(params["query"], projs["query"], query)
        k = self._project(params["key"], projs["key"], k_in)
        v = self._project(params["value"], projs["value"], value)
        return projs, q, k, v, gate

    def _check_key_input(self, params, key_input):
        want = params["key"]["kernel"].shape[0]
        if key_input is not None and key_input.shape[-1] != want:
            raise ValueError(
                f"{self.describe()}: `key_input` has last dimension {key_input.shape[-1]} but the `key` "
                f"projection was built for {want}. Pass the key tensor positionally (third) to "
                "init/apply and when calling the layer on nodes, so params are built from its shape."
            )

    def apply_masked(
        self, params, state, *inputs, key=None, training=False, mask=None, **kwargs
    ):
        y, state = self.apply(
            params, state, *inputs, key=key, training=training, mask=mask, **kwargs
        )
        query_mask = kwargs.get("query_mask")
        if query_mask is None:
            query_mask = _split_container_mask(mask, len(inputs))[0]
        if query_mask is not None and kwargs.get("return_attention_scores"):
            return y, state, (query_mask, None)
        return y, state, query_mask

    def compute_mask(self, *inputs, mask=None):
        return _split_container_mask(mask, len(inputs))[0]

    def regularization_loss(self, params):
        total = jnp.zeros((), jnp.float32)
        for sub in params.values():
            if self.kernel_regularizer is not None:
                total = total + jnp.asarray(
                    self.kernel_regularizer(sub["kernel"]), jnp.float32
                )
            if self.bias_regularizer is not None and "bias" in sub:
                total = total + jnp.asarray(
                    self.bias_regularizer(sub["bias"]), jnp.float32
                )
        return total

    def constrain(self, params):
        out = {}
        for name, sub in params.items():
            sub = dict(sub)
            if self.kernel_constraint is not None:
                sub["kernel"] = self.kernel_constraint(sub["kernel"])
            if self.bias_constraint is not None and "bias" in sub:
                sub["bias"] = self.bias_constraint(sub["bias"])
            out[name] = sub
        return out

    def _check_common(self, query, value, key_input):
        if value is None:
            raise TypeError(
                f"{self.describe()} needs `query` and `value` inputs (and optionally `key_input`): "
                "init(key, query_spec, value_spec) / apply(params, state, query, value)."
            )
        key_input = value if key_input is None else key_input
        if tuple(value.shape[1:-1]) != tuple(key_input.shape[1:-1]):
            raise ValueError(
                f"{self.describe()}: all dimensions of `value` and `key`, except the last one, must be "
                f"equal. Received: value_shape={shape_str(value.shape)} and key_shape={shape_str(key_input.shape)}."
            )
        for what, s in (("query", query), ("value", value), ("key", key_input)):
            if not isinstance(s.shape[-1], int):
                raise ValueError(
                    f"{self.describe()}: the last dimension of `{what}` must be known, got {shape_str(s.shape)}."
                )


# ----------------------------------------------------------------- layers


@document_args(ARG_DOCS)
class MultiHeadAttention(_ProjectedAttention):
    """Multi-head attention (Vaswani et al., 2017), exactly as `keras.layers.MultiHeadAttention`.

    Call as `apply(params, state, query, value, key_input=None, *, key=None,
    training=False, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, use_causal_mask=False)`.
    `key_input` is Keras's `key` tensor (defaults to `value`); `key` is the
    PRNG key (needed in training when `dropout > 0`). Inside a model, the
    inputs' masks (e.g. from `Embedding(mask_zero=True)`) become the query,
    value and key masks like in Keras, and the output carries the query mask.

    Params: `query`, `key`, `value`, `attention_output` (and `gate` when
    `use_gate=True`), each `{"kernel", "bias"}` with Keras's shapes.
    Without dropout and attention scores, rank-3 inputs use
    `jax.nn.dot_product_attention`; other cases use Keras's einsum path.

    Differences from Keras: an explicit `query_mask` argument is honoured
    (Keras only uses the mask attached to the query tensor); dropout draws
    from `key` (a Keras `seed` is folded into it); `flash_attention=True` is
    refused; `value_dim != key_dim` works on the fused path (Keras 3.15's JAX
    backend fails there and only its einsum path runs).

    Example:
        >>> mha = kerax.layers.MultiHeadAttention(num_heads=2, key_dim=8)
        >>> q, v = kerax.spec((None, 5, 16)), kerax.spec((None, 7, 16))
        >>> params, state = mha.init(jax.random.key(0), q, v)
        >>> y, _ = mha.apply(params, state, jnp.ones((1, 5, 16)), jnp.ones((1, 7, 16)))
        >>> y.shape
        (1, 5, 16)
    """

    num_heads: int = field(converter=positive_int)
    key_dim: int = field(converter=positive_int)
    value_dim: int | None = field(None, converter=optional_positive_int)
    dropout: float = 0.0
    use_bias: bool = True
    output_shape: tuple[int, ...] | None = field(None, converter=output_shape)
    attention_axes: tuple[int, ...] | None = field(None, converter=attention_axes)
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
        self._check_flash()

    @property
    def _value_dim(self) -> int:
        return self.value_dim if self.value_dim else self.key_dim

    def _projections(self, query_shape, value_shape, key_shape):
        n, kd, vd = self.num_heads, self.key_dim, self._value_dim
        out_shape = self.output_shape or (query_shape[-1],)
        q_rank, v_rank, k_rank = len(query_shape), len(value_shape), len(key_shape)

        def proj(rank, dim, head_size, activation=None):
            return _Proj(
                _proj_equation(rank - 1, 1, 2),
                (dim, n, head_size),
                (n, head_size),
                (0,),
                (1, 2),
                activation,
            )

        projs = {
            "query": proj(q_rank, query_shape[-1], kd),
            "key": proj(k_rank, key_shape[-1], kd),
            "value": proj(v_rank, value_shape[-1], vd),
        }
        if self.use_gate:
            projs["gate"] = proj(q_rank, query_shape[-1], vd, "sigmoid")
        projs["attention_output"] = _Proj(
            _proj_equation(q_rank - 1, 2, len(out_shape)),
            (n, vd, *out_shape),
            tuple(out_shape),
            (0, 1),
            tuple(range(2, 2 + len(out_shape))),
        )
        return projs

    def _attention_axes(self, rank: int) -> tuple:
        """Normalized attention axes for projected tensors of rank `rank` (Keras)."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 2))
        return tuple(a if a >= 0 else (rank - 1) + a for a in self.attention_axes)

    def check_input(self, query, value=None, key_input=None):
        self._check_common(query, value, key_input)
        for what, s in (("query", query), ("value", value)):
            self.expect_ndim(s, min_ndim=3, what=f"`{what}` inputs")
        if len(query.shape) != len(value.shape):
            raise ValueError(
                f"{self.describe()}: `query` and `value` must have the same rank, got "
                f"{shape_str(query.shape)} and {shape_str(value.shape)}."
            )
        rank = len(value.shape) + 1
        axes = self._attention_axes(rank)
        if (
            not axes
            or any(not 1 <= a <= rank - 3 for a in axes)
            or len(set(axes)) != len(axes)
        ):
            raise ValueError(
                f"{self.describe()}: attention_axes={self.attention_axes} is invalid for inputs of rank "
                f"{rank - 1}: axes must be distinct, excluding the batch axis (0) and the feature axis (-1)."
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
        if len(self._attention_axes(query.ndim + 1)) > 1:
            used = [
                n
                for n, m in (
                    ("use_causal_mask", use_causal_mask or None),
                    ("query mask", query_mask),
                    ("value mask", value_mask),
                    ("key mask", key_mask),
                    ("sliding_window", self.sliding_window),
                )
                if m is not None
            ]
            if used:
                raise ValueError(
                    f"{self.describe()}: {', '.join(used)} need(s) a single attention axis, got "
                    f"attention_axes={self.attention_axes} (Keras fails here too). Pass an "
                    "`attention_mask` of shape (batch, *query_attention_dims, *key_attention_dims) instead."
                )
        k_in = value if key_input is None else key_input

        attention_mask, causal_only = self._merged_mask(
            query,
            value,
            (query_mask, value_mask, key_mask, attention_mask),
            use_causal_mask,
        )
        projs, q, k, v, gate = self._project_inputs(params, query, value, k_in)

        out, scores = self._attend(
            q, k, v, attention_mask, causal_only, training, return_attention_scores, key
        )
        if gate is not None:
            out = out * gate
        out = self._project(params["attention_output"], projs["attention_output"], out)
        return ((out, scores) if return_attention_scores else out), state

    def _attend(
        self, q, k, v, attention_mask, causal_only, training, return_scores, key
    ):
        scale = 1.0 / math.sqrt(float(self.key_dim))
        axes = self._attention_axes(q.ndim)
        if not (self.dropout > 0.0 or return_scores or q.ndim != 4):
            if causal_only:
                return _fused_attention(q, k, v, None, True, scale), None
            if attention_mask is not None:
                attention_mask = _expand_mask(attention_mask, 4, len(axes)).astype(bool)
            return _fused_attention(q, k, v, attention_mask, False, scale), None
        if causal_only:
            attention_mask = _causal_mask(q.shape[1], v.shape[1])
        dot_eq, combine_eq, scores_rank = _attention_equations(q.ndim, axes)
        q = q * jnp.asarray(scale, q.dtype)
        scores = jnp.einsum(dot_eq, k, q)
        norm_axes = tuple(range(scores_rank - len(axes), scores_rank))
        scores = _masked_softmax(scores, attention_mask, norm_axes, len(axes))
        dropped = scores
        if training and self.dropout > 0.0:
            dropped = _dropout(self, key, scores, self.dropout)
        return jnp.einsum(combine_eq, dropped, v), scores

    def axes(self):
        out_rank = len(self.output_shape) if self.output_shape else 1
        out_axes = (None,) * (out_rank - 1) + ("embed",)
        axes = {
            name: {"kernel": ("embed", "heads", "kv")}
            for name in ("query", "key", "value")
        }
        if self.use_gate:
            axes["gate"] = {"kernel": ("embed", "heads", "kv")}
        axes["attention_output"] = {"kernel": ("heads", "kv", *out_axes)}
        if self.use_bias:
            for name in axes:
                axes[name]["bias"] = (
                    out_axes if name == "attention_output" else ("heads", "kv")
                )
        return axes
