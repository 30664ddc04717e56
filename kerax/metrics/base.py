"""The metric contract and the reduction metrics (Mean, Sum, MeanMetricWrapper).

A kerax metric is a frozen, hashable config with four pure methods:

* `init(y_pred_shape=None) -> state`: a dict of zero arrays (the Keras
  variable names are the keys);
* `update(state, y_true, y_pred, sample_weight=None) -> state`;
* `result(state) -> array`;
* `merge(state_a, state_b) -> state`: every kerax state is a set of running
  sums, so merging batches or devices is adding states leaf by leaf.

Nothing is stored on the metric object, so one instance can be shared by any
number of jitted steps; the state travels in the `TrainState` like params.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from kerax import losses
from kerax.core import registry
from kerax.losses import (
    apply_mask,
    compute_dtype,
    divide_no_nan,
    squeeze_or_expand_to_same_rank,
    to_snake_case,
)
from kerax.losses.classes import init_config, record_init_arguments
from kerax.metrics import keras_style as keras_style_

State = dict[str, jax.Array]


class Metric:
    """Base of all kerax metrics: a config plus pure `init/update/result/merge`.

    A metric is written as four pure functions of an explicit state (a dict
    of arrays) instead of Keras's variables: `init` makes the zero state,
    `update` returns the next one, `result` reads it (`merge` adds two
    states and rarely needs overriding). Options go in a Keras-style
    `__init__` that calls `super().__init__(name=..., dtype=...)`; its
    arguments become the config. (The built-in metrics are frozen
    dataclasses, which works for subclasses too.) Keras's stateful form (a
    class defining `update_state`, `result(self)`, variables from
    `add_variable` in `__init__`) is accepted too and adapted to these pure
    methods (`kerax.metrics.keras_style`); the pure form is the recommended
    one. A `name` of None becomes the snake-case class name.

    Example:
        >>> import jax.numpy as jnp
        >>> class BinaryTruePositives(Metric):
        ...     def __init__(self, threshold=0.5, name="tp", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.threshold = threshold
        ...     def init(self, y_pred_shape=None):
        ...         return {"true_positives": jnp.zeros(())}
        ...     def update(self, state, y_true, y_pred, sample_weight=None):
        ...         hits = (y_true == 1) & (y_pred > self.threshold)
        ...         return {"true_positives": state["true_positives"] + hits.sum()}
        ...     def result(self, state):
        ...         return state["true_positives"]
        >>> m = BinaryTruePositives()
        >>> state = m.update(m.init(), jnp.array([1, 1, 0]), jnp.array([0.9, 0.2, 0.8]))
        >>> float(m.result(state)), m.get_config()
        (1.0, {'threshold': 0.5, 'name': 'tp', 'dtype': None})
    """

    # "up" or "down": which way is better (Keras's `_direction`; callbacks
    # like EarlyStopping(mode="auto") read it).
    _direction: ClassVar[str | None] = None
    name: str | None = None
    dtype: Any = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = dtype

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        keras_style = "update_state" in cls.__dict__ or keras_style_.is_keras_style(cls)
        if "reset_state" in cls.__dict__ and not keras_style:
            raise TypeError(_stateful_message(cls.__name__, "reset_state"))
        record_init_arguments(cls)
        if keras_style:
            keras_style_.adapt(cls)
        elif "result" in cls.__dict__:
            cls.result = _result_or_eager(cls.__dict__["result"])

    def __post_init__(self) -> None:
        if getattr(self, "name", None) is None and dataclasses.is_dataclass(self):
            object.__setattr__(self, "name", to_snake_case(type(self).__name__))

    @property
    def compute_dtype(self) -> jnp.dtype:
        """The dtype of the state and of the computation (float32 default)."""
        return compute_dtype(self.dtype)

    def init(self, y_pred_shape: tuple[int | None, ...] | None = None) -> State:
        """A fresh state of zeros.

        Args:
            y_pred_shape: Only used by metrics whose state size depends on the
                number of classes (R2Score, FBetaScore/F1Score, AUC with
                `multi_label=True` and no `num_labels`). Without it their
                per-class sums start as broadcastable zeros and take their
                full shape at the first `update` (fine under `jax.jit`; pass
                the shape when the state must keep one shape, e.g. as a
                `lax.scan` carry).
        """
        raise NotImplementedError

    def update(
        self,
        state: State,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        *,
        mask: Any = None,
    ) -> State:
        """The state after one more batch. Pure: `state` is not modified.

        `mask` is the optional mask over per-sample values that Keras reads
        from `y_pred._keras_mask`; only the mean-type metrics use it, as in
        Keras.
        """
        raise NotImplementedError

    def result(self, state: State) -> jax.Array:
        """The metric value for everything accumulated in `state`."""
        raise NotImplementedError

    # Keras's stateless metric API, which is kerax's pure one under other names.
    def stateless_update_state(self, metric_variables: State, *args, **kwargs) -> State:
        """Keras's name for `update`: the state after one more batch."""
        return self.update(metric_variables, *args, **kwargs)

    def stateless_result(self, metric_variables: State) -> jax.Array:
        """Keras's name for `result`."""
        return self.result(metric_variables)

    def stateless_reset_state(self) -> State:
        """Keras's name for `init()`: a fresh state."""
        return self.init()

    # Keras's eager metric API over the pure one: the object keeps a state of
    # its own between calls (outside jit only: a Trainer and `jax.jit` use the
    # pure methods, and nothing is stored on the object there).
    def update_state(
        self, *args: Any, sample_weight: Any = None, **kwargs: Any
    ) -> None:
        """Keras's `metric.update_state(y_true, y_pred, sample_weight=None)`, eagerly.

        Example:
            >>> m = kerax.metrics.SparseCategoricalAccuracy()
            >>> m.update_state([1, 0], [[0.1, 0.9], [0.8, 0.2]])
            >>> m.update_state([1], [[0.7, 0.3]])
            >>> round(float(m.result()), 4)
            0.6667
            >>> m.reset_state(); float(m.result())
            0.0
        """
        state = vars(self).get(_EAGER)
        if state is None:
            state = self.init(jnp.shape(args[-1]) if args else None)
        state = self.update(state, *args, sample_weight, **kwargs)
        if any(isinstance(v, jax.core.Tracer) for v in jax.tree.leaves(state)):
            raise TypeError(
                f"{type(self).__name__}.update_state was called inside a jitted or traced "
                "function, where the metric object cannot keep a state. Use the pure form there: "
                "`state = metric.update(state, y_true, y_pred)`, `metric.result(state)` "
                "(start from `metric.init()`)."
            )
        object.__setattr__(self, _EAGER, state)

    def reset_state(self) -> None:
        """Keras's `metric.reset_state()`: the eager state starts afresh."""
        vars(self).pop(_EAGER, None)

    def __call__(self, *args: Any, sample_weight: Any = None, **kwargs: Any):
        """Keras's `metric(y_true, y_pred)`: `update_state`, then `result()`."""
        self.update_state(*args, sample_weight=sample_weight, **kwargs)
        return self.result()

    def merge(self, state_a: State, state_b: State) -> State:
        """The state of both streams of batches (all kerax states are sums)."""
        return jax.tree.map(jnp.add, state_a, state_b)

    def compute(self, *args: Any, sample_weight: Any = None) -> jax.Array:
        """One-shot `result(update(init(), *args))`, like calling a Keras metric.

        `args` are what `update` takes after the state: `(y_true, y_pred)`,
        or `(values,)` for Mean and Sum.
        """
        state = self.init(jnp.shape(args[-1]))
        return self.result(self.update(state, *args, sample_weight))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a JSON-friendly dict."""
        if not dataclasses.is_dataclass(self):
            return init_config(self, ("name", "dtype"))
        return {
            f.name: _jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.init
        }

    def add_variable(
        self,
        shape: Any,
        initializer: Any,
        dtype: Any = None,
        aggregation: str | None = "sum",
        name: str | None = None,
    ) -> keras_style_.MetricVariable:
        """Keras's metric variable, for a class that defines `update_state`.

        Call it in `__init__`, as in Keras; see `Metric` for the whole
        Keras-style form. A pure metric (`init/update/result`) gets an error
        that shows where its state goes instead.
        """
        if not keras_style_.is_keras_style(type(self)):
            raise TypeError(_stateful_message(type(self).__name__, "add_variable"))
        return keras_style_.add_variable(
            self, shape, initializer, dtype=dtype, aggregation=aggregation, name=name
        )

    def add_weight(
        self,
        shape: Any = (),
        initializer: Any = None,
        dtype: Any = None,
        name: str | None = None,
    ) -> keras_style_.MetricVariable:
        """Keras's older name for `add_variable` (its defaults: a scalar)."""
        return self.add_variable(
            shape=shape, initializer=initializer, dtype=dtype, name=name
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuilds the metric from `get_config()` output (or a Keras config)."""
        return cls(**config)

    def _zeros(self, shape: tuple[int, ...] = ()) -> jax.Array:
        return jnp.zeros(shape, self.compute_dtype)


_EAGER = "_kerax_eager_state"


def _result_or_eager(result):
    """`result(state)`, or Keras's `result()`: the eager state's value."""

    @functools.wraps(result)
    def wrapped(self, state: State | None = None):
        if state is None:
            state = vars(self).get(_EAGER)
            if state is None:
                state = self.init()
        return result(self, state)

    return wrapped


def _stateful_message(name: str, what: str) -> str:
    return (
        f"Metric {name} uses Keras's stateful `{what}`: kerax metrics keep "
        "their state outside the object (it travels in the TrainState). "
        "Write the same metric as pure functions of a state dict:\n\n"
        f"    class {name}(kerax.metrics.Metric):\n"
        "        def init(self, y_pred_shape=None):\n"
        '            return {"total": jnp.zeros(())}  # was add_variable(...)\n'
        "        def update(self, state, y_true, y_pred, sample_weight=None):\n"
        '            return {"total": state["total"] + ...}  # was update_state\n'
        "        def result(self, state):\n"
        '            return state["total"]\n\n'
        "reset_state is not needed: `init()` is the reset state.\n\n"
        "Keras's own form works too: create the variables with "
        "`self.add_variable(...)` in `__init__`, and define "
        "`update_state(self, y_true, y_pred, sample_weight=None)` and `result(self)`."
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, jnp.dtype):
        return str(value)
    return value


def hashable(value: Any) -> Any:
    """Lists (and arrays) to tuples, so configs stay hashable."""
    if isinstance(value, list | tuple):
        return tuple(hashable(v) for v in value)
    if hasattr(value, "tolist") and hasattr(value, "shape"):
        return hashable(value.tolist())
    return value


def reduce_to_samplewise_values(
    values: jax.Array,
    sample_weight: jax.Array | None,
    reduce_fn: Callable[..., jax.Array],
    dtype: Any,
    mask: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array | None]:
    """Weights `values` and reduces them to one value per sample (Keras rule).

    Extra axes of `values` beyond the weights' rank are reduced first, the
    weights are broadcast and applied, then both are reduced to rank 1. The
    values' own mask only takes part when sample weights are given, exactly
    as in Keras.
    """
    values = jnp.asarray(values).astype(dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight).astype(dtype)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


@dataclasses.dataclass(frozen=True)
class Sum(Metric):
    """The weighted sum of `values`.

    Example:
        >>> import jax.numpy as jnp
        >>> m = Sum()
        >>> float(m.compute(jnp.array([1.0, 3.0, 5.0])))
        9.0
    """

    name: str = "sum"
    dtype: Any = None

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # Always a scalar.
        return {"total": self._zeros()}

    def update(self, state, values, sample_weight=None, *, mask=None) -> State:
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, jnp.sum, self.compute_dtype, mask
        )
        return {"total": state["total"] + jnp.sum(values)}

    def result(self, state) -> jax.Array:
        return state["total"].astype(self.compute_dtype)


def _mean_update(state, values, sample_weight, dtype, mask=None) -> State:
    values, sample_weight = reduce_to_samplewise_values(
        values, sample_weight, jnp.mean, dtype, mask
    )
    if sample_weight is not None:
        num_samples = jnp.sum(sample_weight)
    elif values.ndim >= 1:
        num_samples = values.shape[0]
    else:
        num_samples = 1
    return {
        "total": state["total"] + jnp.sum(values),
        "count": state["count"] + jnp.asarray(num_samples, dtype),
    }


@dataclasses.dataclass(frozen=True)
class Mean(Metric):
    """The weighted mean of `values`: `sum(values * w) / sum(w)`.

    Example:
        >>> import jax.numpy as jnp
        >>> m = Mean()
        >>> state = m.update(m.init(), jnp.array([1.0, 3.0, 5.0, 7.0]),
        ...                  sample_weight=jnp.array([1.0, 1.0, 0.0, 0.0]))
        >>> float(m.result(state))
        2.0
    """

    name: str = "mean"
    dtype: Any = None

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # Always scalars.
        return {"total": self._zeros(), "count": self._zeros()}

    def update(self, state, values, sample_weight=None, *, mask=None) -> State:
        return _mean_update(state, values, sample_weight, self.compute_dtype, mask)

    def result(self, state) -> jax.Array:
        return divide_no_nan(state["total"], state["count"].astype(self.compute_dtype))


class MeanFunctionMetric(Metric):
    """Base of the metrics that average a per-sample function (Keras's
    `MeanMetricWrapper` subclasses). Subclasses define `values`."""

    def values(
        self, y_true: Any, y_pred: Any
    ) -> jax.Array | tuple[jax.Array, jax.Array | None]:
        """Per-sample values (optionally with the mask Keras attaches)."""
        raise NotImplementedError

    def init(self, y_pred_shape=None) -> State:
        del y_pred_shape  # Always scalars.
        return {"total": self._zeros(), "count": self._zeros()}

    def update(self, state, y_true, y_pred, sample_weight=None, *, mask=None):
        out = self.values(y_true, y_pred)
        values, out_mask = out if isinstance(out, tuple) else (out, None)
        dtype = self.compute_dtype
        if mask is not None:
            mask = jnp.asarray(mask)
            sample_weight = apply_mask(sample_weight, mask, dtype, reduction="sum")
        return _mean_update(state, values, sample_weight, dtype, out_mask)

    def result(self, state) -> jax.Array:
        return divide_no_nan(state["total"], state["count"].astype(self.compute_dtype))


@dataclasses.dataclass(frozen=True, init=False)
class MeanMetricWrapper(MeanFunctionMetric):
    """The weighted mean of any per-sample function `fn(y_true, y_pred, **kwargs)`.

    Example:
        >>> import jax.numpy as jnp
        >>> from kerax import losses
        >>> m = MeanMetricWrapper(losses.huber, delta=0.5)
        >>> float(m.compute(jnp.zeros((2, 1)), jnp.ones((2, 1))))
        0.375
    """

    fn: Callable[..., Any]
    name: str | None
    dtype: Any
    fn_kwargs: tuple[tuple[str, Any], ...]

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", dtype)
        kwargs = {k: hashable(v) for k, v in kwargs.items()}
        object.__setattr__(self, "fn_kwargs", tuple(sorted(kwargs.items())))
        self.__post_init__()

    @property
    def _direction(self) -> str | None:  # type: ignore[override]
        # Keras: wrapping a loss function means lower is better.
        return "down" if self.fn in losses.LOSS_FUNCTIONS else None

    def values(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **dict(self.fn_kwargs))

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "dtype": _jsonable(self.dtype)}
        config["fn"] = registry.serialize("metric_functions", self.fn)
        config.update({k: _jsonable(v) for k, v in self.fn_kwargs})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MeanMetricWrapper:
        config = dict(config)
        fn = config.pop("fn")
        if not callable(fn):
            fn = registry.deserialize("metric_functions", fn)
        return cls(fn, **config)


def metric(
    fn: Callable[..., Any] | None = None,
    *options: str,
    direction: str | None = None,
):
    """Class decorator for a mean-type metric: a frozen dataclass whose
    per-sample values are `fn(y_true, y_pred, **{o: self.o for o in options})`.
    """

    def wrap(cls):
        if fn is not None:

            def values(self, y_true, y_pred):
                return fn(y_true, y_pred, **{k: getattr(self, k) for k in options})

            cls.values = values
        cls._direction = direction
        return dataclasses.dataclass(frozen=True)(cls)

    return wrap
