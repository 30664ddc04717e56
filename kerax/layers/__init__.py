"""Layers with Keras class names and arguments, one public module per Keras family.

`kerax.layers.<family>` lists a family's layers (`core`, `convolutional`,
`pooling`, `normalization`, `attention`, `recurrent`, `reshaping`,
`merging`, `regularization`, `activations`, `preprocessing`); every name is
also here, as `keras.layers` has them.
"""

from kerax.core import registry
from kerax.core.input_spec import InputSpec
from kerax.core.layer import Layer
from kerax.core.node import Input, InputLayer
from kerax.layers import (
    activations,
    attention,
    convolutional,
    core,
    merging,
    normalization,
    pooling,
    preprocessing,
    recurrent,
    regularization,
    reshaping,
)
from kerax.layers._serialize import deserialize, serialize
from kerax.layers.activations import *  # noqa: F403
from kerax.layers.attention import *  # noqa: F403
from kerax.layers.convolutional import *  # noqa: F403
from kerax.layers.core import *  # noqa: F403
from kerax.layers.jax_layer import FlaxLayer, JaxLayer
from kerax.layers.merging import *  # noqa: F403
from kerax.layers.normalization import *  # noqa: F403
from kerax.layers.pooling import *  # noqa: F403
from kerax.layers.preprocessing import *  # noqa: F403
from kerax.layers.recurrent import *  # noqa: F403
from kerax.layers.regularization import *  # noqa: F403
from kerax.layers.reshaping import *  # noqa: F403

__all__ = [
    "Input",
    "InputLayer",
    "InputSpec",
    "FlaxLayer",
    "JaxLayer",
    "Layer",
    "deserialize",
    "serialize",
    *activations.__all__,
    *attention.__all__,
    *convolutional.__all__,
    *core.__all__,
    *merging.__all__,
    *normalization.__all__,
    *pooling.__all__,
    *preprocessing.__all__,
    *recurrent.__all__,
    *regularization.__all__,
    *reshaping.__all__,
]

# Configs name layers by these public classes (a private base such as
# `_Merge` is never loadable). Not here: the lowercase merge functions and
# `Input` (not layers) and `Layer` (abstract).
registry.add_all(
    "layers",
    {
        name: obj
        for name in __all__
        if isinstance(obj := globals()[name], type) and name != "Layer"
    },
)
