"""Keras optimizers as optax `GradientTransformation`s.

Keras's names, arguments, defaults and numerics (`SGD`, `Adam`, `AdamW`, ...
with `weight_decay`, `clipnorm`, `global_clipnorm`, `use_ema`,
`gradient_accumulation_steps`, ...) on top of the optax contract, so a kerax
optimizer goes anywhere an optax one does and the reverse:

    tx = kerax.optimizers.get("adam", learning_rate=1e-3)
    opt_state = tx.init(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)

The learning rate is part of `opt_state` (`get_learning_rate`,
`set_learning_rate`), schedules live in `kerax.optimizers.schedules`,
`freeze` gives Keras's `trainable=False`, and `DynamicLossScale` Keras's
float16 loss scaling (`LossScaleOptimizer` wraps an optimizer with it, as
Keras; `MultiOptimizer` / `OptimizerMap` pick an optimizer per param path).
`Muon` picks its rule per param from the params-tree
path (`muon_labels`); `ScheduleFreeAdamW` trains on the interpolated params
as Keras does, and `schedule_free_eval_params` gives the averaged ones.

Example:
    >>> import jax.numpy as jnp, kerax.optimizers as ko
    >>> tx = ko.get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    >>> ko.serialize(tx)["config"]["learning_rate"]
    0.5
"""

from __future__ import annotations

from typing import Any

import optax

from kerax.core import registry
from kerax.optimizers import schedules
from kerax.optimizers.adam_family import (
    Adafactor,
    Adam,
    Adamax,
    AdamW,
    Lamb,
    Lion,
    Nadam,
)
from kerax.optimizers.base import (
    Capabilities,
    KerasOptimizer,
    KerasOptimizerState,
    capabilities,
    ema_params,
    freeze,
    get_learning_rate,
    scale_loss,
    set_learning_rate,
)
from kerax.optimizers.classic import SGD, Adadelta, Adagrad, Ftrl, RMSprop
from kerax.optimizers.loss_scale import DynamicLossScale, LossScaleState
from kerax.optimizers.muon import Muon, muon_labels
from kerax.optimizers.schedule_free import (
    ScheduleFreeAdamW,
    schedule_free_eval_params,
)
from kerax.optimizers.wrappers import (
    LossScaleOptimizer,
    LossScaleOptimizerState,
    MultiOptimizer,
    OptimizerMap,
)

__all__ = [
    "SGD",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Adagrad",
    "Adadelta",
    "Adafactor",
    "Lamb",
    "Lion",
    "Ftrl",
    "Muon",
    "ScheduleFreeAdamW",
    "KerasOptimizer",
    "KerasOptimizerState",
    "DynamicLossScale",
    "LossScaleState",
    "LossScaleOptimizer",
    "LossScaleOptimizerState",
    "MultiOptimizer",
    "OptimizerMap",
    "schedules",
    "get",
    "serialize",
    "deserialize",
    "get_learning_rate",
    "set_learning_rate",
    "ema_params",
    "schedule_free_eval_params",
    "muon_labels",
    "scale_loss",
    "freeze",
    "Capabilities",
    "capabilities",
]

_OPTIMIZERS = {
    f.__name__.lower(): f
    for f in (
        SGD,
        RMSprop,
        Adam,
        AdamW,
        Adamax,
        Nadam,
        Adagrad,
        Adadelta,
        Adafactor,
        Lamb,
        Lion,
        Ftrl,
        Muon,
        ScheduleFreeAdamW,
    )
}


def _is_transformation(x: Any) -> bool:
    return isinstance(x, optax.GradientTransformation) or (
        callable(getattr(x, "init", None)) and callable(getattr(x, "update", None))
    )


# Keras's class names, and the lower-case names `get` accepts in any case.
registry.add_all("optimizers", {f.__name__: f for f in _OPTIMIZERS.values()})
registry.add_all("optimizers", _OPTIMIZERS)


def _factory(name: Any):
    """The optimizer factory for a name in any case (registered names first)."""
    found = registry.lookup_custom(name)
    if found is not None:
        return found
    key = name.lower() if isinstance(name, str) else name
    if key in _OPTIMIZERS:
        return _OPTIMIZERS[key]
    raise ValueError(
        f"Unknown optimizer {name!r}. Valid names: {sorted(_OPTIMIZERS)} (any case), "
        "a config dict, an optax GradientTransformation, or a name registered with "
        "`kerax.register`."
    )


def deserialize(config: dict[str, Any], **kwargs) -> KerasOptimizer:
    """Builds an optimizer from `{"class_name": "Adam", "config": {...}}`.

    A serialized schedule under `config["learning_rate"]` is rebuilt too;
    `kwargs` override the config.

    Example:
        >>> deserialize({"class_name": "SGD", "config": {"learning_rate": 0.5}}).class_name
        'SGD'
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "An optimizer config must be a dict with 'class_name' and 'config' keys. "
            f"Received: {config!r}"
        )
    factory = _factory(config.get("registered_name") or config["class_name"])
    args = {**(config.get("config") or {}), **kwargs}
    if isinstance(args.get("learning_rate"), dict):
        args["learning_rate"] = schedules.deserialize(args["learning_rate"])
    return factory(**args)


def serialize(optimizer: KerasOptimizer) -> dict[str, Any]:
    """`{"class_name", "config"}` of a kerax optimizer (Keras's format).

    Example:
        >>> serialize(SGD(learning_rate=0.5))["config"]["learning_rate"]
        0.5
    """
    if not isinstance(optimizer, KerasOptimizer):
        raise TypeError(
            "Only optimizers made by kerax.optimizers can be serialized; "
            f"got {type(optimizer).__name__}."
        )
    return {
        "module": registry.family("optimizers").module,
        "class_name": optimizer.class_name,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def get(identifier: Any, **kwargs) -> optax.GradientTransformation:
    """An optimizer from a Keras name, a config dict, or an optax transformation.

    Args:
        identifier: a Keras optimizer name, any case (`"adam"`, `"AdamW"`,
            `"rmsprop"`, ...); a dict `{"class_name": ..., "config": {...}}`;
            or an optax `GradientTransformation`, returned as is.
        **kwargs: constructor arguments for a name or dict
            (`learning_rate=...`, `weight_decay=...`, ...).

    Raises:
        ValueError: unknown name, or kwargs given with a ready transformation.

    Example:
        >>> import optax, kerax.optimizers as ko
        >>> tx = ko.get("Adam", learning_rate=3e-4)
        >>> ko.get(optax.adam(1e-3)) is not None
        True
    """
    if isinstance(identifier, str):
        return _factory(identifier)(**kwargs)
    if isinstance(identifier, dict):
        return deserialize(identifier, **kwargs)
    if _is_transformation(identifier):
        if kwargs:
            raise ValueError(
                f"Arguments {sorted(kwargs)} cannot be applied to a ready optax "
                "GradientTransformation; pass an optimizer name instead."
            )
        return identifier
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Valid names: "
        f"{sorted(_OPTIMIZERS)}, a config dict, or an optax GradientTransformation."
    )


registry.set_get("optimizers", get)
