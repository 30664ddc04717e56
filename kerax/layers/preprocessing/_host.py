"""Host-side layers: computed in NumPy on the host, since JAX has no strings.

`StringLookup`, `TextVectorization`, `Hashing` and `HashedCrossing` run in
the data pipeline (`x = layer(texts)` before `fit`, or in a `tf.data` map,
as in Keras: `ds.map(lambda x, y: (layer(x), y))`); inside a jitted or
traced model, or on a `kerax.Input` node, they raise `host_only_error`.
"""

from __future__ import annotations

import sys

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


def _is_tf_graph(x) -> bool:
    """Whether `x` holds TensorFlow graph tensors (a `tf.data` map, a `tf.function`)."""
    tf = sys.modules.get("tensorflow")  # Never imported here: only the caller's.
    return tf is not None and any(
        tf.is_symbolic_tensor(leaf) for leaf in jax.tree.leaves(x)
    )


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
        if _is_tf_graph(inputs):
            return self._tf_graph_call(inputs)
        return self._host_call(inputs)

    def _host_dtype(self) -> np.dtype:
        """The dtype of `_host_call`'s output: int32 ids, float32 for `"tf_idf"`."""
        mode = getattr(self, "output_mode", "int")
        return np.dtype(np.float32 if mode == "tf_idf" else np.int32)

    def _tf_graph_call(self, inputs):
        """`_host_call` as a `tf.numpy_function`: Keras's lookups run in `tf.data` maps too.

        The output's static shape is unknown (the host call sees the values).
        """
        tf = sys.modules["tensorflow"]
        leaves, treedef = jax.tree.flatten(inputs)
        dtype = self._host_dtype()

        def host(*arrays):
            out = np.asarray(self._host_call(jax.tree.unflatten(treedef, arrays)))
            if dtype.kind == "O":  # Strings (an inverted lookup): TF takes bytes.
                encoding = getattr(self, "encoding", "utf-8")
                flat = [v.encode(encoding) for v in out.reshape(-1).tolist()]
                return np.array(flat, dtype=object).reshape(out.shape)
            return out.astype(dtype)

        tout = tf.string if dtype.kind == "O" else tf.as_dtype(dtype)
        return tf.numpy_function(host, leaves, tout, stateful=False)

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
