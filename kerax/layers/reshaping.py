"""Keras reshaping layers: Flatten, Reshape, Permute, RepeatVector, Cropping, UpSampling, ZeroPadding.

All keep the batch dimension symbolic (it is never folded into a constant),
so output specs and `jax.export` work with `kerax.spec((None, ...))`.
Cropping uses `lax.slice_in_dim`, never numpy slicing (export rule R1).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._args import (
    data_format_field,
    int_pairs,
    int_tuple,
    is_int,
    positive_int,
    spatial_axes,
)


def _target_shape(value) -> tuple[int, ...]:
    target = (value,) if is_int(value) else value
    if not isinstance(target, tuple | list) or not all(is_int(d) for d in target):
        raise ValueError(f"expected a tuple of ints, got {value!r}.")
    target = tuple(int(d) for d in target)
    if any(d < -1 for d in target):
        raise ValueError(
            "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single unknown "
            f"dimension. Received: target_shape={target}."
        )
    if target.count(-1) > 1:
        raise ValueError(
            f"There must be at most one unknown dimension (-1) in `target_shape`. Received: target_shape={target}."
        )
    return target


def _permutation(value) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or sorted(value) != list(
        range(1, len(value) + 1)
    ):
        raise ValueError(
            "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
            f"consecutive and start from 1. Received dims={value!r}"
        )
    return tuple(value)


def _repetitions(value) -> int:
    """Keras's check of `RepeatVector(n)` and `UpSampling1D(size)`: a TypeError for a non-int."""
    if not is_int(value):
        raise TypeError(f"Expected an integer value, got {type(value)}.")
    return positive_int(value)


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _interpolation(value) -> str:
    interpolation = str(value).lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected one of {_INTERPOLATIONS}. "
            f"Received: interpolation={value!r}"
        )
    return interpolation


# ------------------------------------------------------------- Flatten
class Flatten(Layer):
    """Flattens every non-batch dimension: `(batch, ...) -> (batch, prod(...))`.

    With `data_format="channels_first"` the channels axis is moved last
    first, so the order of features matches a channels-last model.

    Args:
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, ..., channels)` or `(batch, channels, ...)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> flat = kerax.layers.Flatten()
        >>> flat.output_spec(kerax.spec((None, 4, 4, 3)))
        ShapeDtypeStruct(shape=(batch, 48), dtype=float32)
    """

    data_format: str = data_format_field()

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        if self.data_format == "channels_first" and x.ndim > 1:
            x = jnp.transpose(x, (0, *range(2, x.ndim), 1))
        # The product of the (possibly symbolic) sizes: the batch stays a symbol.
        return jnp.reshape(x, (x.shape[0], math.prod(x.shape[1:]))), state


# ------------------------------------------------------------- Reshape
class Reshape(Layer):
    """Reshapes the non-batch dimensions to `target_shape` (one entry may be -1).

    Args:
        target_shape: Target shape. Tuple of integers, does not include the
            samples dimension (batch size). One element of the
            `target_shape` can be -1 in which case the missing value is
            inferred from the size of the array and remaining dimensions.

    Example:
        >>> layer = kerax.layers.Reshape((-1, 2))
        >>> layer.output_spec(kerax.spec((None, 6)))
        ShapeDtypeStruct(shape=(batch, 3, 2), dtype=float32)
    """

    target_shape: tuple[int, ...] = field(converter=_target_shape)

    def _resolve(self, shape) -> tuple:
        """`target_shape` with -1 resolved where the input sizes are known."""
        sizes = shape[1:]
        target = self.target_shape
        error = ValueError(
            f"{self.describe()} cannot reshape inputs of shape {shape_str(shape)} to target_shape {target}: "
            "the number of elements per sample differs."
        )
        if any(is_symbolic(d) for d in sizes):
            return (
                target  # jnp.reshape resolves -1 symbolically (or says why it cannot).
            )
        total = math.prod(sizes)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if known == 0 or total % known:
                raise error
            return tuple(total // known if d == -1 else d for d in target)
        if known != total:
            raise error
        return target

    def check_input(self, spec):
        self._resolve(spec.shape)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        target = self._resolve(x.shape)
        try:
            return jnp.reshape(x, (x.shape[0], *target)), state
        except Exception as e:  # Symbolic sizes that cannot be divided exactly.
            raise ValueError(
                f"{self.describe()} cannot reshape inputs of shape {shape_str(x.shape)} to {target}: {e}"
            ) from None


# ------------------------------------------------------------- Permute
class Permute(Layer):
    """Permutes the non-batch dimensions: `dims` is a permutation of `1..rank-1`.

    Args:
        dims: Tuple of integers. Permutation pattern does not include the
            batch dimension. Indexing starts at 1. For instance, `(1, 3, 2)`
            permutes the second and third dimensions of the input.

    Example:
        >>> kerax.layers.Permute((2, 1)).output_spec(kerax.spec((None, 10, 64)))
        ShapeDtypeStruct(shape=(batch, 64, 10), dtype=float32)
    """

    dims: tuple[int, ...] = field(converter=_permutation)

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=len(self.dims) + 1)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return jnp.transpose(x, (0, *self.dims)), state


