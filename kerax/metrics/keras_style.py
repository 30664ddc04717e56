"""Keras-style metric subclasses: `add_variable` + `update_state` + `result`.

A subclass of `kerax.metrics.Metric` that defines Keras's `update_state`
(with `result()` taking no state, and optionally `reset_state`) is adapted
when the class is created, so Keras's own code runs as written:

* `self.add_variable(shape, initializer, dtype=None, aggregation="sum",
  name=None)` (and `add_weight(shape=(), initializer=None, dtype=None,
  name=None)`) in `__init__` returns a `MetricVariable` holding a concrete
  array: eager use (`m.update_state(...)`, `m.result()`, `m.reset_state()`,
  `m(y_true, y_pred)`) works on the object as in Keras.
* The class also gets kerax's pure contract, which the `Trainer` uses:
  `init()` is the state dict `{variable name: value}` after `reset_state`
  (Keras resets metrics at the start of every epoch and `evaluate`),
  `update(state, ...)` runs `update_state` with every variable reading
  `state` and `assign`/`assign_add`/`assign_sub` recording the new value
  (Keras's `stateless_update_state`), `result(state)` reads a state, and
  `merge` combines two states by each variable's `aggregation`. Nothing is
  stored on the object there, so it works under `jax.jit`.

Example:
    >>> import jax
    >>> import kerax
    >>> from kerax import ops
    >>> class Total(kerax.metrics.Metric):
    ...     def __init__(self, name="total", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.total = self.add_variable(shape=(), initializer="zeros", name="total")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.total.assign_add(ops.sum(y_pred))
    ...     def result(self):
    ...         return self.total.value
    >>> m = Total()
    >>> m.update_state(None, ops.array([1.0, 2.0]))  # Eager, as in Keras.
    >>> float(m.result())
    3.0
    >>> state = jax.jit(m.update)(m.init(), None, ops.ones(4))  # Pure.
    >>> state, float(m.result(state)), float(m.result())
    ({'total': Array(4., dtype=float32)}, 4.0, 3.0)
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax import initializers
from kerax.core.variables import BoundVariable, unwrap
from kerax.losses import compute_dtype

_local = threading.local()

# Instance-dict keys (kept out of the config).
_VARIABLES = "_kerax_metric_variables"
_INIT_DEPTH = "_kerax_metric_init_depth"
_UPDATING = "_kerax_metric_updating"
_DTYPE = "_kerax_metric_dtype"

_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_TRACE_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
)


def _scopes() -> list:
    if not hasattr(_local, "scopes"):
        _local.scopes = []
    return _local.scopes


class _Scope:
    """The values of one metric's variables during one pure call."""

    def __init__(self, metric, state: dict[str, Any]):
        variables = metric_variables(metric)
        names = [v.name for v in variables]
        if not isinstance(state, dict) or sorted(state) != sorted(names):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"{type(metric).__name__}: the state must be a dict with one entry "
                f"per metric variable, {names}; got {got}. Make it with "
                "`metric.init()` and pass on what `metric.update(...)` returns."
            )
        self.metric = metric
        self.values = {id(v): jnp.asarray(state[v.name]) for v in variables}

    def state(self) -> dict[str, Any]:
        return {v.name: self.values[id(v)] for v in metric_variables(self.metric)}


@contextlib.contextmanager
def _scope(metric, state):
    scope = _Scope(metric, state)
    _scopes().append(scope)
    try:
        yield scope
    finally:
        _scopes().pop()


def _current_scope() -> _Scope | None:
    scopes = _scopes()
    return scopes[-1] if scopes else None


