"""Keras merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Each takes a list of inputs, `layer([a, b])` on nodes or
`layer.apply(params, state, [a, b])` on arrays, with Keras's broadcasting
rules: inputs of lower rank get size-1 axes inserted after the batch axis,
then broadcast. Masks combine as in Keras: the output mask is the OR of the
input masks (None if any input has none); Maximum, Minimum and Multiply also
use the masks in their values, exactly as Keras does. The lowercase
functions (`add([a, b])`, `concatenate([a, b], axis=1)`, ...) build the
layer and call it on nodes, like `keras.layers.add`.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, keras_shape, shape_str
from kerax.layers._args import integer, is_int


def _shapes(xs) -> str:
    return "[" + ", ".join(shape_str(x.shape) for x in xs) + "]"


def _elementwise_shape(layer, shape1, shape2):
    """Keras's `_compute_elemwise_op_output_shape` on non-batch shapes (None = unknown)."""
    if len(shape1) < len(shape2):
        return _elementwise_shape(layer, shape2, shape1)
    if not shape2:
        return shape1
    out = list(shape1[: -len(shape2)])
    for i, j in zip(shape1[-len(shape2) :], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1:
            out.append(i)
        elif i != j:
            raise ValueError(
                f"{layer.describe()}: Inputs have incompatible shapes. Received shapes {shape1} and {shape2}"
            )
        else:
            out.append(i)
    return tuple(out)


class _Merge(Layer):
    """Shared checks and Keras's rank alignment for the merging layers."""

    supports_masking = True
    # Subtract and Dot take exactly two inputs.
    _arity = None
    # Concatenate and Dot never insert axes (Keras's `_reshape_required = False`).
    _aligns_ranks = True

    def _as_list(self, inputs) -> list:
        if len(inputs) != 1 or not isinstance(inputs[0], list | tuple):
            raise ValueError(
                f"{self.describe()}: A merge layer should be called on a list of inputs, e.g. layer([a, b]) or "
                f"init(key, [spec_a, spec_b]). Received {len(inputs)} positional input(s)."
            )
        xs = list(inputs[0])
        if not xs:
            raise ValueError(
                f"{self.describe()}: A merge layer should be called on a list of at least 1 input. Received 0 inputs."
            )
        if self._arity is not None and len(xs) != self._arity:
            raise ValueError(
                f"{self.describe()}: A `{type(self).__name__}` layer should be called on exactly {self._arity} inputs. "
                f"Received: {len(xs)} inputs of shapes {_shapes(xs)}"
            )
        return xs

    def _check_batch(self, xs):
        batch_sizes = {
            x.shape[0] for x in xs if len(x.shape) and not is_symbolic(x.shape[0])
        }
        if len(batch_sizes) > 1:
            raise ValueError(
                f"{self.describe()}: Cannot merge tensors with different batch sizes. Received tensors with shapes {_shapes(xs)}"
            )

    def check_input(self, *specs):
        xs = self._as_list(specs)
        self._check_batch(xs)
        self._check_shapes(xs)

    def _check_shapes(self, xs):
        shape = None
        for x in xs:
            if len(x.shape) == 0:
                raise ValueError(
                    f"{self.describe()}: inputs need a batch dimension, got shapes {_shapes(xs)}."
                )
            s = keras_shape(x.shape)[1:]
            shape = s if shape is None else _elementwise_shape(self, shape, s)

    def call(self, params, state, *inputs, key, training, mask=None):
        del params, key, training
        xs = self._as_list(inputs)
        masks = self._masks(mask, xs)
        if self._aligns_ranks and len({x.ndim for x in xs}) > 1:
            ndim = max(x.ndim for x in xs)
            xs = [jnp.expand_dims(x, tuple(range(1, 1 + ndim - x.ndim))) for x in xs]
            # Keras's masks ride on the original tensors: the reshaped ones have none.
            masks = [None] * len(xs)
        return self._merge(xs, masks), state

    def _masks(self, mask, xs):
        if mask is None:
            return [None] * len(xs)
        if not isinstance(mask, list | tuple) or len(mask) != len(xs):
            raise ValueError(
                f"{self.describe()}: `mask` should be a list with one entry per input, got {mask!r}."
            )
        return list(mask)

    def _merge(self, xs, masks):
        raise NotImplementedError

    def compute_mask(self, *inputs, mask=None):
        if mask is None:
            return None
        xs = self._as_list(inputs)
        masks = self._masks(mask, xs)
        if any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            out = jnp.logical_or(out, m)
        return out


def _expand_mask(mask, x):
    return (
        None if mask is None else jnp.broadcast_to(jnp.expand_dims(mask, -1), x.shape)
    )


def _masked_op(op, xs, masks):
    """Keras's `_apply_merge_op_and_or_mask`: masked entries take the other operand's value."""
    output, output_mask = None, None
    for x, mask in zip(xs, masks):
        mask = _expand_mask(mask, x)
        if output is None:
            output, output_mask = x, mask
            continue
        if mask is not None:
            x = jnp.where(mask, x, output)
        if output_mask is not None:
            output = jnp.where(output_mask, output, x)
        output_mask = (
            jnp.logical_or(output_mask, mask)
            if mask is not None and output_mask is not None
            else None
        )
        output = op(output, x)
    return output


class Add(_Merge):
    """Sums a list of inputs (broadcasting like Keras).

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> y = kerax.layers.Add()([a, b])
    """

    def _merge(self, xs, masks):
        del masks  # Keras adds masked values too; only the output mask reflects them.
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """`a - b` for exactly two inputs `[a, b]`.

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> y = kerax.layers.Subtract()([a, b])
    """

    _arity = 2

    def _merge(self, xs, masks):
        del masks
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Elementwise product of a list of inputs; masked entries count as 1 (as in Keras).

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> y = kerax.layers.Multiply()([a, b])
    """

    def _merge(self, xs, masks):
        has_output_mask = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, mask in zip(xs, masks):
            if mask is not None:
                mask = _expand_mask(mask, x)
                x = jnp.where(mask, x, jnp.ones((), x.dtype))
                if has_output_mask:
                    output_mask = (
                        mask
                        if output_mask is None
                        else jnp.logical_or(output_mask, mask)
                    )
            output = x if output is None else output * x
        if has_output_mask:
            output = jnp.where(output_mask, output, jnp.zeros((), output.dtype))
        return output


class Average(_Merge):
    """Elementwise mean of a list of inputs.

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> y = kerax.layers.Average()([a, b])
    """

    def _merge(self, xs, masks):
        del masks
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs (masked entries are ignored, as in Keras).

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> y = kerax.layers.Maximum()([a, b])
    """

    def _merge(self, xs, masks):
        return _masked_op(jnp.maximum, xs, masks)


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs (masked entries are ignored, as in Keras).

    Args:
        **kwargs: Base layer keyword arguments: `name`, `dtype`, `trainable`.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> y = kerax.layers.Minimum()([a, b])
    """

    def _merge(self, xs, masks):
        return _masked_op(jnp.minimum, xs, masks)


class Concatenate(_Merge):
    """Concatenates a list of inputs along `axis`; all other dimensions must match.

    Args:
        axis: Axis along which to concatenate.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((6,))
        >>> kerax.layers.Concatenate()([a, b]).spec.shape[1:]
        (10,)
    """

    axis: int = field(-1, converter=integer)

    _aligns_ranks = False

    def _check_shapes(self, xs):
        ranks = {len(x.shape) for x in xs}
        error = ValueError(
            f"{self.describe()}: A `Concatenate` layer requires inputs with matching shapes except for the "
            f"concatenation axis. Received: input_shape={_shapes(xs)}"
        )
        if len(ranks) != 1:
            raise error
        (rank,) = ranks
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"{self.describe()}: axis {self.axis} is out of range for inputs {_shapes(xs)}."
            )
        axis = self.axis % rank
        for i in range(rank):
            if i == axis:
                continue
            known = {x.shape[i] for x in xs if not is_symbolic(x.shape[i])}
            if len(known) > 1:
                raise error

    def _merge(self, xs, masks):
        del masks
        return jnp.concatenate(xs, axis=self.axis)

    def compute_mask(self, *inputs, mask=None):
        if mask is None:
            return None
        xs = self._as_list(inputs)
        masks = self._masks(mask, xs)
        if all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(xs, masks):
            if m is None:
                full.append(jnp.ones(x.shape, jnp.bool_))
            elif m.ndim < x.ndim:
                full.append(jnp.broadcast_to(jnp.expand_dims(m, -1), x.shape))
            else:
                full.append(m)
        return jnp.any(jnp.concatenate(full, axis=self.axis), axis=-1)


def _l2_normalize(x, axis):
    # Keras's `ops.normalize` (order 2): x * rsqrt(sum x^2), the inverse norm capped at 1 / epsilon.
    inv_norm = lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv_norm, jnp.asarray(1e7, x.dtype))


def _dot_axes(value) -> int | tuple[int, int]:
    """Keras's checks of `Dot(axes)`: an int, or a list of two ints."""
    if is_int(value):
        return int(value)
    if not isinstance(value, tuple | list):
        raise TypeError(
            f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={value!r}"
        )
    if len(value) != 2:
        raise ValueError(
            f"Invalid format for argument `axes`: it should contain two elements. Received: axes={value}"
        )
    if not all(is_int(a) for a in value):
        raise ValueError(
            f"Invalid format for argument `axes`: list elements should be integers. Received: axes={value}"
        )
    return tuple(int(a) for a in value)


class Dot(_Merge):
    """Batched dot product of two inputs along `axes` (an int or one axis per input).

    The result keeps the batch axis, then the remaining axes of the first input,
    then those of the second; two 2D inputs give `(batch, 1)`. With
    `normalize=True` the inputs are L2-normalized along the axes first
    (cosine similarity).

    Args:
        axes: Integer or tuple of integers, axis or axes along which to take
            the dot product. If a tuple, should be two integers
            corresponding to the desired axis from the first input and the
            desired axis from the second input, respectively. Note that the
            size of the two selected axes must match, and that axis `0` (the
            batch axis) cannot be included.
        normalize: Whether to L2-normalize samples along the dot product
            axis before taking the dot product. If set to `True`, then the
            output of the dot product is the cosine proximity between the
            two samples.

    Example:
        >>> a, b = kerax.Input((4,)), kerax.Input((4,))
        >>> kerax.layers.Dot(axes=1)([a, b]).spec.shape[1:]
        (1,)
    """

    axes: int | tuple[int, int] = field(converter=_dot_axes)
    normalize: bool = False

    _arity = 2
    _aligns_ranks = False

    def _axes(self, xs):
        if is_int(self.axes):
            return (
                [self.axes % len(x.shape) for x in xs]
                if self.axes < 0
                else [self.axes, self.axes]
            )
        return [a % len(x.shape) if a < 0 else a for a, x in zip(self.axes, xs)]

    def _check_shapes(self, xs):
        for x in xs:
            if len(x.shape) < 2:
                raise ValueError(
                    f"{self.describe()}: Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {_shapes(xs)}."
                )
        a0, a1 = self._axes(xs)
        if a0 >= len(xs[0].shape) or a1 >= len(xs[1].shape):
            raise ValueError(
                f"{self.describe()}: axes {self.axes} are out of range for inputs {_shapes(xs)}."
            )
        if 0 in (a0, a1):
            raise ValueError(
                f"{self.describe()}: Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy "
                "batch dimension to your inputs."
            )
        d1, d2 = xs[0].shape[a0], xs[1].shape[a1]
        if not is_symbolic(d1) and not is_symbolic(d2) and d1 != d2:
            raise ValueError(
                f"{self.describe()}: Incompatible input shapes: axis values {d1} (at axis {a0}) != {d2} (at axis "
                f"{a1}). Full input shapes: {_shapes(xs)}"
            )

    def _merge(self, xs, masks):
        del masks
        self._check_shapes(xs)
        x1, x2 = xs
        a0, a1 = self._axes(xs)
        if self.normalize:
            x1, x2 = _l2_normalize(x1, a0), _l2_normalize(x2, a1)
        y = lax.dot_general(x1, x2, (((a0,), (a1,)), ((0,), (0,))))
        if y.ndim == 1:  # Keras's batch_dot keeps a trailing axis for two 2D inputs.
            y = jnp.expand_dims(y, -1)
        return y

    def compute_mask(self, *inputs, mask=None):
        del inputs, mask
        return None


def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`: sums a list of nodes (Keras's `keras.layers.add`)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)` on two nodes."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)` on a list of nodes."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)` on a list of nodes."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)` on a list of nodes."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)` on a list of nodes."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)` on a list of nodes."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)` on two nodes."""
    return Dot(axes=axes, **kwargs)(inputs)


__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
