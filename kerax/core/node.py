"""Symbolic graph nodes: `kerax.Input` and layers called on nodes.

A node holds only a spec and how it was made (the layer and its arguments);
nothing is computed until a `kerax.Model` built from the nodes is applied.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import BOUND, Layer
from kerax.core.spec import keras_shape, shape_str, to_spec
from kerax.core.spec import spec as make_spec

_made = itertools.count()


class Node:
    """A symbolic value in a functional graph.

    `op` is the layer that produced it (an `InputLayer` for inputs), `args`
    and `kwargs` its call arguments (pytrees that may hold other nodes), and
    `path` indexes into the layer's output when it returns several values
    (`node[0]`, `node["key"]`). `mask` is the spec of the mask the node
    carries (None without one), Keras's `_keras_mask` on a symbolic tensor:
    computed when the layer is called, and handed to the next layer's
    `call` and `compute_mask` as its input mask, as when the model runs.

    A node handed out by a model (`model.get_layer("x").output`) is a handle
    on the model's own node (`origin`) that also carries the model's layer
    names (`names`), so a model built from it (feature extraction) names
    those layers as the source model did and its params are a sub-tree of
    the source model's.
    """

    __slots__ = (
        "spec",
        "op",
        "args",
        "kwargs",
        "parent",
        "path",
        "names",
        "origin",
        "mask",
        "seq",
    )

    def __init__(
        self,
        spec,
        op=None,
        args=(),
        kwargs=None,
        parent=None,
        path=(),
        names=None,
        origin=None,
        mask=None,
    ):
        self.spec = spec
        self.op = op
        self.args = args
        self.kwargs = kwargs or {}
        self.parent = parent  # For indexed nodes: the node indexed into.
        self.path = path
        # {id(layer): (layer, name)}: names given by the model this came from.
        self.names = names
        self.origin = origin
        self.mask = mask
        # When the node was made: the order the script called its layers in.
        # A model names its layers in that order, as Keras's counters do.
        self.seq = origin.seq if origin is not None else next(_made)

    @property
    def _keras_mask(self):
        """Keras's name for the node's mask: its spec, or None."""
        return self.mask

    def unwrap(self) -> Node:
        """The graph node itself (a model's handle resolves to its node)."""
        return self.origin if self.origin is not None else self

    def with_names(self, names) -> Node:
        """A handle on this node carrying layer names `{id(layer): (layer, name)}`."""
        node = self.unwrap()
        return Node(
            node.spec,
            op=node.op,
            args=node.args,
            kwargs=node.kwargs,
            parent=node.parent,
            path=node.path,
            names=names,
            origin=node,
            mask=node.mask,
        )

    @property
    def shape(self):
        """The shape as Keras shows it: `None` for symbolic dimensions."""
        if isinstance(self.spec, jax.ShapeDtypeStruct):
            return keras_shape(self.spec.shape)
        return None

    @property
    def dtype(self):
        return self.spec.dtype if isinstance(self.spec, jax.ShapeDtypeStruct) else None

    def __getitem__(self, index):
        if self.origin is not None:
            sub = self.origin[index]
            sub.names = self.names
            return sub
        if isinstance(self.spec, jax.ShapeDtypeStruct):
            # Slicing a tensor: Keras's `GetItem` op (`x[:, 0]`).
            return _op("get_item", self, index)
        try:
            sub = self.spec[index]
        except (KeyError, IndexError, TypeError):
            raise IndexError(
                f"Output index {index!r} is out of range for outputs {self.spec}."
            ) from None
        mask = (
            self.mask[index]
            if isinstance(self.mask, (tuple, list, dict))
            else self.mask
        )
        return Node(sub, parent=self, path=(index,), mask=mask)

    def __len__(self):
        if isinstance(self.spec, jax.ShapeDtypeStruct):
            raise TypeError("A single-output node has no length.")
        return len(self.spec)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        made_by = self.op.describe() if self.op is not None else f"index {self.path}"
        shape = (
            shape_str(self.shape)
            if self.shape is not None
            else jax.tree.map(lambda s: shape_str(s.shape), self.spec)
        )
        return f"<kerax.Node shape={shape} dtype={self.dtype} from {made_by}>"

    # Nodes are identities, not values: two nodes are never "equal".
    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            "A kerax.Node is symbolic: it has no value, so it cannot be used as a boolean (in `if`, "
            "`while`, `and`/`or`). For a choice per element use kerax.ops.where(cond, x, y); for "
            "Python control flow on values, do it in a layer's `call` (e.g. kerax.layers.Lambda) "
            "or with kerax.ops.cond."
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A kerax.Node is symbolic: a placeholder for a shape and a dtype, with no value to "
            "convert to an array. Compute with kerax.ops on nodes (e.g. kerax.ops.sum(x)), then "
            "build the model and apply it to arrays."
        )

    # Operators build op nodes as Keras's KerasTensor does (`x + 1`,
    # `-x`, `x @ w`). No `__eq__`: nodes are graph identities (dict keys,
    # `is`), as KerasTensors are; `x != y` is Keras's `NotEqual`.
    def __add__(self, other):
        return _op("add", self, other)

    def __radd__(self, other):
        return _op("add", other, self)

    def __sub__(self, other):
        return _op("subtract", self, other)

    def __rsub__(self, other):
        return _op("subtract", other, self)

    def __mul__(self, other):
        return _op("multiply", self, other)

    def __rmul__(self, other):
        return _op("multiply", other, self)

    def __matmul__(self, other):
        return _op("matmul", self, other)

    def __rmatmul__(self, other):
        return _op("matmul", other, self)

    def __truediv__(self, other):
        return _op("true_divide", self, other)

    def __rtruediv__(self, other):
        return _op("true_divide", other, self)

    def __floordiv__(self, other):
        return _op("floor_divide", self, other)

    def __rfloordiv__(self, other):
        return _op("floor_divide", other, self)

    def __mod__(self, other):
        return _op("mod", self, other)

    def __rmod__(self, other):
        return _op("mod", other, self)

    def __pow__(self, other):
        return _op("power", self, other)

    def __rpow__(self, other):
        return _op("power", other, self)

    def __neg__(self):
        return _op("negative", self)

    def __abs__(self):
        return _op("absolute", self)

    def __lt__(self, other):
        return _op("less", self, other)

    def __le__(self, other):
        return _op("less_equal", self, other)

    def __gt__(self, other):
        return _op("greater", self, other)

    def __ge__(self, other):
        return _op("greater_equal", self, other)

    def __ne__(self, other):
        return _op("not_equal", self, other)

    def __and__(self, other):
        return _op("logical_and", self, other)

    def __rand__(self, other):
        return _op("logical_and", other, self)

    def __or__(self, other):
        return _op("logical_or", self, other)

    def __ror__(self, other):
        return _op("logical_or", other, self)

    def __xor__(self, other):
        return _op("logical_xor", self, other)

    def __rxor__(self, other):
        return _op("logical_xor", other, self)

    def __invert__(self):
        return _op("logical_not", self)

    def __round__(self, ndigits=None):
        return _op("round", self, decimals=ndigits or 0)


