"""Loss classes: the `Loss` base and one frozen dataclass per Keras loss.

Each class applies a function from `kerax.losses.functions` and reduces the
per-sample values as `keras.losses.Loss` does; `LossFunctionWrapper` turns any
per-sample function into a `Loss`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import registry
from kerax.losses.functions import (
    _circle_and_mask,
    _sparse_categorical_crossentropy_and_mask,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    cosine_similarity,
    ctc,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
    tversky,
)
from kerax.losses.reduction import (
    compute_dtype,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
    standardize_reduction,
    to_snake_case,
)


class Loss:
    """Base of the loss classes: weighting and reduction as `keras.Loss`.

    Subclass it the Keras way: an `__init__` with your options that calls
    `super().__init__(name=..., reduction=..., dtype=...)`, and a
    `call(y_true, y_pred)` returning per-sample values. `__call__` converts
    both inputs to `dtype` (float32 by default), runs `call`, folds any mask
    into the sample weights and reduces with `reduction`. The `__init__`
    arguments are recorded as the config, so a registered subclass
    (`kerax.register`) saves and loads without a hand-written `get_config`
    (one you write still wins, as in Keras).

    The built-in losses are frozen dataclasses instead (fields plus `call`),
    which works for subclasses too.

    Example:
        >>> import jax.numpy as jnp
        >>> class ScaledMSE(Loss):
        ...     def __init__(self, scale=2.0, name="scaled_mse", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.scale = scale
        ...
        ...     def call(self, y_true, y_pred):
        ...         return self.scale * jnp.mean((y_true - y_pred) ** 2, axis=-1)
        >>> loss = ScaledMSE(scale=3.0, reduction="sum")
        >>> float(loss(jnp.zeros((2, 3)), jnp.ones((2, 3))))
        6.0
        >>> loss.get_config()
        {'scale': 3.0, 'name': 'scaled_mse', 'reduction': 'sum', 'dtype': None}
    """

    reduction: str | None = "sum_over_batch_size"
    name: str | None = None
    dtype: Any = None

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = dtype

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        record_init_arguments(cls)

    def __post_init__(self) -> None:
        standardize_reduction(self.reduction)
        if getattr(self, "name", None) is None and _is_dataclass(self):
            object.__setattr__(self, "name", to_snake_case(type(self).__name__))

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample loss values. Subclasses override this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `call(y_true, y_pred)`."
        )

    def call_with_mask(
        self, y_true: jax.Array, y_pred: jax.Array
    ) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample values and the mask Keras attaches to them (or None)."""
        return self.call(y_true, y_pred), None

    def __call__(
        self,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        *,
        mask: Any = None,
    ) -> jax.Array:
        """The reduced loss.

        Args:
            y_true: Targets.
            y_pred: Predictions.
            sample_weight: Optional weights, broadcast against the per-sample
                losses the Keras way (a trailing size-1 axis is squeezed or
                added when the ranks differ by one).
            mask: Optional boolean mask over the per-sample losses (what Keras
                reads from `y_pred._keras_mask`). Masked-out entries get zero
                weight; the mean reductions average over the valid ones.

        Returns:
            A scalar, or the weighted per-sample values for reduction "none".
        """
        dtype = compute_dtype(self.dtype)
        y_pred = jax.tree.map(lambda x: jnp.asarray(x, dtype), y_pred)
        y_true = jax.tree.map(lambda x: jnp.asarray(x, dtype), y_true)
        values, out_mask = self.call_with_mask(y_true, y_pred)
        if mask is not None and out_mask is not None:
            mask = jnp.asarray(mask, bool) & out_mask
        elif out_mask is not None:
            mask = out_mask
        return reduce_weighted_values(
            values,
            sample_weight=sample_weight,
            mask=mask,
            reduction=self.reduction,
            dtype=dtype,
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a JSON-friendly dict."""
        if _is_dataclass(self):
            return {
                f.name: _jsonable(getattr(self, f.name))
                for f in dataclasses.fields(self)
                if f.init
            }
        return init_config(self, ("name", "reduction", "dtype"))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuilds the loss from `get_config()` output (or a Keras config)."""
        return cls(**config)


_INIT_ARGUMENTS = "_kerax_init_arguments"


def record_init_arguments(cls: type) -> None:
    """Wraps a Keras-style `__init__` of `cls` so that the outermost call
    records its arguments by name (defaults filled in, `**kwargs` expanded):
    Keras's authors write `__init__`, kerax derives the config from it."""
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, "_kerax_records", False):
        return
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording_init(self, *args: Any, **kwargs: Any) -> None:
        if _INIT_ARGUMENTS not in vars(self):
            vars(self)[_INIT_ARGUMENTS] = _bound_arguments(signature, args, kwargs)
        init(self, *args, **kwargs)

    recording_init._kerax_records = True
    cls.__init__ = recording_init


def _bound_arguments(signature, args, kwargs) -> dict[str, Any] | None:
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return None  # __init__ itself raises the clearer error.
    bound.apply_defaults()
    out: dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None  # *args cannot come back through cls(**config).
        else:
            out[name] = value
    return out


def init_config(obj: Any, base_keys: tuple[str, ...]) -> dict[str, Any]:
    """The config of a Keras-style object: its recorded `__init__` arguments,
    plus the `base_keys` attributes its `__init__` accepts but was not given."""
    recorded = vars(obj).get(_INIT_ARGUMENTS)
    if recorded is None:
        raise ValueError(
            f"{type(obj).__name__} cannot derive its config from its __init__ "
            "arguments (positional-only or *args); write a `get_config()` that "
            "returns what `from_config` should pass to the constructor."
        )
    params = inspect.signature(type(obj).__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    config = {k: _jsonable(v) for k, v in recorded.items()}
    for key in base_keys:
        if key not in config and (key in params or takes_any):
            config[key] = _jsonable(getattr(obj, key))
    return config


def _is_dataclass(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, jnp.dtype | np.dtype):
        return str(value)
    return value


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, np.ndarray | jax.Array):
        return tuple(np.asarray(value).tolist())
    return value


class _FunctionLoss(Loss):
    """A loss class that applies one of the `functions` (LossFunctionWrapper).

    Like Keras's `LossFunctionWrapper`, a trailing size-1 axis of `y_true` or
    `y_pred` is squeezed or expanded first when their ranks differ by one.
    """

    fn: ClassVar[Callable[..., Any]]
    fn_options: ClassVar[tuple[str, ...]] = ()

    def call_with_mask(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        options = {k: getattr(self, k) for k in self.fn_options}
        out = type(self).fn(y_true, y_pred, **options)
        return out if isinstance(out, tuple) else (out, None)

    def call(self, y_true, y_pred):
        return self.call_with_mask(y_true, y_pred)[0]


def _loss(fn: Callable[..., Any], *options: str):
    """Class decorator: a frozen dataclass applying `fn` with `options`."""

    def wrap(cls):
        cls.fn = staticmethod(fn)
        cls.fn_options = options
        return dataclasses.dataclass(frozen=True)(cls)

    return wrap


@_loss(mean_squared_error)
class MeanSquaredError(_FunctionLoss):
    """Mean of squares of errors: `loss = mean(square(y_true - y_pred))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_squared_error"
    dtype: Any = None


@_loss(mean_absolute_error)
class MeanAbsoluteError(_FunctionLoss):
    """Mean of absolute errors: `loss = mean(abs(y_true - y_pred))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_absolute_error"
    dtype: Any = None


@_loss(mean_absolute_percentage_error)
class MeanAbsolutePercentageError(_FunctionLoss):
    """`loss = 100 * mean(abs((y_true - y_pred) / y_true))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_absolute_percentage_error"
    dtype: Any = None


@_loss(mean_squared_logarithmic_error)
class MeanSquaredLogarithmicError(_FunctionLoss):
    """`loss = mean(square(log(y_true + 1) - log(y_pred + 1)))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "mean_squared_logarithmic_error"
    dtype: Any = None


@_loss(cosine_similarity, "axis")
class CosineSimilarity(_FunctionLoss):
    """Negative cosine similarity along `axis` (-1 is best, 1 worst)."""

    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "cosine_similarity"
    dtype: Any = None


@_loss(huber, "delta")
class Huber(_FunctionLoss):
    """Huber loss: quadratic below `delta`, linear above."""

    delta: float = 1.0
    reduction: str | None = "sum_over_batch_size"
    name: str = "huber_loss"
    dtype: Any = None


@_loss(log_cosh)
class LogCosh(_FunctionLoss):
    """Logarithm of the hyperbolic cosine of the prediction error."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "log_cosh"
    dtype: Any = None


@_loss(hinge)
class Hinge(_FunctionLoss):
    """`loss = maximum(1 - y_true * y_pred, 0)`, labels in {-1, 1} or {0, 1}."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "hinge"
    dtype: Any = None


@_loss(squared_hinge)
class SquaredHinge(_FunctionLoss):
    """`loss = square(maximum(1 - y_true * y_pred, 0))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "squared_hinge"
    dtype: Any = None


@_loss(categorical_hinge)
class CategoricalHinge(_FunctionLoss):
    """`loss = maximum(neg - pos + 1, 0)` for one-hot labels."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_hinge"
    dtype: Any = None


@_loss(kl_divergence)
class KLDivergence(_FunctionLoss):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "kl_divergence"
    dtype: Any = None


@_loss(poisson)
class Poisson(_FunctionLoss):
    """Poisson loss `y_pred - y_true * log(y_pred)`."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "poisson"
    dtype: Any = None


@_loss(binary_crossentropy, "from_logits", "label_smoothing", "axis")
class BinaryCrossentropy(_FunctionLoss):
    """Binary cross-entropy for 0/1 labels and probabilities (or logits).

    Example:
        >>> import jax.numpy as jnp
        >>> bce = BinaryCrossentropy(from_logits=True)
        >>> round(float(bce(jnp.array([[0.0, 1.0]]), jnp.array([[-2.0, 3.0]]))), 4)
        0.0878
    """

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "binary_crossentropy"
    dtype: Any = None


@_loss(
    binary_focal_crossentropy,
    "apply_class_balancing",
    "alpha",
    "gamma",
    "from_logits",
    "label_smoothing",
    "axis",
)
class BinaryFocalCrossentropy(_FunctionLoss):
    """Binary focal cross-entropy (Lin et al., 2017)."""

    apply_class_balancing: bool = False
    alpha: float = 0.25
    gamma: float = 2.0
    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "binary_focal_crossentropy"
    dtype: Any = None


@_loss(categorical_crossentropy, "from_logits", "label_smoothing", "axis")
class CategoricalCrossentropy(_FunctionLoss):
    """Cross-entropy for one-hot labels and class probabilities (or logits)."""

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_crossentropy"
    dtype: Any = None


@_loss(
    categorical_focal_crossentropy,
    "alpha",
    "gamma",
    "from_logits",
    "label_smoothing",
    "axis",
)
class CategoricalFocalCrossentropy(_FunctionLoss):
    """Categorical focal cross-entropy (Lin et al., 2017)."""

    alpha: float = 0.25
    gamma: float = 2.0
    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_focal_crossentropy"
    dtype: Any = None


@_loss(_sparse_categorical_crossentropy_and_mask, "from_logits", "ignore_class", "axis")
class SparseCategoricalCrossentropy(_FunctionLoss):
    """Cross-entropy for integer labels.

    With `ignore_class`, those entries are masked out: the mean reductions
    average over the remaining entries only, as in Keras.
    """

    from_logits: bool = False
    ignore_class: int | None = None
    reduction: str | None = "sum_over_batch_size"
    axis: int = -1
    name: str = "sparse_categorical_crossentropy"
    dtype: Any = None


@_loss(ctc)
class CTC(_FunctionLoss):
    """Connectionist temporal classification loss (labels padded with 0)."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "ctc"
    dtype: Any = None


@_loss(dice, "axis")
class Dice(_FunctionLoss):
    """Dice loss `1 - 2|A∩B| / (|A| + |B|)`; `axis=None` reduces everything."""

    reduction: str | None = "sum_over_batch_size"
    name: str = "dice"
    axis: int | tuple[int, ...] | None = None
    dtype: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", _hashable(self.axis))
        super().__post_init__()


@_loss(tversky, "alpha", "beta", "axis")
class Tversky(_FunctionLoss):
    """Tversky loss; `alpha` weighs false positives, `beta` false negatives."""

    alpha: float = 0.5
    beta: float = 0.5
    reduction: str | None = "sum_over_batch_size"
    name: str = "tversky"
    axis: int | tuple[int, ...] | None = None
    dtype: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", _hashable(self.axis))
        super().__post_init__()


@_loss(_circle_and_mask, "gamma", "margin", "remove_diagonal")
class Circle(_FunctionLoss):
    """Circle loss for metric learning; zero-loss samples are masked out."""

    gamma: float = 80.0
    margin: float = 0.4
    remove_diagonal: bool = True
    reduction: str | None = "sum_over_batch_size"
    name: str = "circle"
    dtype: Any = None


@_loss(categorical_generalized_cross_entropy, "q")
class CategoricalGeneralizedCrossEntropy(_FunctionLoss):
    """Generalized cross-entropy, robust to noisy labels; `0 < q < 1`."""

    q: float = 0.5
    reduction: str | None = "sum_over_batch_size"
    name: str = "categorical_generalized_cross_entropy"
    dtype: Any = None

    def __post_init__(self) -> None:
        if not 0 < self.q < 1:
            raise ValueError(
                "CategoricalGeneralizedCrossEntropy: q must be in the interval "
                f"(0, 1). Received: q={self.q}"
            )
        super().__post_init__()


@dataclasses.dataclass(frozen=True, init=False)
class LossFunctionWrapper(Loss):
    """Turns any per-sample function `fn(y_true, y_pred, **kwargs)` into a Loss.

    Example:
        >>> import jax.numpy as jnp
        >>> loss = LossFunctionWrapper(huber, delta=2.0)
        >>> float(loss(jnp.zeros((1, 2)), jnp.full((1, 2), 3.0)))
        4.0
    """

    fn: Callable[..., Any]
    reduction: str | None
    name: str | None
    dtype: Any
    fn_kwargs: tuple[tuple[str, Any], ...]

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "reduction", reduction)
        object.__setattr__(self, "name", name or getattr(fn, "__name__", None))
        object.__setattr__(self, "dtype", dtype)
        kwargs = {k: _hashable(v) for k, v in kwargs.items()}
        object.__setattr__(self, "fn_kwargs", tuple(sorted(kwargs.items())))
        self.__post_init__()

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **dict(self.fn_kwargs))

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "reduction": self.reduction}
        config["fn"] = registry.serialize("losses", self.fn)
        config.update({k: _jsonable(v) for k, v in self.fn_kwargs})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossFunctionWrapper:
        config = dict(config)
        fn = config.pop("fn")
        if not callable(fn):
            fn = registry.get("losses", fn)
        return cls(fn, **config)
