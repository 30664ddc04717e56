"""Keras's optimizer wrappers: `LossScaleOptimizer`, `MultiOptimizer`, `OptimizerMap`.

Each is an optax `GradientTransformation`, so it goes wherever a kerax
optimizer does (`Trainer(optimizer=...)`, `make_train_step`, plain optax).

`MultiOptimizer` picks an optimizer per param from its *path* in the params
tree: the keys joined by "/" (`params["dense_1"]["kernel"]` is
`"dense_1/kernel"`), as `Muon(exclude_layers=...)` and `muon_labels` do. Keras
prefixes a Sequential model's variable paths with the model's name
(`"sequential/dense_1/kernel"`); kerax's params tree starts at the layers,
so write patterns on layer names (`"dense_1/.*"`). It is
`optax.multi_transform` with those labels: each optimizer sees only its
params (its global clipnorm, EMA, ... are over them alone, as in Keras).

`LossScaleOptimizer(inner)` is Keras's dynamic loss scaling; `Trainer` and
`make_train_step` run it as `loss_scale=DynamicLossScale(...)` around
`inner` (the loss is scaled before differentiation, a step with non-finite
gradients is skipped). Used as a plain optax transformation, its `update`
expects the gradients of `scale_loss(opt_state, loss)`, as Keras's
`optimizer.apply` after `optimizer.scale_loss`.

Example:
    >>> import jax.numpy as jnp, optax, kerax.optimizers as ko
    >>> params = {"encoder": {"kernel": jnp.ones(2)}, "head": {"kernel": jnp.ones(2)}}
    >>> tx = ko.MultiOptimizer(ko.OptimizerMap(ko.SGD(0.5), {"encoder/.*": ko.SGD(0.1)}))
    >>> updates, _ = tx.update(params, tx.init(params), params)
    >>> jax.tree.map(lambda u: [round(v, 4) for v in u.tolist()], updates)
    {'encoder': {'kernel': [-0.1, -0.1]}, 'head': {'kernel': [-0.5, -0.5]}}
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from kerax.optimizers.base import KerasOptimizer, _check_number, _path
from kerax.optimizers.loss_scale import DynamicLossScale, LossScaleState

__all__ = [
    "LossScaleOptimizer",
    "LossScaleOptimizerState",
    "MultiOptimizer",
    "OptimizerMap",
    "VariablePath",
    "unwrap_loss_scale",
]


def _is_optimizer(x) -> bool:
    return isinstance(x, optax.GradientTransformation) or (
        callable(getattr(x, "init", None)) and callable(getattr(x, "update", None))
    )


def _check_inner(optimizer, what: str):
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError(
            f"{what} cannot be a LossScaleOptimizer: wrap the MultiOptimizer "
            "instead, LossScaleOptimizer(MultiOptimizer(...))."
        )
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError(f"{what} cannot be a MultiOptimizer.")
    if not _is_optimizer(optimizer):
        raise ValueError(
            f"{what} must be an optimizer (kerax.optimizers.Adam(...) or any "
            f"optax GradientTransformation). Received: {optimizer!r}"
        )


# ----------------------------------------------------------- loss scaling --


class LossScaleOptimizerState(NamedTuple):
    """`inner`: the wrapped optimizer's state; `loss_scale`: a `LossScaleState`."""

    inner: Any
    loss_scale: LossScaleState


