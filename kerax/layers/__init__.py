"""Layers with Keras class names and arguments, one module per Keras family."""

from kerax.core.node import InputLayer
from kerax.layers.activation import *  # noqa: F403
from kerax.layers.attention import *  # noqa: F403
from kerax.layers.convolutional import *  # noqa: F403
from kerax.layers.core import *  # noqa: F403
from kerax.layers.merging import *  # noqa: F403
from kerax.layers.normalization import *  # noqa: F403
from kerax.layers.pooling import *  # noqa: F403
from kerax.layers.preprocessing import *  # noqa: F403
from kerax.layers.recurrent import *  # noqa: F403
from kerax.layers.regularization import *  # noqa: F403
from kerax.layers.reshaping import *  # noqa: F403
from kerax.models.repeat import Repeat

__all__ = ["InputLayer", "Repeat"]  # Extended below with every family's names.

from kerax.layers import (  # noqa: E402
    activation,
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

for _m in (
    activation,
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
):
    __all__ += list(_m.__all__)
del _m
