"""Weight constraints with the class names, configs and numerics of Keras 3.

A constraint is a frozen, hashable dataclass called on a weight array; it
returns the projected weight. The training step applies it after each
optimizer update, as Keras does.

Example:
    >>> import jax.numpy as jnp
    >>> NonNeg()(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from kerax.core import registry

# Keras's backend.epsilon(): keeps the rescaling finite for all-zero weights.
_EPSILON = 1e-7

Axis = int | tuple[int, ...]


def _norms(w: jax.Array, axis: Axis) -> jax.Array:
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))


def _hashable_axis(owner: Constraint) -> None:
    # Keras accepts lists; a tuple keeps the dataclass hashable.
    if isinstance(owner.axis, list):
        object.__setattr__(owner, "axis", tuple(owner.axis))


def _json_safe(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclasses.dataclass(frozen=True)
class Constraint:
    """Base class: a frozen dataclass projecting a weight; the identity here."""

    def __call__(self, w: jax.Array) -> jax.Array:
        return w

    def get_config(self) -> dict[str, Any]:
        """Returns the Keras config (constructor arguments) as a JSON-safe dict."""
        return {
            f.name: _json_safe(getattr(self, f.name)) for f in dataclasses.fields(self)
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """Builds the constraint from `get_config()` output."""
        return cls(**config)


@dataclasses.dataclass(frozen=True)
class MaxNorm(Constraint):
    """Rescales weights whose norm along `axis` exceeds `max_value`.

    Args:
        max_value: Maximum norm of each weight vector.
        axis: Axis (or axes) along which norms are taken: 0 for a Dense
            kernel `(input_dim, units)` constrains each unit's incoming
            weights; `[0, 1, 2]` does so for a Conv2D kernel.

    Reference: [Srivastava et al., 2014](https://jmlr.org/papers/v15/srivastava14a.html)
    """

    max_value: float = 2
    axis: Axis = 0

    def __post_init__(self):
        _hashable_axis(self)

    def __call__(self, w: jax.Array) -> jax.Array:
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = jnp.clip(norms, 0, self.max_value)
        return w.astype(norms.dtype) * (desired / (_EPSILON + norms))


@dataclasses.dataclass(frozen=True)
class MinMaxNorm(Constraint):
    """Moves weight norms along `axis` into `[min_value, max_value]`.

    The new norm is `rate * clip(norm, min_value, max_value) +
    (1 - rate) * norm`; `rate < 1` moves only part of the way.

    Args:
        min_value: Minimum norm.
        max_value: Maximum norm.
        rate: Fraction of the way to move, in `[0, 1]`.
        axis: Axis (or axes) along which norms are taken.
    """

    min_value: float = 0.0
    max_value: float = 1.0
    rate: float = 1.0
    axis: Axis = 0

    def __post_init__(self):
        _hashable_axis(self)

    def __call__(self, w: jax.Array) -> jax.Array:
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * jnp.clip(norms, self.min_value, self.max_value)
            + (1 - self.rate) * norms
        )
        return w.astype(norms.dtype) * (desired / (_EPSILON + norms))


@dataclasses.dataclass(frozen=True)
class NonNeg(Constraint):
    """Clips weights at 0 from below."""

    def __call__(self, w: jax.Array) -> jax.Array:
        return jnp.maximum(jnp.asarray(w), 0)


@dataclasses.dataclass(frozen=True)
class UnitNorm(Constraint):
    """Scales weights to unit norm along `axis`.

    Args:
        axis: Axis (or axes) along which norms are taken.
    """

    axis: Axis = 0

    def __post_init__(self):
        _hashable_axis(self)

    def __call__(self, w: jax.Array) -> jax.Array:
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        return w.astype(norms.dtype) / (_EPSILON + norms)


# Keras exports every class under its snake_case name too.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_CLASSES = (MaxNorm, MinMaxNorm, NonNeg, UnitNorm)

ALL: dict[str, type[Constraint]] = {cls.__name__: cls for cls in _CLASSES}
ALL.update(
    {
        "max_norm": MaxNorm,
        "min_max_norm": MinMaxNorm,
        "non_neg": NonNeg,
        "unit_norm": UnitNorm,
    }
)
registry.set_base("constraints", Constraint)
registry.add_all("constraints", ALL)


def deserialize(config: dict[str, Any]) -> Constraint:
    """Builds a constraint from a Keras-style `{"class_name", "config"}` dict.

    Keras's `module` and `registered_name` keys are accepted (a class
    registered with `kerax.register` is found by its registered name); an
    unknown class or a bad config is a `ValueError`.
    """
    return registry.deserialize("constraints", config)


def serialize(constraint: Constraint) -> dict[str, Any]:
    """The Keras-style, JSON-safe config (the layout Keras writes)."""
    return registry.serialize("constraints", constraint)


def get(identifier: Any) -> Callable[[jax.Array], jax.Array] | None:
    """Returns a constraint for a Keras identifier.

    Args:
        identifier: None (returns None), a name, a `{"class_name", "config"}`
            dict, a class (instantiated with its defaults) or instance, or any
            callable.

    Example:
        >>> get("non_neg")
        NonNeg()
    """
    return registry.get("constraints", identifier)


registry.set_get("constraints", get)
