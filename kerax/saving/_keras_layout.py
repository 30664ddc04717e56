"""Where Keras 3 stores each built-in layer's variables in a weights file.

Keras's `Layer.save_own_variables` writes a layer's own variables as
`vars/0..n` in the order `layer._trainable_variables +
layer._non_trainable_variables`; each list keeps the order in which `build`
calls `add_weight` (a variable's trainability at creation decides its list,
and freezing a layer later does not move it). Sublayers are written under
the attribute that holds them (`saving_lib._walk_saveable` visits `dir()`
sorted with private names last, and the first attribute that reaches a
sublayer names it), and sublayers in a list attribute under
`<attribute>/<snake_case class name>[_1, _2, ...]`.

`LAYOUTS` is that knowledge for every built-in layer with variables, taken
from each Keras layer's `build` (file under `keras/src/layers/`). kerax
names its variables as Keras does, so a layout lists Keras's names.
A kerax layer class is looked up through its MRO (a subclass of Dense
stores like Dense); a class with no entry at all (a user's own layer) falls
back to `GENERIC_ORDER`, and a variable outside its layout is an error,
never a guess.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from kerax.core import variables

_EMPTY = MappingProxyType({})


@dataclasses.dataclass(frozen=True)
class KerasLayout:
    """One layer class's storage in Keras's weights file.

    variables: the layer's own variables in Keras's `vars/0..n` order
        (absent ones, e.g. `bias` with `use_bias=False`, are skipped).
    nested: kerax param subtrees that are plain dicts (no kerax sublayer)
        but Keras sublayers: `{kerax key: Keras attribute}`; their
        variables follow `nested_variables`.
    lora: `{weight: (lora_a, lora_b)}`: with LoRA enabled, Keras writes the
        merged weight `w + a @ b * lora_alpha / lora_rank` in `w`'s place and
        no factors, and on loading zeroes the factors.
    alias: the wrapped layer's variables that Keras also tracks as this
        layer's own first variable (SpectralNormalization's `self.kernel =
        self.layer.kernel`), tried in order; written twice, read once.
    list_attribute: sublayers held in a list attribute (StackedRNNCells's
        `cells`), written as `<attribute>/<snake_case class>[_n]`.
    keras_config_has_trainable: False where Keras's `get_config` omits
        `trainable` and its `__init__` refuses it.
    keras_class_name: Keras's registered class name where kerax's class
        is named otherwise (kerax's GroupedQueryAttention).
    build_arguments: the names of `build`'s shape arguments where Keras's
        `build_from_config` passes them as `shapes_dict` (attention layers).
    """

    variables: tuple[str, ...] = ()
    nested: MappingProxyType = dataclasses.field(default_factory=lambda: _EMPTY)
    nested_variables: tuple[str, ...] = ("kernel", "bias")
    lora: MappingProxyType = dataclasses.field(default_factory=lambda: _EMPTY)
    alias: tuple[str, ...] = ()
    list_attribute: str | None = None
    keras_config_has_trainable: bool = True
    keras_class_name: str | None = None
    build_arguments: tuple[str, ...] = ()


def _layout(*variables, **kw) -> KerasLayout:
    for k in ("nested", "lora"):
        if k in kw:
            kw[k] = MappingProxyType(kw[k])
    return KerasLayout(tuple(variables), **kw)


_KERNEL_LORA = {"kernel": ("lora_kernel_a", "lora_kernel_b")}
_DENSE = _layout(
    "kernel", "bias", lora=_KERNEL_LORA
)  # core/dense.py, core/einsum_dense.py
_CONV = _layout("kernel", "bias", lora=_KERNEL_LORA)  # convolutional/base_conv.py
_CONV_T = _layout("kernel", "bias")  # convolutional/base_conv_transpose.py
_CELL = _layout("kernel", "recurrent_kernel", "bias")  # rnn/*_cell build
_NORM = _layout("gamma", "beta")  # normalization/layer_ and group_normalization.py
_NO_TRAINABLE = _layout(keras_config_has_trainable=False)
# attention/multi_head_attention.py: `_query_dense`, ... with public
# properties `query_dense`, ..., which `_walk_saveable` visits first.
_MHA_NESTED = {
    "query": "query_dense",
    "key": "key_dense",
    "value": "value_dense",
    "attention_output": "output_dense",
}
# attention/grouped_query_attention.py: the same sublayers, no properties.
_GQA_NESTED = {k: "_" + v for k, v in _MHA_NESTED.items()}
# Their `build(query_shape, value_shape, key_shape=None)`.
_ATTENTION_BUILD = ("query_shape", "value_shape", "key_shape")

LAYOUTS: dict[str, KerasLayout] = {
    "Dense": _DENSE,
    "EinsumDense": _DENSE,
    "Embedding": _layout(
        "embeddings", lora={"embeddings": ("lora_embeddings_a", "lora_embeddings_b")}
    ),
    # core/reversible_embedding.py: `reverse_embeddings` only when untied.
    "ReversibleEmbedding": _layout(
        "embeddings",
        "reverse_embeddings",
        lora={"embeddings": ("lora_embeddings_a", "lora_embeddings_b")},
    ),
    "Conv1D": _CONV,
    "Conv2D": _CONV,
    "Conv3D": _CONV,
    "DepthwiseConv1D": _layout("kernel", "bias"),  # base_depthwise_conv.py
    "DepthwiseConv2D": _layout("kernel", "bias"),
    "SeparableConv1D": _layout("depthwise_kernel", "pointwise_kernel", "bias"),
    "SeparableConv2D": _layout("depthwise_kernel", "pointwise_kernel", "bias"),
    "Conv1DTranspose": _CONV_T,
    "Conv2DTranspose": _CONV_T,
    "Conv3DTranspose": _CONV_T,
    "SimpleRNNCell": _CELL,
    "LSTMCell": _CELL,
    "GRUCell": _CELL,
    "ConvLSTMCell": _CELL,
    "StackedRNNCells": _layout(list_attribute="cells"),
    "BatchNormalization": _layout("gamma", "beta", "moving_mean", "moving_variance"),
    "LayerNormalization": _NORM,
    "GroupNormalization": _NORM,
    "RMSNormalization": _layout("scale"),
    "Normalization": _layout(
        "mean", "variance", "count"
    ),  # preprocessing/normalization.py
    # preprocessing/pipeline.py: `__init__(layers, name=None)`, sublayers in `layers`.
    "Pipeline": _layout(list_attribute="layers", keras_config_has_trainable=False),
    # preprocessing/stft_spectrogram.py: "real" mode has no imaginary kernel.
    "STFTSpectrogram": _layout("real_kernel", "imag_kernel"),
    "SpectralNormalization": _layout("vector_u", alias=("kernel", "embeddings")),
    "PReLU": _layout("alpha"),
    "Attention": _layout("scale", "concat_score_weight"),
    "AdditiveAttention": _layout("scale"),
    "MultiHeadAttention": _layout(nested=_MHA_NESTED, build_arguments=_ATTENTION_BUILD),
    "GroupedQueryAttention": _layout(
        nested=_GQA_NESTED,
        build_arguments=_ATTENTION_BUILD,
        keras_class_name="GroupQueryAttention",
    ),
    "Discretization": _NO_TRAINABLE,
    "SpatialDropout1D": _NO_TRAINABLE,
    "SpatialDropout2D": _NO_TRAINABLE,
    "SpatialDropout3D": _NO_TRAINABLE,
}

# Layers with no entry (a user's own layer): Keras's usual creation order.
GENERIC_ORDER = (
    "kernel",
    "depthwise_kernel",
    "pointwise_kernel",
    "recurrent_kernel",
    "bias",
    "embeddings",
    "gamma",
    "beta",
    "alpha",
    "moving_mean",
    "moving_variance",
)
GENERIC = _layout(*GENERIC_ORDER)


def layout_of(layer) -> tuple[KerasLayout, bool]:
    """`(layout, known)`: the layout of the nearest class in `layer`'s MRO with one."""
    for cls in type(layer).__mro__:
        if cls.__module__.startswith("kerax.") and cls.__name__ in LAYOUTS:
            return LAYOUTS[cls.__name__], True
    declared = variables.declared_variables(layer)
    if declared:
        # A layer written the Keras way (`add_weight`): Keras saves its own
        # variables trainable first, then non-trainable, each in creation order.
        ordered = [v for v in declared if v.trainable] + [
            v for v in declared if not v.trainable
        ]
        return _layout(*(v.name for v in ordered)), True
    return GENERIC, False
