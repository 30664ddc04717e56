"""`EinsumDense`: a dense layer of any rank, `activation(einsum(equation, x, kernel) + bias)`."""

from __future__ import annotations

import dataclasses
import functools
import re

import jax
import jax.numpy as jnp

from kerax import activations, initializers
from kerax.core.aux_losses import add_activity_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import keras_shape, shape_str
from kerax.layers import _lora
from kerax.layers._args import (
    ActivationArg,
    ConstraintArg,
    InitializerArg,
    RegularizerArg,
    activation_field,
    constraint_field,
    initializer_field,
    is_int,
    regularizer_field,
)

_EINSUM_FORMS = (
    ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
    ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
    ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
)


def _split_equation(equation: str):
    dot_replaced = re.sub(r"\.\.\.", "0", equation)
    for pattern, left_elided in _EINSUM_FORMS:
        match = re.match(pattern, dot_replaced)
        if match:
            return match.group(1), match.group(2), match.group(3), left_elided
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


@functools.lru_cache(maxsize=1024)
def _analyze_einsum(equation: str, bias_axes, input_shape: tuple, output_shape: tuple):
    """Keras's `_analyze_einsum_string`, line for line: weight and bias shapes.

    `input_shape` uses None for unknown (symbolic) dimensions, as Keras does.
    Returns `(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)`.
    """
    input_spec, weight_spec, output_spec, left_elided = _split_equation(equation)
    elided = len(input_shape) - len(input_spec)
    output_shape = list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0 and not left_elided:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])

    if left_elided:
        input_dim_map = {
            dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)
        }
        output_dim_map = {dim: (i + elided) for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}

    for dim in input_spec:
        input_shape_at_dim = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            output_shape_at_dim = output_shape[output_dim_map[dim]]
            if (
                output_shape_at_dim is not None
                and output_shape_at_dim != input_shape_at_dim
            ):
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{dim}'. Input shape is "
                    f"{input_shape_at_dim}, and output shape is {output_shape[output_dim_map[dim]]}."
                )

    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no corresponding dim "
                f"in the input spec '{input_spec}' or weight spec '{output_spec}'"
            )

    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec '{input_spec}' or "
                f"the output spec '{output_spec}'. For this layer, the weight must be fully specified."
            )

    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        idx_map = {
            char: output_shape[i + num_left_elided]
            for i, char in enumerate(output_spec)
        }
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(
                    f"Bias dimension '{char}' was requested, but is not part of the output spec '{output_spec}'"
                )
        first_bias_location = min(output_spec.find(char) for char in bias_axes)
        bias_output_spec = output_spec[first_bias_location:]
        bias_shape = [
            idx_map[char] if char in bias_axes else 1 for char in bias_output_spec
        ]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    else:
        bias_shape = None
    return (
        tuple(weight_shape),
        None if bias_shape is None else tuple(bias_shape),
        tuple(output_shape),
        tuple(input_axes),
        tuple(output_axes),
    )


