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
"""

from __future__ import annotations

import dataclasses
import math
import string
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from kerax import activations, initializers
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers.core import add_activity_loss

# --------------------------------------------------------------- helpers


class _Proj(NamedTuple):
    """One EinsumDense sublayer: equation and shapes, as Keras builds it."""

    equation: str
    kernel_shape: tuple
    bias_shape: tuple
    input_axes: tuple
    output_axes: tuple
    activation: str | None = None


def _letter(i: int) -> str:
    return string.ascii_lowercase[i]


def _proj_equation(free_dims: int, bound_dims: int, output_dims: int) -> str:
    """Keras's `_build_proj_equation` (multi_head_attention.py)."""
    letters = [_letter(i) for i in range(free_dims + bound_dims + output_dims)]
    free = "".join(letters[:free_dims])
    bound = "".join(letters[free_dims : free_dims + bound_dims])
    out = "".join(letters[free_dims + bound_dims :])
    return f"{free}{bound},{bound}{out}->{free}{out}"


def _attention_equations(rank: int, attn_axes: tuple) -> tuple[str, str, int]:
    """Keras's `_build_attention_equation`: (dot product, combine, scores rank)."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(i for i in range(rank) if i not in attn_axes + (rank - 1,))
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join(
        [target[i] for i in batch_dims]
        + [target[i] for i in attn_axes]
        + [source[i] for i in attn_axes]
    )
    return (
        f"{source},{target}->{product}",
        f"{product},{source}->{target}",
        len(product),
    )


def _einsum_initializer(init, input_axes, output_axes):
    """Keras's EinsumDense gives VarianceScaling initializers the einsum's fan axes."""
    if isinstance(init, initializers.VarianceScaling) and (
        init.input_axes is None or init.output_axes is None
    ):
        return dataclasses.replace(
            init, input_axes=tuple(input_axes), output_axes=tuple(output_axes)
        )
    return init


def _lead_ones(v, ndim: int):
    """`v` with leading 1-dims up to `ndim`: numpy broadcasting, spelled out so
    kerax code also runs under `jax.numpy_rank_promotion("raise")`."""
    return jnp.reshape(v, (1,) * (ndim - v.ndim) + v.shape)


def _dropout(layer: Layer, key, x, rate: float):
    """Keras's `backend.random.dropout`: keep with `1 - rate`, scale up the kept.

    The layer's Keras `seed`, when given, is folded into the key.
    """
    layer.require_key(key)
    if layer.seed is not None:
        key = jax.random.fold_in(key, layer.seed)
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), jnp.zeros_like(x))


def _causal_mask(t, s):
    """`(1, T, S)`: query position i sees key positions j <= i (Keras's cumsum form)."""
    rows, cols = jnp.arange(t).reshape(1, t, 1), jnp.arange(s).reshape(1, 1, s)
    return rows >= cols


def _sliding_window_mask(t, s, window: int):
    """`(1, T, S)`: the symmetric band `|i - j| < window` (Keras)."""
    rows, cols = jnp.arange(t).reshape(1, t, 1), jnp.arange(s).reshape(1, 1, s)
    return jnp.abs(rows - cols) < window


def _merge_attention_mask(
    query,
    value,
    query_mask,
    value_mask,
    key_mask,
    attention_mask,
    use_causal_mask,
    sliding_window,
):
    """Keras's `_compute_attention_mask`: every mask source AND-ed into `(B, T, S)`."""
    auto = None

    def conj(a, b):
        return b if a is None else a & b

    if query_mask is not None:
        auto = jnp.expand_dims(jnp.asarray(query_mask).astype(bool), -1)
    if value_mask is not None:
        auto = conj(auto, jnp.expand_dims(jnp.asarray(value_mask).astype(bool), -2))
    if key_mask is not None:
        auto = conj(auto, jnp.expand_dims(jnp.asarray(key_mask).astype(bool), -2))
    if use_causal_mask:
        auto = conj(auto, _causal_mask(query.shape[1], value.shape[1]))
    if sliding_window is not None:
        auto = conj(
            auto, _sliding_window_mask(query.shape[1], value.shape[1], sliding_window)
        )
    if attention_mask is not None:
        attention_mask = jnp.asarray(attention_mask).astype(bool)
    if auto is not None:
        attention_mask = auto if attention_mask is None else attention_mask & auto
    return attention_mask


def _expand_mask(mask, ndim: int, n_attn_axes: int):
    """Adds the heads axis (and any missing leading axes) like Keras."""
    axis = -n_attn_axes * 2 - 1
    while mask.ndim < ndim:
        mask = jnp.expand_dims(mask, axis)
    return mask


def _masked_softmax(scores, mask, norm_axes: tuple, n_attn_axes: int):
    """Keras's `Softmax(axis=norm_axes)` with an attention mask."""
    if mask is not None:
        mask = _expand_mask(mask, scores.ndim, n_attn_axes)
        if mask.dtype != jnp.bool_:
            mask = mask > 0.5
        big_negative = -3e4 if scores.dtype == jnp.float16 else -1e9
        scores = jnp.where(mask, scores, jnp.asarray(big_negative, scores.dtype))
    if len(norm_axes) > 1:
        probs = jnp.exp(
            scores - jax.scipy.special.logsumexp(scores, axis=norm_axes, keepdims=True)
        )
    else:
        probs = jax.nn.softmax(scores, axis=norm_axes[0])
    if mask is not None:
        # A fully masked row would be uniform: Keras zeroes it instead.
        probs = jnp.where(mask, probs, jnp.zeros_like(probs))
    return probs


def _fused_attention(q, k, v, mask, is_causal: bool, scale: float):
    """`(B, T, N, H)` attention via `jax.nn.dot_product_attention`, as Keras's JAX backend.

    `k`/`v` may have fewer heads than `q` (grouped-query attention).
    """
    if q.shape[-1] == v.shape[-1]:
        return jax.nn.dot_product_attention(
            q, k, v, mask=mask, scale=scale, is_causal=is_causal
        )
    # jax.nn needs equal query and value head sizes; this is its XLA algorithm,
    # which is also what Keras falls back to.
    n, kv_heads = q.shape[-2], k.shape[-2]
    if kv_heads != n:
        k, v = (
            jnp.repeat(k, n // kv_heads, axis=2),
            jnp.repeat(v, n // kv_heads, axis=2),
        )
    logits_dtype = jnp.promote_types(q.dtype, jnp.float32)
    logits = jnp.einsum("BTNH,BSNH->BNTS", q, k, preferred_element_type=logits_dtype)
    logits = logits * jnp.asarray(scale, logits.dtype)
    if mask is not None or is_causal:
        keep = jnp.ones(logits.shape, bool)
        if mask is not None:
            keep = keep & mask
        if is_causal:
            keep = keep & _lead_ones(_causal_mask(logits.shape[2], logits.shape[3]), 4)
        logits = jnp.where(
            keep, logits, jnp.asarray(-0.7 * jnp.finfo(logits.dtype).max, logits.dtype)
        )
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(k.dtype)
    return jnp.einsum("BNTS,BSNH->BTNH", probs, v)


def _check_rate_and_seed(layer: Layer) -> None:
    if (
        isinstance(layer.dropout, bool)
        or not isinstance(layer.dropout, (int, float))
        or not 0.0 <= layer.dropout < 1.0
    ):
        raise ValueError(
            f"{layer.describe()}: `dropout` must be a float in [0, 1), got {layer.dropout!r}."
        )
    if layer.seed is not None and (
        isinstance(layer.seed, bool) or not isinstance(layer.seed, int)
    ):
        raise ValueError(
            f"{layer.describe()}: `seed` must be an int or None, got {layer.seed!r}."
        )


def _split_container_mask(mask, n_inputs: int):
    """A container's `mask` (one per positional input) as (query, value, key) masks."""
    if mask is None:
        return None, None, None
    if not isinstance(mask, (tuple, list)):
        return mask, None, None
    masks = list(mask) + [None] * (3 - len(mask))
    return masks[0], masks[1], masks[2] if n_inputs > 2 else None


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

    num_heads: int = None
    key_dim: int = None
    value_dim: int | None = None
    dropout: float = 0.0
    use_bias: bool = True
    output_shape: Any = None
    attention_axes: Any = None
    sliding_window: int | None = None
    flash_attention: bool | None = None
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    kernel_constraint: Any = None
    bias_constraint: Any = None
    use_gate: bool = False
    seed: int | None = None

    def __post_init__(self):
        super().__post_init__()
        for field in ("num_heads", "key_dim"):
            v = getattr(self, field)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(
                    f"{self.describe()}: `{field}` must be a positive int, got {v!r}."
                )
        if self.value_dim is not None and (
            not isinstance(self.value_dim, int) or self.value_dim <= 0
        ):
            raise ValueError(
                f"{self.describe()}: `value_dim` must be a positive int or None, got {self.value_dim!r}."
            )
        out = self.output_shape
        if not out:
            out = None
        elif isinstance(out, int):
            out = (out,)
        elif isinstance(out, tuple) and all(isinstance(d, int) and d > 0 for d in out):
            pass
        else:
            raise ValueError(
                f"{self.describe()}: `output_shape` must be an int or a tuple of positive ints, got {self.output_shape!r}."
            )
        object.__setattr__(self, "output_shape", out)
        axes = self.attention_axes
        if isinstance(axes, int) and not isinstance(axes, bool):
            axes = (axes,)
        if axes is not None and not (
            isinstance(axes, tuple) and all(isinstance(a, int) for a in axes)
        ):
            raise ValueError(
                f"{self.describe()}: `attention_axes` must be an int, list or tuple, got {self.attention_axes!r}."
            )
        object.__setattr__(self, "attention_axes", axes or None)
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
        self._check_key_input(params, key_input)
        n_inputs = 2 if key_input is None else 3
        cq, cv, ck = _split_container_mask(mask, n_inputs)
        query_mask = cq if query_mask is None else query_mask
        value_mask = cv if value_mask is None else value_mask
        key_mask = ck if key_mask is None else key_mask
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

        # Like Keras: a causal mask alone goes to the fused kernel's `is_causal`.
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
        projs = self._projections(query.shape, value.shape, k_in.shape)
        gate = (
            self._project(params["gate"], projs["gate"], query)
            if self.use_gate
            else None
        )
        q = self._project(params["query"], projs["query"], query)
        k = self._project(params["key"], projs["key"], k_in)
        v = self._project(params["value"], projs["value"], value)

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

    head_dim: int = None
    num_query_heads: int = None
    num_key_value_heads: int = None
    dropout: float = 0.0
    use_bias: bool = True
    sliding_window: int | None = None
    flash_attention: bool | None = None
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    kernel_constraint: Any = None
    bias_constraint: Any = None
    use_gate: bool = False
    seed: int | None = None

    def __post_init__(self):
        super().__post_init__()
        for field in ("head_dim", "num_query_heads", "num_key_value_heads"):
            v = getattr(self, field)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(
                    f"{self.describe()}: `{field}` must be a positive int, got {v!r}."
                )
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
        self._check_key_input(params, key_input)
        n_inputs = 2 if key_input is None else 3
        cq, cv, ck = _split_container_mask(mask, n_inputs)
        query_mask = cq if query_mask is None else query_mask
        value_mask = cv if value_mask is None else value_mask
        key_mask = ck if key_mask is None else key_mask
        k_in = value if key_input is None else key_input
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
        projs = self._projections(query.shape, value.shape, k_in.shape)
        gate = (
            self._project(params["gate"], projs["gate"], query)
            if self.use_gate
            else None
        )
        q = self._project(params["query"], projs["query"], query)
        k = self._project(params["key"], projs["key"], k_in)
        v = self._project(params["value"], projs["value"], value)
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
    seed: int | None = None

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


class AdditiveAttention(_ScoreAttention):
    """Additive (Bahdanau-style) attention, as `keras.layers.AdditiveAttention`.

    Scores are `sum(scale * tanh(query + key), axis=-1)` with a learned
    `scale` of shape `(dim,)` when `use_scale` (the default). Inputs and
    masks as in `Attention`.

    Example:
        >>> att = kerax.layers.AdditiveAttention()
        >>> specs = [kerax.spec((None, 4, 8)), kerax.spec((None, 6, 8))]
        >>> params, state = att.init(jax.random.key(0), specs)
    """

    use_scale: bool = True
    dropout: float = 0.0
    seed: int | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        self._check_dropout()

    def build(self, key, inputs):
        q = inputs[0]
        params = {}
        if self.use_scale:
            params["scale"] = initializers.get("glorot_uniform")(
                key, (q.shape[-1],), jnp.float32
            )
        return params, {}

    def _scores(self, params, q, k):
        t = jnp.tanh(jnp.expand_dims(q, -2) + jnp.expand_dims(k, -3))
        scale = _lead_ones(params["scale"], t.ndim) if self.use_scale else 1.0
        return jnp.sum(scale * t, axis=-1)


__all__ = [
    "AdditiveAttention",
    "Attention",
    "GroupQueryAttention",
    "GroupedQueryAttention",
    "MultiHeadAttention",
]
