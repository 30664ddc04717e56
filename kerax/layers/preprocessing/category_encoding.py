"""CategoryEncoding: integer categories to one-hot, multi-hot or count vectors."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS

# --------------------------------------------------- categorical encodings
_ENCODE_MODES = ("one_hot", "multi_hot", "count")


def encode_categorical(
    indices, output_mode: str, depth: int, dtype, count_weights=None
):
    """Keras's `numerical_utils.encode_categorical_inputs` on the JAX backend (dense).

    `multi_hot` and `count` reduce axis 1 (axis 0 for rank-1 inputs), as
    Keras does; `one_hot` encodes each element, replacing a last axis of size 1.
    """
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices[None]
    reduction_axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        return jnp.max(
            jax.nn.one_hot(indices.astype(jnp.int32), depth, dtype=dtype),
            axis=reduction_axis,
        )
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = jnp.squeeze(indices, -1)
        return jax.nn.one_hot(indices, depth, dtype=dtype)
    if count_weights is not None:
        dtype = count_weights.dtype
    encoded = jax.nn.one_hot(indices, depth, dtype=dtype)
    if count_weights is not None:
        encoded = encoded * count_weights[..., None]
    return jnp.sum(encoded, axis=reduction_axis)


def _check_choice(layer, name, value, choices, error=ValueError):
    if value not in choices:
        raise error(
            f"{layer.describe()}: Invalid value for argument `{name}`. Expected one of {choices}. Received: {name}={value!r}"
        )


def _check_sparse(layer):
    if layer.sparse:
        raise ValueError(
            f"{layer.describe()}: `sparse=True` is not supported: kerax (like Keras's JAX backend for these layers) "
            "returns dense arrays. Use sparse=False."
        )


def _binary_alias(mode):
    """Keras's deprecated `"binary"` output mode is `"multi_hot"`."""
    return "multi_hot" if mode == "binary" else mode


DOCS = {
    **ARG_DOCS,
    "num_tokens": "The total number of tokens the layer should support. All inputs to "
    "the layer must integers in the range `0 <= value < num_tokens` (others encode as "
    "zeros).",
    "output_mode": 'Specification for the output of the layer: `"one_hot"` encodes '
    "each individual element in the input into an array of `num_tokens` size, "
    'containing a 1 at the element index; `"multi_hot"` encodes each sample into a '
    "single array of `num_tokens` size, containing a 1 for each vocabulary term "
    'present in the sample; `"count"` is like `"multi_hot"`, but the array contains '
    "a count of the number of times the token at that index appeared in the sample. "
    'Defaults to `"multi_hot"`.',
}


@document_args(DOCS)
class CategoryEncoding(Layer):
    """Encodes integer tokens as one-hot, multi-hot or count vectors, like `keras.layers.CategoryEncoding`.

    `"multi_hot"`/`"count"` reduce axis 1 of `(batch, tokens)` inputs to
    `(batch, num_tokens)`; `"one_hot"` encodes each element. Tokens outside
    `[0, num_tokens)` encode as zeros (Keras's JAX backend does the same).
    In `"count"` mode, `apply(..., count_weights=w)` weights each token.

    Example:
        >>> layer = kerax.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
        >>> layer.apply({}, {}, jnp.array([[0, 1], [3, 3]]))[0]
        Array([[1., 1., 0., 0.],
               [0., 0., 0., 1.]], dtype=float32)
    """

    num_tokens: int | None = None
    output_mode: str = field("multi_hot", converter=_binary_alias)
    sparse: bool = False

    autocast = False  # Token ids must not be cast to a low-precision float.

    def __post_init__(self):
        super().__post_init__()
        _check_choice(self, "output_mode", self.output_mode, _ENCODE_MODES)
        if self.num_tokens is None:
            raise ValueError(
                f"{self.describe()}: num_tokens must be set to use this layer. If the number of tokens is not known "
                "beforehand, use the IntegerLookup layer instead."
            )
        if (
            isinstance(self.num_tokens, bool)
            or not isinstance(self.num_tokens, int)
            or self.num_tokens < 1
        ):
            raise ValueError(
                f"{self.describe()}: `num_tokens` must be >= 1. Received: num_tokens={self.num_tokens!r}."
            )
        _check_sparse(self)

    def check_input(self, spec, count_weights=None):
        del count_weights
        self.expect_ndim(spec, min_ndim=1)

    def call(self, params, state, x, *, key, training, count_weights=None):
        del params, key, training
        dtype = self.policy.compute_dtype
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"{self.describe()}: `count_weights` is not used when `output_mode` is not `'count'`."
                )
            count_weights = jnp.asarray(count_weights, dtype)
            if count_weights.shape != x.shape:
                raise ValueError(
                    f"{self.describe()}: `count_weights` {shape_str(count_weights.shape)} must have the shape of the inputs {shape_str(x.shape)}."
                )
        return encode_categorical(
            x, self.output_mode, self.num_tokens, dtype, count_weights
        ), state
