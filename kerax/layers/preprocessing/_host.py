"""Host-side layers: computed in NumPy on the host, since JAX has no strings.

`StringLookup`, `TextVectorization`, `Hashing` and `HashedCrossing` run in
the data pipeline (`x = layer(texts)` before `fit`); inside a jitted or
traced model, or on a `kerax.Input` node, they raise `host_only_error`.
"""

from __future__ import annotations

import jax
import numpy as np

from kerax.core.layer import Layer


def host_only_error(layer) -> ValueError:
    return ValueError(
        f"{layer.describe()} runs on the host (NumPy strings; JAX has no string arrays), so it cannot be part of a "
        "jitted or traced model. Apply it in the data pipeline: `x = layer(texts)` before `fit`/`apply`, and "
        "start the model at its integer (or float) outputs."
    )


def _is_traced(x) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


class _HostLayer(Layer):
    """A layer computed in NumPy on the host: `layer(x)` returns a NumPy array.

    `layer.apply({}, {}, x)` works too (outside jit); `init`, graph nodes and
    tracing raise `host_only_error`.
    """

    def check_input(self, *specs):
        raise host_only_error(self)

    def __call__(self, inputs):
        from kerax.core.node import Node  # node.py imports kerax.core.layer.

        if _is_traced(inputs) or any(
            isinstance(v, Node) for v in jax.tree.leaves(inputs)
        ):
            raise host_only_error(self)
        return self._host_call(inputs)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        if _is_traced(x):
            raise host_only_error(self)
        return self._host_call(x), state

    def _host_call(self, x):
        raise NotImplementedError


def as_strings(layer, x, encoding: str) -> np.ndarray:
    """`x` (a list, NumPy or tf string array) as a NumPy object array of `str`."""
    if _is_traced(x):
        raise host_only_error(layer)
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()  # A tf.Tensor of strings.
    try:
        out = np.array(x, dtype=object)
    except ValueError:
        raise ValueError(
            f"{layer.describe()}: inputs must be a rectangular array or nested list of strings (no ragged rows)."
        ) from None
    flat = out.reshape(-1)
    for i, v in enumerate(flat):
        if isinstance(v, bytes | np.bytes_):
            flat[i] = bytes(v).decode(encoding)
        elif isinstance(v, np.str_):
            flat[i] = str(v)
        elif not isinstance(v, str):
            raise TypeError(
                f"{layer.describe()}: expected string inputs, got an element of type {type(v).__name__} ({v!r})."
            )
    return flat.reshape(out.shape)