class LossScaleOptimizer(optax.GradientTransformation):
    """Keras's `LossScaleOptimizer`: dynamic loss scaling around `inner_optimizer`.

    Args:
        inner_optimizer: the optimizer to wrap.
        initial_scale: the starting loss scale.
        dynamic_growth_steps: finite steps in a row after which the scale
            doubles (a non-finite step halves it and is skipped).
        name: accepted for Keras compatibility.

    `Trainer(optimizer=LossScaleOptimizer(Adam()))` trains `Adam()` with
    `DynamicLossScale(initial_scale, dynamic_growth_steps)`; the scale state
    is `ts.loss_scale`.

    Example:
        >>> import jax, jax.numpy as jnp, kerax.optimizers as ko
        >>> tx = ko.LossScaleOptimizer(ko.SGD(0.1), initial_scale=4.0)
        >>> params = {"w": jnp.ones(2)}
        >>> state = tx.init(params)
        >>> grads = jax.grad(lambda p: tx.scale_loss(state, jnp.sum(p["w"])))(params)
        >>> updates, state = tx.update(grads, state, params)
        >>> [round(u, 4) for u in updates["w"].tolist()], float(state.loss_scale.scale)
        ([-0.1, -0.1], 4.0)
    """

    inner_optimizer: Any = None
    dynamic_loss_scale: DynamicLossScale | None = None

    def __new__(
        cls,
        inner_optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                "simply set `loss_scale_factor` directly on the `inner_optimizer`."
            )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer got unexpected arguments {sorted(kwargs)}; it takes "
                "inner_optimizer, initial_scale, dynamic_growth_steps and name."
            )
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise ValueError("LossScaleOptimizer cannot wrap a LossScaleOptimizer.")
        if not _is_optimizer(inner_optimizer):
            raise ValueError(
                "`inner_optimizer` must be an optimizer (kerax.optimizers.Adam(...) "
                f"or an optax GradientTransformation). Received: {inner_optimizer!r}"
            )
        _check_number("initial_scale", initial_scale, low=0, strict=("low",))
        _check_number("dynamic_growth_steps", dynamic_growth_steps, low=1, integer=True)
        scaler = DynamicLossScale(float(initial_scale), int(dynamic_growth_steps))

        def init_fn(params):
            return LossScaleOptimizerState(inner_optimizer.init(params), scaler.init())

        def update_fn(grads, state, params=None):
            grads = scaler.unscale(grads, state.loss_scale)
            finite = DynamicLossScale.all_finite(grads)
            updates, inner = inner_optimizer.update(grads, state.inner, params)
            zeros = jax.tree.map(jnp.zeros_like, updates)
            updates, inner = DynamicLossScale.select(
                finite, (updates, inner), (zeros, state.inner)
            )
            return updates, LossScaleOptimizerState(
                inner, scaler.adjust(state.loss_scale, finite)
            )

        self = super().__new__(cls, init_fn, update_fn)
        self.inner_optimizer = inner_optimizer
        self.dynamic_loss_scale = scaler
        self.name = name or "loss_scale_optimizer"
        return self

    @property
    def initial_scale(self) -> float:
        return self.dynamic_loss_scale.initial_scale

    @property
    def dynamic_growth_steps(self) -> int:
        return self.dynamic_loss_scale.dynamic_growth_steps

    @staticmethod
    def scale_loss(state: LossScaleOptimizerState, loss):
        """`loss * scale`: differentiate this, then pass the gradients to `update`."""
        return loss * state.loss_scale.scale.astype(jnp.result_type(loss))

    def get_config(self) -> dict[str, Any]:
        inner = self.inner_optimizer
        return {
            "inner_optimizer": (
                {"class_name": inner.class_name, "config": inner.get_config()}
                if isinstance(inner, KerasOptimizer)
                else None
            ),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
            "name": self.name,
        }


def unwrap_loss_scale(optimizer, loss_scale):
    """`(inner, DynamicLossScale)` for a `LossScaleOptimizer`, else the arguments
    unchanged: how `Trainer` and `make_train_step` run one."""
    if isinstance(optimizer, LossScaleOptimizer):
        return optimizer.inner_optimizer, optimizer.dynamic_loss_scale
    return optimizer, loss_scale


# ---------------------------------------------------------- multi optimizer --


class VariablePath(NamedTuple):
    """What an optimizer selector gets for one param (Keras passes the
    variable): `path` ("dense/kernel"), `name` ("kernel"), `shape`, `dtype`."""

    path: str
    name: str
    shape: tuple
    dtype: Any