# -------------------------------------------------------- RepeatVector
class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`.

    Args:
        n: Integer, repetition factor.

    Example:
        >>> kerax.layers.RepeatVector(3).output_spec(kerax.spec((None, 32)))
        ShapeDtypeStruct(shape=(batch, 3, 32), dtype=float32)
    """

    n: int = field(converter=_repetitions)

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=2)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return jnp.repeat(jnp.expand_dims(x, 1), self.n, axis=1), state


# ------------------------------------------------------------ Cropping
class _Cropping(Layer):
    """Crops `(before, after)` from each spatial dimension."""

    _n = 0

    def _data_format(self) -> str:
        return getattr(self, "data_format", "channels_last")

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self._n + 2)
        self._check_sizes(spec.shape)

    def _pairs(self):
        return self.cropping

    def _check_sizes(self, shape):
        for axis, (before, after) in zip(
            spatial_axes(self._n, self._data_format()), self._pairs()
        ):
            d = shape[axis]
            if is_symbolic(d):
                if after:
                    raise ValueError(
                        f"{self.describe()} cannot crop from the end of a dimension of unknown size (axis {axis} of "
                        f"{shape_str(shape)}): give that dimension a size in the input shape."
                    )
            elif before + after >= d:
                raise ValueError(
                    f"{self.describe()}: Values in `cropping` argument should be smaller than the corresponding "
                    f"spatial dimension of the input. Received: inputs.shape={shape_str(shape)}, cropping={self.cropping}"
                )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        self._check_sizes(x.shape)
        for axis, (before, after) in zip(
            spatial_axes(self._n, self._data_format()), self._pairs()
        ):
            limit = None if after == 0 else x.shape[axis] - after
            x = lax.slice_in_dim(x, before, limit, axis=axis)
        return x, state


class Cropping1D(_Cropping):
    """Crops `(before, after)` steps from a `(batch, steps, features)` input.

    Args:
        cropping: Int, or tuple of int (length 2). If int: how many units
            should be trimmed off at the beginning and end of the cropping
            dimension (axis 1). If tuple of 2 ints: how many units should be
            trimmed off at the beginning and end of the cropping dimension
            (`(left_crop, right_crop)`).

    Example:
        >>> kerax.layers.Cropping1D((1, 2)).output_spec(kerax.spec((None, 10, 3)))
        ShapeDtypeStruct(shape=(batch, 7, 3), dtype=float32)
    """

    cropping: tuple[int, int] = field((1, 1), converter=int_tuple(2, allow_zero=True))

    _n = 1

    def _pairs(self):
        return (self.cropping,)

    def _data_format(self) -> str:
        return "channels_last"


class Cropping2D(_Cropping):
    """Crops rows and columns: `cropping` is an int, 2 ints, or `((top, bottom), (left, right))`.

    Args:
        cropping: Int, or tuple of 2 ints, or tuple of 2 tuples of 2 ints.
            If int: the same symmetric cropping is applied to height and
            width. If tuple of 2 ints: two different symmetric cropping
            values for height and width. If tuple of 2 tuples of 2 ints:
            `((top_crop, bottom_crop), (left_crop, right_crop))`.
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> kerax.layers.Cropping2D(((1, 1), (2, 2))).output_spec(kerax.spec((None, 8, 8, 3)))
        ShapeDtypeStruct(shape=(batch, 6, 4, 3), dtype=float32)
    """

    cropping: tuple[tuple[int, int], ...] = field(
        ((0, 0), (0, 0)), converter=int_pairs(2)
    )
    data_format: str = data_format_field()

    _n = 2


class Cropping3D(_Cropping):
    """Crops three spatial dimensions: an int, 3 ints, or 3 `(before, after)` pairs.

    Args:
        cropping: Int, or tuple of 3 ints, or tuple of 3 tuples of 2 ints.
            If int: the same symmetric cropping is applied to depth, height,
            and width. If tuple of 3 ints: three different symmetric
            cropping values. If tuple of 3 tuples of 2 ints: `(before,
            after)` crops for each spatial dimension.
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> kerax.layers.Cropping3D(1).output_spec(kerax.spec((None, 4, 4, 4, 2)))
        ShapeDtypeStruct(shape=(batch, 2, 2, 2, 2), dtype=float32)
    """

    cropping: tuple[tuple[int, int], ...] = field(
        ((1, 1), (1, 1), (1, 1)), converter=int_pairs(3)
    )
    data_format: str = data_format_field()

    _n = 3


# ---------------------------------------------------------- UpSampling


class UpSampling1D(Layer):
    """Repeats each step `size` times: `(batch, steps, features) -> (batch, steps * size, features)`.

    Args:
        size: Integer. Upsampling factor.

    Example:
        >>> kerax.layers.UpSampling1D(2).output_spec(kerax.spec((None, 5, 3)))
        ShapeDtypeStruct(shape=(batch, 10, 3), dtype=float32)
    """

    size: int = field(2, converter=_repetitions)

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=3)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return jnp.repeat(x, self.size, axis=1), state


class UpSampling2D(Layer):
    """Upsamples rows and columns by `size`, `interpolation` "nearest" (repeat) or "bilinear" (and
    "bicubic", "lanczos3", "lanczos5"), with the numerics of Keras (`jax.image.resize`, no antialiasing).

    Args:
        size: Int, or tuple of 2 integers. The upsampling factors for rows
            and columns.
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`. `None` means
            `"channels_last"` (kerax has no global image data format).
        interpolation: A string, one of `"bicubic"`, `"bilinear"`,
            `"lanczos3"`, `"lanczos5"`, `"nearest"`.

    Example:
        >>> layer = kerax.layers.UpSampling2D((2, 2), interpolation="bilinear")
        >>> layer.output_spec(kerax.spec((None, 4, 4, 3)))
        ShapeDtypeStruct(shape=(batch, 8, 8, 3), dtype=float32)
    """

    size: tuple[int, int] = field((2, 2), converter=int_tuple(2))
    data_format: str = data_format_field()
    interpolation: str = field("nearest", converter=_interpolation)

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=4)
        if self.interpolation != "nearest":
            axes = spatial_axes(2, self.data_format)
            if any(is_symbolic(spec.shape[a]) for a in axes):
                raise ValueError(
                    f"{self.describe()}: {self.interpolation} upsampling needs known image sizes, got inputs "
                    f"{shape_str(spec.shape)}."
                )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        if self.data_format == "channels_first":
            x = jnp.transpose(x, (0, 2, 3, 1))
        if self.interpolation == "nearest":
            x = jnp.repeat(x, self.size[0], axis=1)
            x = jnp.repeat(x, self.size[1], axis=2)
        else:
            shape = (
                x.shape[0],
                x.shape[1] * self.size[0],
                x.shape[2] * self.size[1],
                x.shape[3],
            )
            x = jax.image.resize(x, shape, method=self.interpolation, antialias=False)
        if self.data_format == "channels_first":
            x = jnp.transpose(x, (0, 3, 1, 2))
        return x, state


class UpSampling3D(Layer):
    """Repeats each voxel `size` times along the three spatial dimensions.

    Args:
        size: Int, or tuple of 3 integers. The upsampling factors for dim1,
            dim2 and dim3.
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> kerax.layers.UpSampling3D(2).output_spec(kerax.spec((None, 2, 2, 2, 1)))
        ShapeDtypeStruct(shape=(batch, 4, 4, 4, 1), dtype=float32)
    """

    size: tuple[int, int, int] = field((2, 2, 2), converter=int_tuple(3))
    data_format: str = data_format_field()

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=5)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        for axis, factor in zip(spatial_axes(3, self.data_format), self.size):
            x = jnp.repeat(x, factor, axis=axis)
        return x, state


# --------------------------------------------------------- ZeroPadding
class _ZeroPadding(Layer):
    """Pads each spatial dimension with `(before, after)` zeros."""

    _n = 0

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self._n + 2)

    def _pairs(self):
        return self.padding

    def call(self, params, state, x, *, key, training):
        del params, key, training
        widths = [(0, 0)] * x.ndim
        for axis, pair in zip(spatial_axes(self._n, self.data_format), self._pairs()):
            widths[axis] = pair
        return jnp.pad(x, widths), state


class ZeroPadding1D(_ZeroPadding):
    """Pads steps with zeros: `padding` is an int or `(before, after)`.

    Args:
        padding: Int, or tuple of int (length 2). If int: how many zeros to
            add at the beginning and end of the padding dimension (axis 1).
            If tuple of 2 ints: how many zeros to add at the beginning and
            the end of the padding dimension (`(left_pad, right_pad)`).
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, axis_to_pad, channels)` or `(batch, channels, axis_to_pad)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> kerax.layers.ZeroPadding1D(2).output_spec(kerax.spec((None, 5, 3)))
        ShapeDtypeStruct(shape=(batch, 9, 3), dtype=float32)
    """

    padding: tuple[int, int] = field(1, converter=int_tuple(2, allow_zero=True))
    data_format: str = data_format_field()

    _n = 1

    def _pairs(self):
        return (self.padding,)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros: an int, 2 ints, or `((top, bottom), (left, right))`.

    Args:
        padding: Int, or tuple of 2 ints, or tuple of 2 tuples of 2 ints. If
            int: the same symmetric padding is applied to height and width.
            If tuple of 2 ints: two different symmetric padding values for
            height and width. If tuple of 2 tuples of 2 ints: `((top_pad,
            bottom_pad), (left_pad, right_pad))`.
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, height, width, channels)` or `(batch, channels, height, width)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> kerax.layers.ZeroPadding2D(1).output_spec(kerax.spec((None, 4, 4, 3)))
        ShapeDtypeStruct(shape=(batch, 6, 6, 3), dtype=float32)
    """

    padding: tuple[tuple[int, int], ...] = field((1, 1), converter=int_pairs(2))
    data_format: str = data_format_field()

    _n = 2


