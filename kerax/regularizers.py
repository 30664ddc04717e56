"""Weight regularizers with the class names, configs and numerics of Keras 3.

A regularizer is a frozen, hashable dataclass called on a weight array; it
returns a scalar penalty that the training step adds to the loss.

Example:
    >>> import jax.numpy as jnp
    >>> L2(0.1)(jnp.array([1.0, 2.0]))
    Array(0.5, dtype=float32)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from kerax.core import registry

# Keras's backend.epsilon(), the floor of norms in OrthogonalRegularizer.
_EPSILON = 1e-7


def _validate_float(owner: Regularizer, name: str) -> None:
    value = getattr(owner, name)
    if (
        isinstance(value, bool)
        or not isinstance(value, float | int)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"{type(owner).__name__}: invalid value for argument {name}: "
            f"expected a non-negative float. Received: {name}={value!r}"
        )
    object.__setattr__(owner, name, float(value))


@dataclasses.dataclass(frozen=True)
class Regularizer:
    """Base class: a frozen dataclass mapping a weight to a scalar penalty."""

    def __call__(self, x: jax.Array) -> jax.Array:
        del x  # The base regularizer adds no penalty.
        return jnp.asarray(0.0)

    def get_config(self) -> dict[str, Any]:
        """Returns the Keras config (constructor arguments)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Builds the regularizer from `get_config()` output."""
        return cls(**config)


@dataclasses.dataclass(frozen=True)
class L1L2(Regularizer):
    """Penalty `l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Args:
        l1: L1 factor (None means 0).
        l2: L2 factor (None means 0).
    """

    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self):
        # Keras turns None into 0 here, unlike L1/L2 where None means 0.01.
        for name in ("l1", "l2"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, 0.0)
            _validate_float(self, name)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        regularization = jnp.asarray(0.0, x.dtype)
        # Zero factors are skipped, not multiplied, so that a NaN or inf
        # weight does not poison a penalty that is switched off.
        if self.l1 != 0.0:
            regularization += jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))
        if self.l2 != 0.0:
            regularization += jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))
        return regularization


@dataclasses.dataclass(frozen=True)
class L1(Regularizer):
    """Penalty `l1 * sum(abs(x))`.

    Args:
        l1: L1 factor (None means 0.01).
    """

    l1: float = 0.01

    def __post_init__(self):
        if self.l1 is None:
            object.__setattr__(self, "l1", 0.01)
        _validate_float(self, "l1")

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        return jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))


@dataclasses.dataclass(frozen=True)
class L2(Regularizer):
    """Penalty `l2 * sum(square(x))`.

    Args:
        l2: L2 factor (None means 0.01).
    """

    l2: float = 0.01

    def __post_init__(self):
        if self.l2 is None:
            object.__setattr__(self, "l2", 0.01)
        _validate_float(self, "l2")

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        return jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))


@dataclasses.dataclass(frozen=True)
class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (or columns) of a 2D weight to be orthogonal.

    The penalty is `factor * 0.5 * mean |<v_i, v_j>|` over all pairs `i < j`
    of L2-normalized rows (`mode="rows"`) or columns (`mode="columns"`).

    Args:
        factor: Penalty factor.
        mode: `"rows"` or `"columns"`.
    """

    factor: float = 0.01
    mode: str = "rows"

    def __post_init__(self):
        _validate_float(self, "factor")
        if self.mode not in ("rows", "columns"):
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of "
                f'{{"rows", "columns"}}. Received: mode={self.mode}'
            )

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={x.shape}"
            )
        axis = 1 if self.mode == "rows" else 0
        # Keras's `normalize`: x * rsqrt(sum(x**2)), the inverse norm capped
        # at 1/epsilon so that all-zero vectors stay zero instead of NaN.
        inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        x = x * jnp.minimum(inv_norm, 1.0 / _EPSILON)
        if self.mode == "rows":
            product, size = x @ x.T, x.shape[0]
        else:
            product, size = x.T @ x, x.shape[1]
        product_no_diagonal = product * (1.0 - jnp.eye(size, dtype=x.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        # Keras stores `factor` as a float32 tensor; match its rounding.
        factor = jnp.asarray(self.factor, jnp.float32)
        return factor * 0.5 * jnp.sum(jnp.abs(product_no_diagonal)) / num_pairs


# Keras exports every class under its snake_case name too.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_CLASSES = (L1, L2, L1L2, OrthogonalRegularizer)

ALL: dict[str, type[Regularizer]] = {cls.__name__: cls for cls in _CLASSES}
ALL.update(
    {
        "l1": L1,
        "l2": L2,
        "l1l2": L1L2,
        "l1_l2": L1L2,
        "orthogonal_regularizer": OrthogonalRegularizer,
    }
)
registry.set_base("regularizers", Regularizer)
registry.add_all("regularizers", ALL)


def deserialize(config: dict[str, Any]) -> Regularizer:
    """Builds a regularizer from a Keras-style `{"class_name", "config"}` dict.

    Keras's `module` and `registered_name` keys are accepted (a class
    registered with `kerax.register` is found by its registered name); an
    unknown class or a bad config is a `ValueError`.
    """
    return registry.deserialize("regularizers", config)


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """The Keras-style, JSON-safe config (the layout Keras writes)."""
    return registry.serialize("regularizers", regularizer)


def get(identifier: Any) -> Callable[[jax.Array], jax.Array] | None:
    """Returns a regularizer for a Keras identifier.

    Args:
        identifier: None (returns None), a name, a `{"class_name", "config"}`
            dict, a class (instantiated with its defaults) or instance, or any
            callable.

    Example:
        >>> get("l2")
        L2(l2=0.01)
    """
    return registry.get("regularizers", identifier)


registry.set_get("regularizers", get)