class OptimizerMap(MutableMapping):
    """Keras's `OptimizerMap`: variable path (or regex) → optimizer.

    Lookup is an exact key first, then every key as a regular expression
    with `re.fullmatch`; more than one match is an error; no match gives
    `default_optimizer`.

    Args:
        default_optimizer: for params no key matches.
        optimizer_map: optional dict of path or regex → optimizer.

    Example:
        >>> import kerax.optimizers as ko
        >>> adam, sgd, rms = ko.Adam(), ko.SGD(), ko.RMSprop()
        >>> m = OptimizerMap(default_optimizer=rms)
        >>> m["encoder/layer_0/dense"] = adam
        >>> m["encoder/.*"] = sgd
        >>> m["encoder/layer_0/attention/query"] is sgd, m["decoder/dense"] is rms
        (True, True)
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not _is_optimizer(default_optimizer):
            raise TypeError(
                "default_optimizer must be an optimizer (kerax.optimizers.Adam(...) or "
                f"an optax GradientTransformation). Received: {default_optimizer}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(
                f"optimizer_map must be a dictionary. Received: {optimizer_map}"
            )
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(
                f"Multiple optimizers assigned to variable {key}: patterns {matching} "
                "all match it."
            )
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        try:
            re.compile(key)
        except re.error as e:
            raise ValueError(
                f"key {key!r} is not a valid regular expression: {e}"
            ) from None
        _check_inner(optimizer, "optimizer")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]


def _with_loss_scale_factor(optimizer, factor):
    """Keras sets each sub-optimizer's `loss_scale_factor` to the wrapper's."""
    if isinstance(optimizer, KerasOptimizer):
        if optimizer.get_config().get("loss_scale_factor") == factor:
            return optimizer
        from kerax.optimizers import deserialize

        config = {**optimizer.get_config(), "loss_scale_factor": factor}
        return deserialize({"class_name": optimizer.class_name, "config": config})
    if factor is not None:
        raise ValueError(
            "MultiOptimizer(loss_scale_factor=...) needs kerax optimizers inside "
            f"(it rebuilds them with the factor); got {optimizer!r}."
        )
    return optimizer


class MultiOptimizer(optax.GradientTransformation):
    """Keras's `MultiOptimizer`: each param gets the optimizer chosen for its path.

    Args:
        optimizer_map: an `OptimizerMap`, or a callable `variable -> optimizer`
            where `variable` has `.path`, `.name`, `.shape`, `.dtype`
            (`VariablePath`), as Keras's selector gets the variable.
        loss_scale_factor: set on every sub-optimizer (Keras overrides
            theirs, None included).
        name: accepted for Keras compatibility.

    The choice is made once per params structure, when `init` first sees
    it; a selector that builds a new optimizer per call gives each param its
    own. The state is `optax.multi_transform`'s. There is no single
    learning rate: `get_learning_rate` / `set_learning_rate` act on every
    sub-optimizer's state.
    """

    def __new__(cls, optimizer_map, loss_scale_factor=None, name=None):
        if not callable(optimizer_map):
            raise ValueError(
                "`optimizer_map` must be an OptimizerMap or a callable "
                f"`variable -> optimizer`. Received: {optimizer_map!r}"
            )
        inner: list = []
        rebuilt: dict[int, Any] = {}

        def own(opt):
            if id(opt) not in rebuilt:
                _check_inner(opt, "The optimizer chosen for a variable")
                rebuilt[id(opt)] = _with_loss_scale_factor(opt, loss_scale_factor)
                inner.append(rebuilt[id(opt)])
                originals.append(opt)  # Keep ids alive and unique.
            return inner.index(rebuilt[id(opt)])

        originals: list = []
        if isinstance(optimizer_map, OptimizerMap):
            for opt in optimizer_map.values():
                own(opt)
            own(optimizer_map.default_optimizer)
        plans: dict = {}

        def plan(tree):
            leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
            key = treedef  # Updates and params share it (their dtypes may differ).
            if key not in plans:
                labels = []
                for path, x in leaves:
                    p = _path(path)
                    var = VariablePath(
                        p, p.rsplit("/", 1)[-1], jnp.shape(x), jnp.result_type(x)
                    )
                    labels.append(str(own(optimizer_map(var))))
                used = sorted(set(labels), key=int)
                tx = optax.multi_transform(
                    {k: inner[int(k)] for k in used},
                    lambda _, labels=labels, treedef=treedef: treedef.unflatten(labels),
                )
                plans[key] = tx
            return plans[key]

        def init_fn(params):
            return plan(params).init(params)

        def update_fn(updates, state, params=None):
            return plan(updates).update(updates, state, params)

        self = super().__new__(cls, init_fn, update_fn)
        self._optimizer_map = optimizer_map
        self._inner = inner
        self.loss_scale_factor = loss_scale_factor
        self.name = name or "multi_optimizer"
        self.class_name = "MultiOptimizer"
        return self

    @property
    def optimizers(self) -> list:
        """The sub-optimizers (as rebuilt with `loss_scale_factor`)."""
        return list(self._inner)

    @property
    def optimizer_map(self):
        return self._optimizer_map

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the "
            "learning rate on the individual sub-optimizers instead "
            "(kerax.optimizers.get_learning_rate on their states)."
        )
