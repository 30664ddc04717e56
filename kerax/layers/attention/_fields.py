"""The attention family's shared fields and Keras's words for its arguments."""

from __future__ import annotations

from kerax import constraints, regularizers
from kerax.core.fields import field
from kerax.layers._args import ConstraintArg, RegularizerArg, is_int


def sublayer_regularizer_field() -> RegularizerArg:
    """A regularizer the layer applies to its projections' params itself.

    No `regularizes=`: the params sit under the projections' names, and
    `regularization_loss` walks them (as Keras passes the regularizer on to
    its `EinsumDense` sublayers).
    """
    return field(None, converter=regularizers.get)


def sublayer_constraint_field() -> ConstraintArg:
    """A constraint the layer applies to its projections' params itself."""
    return field(None, converter=constraints.get)


def output_shape(value) -> tuple[int, ...] | None:
    """MultiHeadAttention's `output_shape`: None, an int, or a tuple of ints > 0."""
    if value is None or value == () or value == []:
        return None
    if is_int(value) and value > 0:
        return (int(value),)
    if isinstance(value, tuple | list) and all(is_int(d) and d > 0 for d in value):
        return tuple(int(d) for d in value)
    raise ValueError(f"expected an int or a tuple of positive ints, got {value!r}.")


def attention_axes(value) -> tuple[int, ...] | None:
    """MultiHeadAttention's `attention_axes`: None, an int, or a tuple of ints."""
    if value is None or value == () or value == []:
        return None
    if is_int(value):
        return (int(value),)
    if isinstance(value, tuple | list) and all(is_int(a) for a in value):
        return tuple(int(a) for a in value)
    raise ValueError(f"expected an int, list or tuple, got {value!r}.")


# Keras's words for the attention arguments.
ARG_DOCS = {
    "num_heads": "Number of attention heads.",
    "key_dim": "Size of each attention head for query and key.",
    "value_dim": "Size of each attention head for value (default: `key_dim`).",
    "head_dim": "Size of each attention head.",
    "num_query_heads": "Number of query attention heads.",
    "num_key_value_heads": "Number of key and value attention heads.",
    "dropout": "Dropout probability (a float between 0 and 1); needs a `key` in "
    "training.",
    "use_bias": "Boolean, whether the dense layers use bias vectors/matrices.",
    "output_shape": "The expected shape of an output tensor, besides the batch and "
    "sequence dims. If not specified, projects back to the query feature dim (the "
    "query input's last dimension).",
    "attention_axes": "axes over which the attention is applied. `None` means "
    "attention over all axes, but batch, heads, and features.",
    "sliding_window": "Optional positive integer. If set, restricts each query "
    "position to attend only to key positions within `sliding_window - 1` of itself "
    "(a symmetric band). Composes naturally with `use_causal_mask=True` to give the "
    "causal sliding window used by Mistral, Llama-3 long-context, and Phi-3. "
    "Defaults to `None` (full attention).",
    "flash_attention": "`None` or `False` (kerax lets XLA choose the fused kernel); "
    "`True` is refused.",
    "kernel_initializer": "Initializer for dense layer kernels.",
    "bias_initializer": "Initializer for dense layer biases.",
    "kernel_regularizer": "Regularizer for dense layer kernels.",
    "bias_regularizer": "Regularizer for dense layer biases.",
    "activity_regularizer": "Regularizer for dense layer activity.",
    "kernel_constraint": "Constraint for dense layer kernels.",
    "bias_constraint": "Constraint for dense layer biases.",
    "use_gate": "Boolean, whether to apply a gated attention mechanism: a "
    "sigmoid-activated linear projection of the query (the `gate` sublayer) gates "
    "the attention output.",
    "seed": "Optional integer to seed the dropout layer; kerax folds it into the "
    "call's `key`.",
    "use_scale": "If `True`, will create a variable to scale the attention scores "
    "(a scalar for `Attention`, one per feature for `AdditiveAttention`).",
    "score_mode": "Function to use to compute attention scores, one of "
    '`{{"dot", "concat"}}`. `"dot"` refers to the dot product between the query and '
    'key vectors. `"concat"` refers to the hyperbolic tangent of the concatenation '
    "of the `query` and `key` vectors.",
}
