"""The kerax core: the layer contract, specs, nodes, names, dtype policies."""

from kerax.core.aux_losses import add_loss
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.node import Input, InputLayer, Node
from kerax.core.policy import DTypePolicy, dtype_policy, set_dtype_policy
from kerax.core.serialization import from_config, register, serialize, to_json
from kerax.core.spec import spec

__all__ = [
    "DTypePolicy",
    "Input",
    "InputLayer",
    "Layer",
    "Node",
    "add_loss",
    "dtype_policy",
    "field",
    "from_config",
    "register",
    "serialize",
    "set_dtype_policy",
    "spec",
    "to_json",
]
