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

from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._core_utils import (
    standardize_data_format,
    standardize_pairs,
    standardize_tuple,
)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _spatial_axes(data_format: str, n: int) -> tuple[int, ...]:
    return (
        tuple(range(2, 2 + n))
        if data_format == "channels_first"
        else tuple(range(1, 1 + n))
    )


# ------------------------------------------------------------- Flatten
class Flatten(Layer):
    """Flattens every non-batch dimension: `(batch, ...) -> (batch, prod(...))`.

    With `data_format="channels_first"` the channels axis is moved last
    first, so the order of features matches a channels-last model.

    Example:
        >>> flat = kerax.layers.Flatten()
        >>> flat.output_spec(kerax.spec((None, 4, 4, 3)))
        ShapeDtypeStruct(shape=(batch, 48), dtype=float32)
    """

    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        standardize_data_format(self)

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

    Example:
        >>> layer = kerax.layers.Reshape((-1, 2))
        >>> layer.output_spec(kerax.spec((None, 6)))
        ShapeDtypeStruct(shape=(batch, 3, 2), dtype=float32)
    """

    target_shape: tuple = None

    def __post_init__(self):
        super().__post_init__()
        target = self.target_shape
        if _is_int(target):
            target = (target,)
        if not isinstance(target, tuple) or not all(_is_int(d) for d in target):
            raise ValueError(
                f"{self.describe()}: `target_shape` must be a tuple of ints, got {self.target_shape!r}."
            )
        if any(d < -1 for d in target):
            raise ValueError(
                f"{self.describe()}: Each dimension in `target_shape` must be a non-negative integer, or `-1` for "
                f"a single unknown dimension. Received: target_shape={target}."
            )
        if target.count(-1) > 1:
            raise ValueError(
                f"{self.describe()}: There must be at most one unknown dimension (-1) in `target_shape`. "
                f"Received: target_shape={target}."
            )
        object.__setattr__(self, "target_shape", target)

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

    Example:
        >>> kerax.layers.Permute((2, 1)).output_spec(kerax.spec((None, 10, 64)))
        ShapeDtypeStruct(shape=(batch, 64, 10), dtype=float32)
    """

    dims: tuple = None

    def __post_init__(self):
        super().__post_init__()
        dims = self.dims
        if not isinstance(dims, tuple) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"{self.describe()}: Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={self.dims!r}"
            )

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=len(self.dims) + 1)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return jnp.transpose(x, (0, *self.dims)), state