def _equation(value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an einsum string like 'ab,bc->ac', got {value!r}.")
    _split_equation(value)
    return value


def _output_shape(value) -> tuple[int | None, ...]:
    shape = (value,) if is_int(value) else value
    if not isinstance(shape, tuple | list) or not all(
        d is None or (is_int(d) and d > 0) for d in shape
    ):
        raise ValueError(
            f"expected an int or a tuple of positive ints / None, got {value!r}."
        )
    return tuple(shape)


def _bias_axes(value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"expected a string of output axes or None, got {value!r}.")
    return value


class EinsumDense(Layer):
    """A dense layer of any rank: `activation(einsum(equation, x, kernel) + bias)`.

    Kernel and bias shapes follow Keras's analysis of `equation`,
    `output_shape` and `bias_axes`. A VarianceScaling kernel initializer
    gets the equation's input/output axes for its fans, as in Keras. With
    `lora_rank`, the kernel is frozen and a low-rank delta trains, as in
    `Dense` (the factorization is over the kernel's last dimension).

    Args:
        equation: An equation describing the einsum to perform. This
            equation must be a valid einsum string of the form `ab,bc->ac`,
            `...ab,bc->...ac`, or `ab...,bc->ac...` where 'ab', 'bc', and
            'ac' can be any valid einsum axis expression sequence.
        output_shape: The expected shape of the output tensor (excluding
            the batch dimension and any dimensions represented by
            ellipses). You can specify `None` for any dimension that is
            unknown or can be inferred from the input shape.
        activation: Activation function to use. If you don't specify
            anything, no activation is applied (that is, a "linear"
            activation: `a(x) = x`).
        bias_axes: A string containing the output dimension(s) to apply a
            bias to. Each character in the `bias_axes` string should
            correspond to a character in the output portion of the
            `equation` string.
        kernel_initializer: Initializer for the `kernel` weights matrix.
        bias_initializer: Initializer for the bias vector.
        kernel_regularizer: Regularizer function applied to the `kernel`
            weights matrix.
        bias_regularizer: Regularizer function applied to the bias vector.
        kernel_constraint: Constraint function applied to the `kernel`
            weights matrix.
        bias_constraint: Constraint function applied to the bias vector.
        lora_rank: Optional integer. If set, the layer's forward pass
            implements LoRA (Low-Rank Adaptation) with the provided rank.
        lora_alpha: Optional number. If set, the LoRA delta is scaled by
            `lora_alpha / lora_rank`.
        activity_regularizer: Regularizer function applied to the output of
            the layer (keyword-only, as a Keras base-layer argument).

    Example:
        >>> layer = kerax.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 32, 128)))
        >>> params["kernel"].shape, params["bias"].shape
        ((128, 64), (64,))
    """

    equation: str = field(converter=_equation)
    output_shape: tuple[int | None, ...] = field(converter=_output_shape)
    activation: ActivationArg = activation_field()
    bias_axes: str | None = field(None, converter=_bias_axes)
    kernel_initializer: InitializerArg = initializer_field("glorot_uniform")
    bias_initializer: InitializerArg = initializer_field("zeros")
    kernel_regularizer: RegularizerArg = regularizer_field("kernel")
    bias_regularizer: RegularizerArg = regularizer_field("bias")
    kernel_constraint: ConstraintArg = constraint_field("kernel")
    bias_constraint: ConstraintArg = constraint_field("bias")
    lora_rank: int | None = _lora.rank_field()
    lora_alpha: float | None = None
    activity_regularizer: RegularizerArg = regularizer_field(None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        _lora.check_lora(self, self.kernel_constraint, "kernel_constraint")

    def _analysis(self, shape):
        try:
            return _analyze_einsum(
                self.equation, self.bias_axes, keras_shape(shape), self.output_shape
            )
        except ValueError as e:
            raise ValueError(
                f"{self.describe()} cannot take inputs of shape {shape_str(shape)}: {e}"
            ) from None

    def check_input(self, spec):
        input_spec, _, _, _ = _split_equation(self.equation)
        if "..." in self.equation:
            self.expect_ndim(spec, min_ndim=len(input_spec))
        else:
            self.expect_ndim(spec, ndim=len(input_spec))
        kernel_shape, bias_shape, _, _, _ = self._analysis(spec.shape)
        if any(d is None for d in kernel_shape + (bias_shape or ())):
            raise ValueError(
                f"{self.describe()}: the kernel shape {kernel_shape} or bias shape {bias_shape} has an unknown "
                f"dimension (inputs {shape_str(spec.shape)}, output_shape {self.output_shape}); give its size in "
                "`output_shape` or in the input shape."
            )

    def build(self, key, spec):
        kernel_shape, bias_shape, _, input_axes, output_axes = self._analysis(
            spec.shape
        )
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
            init.input_axes is None or init.output_axes is None
        ):
            init = dataclasses.replace(
                init, input_axes=input_axes, output_axes=output_axes
            )
        k_kernel, k_bias, k_lora = jax.random.split(key, 3)
        kernel = init(k_kernel, kernel_shape, jnp.float32)
        params, state = _lora.weight_and_lora(self, k_lora, "kernel", kernel)
        if bias_shape is not None:
            params["bias"] = self.bias_initializer(k_bias, bias_shape, jnp.float32)
        return params, state

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = _lora.weight(self, params, state, "kernel", x.dtype)
        want, _, _, _, _ = self._analysis(x.shape)
        if tuple(kernel.shape) != tuple(want):
            raise ValueError(
                f"{self.describe()} expected inputs giving a kernel of shape {want}, got inputs {shape_str(x.shape)}."
            )
        y = jnp.einsum(self.equation, x, kernel)
        if "bias" in params:
            bias = params["bias"]
            y = y + jnp.reshape(bias, (1,) * (y.ndim - bias.ndim) + bias.shape)
        y = activations.get(self.activation)(y)
        add_activity_loss(self.activity_regularizer, y)
        return y, state

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora.regularization(
            self, params, "kernel", self.kernel_regularizer
        )