# `kerax.ops` installs how an operator on nodes builds its op node: this
# floor does not import the ops (see kerax.ops._symbolic).
_op_dispatcher = None


def holds_nodes(tree) -> bool:
    """Whether a `Node` is anywhere in `tree` (lists, tuples, namedtuples,
    dicts, other pytrees): whether a call on it builds a graph."""
    if isinstance(tree, Node):
        return True
    if isinstance(tree, (list, tuple)):
        return any(holds_nodes(v) for v in tree)
    if isinstance(tree, dict):
        return any(holds_nodes(v) for v in tree.values())
    if tree is None or isinstance(tree, (bool, int, float, str, jax.Array)):
        return False
    return any(
        isinstance(v, Node)
        for v in jax.tree.leaves(tree, is_leaf=lambda v: isinstance(v, Node))
    )


def set_op_dispatcher(fn) -> None:
    """Installs `fn(op_name, *args, **kwargs) -> Node` for `Node`'s operators."""
    global _op_dispatcher
    _op_dispatcher = fn


def _op(name: str, *args, **kwargs):
    if _op_dispatcher is None:  # `import kerax` installs it.
        raise RuntimeError("kerax.ops is not imported: `import kerax` first.")
    return _op_dispatcher(name, *args, **kwargs)


def _input_shape(shape) -> tuple[int | None, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise ValueError(
            f"expected a shape: a tuple of ints or None, got {shape!r}."
        ) from None


def _dtype_name(dtype) -> str:
    try:
        return jnp.dtype(dtype).name
    except TypeError:
        raise ValueError(
            f"expected a dtype such as 'float32' or 'int32', got {dtype!r}."
        ) from None


class InputLayer(Layer):
    """The layer behind `kerax.Input`: declares a model input (identity).

    Args:
        shape: The shape of one sample, without the batch dimension; `None`
            for a dimension of any size (e.g. a variable sequence length).
        batch_size: A fixed batch size, or `None` for any batch size.
        input_dtype: The dtype of the input, as a name (`"float32"`).
        name: The input's name; models take dict inputs keyed by it.

    Example:
        >>> kerax.layers.InputLayer(shape=(3,), name="x").input_spec
        ShapeDtypeStruct(shape=(batch, 3), dtype=float32)
    """

    shape: tuple[int | None, ...] = field((), converter=_input_shape)
    batch_size: int | None = None
    input_dtype: str = field("float32", converter=_dtype_name)

    _input_shape_is_shape: ClassVar[bool] = True  # `InputLayer(input_shape=...)`.

    @property
    def default_name(self) -> str:
        return "input_layer"

    @property
    def input_spec(self) -> jax.ShapeDtypeStruct:
        return make_spec((self.batch_size, *self.shape), self.input_dtype)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return x, state


def Input(  # noqa: N802
    shape: tuple[int | None, ...] | int | None = None,
    batch_size: int | None = None,
    dtype: str | None = None,
    sparse: bool | None = None,
    ragged: bool | None = None,
    batch_shape: tuple[int | None, ...] | None = None,
    name: str | None = None,
) -> Node:
    """A symbolic model input, like `keras.Input`.

    Args:
        shape: The shape of one sample, without the batch dimension
            (`(28, 28, 1)`); `None` for a dimension of any size.
        batch_size: A fixed batch size; by default any batch size.
        dtype: The input's dtype (default `"float32"`).
        sparse: Not supported (kerax inputs are dense arrays).
        ragged: Not supported.
        batch_shape: The full shape with the batch dimension,
            `(None, 28, 28, 1)`: instead of `shape` and `batch_size`.
        name: The input's name. Models take dict inputs keyed by it.

    Example:
        >>> x = kerax.Input((32,), name="features")
        >>> x.shape
        (None, 32)
        >>> kerax.Input(batch_shape=(8, 10)).shape
        (8, 10)
    """
    if sparse or ragged:
        raise ValueError(
            "kerax.Input: sparse and ragged inputs are not supported; pass dense arrays."
        )
    if batch_shape is not None:
        if shape is not None:
            raise ValueError(
                "kerax.Input: pass either `shape` (without the batch dimension) or `batch_shape` "
                f"(with it), not both; got shape={shape!r}, batch_shape={batch_shape!r}."
            )
        batch_shape = _input_shape(batch_shape)
        if not batch_shape:
            raise ValueError(
                "kerax.Input: `batch_shape` starts with the batch dimension, e.g. (None, 784); got ()."
            )
        batch_size, shape = batch_shape[0], batch_shape[1:]
    if shape is None:
        raise ValueError(
            "kerax.Input needs a shape, e.g. kerax.Input((28, 28, 1)) or "
            "kerax.Input(batch_shape=(None, 28, 28, 1))."
        )
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        input_dtype="float32" if dtype is None else dtype,
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
    if "key" in kwargs:
        raise TypeError(
            f"{layer.describe()}: `key` is given when the model is applied, not when it is built."
        )
    # Keras's `base_model(x, training=False)`: recorded on the node (and in
    # files), and, as in Keras 3, overridden by the mode the model is applied
    # with (`fit` trains every layer; a frozen BatchNormalization runs in
    # inference mode by being frozen). Not used for the output spec.
    kwargs = dict(kwargs)
    training = kwargs.pop("training", None)
    if training is not None and not isinstance(training, bool):
        raise TypeError(
            f"{layer.describe()}: `training` in a graph call must be True or False, as Keras "
            f"records it; got {training!r}."
        )
    # `model.get_layer(name)` hands out a view of the model's layer: calling it
    # calls the model's layer itself, so the weights are shared as in Keras.
    layer = bound_origin(layer)
    names = merged_names(leaves)
    args, kwargs = unwrap((args, kwargs))
    arg_specs = _spec_of(args)
    kw_specs = _spec_of(kwargs)
    # The input mask, found as the model finds it when it runs: the masks of
    # the positional inputs' nodes, unless `mask=` is given.
    mask = kw_specs.pop("mask", None) if "mask" in kw_specs else _mask_of(args)
    try:
        out, out_mask = layer.output_spec_masked(*arg_specs, mask=mask, **kw_specs)
    except (ValueError, TypeError) as e:  # Name the layer and the input shapes.
        if layer.describe() in str(e):
            raise
        shapes = jax.tree.map(lambda s: shape_str(s.shape), to_spec(arg_specs))
        raise type(e)(
            f"{layer.describe()} cannot be called on inputs {shapes}: {e}"
        ) from e
    if training is not None:
        kwargs["training"] = training
    return Node(out, op=layer, args=args, kwargs=kwargs, names=names, mask=out_mask)


def _mask_of(args):
    """The mask specs the nodes among `args` carry: one entry per argument, or None."""
    masks = [
        jax.tree.map(
            lambda n: n.mask if isinstance(n, Node) else None,
            a,
            is_leaf=lambda v: isinstance(v, Node),
        )
        for a in args
    ]
    mask = masks[0] if len(masks) == 1 else tuple(masks)
    if all(m is None for m in jax.tree.leaves(mask, is_leaf=lambda v: v is None)):
        return None
    return mask


def unwrap(tree):
    """Model handles in `tree` replaced by the graph nodes they stand for."""
    return jax.tree.map(
        lambda v: v.unwrap() if isinstance(v, Node) else v,
        tree,
        is_leaf=lambda v: isinstance(v, Node),
    )


def merged_names(leaves) -> dict | None:
    """The layer names that the nodes among `leaves` carry, merged."""
    out = None
    for v in leaves:
        if isinstance(v, Node) and v.names:
            if out is None:
                out = v.names
            elif v.names is not out:
                out = {**v.names, **out}
    return out


def bound_origin(layer: Layer) -> Layer:
    """The model's own layer behind a view from `model.get_layer`."""
    bound = vars(layer).get(BOUND)
    return layer if bound is None else bound[0]


def bind(layer: Layer, inputs: tuple, outputs: tuple, name: str | None = None) -> Layer:
    """A view of `layer` that knows its input and output nodes in one model.

    The view has the layer's config and calling it calls the layer;
    `view.input` / `view.output` are the nodes (`inputs[k]`, `outputs[k]`
    for the layer's k-th call). With `name`, the view reports the name the
    model gave the layer (`view.name == "dense_1"`, as Keras's layers carry
    theirs); a container given the view takes the layer itself
    (`bound_origin`), so it names it afresh.
    """
    layer = bound_origin(layer)
    view = copy.copy(layer)
    vars(view)[BOUND] = (layer, tuple(inputs), tuple(outputs))
    if name is not None and layer.name is None:
        vars(view)["name"] = name
    return view


def get_source_inputs(tensor) -> list:
    """Keras's `get_source_inputs`: the `kerax.Input` nodes `tensor` is computed from.

    In the order they are first reached (depth first through each layer's
    arguments, as Keras walks its graph), each once. A value that is not a
    node comes back as it is, as in Keras.

    Example:
        >>> a, b = kerax.Input((3,), name="a"), kerax.Input((3,), name="b")
        >>> y = kerax.layers.Add()([kerax.layers.Dense(3)(b), a])
        >>> [x.op.name for x in get_source_inputs(y)]
        ['b', 'a']
    """
    if not isinstance(tensor, Node):
        return tensor
    found: list[Node] = []
    seen: set[int] = set()
    stack = [tensor.unwrap()]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.parent is not None:  # One output of a layer with several.
            stack.append(node.parent.unwrap())
        elif isinstance(node.op, InputLayer) or node.op is None:
            found.append(node)
        else:
            leaves = jax.tree.leaves(
                (node.args, node.kwargs), is_leaf=lambda v: isinstance(v, Node)
            )
            # Reversed onto the stack: the first argument is walked first.
            stack.extend(v.unwrap() for v in reversed(leaves) if isinstance(v, Node))
    return found