class ZeroPadding3D(_ZeroPadding):
    """Pads three spatial dimensions with zeros: an int, 3 ints, or 3 `(before, after)` pairs.

    Args:
        padding: Int, or tuple of 3 ints, or tuple of 3 tuples of 2 ints. If
            int: the same symmetric padding is applied to depth, height, and
            width. If tuple of 3 ints: three different symmetric padding
            values. If tuple of 3 tuples of 2 ints: `(before, after)`
            padding for each spatial dimension.
        data_format: A string, one of `"channels_last"` (default) or
            `"channels_first"`. The ordering of the dimensions in the inputs:
            `(batch, dim1, dim2, dim3, channels)` or `(batch, channels, dim1, dim2, dim3)`. `None` means
            `"channels_last"` (kerax has no global image data format).

    Example:
        >>> kerax.layers.ZeroPadding3D(1).output_spec(kerax.spec((None, 2, 2, 2, 1)))
        ShapeDtypeStruct(shape=(batch, 4, 4, 4, 1), dtype=float32)
    """

    padding: tuple[tuple[int, int], ...] = field(
        ((1, 1), (1, 1), (1, 1)), converter=int_pairs(3)
    )
    data_format: str = data_format_field()

    _n = 3


__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "Flatten",
    "Permute",
    "RepeatVector",
    "Reshape",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]
