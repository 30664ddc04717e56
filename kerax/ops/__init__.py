"""Keras's `keras.ops` for kerax: the same names, arguments and semantics.

Keras's ops are already pure on its JAX backend, so kerax's are thin layers
over `jax.numpy`, `jax.nn` and `jax.lax`: what Keras code gets from them is
its vocabulary (`ops.clip(x, x_min, x_max)`, `ops.top_k`, `ops.segment_sum`,
`ops.while_loop`, ...). Like `keras.ops`, everything is importable from
`kerax.ops` directly, and by family from `ops.numpy`, `ops.nn`, `ops.image`,
`ops.linalg`, `ops.math`, `ops.core` and `ops.einops` (`rearrange`).

Like Keras's, the ops take Python lists and tuples where a tensor goes
(`ops.sum([1.0, 2.0])`): the one dispatch point that makes graph nodes
(`kerax.ops._symbolic`) converts them, by the parameter's name (`x`, `x1`,
`a`, ...); shapes, axes and lists of tensors stay as given.

Keras's sparse and ragged tensors do not exist here: the ops that take
`sparse=True` raise an error that says so.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> x = ops.softmax(jnp.array([[1.0, 2.0, 3.0]]))
    >>> ops.argmax(x, axis=-1)
    Array([2], dtype=int32)
    >>> float(ops.sum(x))
    1.0
    >>> ops.add([1, 2], [3, 4])  # Lists where a tensor goes, as in Keras.
    Array([4, 6], dtype=int32)
"""

from kerax.ops import _symbolic, core, einops, image, linalg, math, nn, numpy  # noqa: F401
from kerax.ops.core import *  # noqa: F403
from kerax.ops.einops import *  # noqa: F403
from kerax.ops.linalg import *  # noqa: F403
from kerax.ops.math import *  # noqa: F403
from kerax.ops.nn import *  # noqa: F403
from kerax.ops.numpy import *  # noqa: F403

# The one dispatch point for graph nodes: every public op, called with a
# `kerax.Node` among its arguments, returns a node of the graph (Keras's ops
# on KerasTensors; see `kerax.ops._symbolic`).
for _module in (core, einops, linalg, math, nn, numpy):
    globals().update(_symbolic.wrap_module(_module))
_symbolic.wrap_module(image, prefix="image.")
del _module

__all__ = sorted(
    {
        *core.__all__,
        *einops.__all__,
        *linalg.__all__,
        *math.__all__,
        *nn.__all__,
        *numpy.__all__,
    }
    | {"core", "einops", "image", "linalg", "math", "nn", "numpy"}
)
