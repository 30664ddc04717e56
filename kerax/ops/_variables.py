"""Keras-style variables in `kerax.ops`: `ops.sum(self.total)` inside `call`.

A non-trainable variable read in a Keras-style layer's `call` is a
`BoundVariable` (it can be assigned). JAX no longer converts such objects
itself, so each public op unwraps them first, as Keras's ops convert
variables with `convert_to_tensor`.
"""

from __future__ import annotations

import functools
import inspect

from kerax.core.authoring import in_call
from kerax.core.variables import BoundVariable


def _unwrap(value):
    if isinstance(value, BoundVariable):
        return value.value
    if isinstance(value, list | tuple) and any(
        isinstance(v, BoundVariable) for v in value
    ):
        return type(value)(_unwrap(v) for v in value)
    return value


def _accepting(fn):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        if not in_call():  # BoundVariables exist only inside a layer's `call`.
            return fn(*args, **kwargs)
        return fn(*map(_unwrap, args), **{k: _unwrap(v) for k, v in kwargs.items()})

    return op


def accept_variables(namespace: dict, names) -> None:
    """Wraps the module's public functions `names` so they take BoundVariables."""
    for name in names:
        if inspect.isfunction(namespace[name]):
            namespace[name] = _accepting(namespace[name])
