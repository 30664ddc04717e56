"""Symbolic graph nodes: `kerax.Input` and layers called on nodes.

A node holds only a spec and how it was made (the layer and its arguments);
nothing is computed until a `kerax.Model` built from the nodes is applied.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax.core.layer import Layer
from kerax.core.spec import shape_str, to_spec
from kerax.core.spec import spec as make_spec


class Node:
    """A symbolic value in a functional graph.

    `op` is the layer that produced it (an `InputLayer` for inputs), `args`
    and `kwargs` its call arguments (pytrees that may hold other nodes), and
    `path` indexes into the layer's output when it returns several values
    (`node[0]`, `node["key"]`).
    """

    __slots__ = ("spec", "op", "args", "kwargs", "parent", "path")

    def __init__(self, spec, op=None, args=(), kwargs=None, parent=None, path=()):
        self.spec = spec
        self.op = op
        self.args = args
        self.kwargs = kwargs or {}
        self.parent = parent  # For indexed nodes: the node indexed into.
        self.path = path

    @property
    def shape(self):
        return self.spec.shape if isinstance(self.spec, jax.ShapeDtypeStruct) else None

    @property
    def dtype(self):
        return self.spec.dtype if isinstance(self.spec, jax.ShapeDtypeStruct) else None

    def __getitem__(self, index):
        if isinstance(self.spec, jax.ShapeDtypeStruct):
            raise TypeError(
                f"This node has a single output of shape {shape_str(self.spec.shape)}; indexing nodes selects "
                "one of several layer outputs. To slice a tensor, use a layer (e.g. Lambda or Reshape)."
            )
        try:
            sub = self.spec[index]
        except (KeyError, IndexError, TypeError):
            raise IndexError(
                f"Output index {index!r} is out of range for outputs {self.spec}."
            ) from None
        return Node(sub, parent=self, path=(index,))

    def __len__(self):
        if isinstance(self.spec, jax.ShapeDtypeStruct):
            raise TypeError("A single-output node has no length.")
        return len(self.spec)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        made_by = self.op.describe() if self.op is not None else f"index {self.path}"
        shape = shape_str(self.shape) if self.shape is not None else self.spec
        return f"<kerax.Node shape={shape} dtype={self.dtype} from {made_by}>"

    # Nodes are identities, not values: two nodes are never "equal".
    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            "A kerax.Node is symbolic: it has no truth value. Build the model, then apply it to arrays."
        )


class InputLayer(Layer):
    """The layer behind `kerax.Input`: declares a model input (identity)."""

    shape: tuple = ()
    batch_size: int | None = None
    input_dtype: str = "float32"

    @property
    def default_name(self) -> str:
        return "input_layer"

    @property
    def input_spec(self):
        return make_spec((self.batch_size, *self.shape), self.input_dtype)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return x, state


def Input(
    shape,
    batch_size=None,
    dtype="float32",
    name=None,
    batch_shape=None,
    sparse=None,
    ragged=None,
) -> Node:  # noqa: N802
    """A symbolic model input, like `keras.Input` (the batch dimension is implied).

    Example:
        >>> x = kerax.Input((32,), name="features")
        >>> x.shape
        (batch, 32)
    """
    if sparse or ragged:
        raise ValueError(
            "kerax.Input: sparse and ragged inputs are not supported; pass dense arrays."
        )
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if shape is None:
        raise ValueError("kerax.Input needs a shape, e.g. kerax.Input((28, 28, 1)).")
    if isinstance(shape, int):
        shape = (shape,)
    layer = InputLayer(
        shape=tuple(shape),
        batch_size=batch_size,
        input_dtype=jnp.dtype(dtype).name,
        name=name,
    )
    return Node(layer.input_spec, op=layer)


def _spec_of(tree):
    return jax.tree.map(
        lambda v: v.spec if isinstance(v, Node) else v,
        tree,
        is_leaf=lambda v: isinstance(v, Node),
    )


def call_layer(layer: Layer, args: tuple, kwargs: dict) -> Any:
    """`layer(*args, **kwargs)` on nodes: computes the output spec, records the call."""
    leaves = jax.tree.leaves((args, kwargs), is_leaf=lambda v: isinstance(v, Node))
    if not any(isinstance(v, Node) for v in leaves):
        raise TypeError(
            f"{layer.describe()} was called on arrays. In kerax, calling a layer builds a graph from "
            "kerax.Input nodes; to compute, use `params, state = layer.init(key, kerax.spec(shape))` then "
            "`y, state = layer.apply(params, state, x)`."
        )
    for k in ("key", "training"):
        if k in kwargs:
            raise TypeError(
                f"{layer.describe()}: `{k}` is given when the model is applied, not when it is built."
            )
    arg_specs = _spec_of(args)
    kw_specs = _spec_of(kwargs)
    try:
        out = layer.output_spec(*arg_specs, **kw_specs)
    except (ValueError, TypeError) as e:  # Name the layer and the input shapes.
        if layer.describe() in str(e):
            raise
        shapes = jax.tree.map(lambda s: shape_str(s.shape), to_spec(arg_specs))
        raise type(e)(
            f"{layer.describe()} cannot be called on inputs {shapes}: {e}"
        ) from e
    return Node(out, op=layer, args=args, kwargs=kwargs)