class MetricVariable(BoundVariable):
    """A metric variable made by `add_variable`: Keras's `keras.Variable`.

    Reads like its array (`.value`, `.numpy()`, `.shape`, `.dtype`,
    operators, `kerax.ops.*` and `jax.numpy` functions) and is assigned with
    `assign`/`assign_add`/`assign_sub`. Outside a pure call it holds a
    concrete array (eager Keras use); inside `metric.update(state, ...)` /
    `metric.result(state)` it reads and records values of that state only.
    """

    def __init__(self, owner: str, name: str, value: jax.Array, aggregation: str):
        self._frame = None
        self._variable = None
        self._owner = owner
        self._name = name
        self._initial = value
        self._value = value
        self.aggregation = aggregation

    # -- identity ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str:
        """Keras's `variable.path`: `"<metric name>/<variable name>"`."""
        return f"{self._owner}/{self._name}"

    @property
    def trainable(self) -> bool:
        return False

    @property
    def initial_value(self) -> jax.Array:
        return self._initial

    # -- reading ----------------------------------------------------------
    @property
    def value(self) -> jax.Array:
        scope = _current_scope()
        if scope is not None and id(self) in scope.values:
            return scope.values[id(self)]
        return self._value

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._initial.shape)

    @property
    def dtype(self) -> str:
        """The dtype name, as Keras gives it (`"float32"`)."""
        return jnp.dtype(self._initial.dtype).name

    def __getattr__(self, name: str) -> Any:
        # Array methods (`v.astype`, `v.sum()`, ...) read the value.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.value, name)

    # -- assigning --------------------------------------------------------
    def assign(self, value) -> jax.Array:
        """Sets the value (cast to the variable's dtype; the shape must match)."""
        value = jnp.asarray(unwrap(value), self._initial.dtype)
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"{self.path}.assign: the variable has shape {self.shape}, got a "
                f"value of shape {tuple(value.shape)} (Keras requires the same shape)."
            )
        scope = _current_scope()
        if scope is not None:
            if id(self) not in scope.values:
                raise ValueError(
                    f"{self.path}.assign: this variable belongs to another metric "
                    f"than the one being updated ({type(scope.metric).__name__}). "
                    "A Keras-style metric may assign only its own variables."
                )
            scope.values[id(self)] = value
            return value
        if isinstance(value, jax.core.Tracer):
            raise TypeError(_leak_message(self._owner, f"{self._name}.assign"))
        self._value = value
        return value

    def assign_add(self, value) -> jax.Array:
        return self.assign(self.value + unwrap(value))

    def assign_sub(self, value) -> jax.Array:
        return self.assign(self.value - unwrap(value))

    def __repr__(self) -> str:
        return (
            f"<MetricVariable path={self.path}, shape={self.shape}, "
            f"dtype={self.dtype}, value={np.asarray(self.value)!r}>"
            if not isinstance(self.value, jax.core.Tracer)
            else f"<MetricVariable path={self.path}, value={self.value!r}>"
        )


# A pytree node, so that `jax.numpy` functions take it (JAX no longer reads
# `__jax_array__` of unregistered objects); it flattens to its current value.
jax.tree_util.register_pytree_node(
    MetricVariable, lambda v: ((v.value,), None), lambda _, children: children[0]
)


def _leak_message(owner: str, what: str) -> str:
    return (
        f"Metric {owner}: `{what}` was called on the Python object with a traced "
        "value (inside `jax.jit`). The object holds concrete values only; in a "
        "jitted step use the pure form, `state = metric.update(state, y_true, "
        "y_pred, sample_weight)` and `metric.result(state)` with `state = "
        "metric.init()` (the Trainer does this for you), as Keras's "
        "`stateless_update_state` does."
    )


# ---------------------------------------------------------------- the adapter
def is_keras_style(cls: type) -> bool:
    return bool(getattr(cls, "_kerax_keras_style", False))


def metric_variables(metric) -> list[MetricVariable]:
    return list(vars(metric).get(_VARIABLES, ()))


