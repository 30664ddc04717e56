"""kerax: the Keras API rebuilt as pure, functional JAX.

Layers are frozen config objects with pure `init`/`apply` functions; models
are layers made of layers; training, checkpoints, sharding and export are
plain functions over pytrees of arrays.
"""

from kerax import (
    activations,
    applications,
    backend,
    callbacks,
    checkpoint,
    config,
    constraints,
    datasets,
    distillation,
    distribute,
    distribution,
    dtype_policies,
    export,
    initializers,
    interop,
    layers,
    losses,
    metrics,
    mixed_precision,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    training,
    tree,
    utils,
    wrappers,
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
from kerax.core.input_spec import InputSpec
from kerax.core.remat import RematScope, remat
from kerax.initializers import Initializer
from kerax.losses import Loss
from kerax.metrics import Metric
from kerax.models import Model, Sequential
from kerax.regularizers import Regularizer
from kerax.saving import (
    load_model,
    load_trainer,
    load_weights,
    save_model,
    save_weights,
)
from kerax.training import Trainer, TrainState


def version() -> str:
    """Keras's `keras.version()`: kerax's version string."""
    return __version__


__all__ = [
    "__version__",
    "version",
    "Initializer",
    "InputSpec",
    "Loss",
    "Metric",
    "Regularizer",
    "RematScope",
    "remat",
    "dtype_policies",
    "preprocessing",
    "distillation",
    "distribution",
    "wrappers",
    "TrainState",
    "Trainer",
    "callbacks",
    "losses",
    "metrics",
    "ops",
    "optimizers",
    "random",
    "training",
    "tree",
    "utils",
    "DTypePolicy",
    "Input",
    "Layer",
    "Model",
    "Node",
    "Sequential",
    "activations",
    "applications",
    "backend",
    "checkpoint",
    "config",
    "mixed_precision",
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
