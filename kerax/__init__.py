"""kerax: the Keras API rebuilt as pure, functional JAX.

Layers are frozen config objects with pure `init`/`apply` functions; models
are layers made of layers; training, checkpoints, sharding and export are
plain functions over pytrees of arrays.
"""

from kerax import (
    activations,
    callbacks,
    checkpoint,
    constraints,
    datasets,
    distribute,
    export,
    initializers,
    interop,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    training,
    utils,
)
from kerax._version import __version__
from kerax.core import (
    DTypePolicy,
    Input,
    Layer,
    Node,
    add_loss,
    dtype_policy,
    field,
    from_config,
    register,
    serialize,
    set_dtype_policy,
    spec,
    to_json,
)
from kerax.models import Model, Sequential
from kerax.saving import (
    load_model,
    load_trainer,
    load_weights,
    save_model,
    save_weights,
)
from kerax.training import Trainer, TrainState

__all__ = [
    "__version__",
    "TrainState",
    "Trainer",
    "callbacks",
    "losses",
    "metrics",
    "ops",
    "optimizers",
    "random",
    "training",
    "utils",
    "DTypePolicy",
    "Input",
    "Layer",
    "Model",
    "Node",
    "Sequential",
    "activations",
    "checkpoint",
    "add_loss",
    "constraints",
    "datasets",
    "distribute",
    "export",
    "dtype_policy",
    "field",
    "from_config",
    "initializers",
    "interop",
    "layers",
    "load_model",
    "load_trainer",
    "load_weights",
    "register",
    "regularizers",
    "save_model",
    "save_weights",
    "saving",
    "serialize",
    "set_dtype_policy",
    "spec",
    "to_json",
]