def add_variable(
    metric,
    shape,
    initializer,
    dtype=None,
    aggregation: str | None = "sum",
    name: str | None = None,
) -> MetricVariable:
    cls_name = type(metric).__name__
    if not vars(metric).get(_INIT_DEPTH):
        raise ValueError(
            f"{cls_name}.add_variable was called outside `__init__`. As in Keras's "
            "docs for `keras.metrics.Metric`, create every variable in `__init__` "
            "(`self.total = self.add_variable(shape=(), initializer='zeros', "
            "name='total')`): kerax builds the metric's state from them before "
            "any batch is seen. A variable whose shape depends on the data needs "
            "its shape as a constructor argument."
        )
    if aggregation not in _AGGREGATIONS:
        raise ValueError(
            f"{cls_name}.add_variable: `aggregation` must be one of None, 'none', "
            f"'mean', 'sum', 'only_first_replica' (as Keras); got {aggregation!r}."
        )
    variables = vars(metric).setdefault(_VARIABLES, [])
    taken = {v.name for v in variables}
    base = name or "variable"
    name, i = base, 0
    while name in taken:  # Keras uniquifies too ("variable_1").
        i += 1
        name = f"{base}_{i}"
    dtype = jnp.dtype(compute_dtype(dtype if dtype is not None else metric.dtype))
    if initializer is None:
        raise ValueError(
            f"{cls_name}.add_variable('{name}'): give an `initializer`, e.g. "
            "initializer='zeros' (Keras requires one too)."
        )
    if callable(initializer) or isinstance(initializer, str | dict):
        shape = () if shape is None else tuple(shape)
        init_fn = initializers.get(initializer)
        value = jnp.asarray(init_fn(jax.random.key(0), shape, dtype), dtype)
    else:  # A value, as Keras's Variable takes one.
        value = jnp.asarray(initializer, dtype)
        if shape is not None and tuple(shape) != value.shape:
            raise ValueError(
                f"{cls_name}.add_variable('{name}'): the initial value has shape "
                f"{value.shape} but shape={tuple(shape)} was given."
            )
    owner = getattr(metric, "name", None) or cls_name
    variable = MetricVariable(owner, name, value, aggregation or "none")
    variables.append(variable)
    return variable


def _check_no_tracers(metric, args, kwargs) -> None:
    leaves = jax.tree.leaves((args, kwargs))
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        raise TypeError(_leak_message(type(metric).__name__, "update_state"))


def _trace_message(cls_name: str, error: Exception) -> str:
    return (
        f"{cls_name}.update_state used a traced value as a Python value (a "
        "Python `if`/`while`/`bool()`/`int()`/`np.asarray` on an array). Under "
        "`jax.jit` (every Trainer step) the arrays are traced, as in Keras's "
        "JAX backend, so the branch cannot be taken in Python: write it with "
        "array ops, e.g. `ops.where(cond, a, b)` instead of `if cond: ... else: "
        "...`. Python conditions on arguments (`if sample_weight is not None`) "
        f"and on constructor options are fine.\n\nJAX said: {error}"
    )


def _wrap_update_state(fn):
    @functools.wraps(fn)
    def update_state(self, *args, **kwargs):
        if _current_scope() is None:
            _check_no_tracers(self, args, kwargs)
        d = vars(self)
        d[_UPDATING] = d.get(_UPDATING, 0) + 1
        try:
            return fn(self, *args, **kwargs)
        except _TRACE_ERRORS as e:
            raise TypeError(_trace_message(type(self).__name__, e)) from e
        finally:
            d[_UPDATING] -= 1

    update_state._kerax_adapted = True
    return update_state


def _wrap_result(fn):
    @functools.wraps(fn)
    def result(self, state=None):
        if state is None:
            return _unwrap_tree(fn(self))
        with _scope(self, state):
            return _unwrap_tree(fn(self))

    result._kerax_adapted = True
    return result


def _unwrap_tree(tree):
    return jax.tree.map(unwrap, tree, is_leaf=lambda v: isinstance(v, MetricVariable))


def _wrap_init(fn):
    @functools.wraps(fn)
    def __init__(self, *args, **kwargs):
        d = vars(self)
        d[_INIT_DEPTH] = d.get(_INIT_DEPTH, 0) + 1
        try:
            fn(self, *args, **kwargs)
        finally:
            d[_INIT_DEPTH] -= 1

    __init__._kerax_adapted = True
    return __init__


