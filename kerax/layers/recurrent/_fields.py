"""The recurrent family's shared fields and Keras's words for its arguments.

Cells and layers declare their fields in Keras's positional order (which
differs between SimpleRNN, LSTM, GRU and ConvLSTM), one line each, through
these factories, so a normalization is written once.
"""

from __future__ import annotations

from kerax.core.fields import field
from kerax.layers._args import optional_int, positive_int

_NOT_KERAX = (
    "kerax layers keep no hidden state between calls: call with `return_state=True` "
    "and pass the returned states back as `initial_state=`"
)


def clamped_rate(value) -> float:
    """A dropout rate clamped into [0, 1], as Keras's cells clamp it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a float between 0 and 1, got {value!r}.")
    return min(1.0, max(0.0, float(value)))


def units_field() -> int:
    """`units`: required, a positive int."""
    return field(converter=positive_int)


def rate_field() -> float:
    """`dropout` / `recurrent_dropout`: a float, clamped into [0, 1] (default 0)."""
    return field(0.0, converter=clamped_rate)


def seed_field() -> int | None:
    """`seed`: None or an int; kerax folds it into the call's `key`."""
    return field(None, converter=optional_int)


def _use_cudnn(value) -> bool | str:
    if value not in ("auto", True, False):
        raise ValueError(f"must be 'auto', True or False, got {value!r}.")
    return value


def use_cudnn_field() -> bool | str:
    """`use_cudnn`: accepted for Keras compatibility; XLA picks the kernels."""
    return field("auto", converter=_use_cudnn)


# Keras's words for the recurrent arguments.
ARG_DOCS = {
    "units": "Positive integer, dimensionality of the output space.",
    "filters": "int, the dimension of the output space (the number of filters in "
    "the convolution).",
    "kernel_size": "int or tuple/list of {rank} integers, specifying the size of the "
    "convolution window.",
    "strides": "int or tuple/list of {rank} integers, specifying the stride length of "
    "the convolution. `strides > 1` is incompatible with `dilation_rate > 1`.",
    "padding": 'string, `"valid"` or `"same"` (case-insensitive). `"valid"` means no '
    'padding. `"same"` results in padding evenly to the left/right or up/down of the '
    "input such that output has the same height/width dimension as the input.",
    "data_format": 'string, either `"channels_last"` or `"channels_first"`. The '
    'ordering of the dimensions in the inputs. `"channels_last"` corresponds to '
    'inputs with shape `(batch, time, *spatial, channels)` while `"channels_first"` '
    "corresponds to inputs with shape `(batch, time, channels, *spatial)`. `None` "
    '(kerax has no global setting) means `"channels_last"`.',
    "dilation_rate": "int or tuple/list of {rank} integers, specifying the dilation "
    "rate to use for dilated convolution.",
    "activation": "Activation function to use. Default: hyperbolic tangent (`tanh`). "
    'If you pass `None`, no activation is applied (ie. "linear" activation: '
    "`a(x) = x`).",
    "recurrent_activation": "Activation function to use for the recurrent step. "
    "Default: sigmoid (`sigmoid`). If you pass `None`, no activation is applied "
    '(ie. "linear" activation: `a(x) = x`).',
    "use_bias": "Boolean, (default `True`), whether the layer should use a bias "
    "vector.",
    "kernel_initializer": "Initializer for the `kernel` weights matrix, used for the "
    'linear transformation of the inputs. Default: `"glorot_uniform"`.',
    "recurrent_initializer": "Initializer for the `recurrent_kernel` weights matrix, "
    "used for the linear transformation of the recurrent state. Default: "
    '`"orthogonal"`.',
    "bias_initializer": 'Initializer for the bias vector. Default: `"zeros"`.',
    "unit_forget_bias": "Boolean (default `True`). If `True`, add 1 to the bias of "
    "the forget gate at initialization. Setting it to `True` will also force "
    '`bias_initializer="zeros"`. This is recommended in Jozefowicz et al.',
    "kernel_regularizer": "Regularizer function applied to the `kernel` weights "
    "matrix. Default: `None`.",
    "recurrent_regularizer": "Regularizer function applied to the `recurrent_kernel` "
    "weights matrix. Default: `None`.",
    "bias_regularizer": "Regularizer function applied to the bias vector. Default: "
    "`None`.",
    "activity_regularizer": "Regularizer function applied to the output of the layer "
    '(its "activation"). Default: `None`.',
    "kernel_constraint": "Constraint function applied to the `kernel` weights "
    "matrix. Default: `None`.",
    "recurrent_constraint": "Constraint function applied to the `recurrent_kernel` "
    "weights matrix. Default: `None`.",
    "bias_constraint": "Constraint function applied to the bias vector. Default: "
    "`None`.",
    "dropout": "Float between 0 and 1. Fraction of the units to drop for the linear "
    "transformation of the inputs. Default: 0. Needs a `key` in training.",
    "recurrent_dropout": "Float between 0 and 1. Fraction of the units to drop for "
    "the linear transformation of the recurrent state. Default: 0. Needs a `key` in "
    "training.",
    "reset_after": "GRU convention (whether to apply reset gate after or before "
    'matrix multiplication). `False` is `"before"`, `True` (default) is `"after"` '
    "(cuDNN compatible).",
    "seed": "Random seed for dropout; kerax folds it into the call's `key`.",
    "return_sequences": "Boolean. Whether to return the last output in the output "
    "sequence, or the full sequence. Default: `False`.",
    "return_state": "Boolean. Whether to return the last state in addition to the "
    "output. Default: `False`.",
    "go_backwards": "Boolean (default: `False`). If `True`, process the input "
    "sequence backwards and return the reversed sequence.",
    "stateful": f"Boolean (default: `False`). Must stay `False`: {_NOT_KERAX}.",
    "unroll": "Boolean (default False). If `True`, the network will be unrolled, "
    "else a symbolic loop will be used. Unrolling can speed-up a RNN, although it "
    "tends to be more memory-intensive. Unrolling is only suitable for short "
    "sequences.",
    "use_cudnn": "Whether to use a cuDNN-backed implementation: accepted for Keras "
    "compatibility (`'auto'`, `True` or `False`); XLA picks the kernels.",
    "zero_output_for_mask": "Boolean (default `False`). Whether the output should "
    "use zeros for the masked timesteps. Note that this field is only used when "
    "`return_sequences` is `True` and `mask` is provided. It can be useful if you "
    "want to reuse the raw output sequence of the RNN without interference from the "
    "masked timesteps, e.g., merging bidirectional RNNs.",
    "cell": "A RNN cell instance or a list of RNN cell instances (stacked, as "
    "`StackedRNNCells`). A cell is a kerax layer with a `state_size` and a "
    "`call(params, state, inputs, *, states, key, training)` (see "
    "`kerax.layers.recurrent` for the protocol).",
    "cells": "List of RNN cell instances.",
}
