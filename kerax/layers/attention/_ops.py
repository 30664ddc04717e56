"""Shared attention math for `kerax.layers.attention`: projections, masks, softmax.

Keras's einsum-equation builders (`_proj_equation`, `_attention_equations`),
the `EinsumDense` projection description `_Proj`, the mask builders and
merger, the masked softmax, the fused `jax.nn.dot_product_attention` call,
dropout and the argument checks that every attention layer uses.
"""

from __future__ import annotations

import dataclasses
import string
from typing import NamedTuple

import jax
import jax.numpy as jnp

from kerax import initializers
from kerax.core.layer import Layer

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