class KerasStyleMetric:
    """The methods a Keras-style subclass gets (see the module docstring)."""

    def init(self, y_pred_shape=None) -> dict[str, jax.Array]:
        """The state after Keras's `reset_state`, from the initial values."""
        del y_pred_shape  # The variables have their shapes from __init__.
        initial = {v.name: v.initial_value for v in metric_variables(self)}
        with _scope(self, initial) as scope:
            self.reset_state()
        return scope.state()

    def update(self, state, *args, mask=None, **kwargs) -> dict[str, jax.Array]:
        """The state after `update_state(*args, **kwargs)`, nothing mutated."""
        del mask  # Keras hands `update_state` no mask argument.
        with _scope(self, state) as scope:
            self.update_state(*args, **kwargs)
        return scope.state()

    def merge(self, state_a, state_b) -> dict[str, jax.Array]:
        """Both states combined by each variable's `aggregation`: "sum" adds,
        "mean" averages (as Keras combines replicas)."""
        out = {}
        for v in metric_variables(self):
            a, b = state_a[v.name], state_b[v.name]
            if v.aggregation == "sum":
                out[v.name] = a + b
            elif v.aggregation == "mean":
                out[v.name] = ((a + b) / 2).astype(a.dtype)
            else:
                raise ValueError(
                    f"{type(self).__name__}.merge: variable '{v.name}' has "
                    f"aggregation={v.aggregation!r}, which says nothing about how "
                    "two states combine. Keras merges 'sum' and 'mean' variables; "
                    "give it one of those in `add_variable(..., aggregation=...)`, "
                    "or define `merge(self, state_a, state_b)`."
                )
        return out

    def reset_state(self) -> None:
        """Keras's default: every variable back to zeros."""
        for v in metric_variables(self):
            v.assign(jnp.zeros(v.shape, v.dtype))

    @property
    def variables(self) -> list[MetricVariable]:
        """The metric's variables, in creation order (Keras's `variables`)."""
        return metric_variables(self)

    def __call__(self, *args, **kwargs):
        """Keras's `metric(...)`: `update_state(...)`, then `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    def __setattr__(self, name: str, value: Any) -> None:
        if vars(self).get(_UPDATING):
            raise AttributeError(
                f"{type(self).__name__}.update_state sets `self.{name}`. A Keras "
                "metric keeps everything it accumulates in variables: create one in "
                "`__init__` with `self.add_variable(...)` and update it with "
                "`.assign(...)`/`.assign_add(...)`; other attributes are constant "
                "options (under `jax.jit` a Python attribute set in a step would "
                "hold a traced value)."
            )
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _dtype_get(self) -> str:
    return jnp.dtype(compute_dtype(vars(self).get(_DTYPE))).name


def _dtype_set(self, value) -> None:
    vars(self)[_DTYPE] = value


def adapt(cls: type) -> None:
    """Makes `cls` (which defines `update_state`) a Keras-style metric."""
    first = not is_keras_style(cls)
    cls._kerax_keras_style = True
    own = cls.__dict__
    if "update_state" in own and not getattr(own["update_state"], "_kerax_adapted", 0):
        cls.update_state = _wrap_update_state(own["update_state"])
    if "result" in own and not getattr(own["result"], "_kerax_adapted", 0):
        cls.result = _wrap_result(own["result"])
    if "__init__" in own and not getattr(own["__init__"], "_kerax_adapted", 0):
        cls.__init__ = _wrap_init(own["__init__"])
    if first:
        for name, value in vars(KerasStyleMetric).items():
            if name.startswith("__") and name not in (
                "__call__",
                "__setattr__",
                "__repr__",
            ):
                continue
            if name not in own:
                setattr(cls, name, value)
        if "dtype" not in own:
            cls.dtype = property(
                _dtype_get, _dtype_set, doc="The compute dtype name (Keras's `dtype`)."
            )
