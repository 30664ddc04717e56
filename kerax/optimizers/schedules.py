"""Keras learning-rate schedules as frozen, hashable dataclasses.

Each schedule is a pure function of the step, `schedule(step) -> lr`, usable
anywhere optax takes a schedule and as `learning_rate=` of every kerax
optimizer. The arithmetic copies Keras 3 (`keras.optimizers.schedules`)
operation by operation in float32, so the values agree with Keras to float32
rounding. Being frozen and hashable, a schedule can sit in a pytree's static
data (kerax keeps it in the optimizer state's tree definition).

Example:
    >>> from kerax.optimizers import schedules
    >>> s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(s(10)), 6)
    0.05
    >>> schedules.deserialize(schedules.serialize(s)) == s
    True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from kerax.core import registry

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
    "get",
]

_F32 = jnp.float32


class LearningRateSchedule:
    """Base of the Keras-named schedules: `__call__(step)` and `get_config()`."""

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments, as Keras's `get_config` does."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Builds the schedule back from `get_config()`."""
        return cls(**config)


def _check_positive(value: float, arg: str) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


@dataclasses.dataclass(frozen=True)
class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    With `staircase=True` the exponent is floored, so the rate drops in steps.

    Example:
        >>> s = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
        >>> [float(s(i)) for i in (0, 1, 2, 3)]
        [1.0, 1.0, 0.5, 0.5]
    """

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False
    name: str = "ExponentialDecay"

    def __post_init__(self):
        _check_positive(self.decay_steps, "decay_steps")

    def __call__(self, step):
        initial_learning_rate = jnp.asarray(self.initial_learning_rate, _F32)
        decay_steps = jnp.asarray(self.decay_steps, _F32)
        decay_rate = jnp.asarray(self.decay_rate, _F32)
        p = jnp.asarray(step).astype(_F32) / decay_steps
        if self.staircase:
            p = jnp.floor(p)
        return initial_learning_rate * jnp.power(decay_rate, p)


@dataclasses.dataclass(frozen=True)
class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` while `boundaries[i-1] < step <= boundaries[i]`.

    Example:
        >>> s = PiecewiseConstantDecay(boundaries=[10, 20], values=[1.0, 0.5, 0.25])
        >>> [float(s(i)) for i in (10, 11, 21)]
        [1.0, 0.5, 0.25]
    """

    boundaries: Sequence[float]
    values: Sequence[float]
    name: str = "PiecewiseConstant"

    def __post_init__(self):
        # Tuples keep the dataclass hashable (it may live in a treedef).
        object.__setattr__(self, "boundaries", tuple(self.boundaries))
        object.__setattr__(self, "values", tuple(self.values))
        if len(self.boundaries) != len(self.values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of "
                f"values. Received: boundaries={list(self.boundaries)} of length "
                f"{len(self.boundaries)}, and values={list(self.values)} "
                f"of length {len(self.values)}."
            )

    def get_config(self):
        return {
            "boundaries": list(self.boundaries),
            "values": list(self.values),
            "name": self.name,
        }

    def __call__(self, step):
        step = jnp.asarray(step)
        # As in Keras, boundaries take the step's dtype and values their own
        # (float32 for Python floats).
        boundaries = [jnp.asarray(b).astype(step.dtype) for b in self.boundaries]
        values = [
            jnp.asarray(v, _F32 if isinstance(v, float) else None) for v in self.values
        ]
        dtype = values[0].dtype
        result = jnp.zeros((), dtype)
        result += (step <= boundaries[0]).astype(dtype) * values[0]
        result += (step > boundaries[-1]).astype(dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            result += ((step > low) & (step <= high)).astype(dtype) * value
        return result


@dataclasses.dataclass(frozen=True)
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate`.

    `(initial - end) * (1 - step / decay_steps) ** power + end`, the step held at
    `decay_steps` (or, with `cycle=True`, `decay_steps` grown to the next
    multiple of itself above the step).

    Example:
        >>> s = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)
        >>> [round(float(s(i)), 6) for i in (0, 5, 50)]
        [1.0, 0.5, 0.0]
    """

    initial_learning_rate: float
    decay_steps: float
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False
    name: str = "PolynomialDecay"

    def __post_init__(self):
        _check_positive(self.decay_steps, "decay_steps")

    def __call__(self, step):
        initial_learning_rate = jnp.asarray(self.initial_learning_rate, _F32)
        end_learning_rate = jnp.asarray(self.end_learning_rate, _F32)
        power = jnp.asarray(self.power, _F32)
        global_step = jnp.asarray(step).astype(_F32)
        decay_steps = jnp.asarray(self.decay_steps, _F32)
        if self.cycle:
            multiplier = jnp.where(
                global_step == 0, 1.0, jnp.ceil(global_step / self.decay_steps)
            )
            decay_steps = decay_steps * multiplier
        else:
            global_step = jnp.minimum(global_step, decay_steps)
        p = global_step / decay_steps
        return (initial_learning_rate - end_learning_rate) * jnp.power(
            1 - p, power
        ) + end_learning_rate


@dataclasses.dataclass(frozen=True)
class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Example:
        >>> s = InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
        >>> float(s(3))
        0.25
    """

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False
    name: str = "InverseTimeDecay"

    def __post_init__(self):
        _check_positive(self.decay_steps, "decay_steps")

    def __call__(self, step):
        initial_learning_rate = jnp.asarray(self.initial_learning_rate, _F32)
        decay_steps = jnp.asarray(self.decay_steps, _F32)
        decay_rate = jnp.asarray(self.decay_rate, _F32)
        p = jnp.asarray(step).astype(_F32) / decay_steps
        if self.staircase:
            p = jnp.floor(p)
        return initial_learning_rate / (jnp.ones((), _F32) + decay_rate * p)


@dataclasses.dataclass(frozen=True)
class CosineDecay(LearningRateSchedule):
    """Cosine decay over `decay_steps`, with an optional linear warmup.

    Without `warmup_target`: decays from `initial_learning_rate` to
    `alpha * initial_learning_rate`. With it: rises linearly from
    `initial_learning_rate` to `warmup_target` over `warmup_steps`, then
    decays from `warmup_target` (SGDR, Loshchilov and Hutter 2017).

    Example:
        >>> s = CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=10)
        >>> [round(float(s(i)), 6) for i in (5, 10, 15, 20)]
        [0.5, 1.0, 0.5, 0.0]
    """

    initial_learning_rate: float
    decay_steps: float
    alpha: float = 0.0
    name: str = "CosineDecay"
    warmup_target: float | None = None
    warmup_steps: float = 0

    def __post_init__(self):
        _check_positive(self.decay_steps, "decay_steps")

    def _decay(self, step, decay_steps, decay_from_lr):
        completed_fraction = step / decay_steps
        pi = jnp.asarray(math.pi, _F32)
        cosine_decayed = 0.5 * (1.0 + jnp.cos(pi * completed_fraction))
        decayed = (1 - self.alpha) * cosine_decayed + self.alpha
        return decay_from_lr * decayed

    def __call__(self, step):
        initial_learning_rate = jnp.asarray(self.initial_learning_rate, _F32)
        decay_steps = jnp.asarray(self.decay_steps, _F32)
        global_step = jnp.asarray(step).astype(_F32)
        if self.warmup_target is None:
            global_step = jnp.minimum(global_step, decay_steps)
            return self._decay(global_step, decay_steps, initial_learning_rate)
        warmup_target = jnp.asarray(self.warmup_target, _F32)
        warmup_steps = jnp.asarray(self.warmup_steps, _F32)
        global_step = jnp.minimum(global_step, decay_steps + warmup_steps)
        # Both branches are cheap scalars; `where` keeps it jittable. The
        # warmup branch's 0/0 with warmup_steps=0 is never selected.
        warmup = (warmup_target - initial_learning_rate) * (
            global_step / warmup_steps
        ) + initial_learning_rate
        decay = self._decay(global_step - warmup_steps, decay_steps, warmup_target)
        return jnp.where(global_step < warmup_steps, warmup, decay)


@dataclasses.dataclass(frozen=True)
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    The first period lasts `first_decay_steps`; each next one is `t_mul` times
    longer and starts from `m_mul` times the previous peak.

    Example:
        >>> s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=1.0)
        >>> [round(float(s(i)), 6) for i in (0, 5, 10)]
        [1.0, 0.5, 1.0]
    """

    initial_learning_rate: float
    first_decay_steps: float
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0
    name: str = "SGDRDecay"

    def __post_init__(self):
        _check_positive(self.first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        initial_learning_rate = jnp.asarray(self.initial_learning_rate, _F32)
        first_decay_steps = jnp.asarray(self.first_decay_steps, _F32)
        alpha = jnp.asarray(self.alpha, _F32)
        t_mul = jnp.asarray(self.t_mul, _F32)
        m_mul = jnp.asarray(self.m_mul, _F32)
        completed_fraction = jnp.asarray(step).astype(_F32) / first_decay_steps
        # Keras picks the branch with `ops.cond(t_mul == 1)`; t_mul is static.
        if float(self.t_mul) == 1.0:
            i_restart = jnp.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:
            i_restart = jnp.floor(
                jnp.log(1.0 - completed_fraction * (1.0 - t_mul)) / jnp.log(t_mul)
            )
            sum_r = (1.0 - jnp.power(t_mul, i_restart)) / (1.0 - t_mul)
            completed_fraction = (completed_fraction - sum_r) / jnp.power(
                t_mul, i_restart
            )
        m_fac = jnp.power(m_mul, i_restart)
        pi = jnp.asarray(math.pi, _F32)
        cosine_decayed = 0.5 * m_fac * (1.0 + jnp.cos(pi * completed_fraction))
        decayed = (1 - alpha) * cosine_decayed + alpha
        return initial_learning_rate * decayed


_SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}
registry.set_base("schedules", LearningRateSchedule)
registry.add_all("schedules", _SCHEDULES)


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """Keras-style `{"module", "class_name", "config", "registered_name"}` dict."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            "Only kerax.optimizers.schedules objects can be serialized; got "
            f"{schedule!r}. Plain callables (optax schedules) have no config."
        )
    return registry.serialize("schedules", schedule)


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """Builds a schedule from `serialize()` output or a Keras schedule config."""
    return registry.deserialize("schedules", config)


def get(identifier: Any) -> Callable[[jax.typing.ArrayLike], jax.Array]:
    """A schedule from a schedule, a callable, or a serialized dict."""
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret learning rate schedule identifier: {identifier!r}"
    )


registry.set_get("schedules", get)