# -------------------------------------------------------- RepeatVector
class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`.

    Example:
        >>> kerax.layers.RepeatVector(3).output_spec(kerax.spec((None, 32)))
        ShapeDtypeStruct(shape=(batch, 3, 32), dtype=float32)
    """

    n: int = None

    def __post_init__(self):
        super().__post_init__()
        if not _is_int(self.n):
            raise TypeError(
                f"{self.describe()}: Expected an integer value for `n`, got {type(self.n)}."
            )
        if self.n <= 0:
            raise ValueError(
                f"{self.describe()}: Argument `n` should be a positive integer. Received: n={self.n}"
            )

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=2)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return jnp.repeat(jnp.expand_dims(x, 1), self.n, axis=1), state


# ------------------------------------------------------------ Cropping
class _Cropping(Layer):
    """Crops `(before, after)` from each spatial dimension."""

    _n = 0

    def __post_init__(self):
        super().__post_init__()
        self._standardize_arguments()

    def _standardize_arguments(self):
        standardize_data_format(self)
        object.__setattr__(
            self,
            "cropping",
            standardize_pairs(self, self.cropping, self._n, "cropping"),
        )

    def _data_format(self) -> str:
        return getattr(self, "data_format", "channels_last")

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self._n + 2)
        self._check_sizes(spec.shape)

    def _pairs(self):
        return self.cropping

    def _check_sizes(self, shape):
        for axis, (before, after) in zip(
            _spatial_axes(self._data_format(), self._n), self._pairs()
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
            _spatial_axes(self._data_format(), self._n), self._pairs()
        ):
            limit = None if after == 0 else x.shape[axis] - after
            x = lax.slice_in_dim(x, before, limit, axis=axis)
        return x, state


class Cropping1D(_Cropping):
    """Crops `(before, after)` steps from a `(batch, steps, features)` input.

    Example:
        >>> kerax.layers.Cropping1D((1, 2)).output_spec(kerax.spec((None, 10, 3)))
        ShapeDtypeStruct(shape=(batch, 7, 3), dtype=float32)
    """

    cropping: tuple = (1, 1)

    _n = 1

    def _standardize_arguments(self):  # One pair, no data_format (as Keras).
        object.__setattr__(
            self,
            "cropping",
            standardize_tuple(self, self.cropping, 2, "cropping", allow_zero=True),
        )

    def _pairs(self):
        return (self.cropping,)

    def _data_format(self) -> str:
        return "channels_last"


class Cropping2D(_Cropping):
    """Crops rows and columns: `cropping` is an int, 2 ints, or `((top, bottom), (left, right))`.

    Example:
        >>> kerax.layers.Cropping2D(((1, 1), (2, 2))).output_spec(kerax.spec((None, 8, 8, 3)))
        ShapeDtypeStruct(shape=(batch, 6, 4, 3), dtype=float32)
    """

    cropping: tuple = ((0, 0), (0, 0))
    data_format: str | None = None

    _n = 2


class Cropping3D(_Cropping):
    """Crops three spatial dimensions: an int, 3 ints, or 3 `(before, after)` pairs.

    Example:
        >>> kerax.layers.Cropping3D(1).output_spec(kerax.spec((None, 4, 4, 4, 2)))
        ShapeDtypeStruct(shape=(batch, 2, 2, 2, 2), dtype=float32)
    """

    cropping: tuple = ((1, 1), (1, 1), (1, 1))
    data_format: str | None = None

    _n = 3


# ---------------------------------------------------------- UpSampling
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


class UpSampling1D(Layer):
    """Repeats each step `size` times: `(batch, steps, features) -> (batch, steps * size, features)`.

    Example:
        >>> kerax.layers.UpSampling1D(2).output_spec(kerax.spec((None, 5, 3)))
        ShapeDtypeStruct(shape=(batch, 10, 3), dtype=float32)
    """

    size: int = 2

    def __post_init__(self):
        super().__post_init__()
        if not _is_int(self.size):
            raise TypeError(
                f"{self.describe()}: Expected an integer value for `size`, got {type(self.size)}."
            )
        if self.size <= 0:
            raise ValueError(
                f"{self.describe()}: Argument `size` should be a positive integer. Received: size={self.size}"
            )

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=3)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return jnp.repeat(x, self.size, axis=1), state


class UpSampling2D(Layer):
    """Upsamples rows and columns by `size`, `interpolation` "nearest" (repeat) or "bilinear" (and
    "bicubic", "lanczos3", "lanczos5"), with the numerics of Keras (`jax.image.resize`, no antialiasing).

    Example:
        >>> layer = kerax.layers.UpSampling2D((2, 2), interpolation="bilinear")
        >>> layer.output_spec(kerax.spec((None, 4, 4, 3)))
        ShapeDtypeStruct(shape=(batch, 8, 8, 3), dtype=float32)
    """

    size: tuple = (2, 2)
    data_format: str | None = None
    interpolation: str = "nearest"

    def __post_init__(self):
        super().__post_init__()
        standardize_data_format(self)
        object.__setattr__(self, "size", standardize_tuple(self, self.size, 2, "size"))
        interpolation = str(self.interpolation).lower()
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"{self.describe()}: Invalid value for argument `interpolation`. Expected one of {_INTERPOLATIONS}. "
                f"Received: interpolation={self.interpolation!r}"
            )
        object.__setattr__(self, "interpolation", interpolation)

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=4)
        if self.interpolation != "nearest":
            axes = _spatial_axes(self.data_format, 2)
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

    Example:
        >>> kerax.layers.UpSampling3D(2).output_spec(kerax.spec((None, 2, 2, 2, 1)))
        ShapeDtypeStruct(shape=(batch, 4, 4, 4, 1), dtype=float32)
    """

    size: tuple = (2, 2, 2)
    data_format: str | None = None

    def __post_init__(self):
        super().__post_init__()
        standardize_data_format(self)
        object.__setattr__(self, "size", standardize_tuple(self, self.size, 3, "size"))

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=5)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        for axis, factor in zip(_spatial_axes(self.data_format, 3), self.size):
            x = jnp.repeat(x, factor, axis=axis)
        return x, state


# --------------------------------------------------------- ZeroPadding
class _ZeroPadding(Layer):
    """Pads each spatial dimension with `(before, after)` zeros."""

    _n = 0

    def __post_init__(self):
        super().__post_init__()
        self._standardize_arguments()

    def _standardize_arguments(self):
        standardize_data_format(self)
        object.__setattr__(
            self, "padding", standardize_pairs(self, self.padding, self._n, "padding")
        )

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self._n + 2)

    def _pairs(self):
        return self.padding

    def call(self, params, state, x, *, key, training):
        del params, key, training
        widths = [(0, 0)] * x.ndim
        for axis, pair in zip(_spatial_axes(self.data_format, self._n), self._pairs()):
            widths[axis] = pair
        return jnp.pad(x, widths), state


class ZeroPadding1D(_ZeroPadding):
    """Pads steps with zeros: `padding` is an int or `(before, after)`.

    Example:
        >>> kerax.layers.ZeroPadding1D(2).output_spec(kerax.spec((None, 5, 3)))
        ShapeDtypeStruct(shape=(batch, 9, 3), dtype=float32)
    """

    padding: tuple = 1
    data_format: str | None = None

    _n = 1

    def _standardize_arguments(self):  # One pair.
        standardize_data_format(self)
        object.__setattr__(
            self,
            "padding",
            standardize_tuple(self, self.padding, 2, "padding", allow_zero=True),
        )

    def _pairs(self):
        return (self.padding,)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros: an int, 2 ints, or `((top, bottom), (left, right))`.

    Example:
        >>> kerax.layers.ZeroPadding2D(1).output_spec(kerax.spec((None, 4, 4, 3)))
        ShapeDtypeStruct(shape=(batch, 6, 6, 3), dtype=float32)
    """

    padding: tuple = (1, 1)
    data_format: str | None = None

    _n = 2


class ZeroPadding3D(_ZeroPadding):
    """Pads three spatial dimensions with zeros: an int, 3 ints, or 3 `(before, after)` pairs.

    Example:
        >>> kerax.layers.ZeroPadding3D(1).output_spec(kerax.spec((None, 2, 2, 2, 1)))
        ShapeDtypeStruct(shape=(batch, 4, 4, 4, 1), dtype=float32)
    """

    padding: tuple = ((1, 1), (1, 1), (1, 1))
    data_format: str | None = None

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
