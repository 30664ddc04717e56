"""`kerax.ops` on graph nodes: Keras's ops on KerasTensors.

In Keras 3 a functional model may use operators and `keras.ops` on symbolic
tensors (`inputs + 1`, `x[:, 0]`, `ops.concatenate([a, b])`): each call is an
operation node of the graph. Here every public `kerax.ops` function goes
through one dispatch point (`symbolic`): called with a `kerax.Node` among its
arguments it returns a node made by an `OpLayer`, which records the op's name
and its other arguments; the node's spec comes from `jax.eval_shape`. Node
operators (`node + 1`, `-node`, `node[:, 0]`) call the same ops.

Example:
    >>> from kerax import ops
    >>> x = kerax.Input((4,))
    >>> y = ops.mean(2 * x + 1, axis=1)
    >>> y.shape
    (None,)
    >>> y.op.op, y.op.scope_name
    ('mean', 'mean')
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import node as node_module
from kerax.core import registry
from kerax.core.layer import Layer
from kerax.core.naming import to_snake_case
from kerax.core.node import Node
from kerax.ops._variables import _unwrap as _unwrap_variables

# Functions that answer about a node rather than compute from it (Keras's
# `ops.shape(x)` on a KerasTensor is its static shape), and converters.
_NOT_SYMBOLIC = frozenset(
    {"shape", "is_tensor", "convert_to_numpy", "dtype", "custom_gradient"}
)

# `"concatenate"` / `"image.resize"` -> the plain function, and the family
# (Keras's ops module: "numpy", "nn", "image", ...) it comes from.
_FUNCTIONS: dict[str, Any] = {}
_FAMILIES: dict[str, str] = {}
_WRAPPED: dict[int, tuple] = {}  # id(function) -> (function, its dispatch).

# Keras's op classes whose name is not the op's CamelCase name (`isin` ->
# `IsIn`); Keras names their nodes after the class (`is_in`).
_KERAS_CLASSES = {
    "allclose": "AllClose",
    "batch_normalization": "BatchNorm",
    "cdist": "CDist",
    "ctc_decode": "CTCDecode",
    "ctc_loss": "CTCLoss",
    "fft": "FFT",
    "fft2": "FFT2",
    "ifft2": "IFFT2",
    "irfft": "IRFFT",
    "isin": "IsIn",
    "istft": "ISTFT",
    "jvp": "JVP",
    "layer_normalization": "LayerNorm",
    "psnr": "PSNR",
    "rfft": "RFFT",
    "rms_normalization": "RMSNorm",
    "searchsorted": "SearchSorted",
    "stft": "STFT",
    "svd": "SVD",
}
_KERAS_OPS = {class_name: op for op, class_name in _KERAS_CLASSES.items()}


def keras_class_op(class_name: str) -> str:
    """The kerax op of Keras's op class `class_name` (`IsIn` -> `isin`)."""
    return _KERAS_OPS.get(class_name) or to_snake_case(class_name)


# The parameters that hold one tensor in Keras's ops (`x`, `x1`, `a`, ...):
# a list or tuple given there becomes an array, as Keras's ops convert their
# inputs (`ops.sum([1.0, 2.0])`). Those that hold a sequence of tensors
# (`concatenate`, `stack`) convert each element, `einsum`'s operands each
# one. Shapes, axes, widths and the like are other names and stay as given.
_TENSOR_PARAMETERS = frozenset(
    {
        "x", "x1", "x2", "y", "z", "a", "b", "m", "v", "val", "arr", "ary",
        "array", "condition", "sorted_sequence", "values", "indices", "bins",
        "weights", "q", "data", "segment_ids", "target", "output", "prototype",
    }
)  # fmt: skip
_TENSOR_SEQUENCES = frozenset({"arrays"})
# Ops whose `x` is Keras's `(real, imag)` pair of tensors: each converts.
_PAIR_OPS = frozenset({"fft", "fft2", "ifft2", "irfft", "istft"})
_TENSOR_VARARGS = frozenset({"operands"})
_SLOTS: dict[str, tuple] = {}  # op -> _tensor_slots(its function).
_SEQUENCES = (list, tuple)


def _tensor_slots(fn, op: str) -> tuple:
    """Where `fn` takes tensors, from its signature.

    `(positions, keywords, rest)`: `(index, converter)` pairs and a
    `{name: converter}` dict for the parameters, and the index from which
    the positional arguments are tensors (`einsum`'s operands) or None.
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return (), {}, None
    positions, names, rest, positional = [], {}, None, True
    for i, p in enumerate(parameters):
        if p.kind is p.VAR_POSITIONAL:
            rest = i if p.name in _TENSOR_VARARGS else None
        if p.kind in (p.VAR_POSITIONAL, p.KEYWORD_ONLY, p.VAR_KEYWORD):
            positional = False
            if p.kind is not p.KEYWORD_ONLY:
                continue
        convert = (
            _each_to_array
            if p.name == "x" and op in _PAIR_OPS
            else _to_array
            if p.name in _TENSOR_PARAMETERS
            else _each_to_array
            if p.name in _TENSOR_SEQUENCES
            else None
        )
        if convert is not None:
            names[p.name] = convert
            if positional:
                positions.append((i, convert))
    return tuple(positions), names, rest


def _as_arrays(slots, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """`args`, `kwargs` with the lists and tuples at tensor `slots` as arrays."""
    positions, names, rest = slots
    for i, convert in positions:
        if i < len(args) and type(args[i]) in _SEQUENCES:
            args = (*args[:i], convert(args[i]), *args[i + 1 :])
    if rest is not None and any(type(a) in _SEQUENCES for a in args[rest:]):
        args = (*args[:rest], *_each_to_array(args[rest:]))
    if kwargs and names:
        for k in names.keys() & kwargs.keys():
            if type(kwargs[k]) in _SEQUENCES:
                kwargs = {**kwargs, k: names[k](kwargs[k])}
    return args, kwargs


def _each_to_array(values):
    return type(values)(_to_array(v) if type(v) in _SEQUENCES else v for v in values)


def _to_array(value):
    return jnp.asarray(_unwrap_variables(value))


class _Input:
    """Where the `index`-th input node goes in an op's recorded arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __repr__(self):
        return f"<input {self.index}>"


class _Arguments:
    """An op's call arguments with its input nodes replaced by `_Input`s.

    Not a list or tuple, so the layer's field is kept as written (an index
    list stays a list, a tuple a tuple).
    """

    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple, kwargs: dict):
        self.args, self.kwargs = tuple(args), dict(kwargs)

    def __repr__(self):
        return f"_Arguments({self.args!r}, {self.kwargs!r})"

    def fill(self, values):
        def one(v):
            if isinstance(v, _Input):
                return values[v.index]
            if isinstance(v, list):
                return [one(x) for x in v]
            if isinstance(v, tuple):
                return tuple(one(x) for x in v)
            if isinstance(v, dict):
                return {k: one(x) for k, x in v.items()}
            return v

        return one(self.args), one(self.kwargs)


def _template(args, kwargs) -> tuple[_Arguments, list[Node]]:
    """`(arguments with nodes as _Input, the nodes in order)`."""
    nodes: list[Node] = []

    def one(v):
        if isinstance(v, Node):
            nodes.append(v)
            return _Input(len(nodes) - 1)
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            return tuple(one(x) for x in v)
        if isinstance(v, dict):
            return {k: one(x) for k, x in v.items()}
        return v

    return _Arguments(one(tuple(args)), one(dict(kwargs))), nodes


class OpLayer(Layer):
    """The layer behind a `kerax.ops` call (or an operator) on graph nodes.

    Keras's `Operation` in a functional graph (`Add`, `GetItem`,
    `Concatenate`, ...): named after the op (`add`, `get_item`, ...) in the
    model, with no weights. It runs `kerax.ops.<op>` on its input arrays and
    the arguments recorded when the graph was built. Made by calling an op on
    nodes, not by hand.

    Args:
        op: The `kerax.ops` function's name (`"concatenate"`, `"image.resize"`).
        arguments: The call's arguments, input nodes replaced by their index.
        name: The layer's name in the model (default: the op's name).

    Example:
        >>> a, b = kerax.Input((3,)), kerax.Input((2,))
        >>> y = kerax.ops.concatenate([a, b], axis=-1)
        >>> y.shape, type(y.op).__name__, y.op.get_config()["op"]
        ((None, 5), 'OpLayer', 'concatenate')
        >>> y.op.keras_class_name, kerax.ops.abs(a).op.scope_name  # As Keras's.
        ('Concatenate', 'absolute')
    """

    op: str = ""
    arguments: Any = None

    autocast = False  # Keras's ops compute in their inputs' dtypes.
    _keras_op = True  # No weights: files skip it.

    def __post_init__(self):
        super().__post_init__()
        if self.op not in _FUNCTIONS:
            raise ValueError(
                f"OpLayer: `op` must name a kerax.ops function (e.g. 'add', 'concatenate', "
                f"'image.resize'); got {self.op!r}."
            )
        if self.arguments is None:
            object.__setattr__(self, "arguments", _Arguments((_Input(0),), {}))

    # One op call is one node: compared and hashed by identity (its recorded
    # arguments may hold lists, slices and arrays).
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    @property
    def keras_class_name(self) -> str:
        """Keras's class for this op (`Add`, `GetItem`, `IsIn`): what
        `model.summary()` shows and a `.keras` file records."""
        name = self.op.rsplit(".", 1)[-1]
        return _KERAS_CLASSES.get(name) or "".join(
            part[:1].upper() + part[1:] for part in name.split("_")
        )

    @property
    def default_name(self) -> str:
        return to_snake_case(self.keras_class_name)

    def describe(self) -> str:
        return f"kerax.ops.{self.op} '{self.scope_name}'"

    def call(self, params, state, *inputs, key, training):
        del params, key, training
        args, kwargs = self.arguments.fill(inputs)
        args, kwargs = _as_arrays(_SLOTS[self.op], args, kwargs)
        return _FUNCTIONS[self.op](*args, **kwargs), state

    def keras_operation(self, inputs) -> tuple[dict, list]:
        """`(Keras config entry, call arguments)` of this op for a `.keras` file.

        Keras's op class is the op's CamelCase name (`get_item` -> `GetItem`)
        in its family's module; the keyword arguments go to its config (as
        Keras's `Mean(axis=1)`), the positional ones to its call, `inputs`
        (the input nodes) in their places.
        """
        args, kwargs = self.arguments.fill(inputs)
        class_name = self.keras_class_name
        family = _FAMILIES.get(self.op, "numpy")
        entry = {
            "module": f"keras.src.ops.{family}",
            "class_name": class_name,
            "config": {"name": self.name, **_keras_json(kwargs, self)},
            "registered_name": class_name,
        }
        return entry, _keras_json(list(args), self)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "op": self.op,
            "arguments": {
                "args": _encode(list(self.arguments.args), self),
                "kwargs": _encode(self.arguments.kwargs, self),
            },
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        del custom_objects
        unknown = set(config) - {"name", "op", "arguments", "trainable", "dtype"}
        if unknown:
            raise ValueError(
                f"Config for OpLayer has unknown keys {sorted(unknown)}; valid keys: "
                "['arguments', 'name', 'op']."
            )
        arguments = config.get("arguments") or {"args": [{"__input__": 0}]}
        return cls(
            op=config["op"],
            arguments=_Arguments(
                tuple(_decode(arguments.get("args", []))),
                _decode(arguments.get("kwargs", {})),
            ),
            name=config.get("name"),
        )


registry.add("layers", OpLayer)


def _encode(value, layer):
    """An op argument as JSON-safe data (lists and tuples kept apart)."""
    if isinstance(value, _Input):
        return {"__input__": value.index}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_encode(v, layer) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, layer) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": {str(k): _encode(v, layer) for k, v in value.items()}}
    if isinstance(value, slice):
        return {
            "__slice__": [
                _encode(x, layer) for x in (value.start, value.stop, value.step)
            ]
        }
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, (np.generic, np.ndarray, jax.Array)):
        a = np.asarray(value)
        return {"__array__": a.tolist(), "dtype": a.dtype.name}
    try:
        return {"__dtype__": np.dtype(value).name}
    except TypeError:
        pass
    raise TypeError(
        f"{layer.describe()}: cannot save the argument {value!r} of type {type(value).__name__}: "
        "op nodes save numbers, strings, lists, tuples, dicts, slices, dtypes and arrays. "
        "Use a layer (e.g. kerax.layers.Lambda) for this computation to save the model."
    )


def _keras_json(value, layer):
    """An op's constant as Keras writes it in a functional config."""
    if value is None or isinstance(value, (bool, int, float, str, Node)):
        return value
    if isinstance(value, (list, tuple)):
        return [_keras_json(v, layer) for v in value]
    if isinstance(value, dict):
        return {str(k): _keras_json(v, layer) for k, v in value.items()}
    if isinstance(value, slice):
        return {
            "class_name": "__slice__",
            "config": {"start": value.start, "stop": value.stop, "step": value.step},
        }
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, np.generic):
        return value.item()
    try:
        return np.dtype(value).name
    except TypeError:
        pass
    raise TypeError(
        f"{layer.describe()}: cannot write the argument {value!r} into a Keras config."
    )


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__input__" in value:
        return _Input(int(value["__input__"]))
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__slice__" in value:
        return slice(*(_decode(v) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"])
    raise ValueError(f"OpLayer config: unknown argument encoding {value!r}.")


def _holds_node(args, kwargs) -> bool:
    for v in (*args, *kwargs.values()):
        if isinstance(v, Node):
            return True
        if isinstance(v, (list, tuple, dict)) and any(
            isinstance(x, Node)
            for x in jax.tree.leaves(v, is_leaf=lambda x: isinstance(x, Node))
        ):
            return True
    return False


def op_node(op: str, args: tuple, kwargs: dict, name: str | None = None) -> Node:
    """`kerax.ops.<op>(*args, **kwargs)` with nodes among the arguments: a node."""
    if op not in _FUNCTIONS:
        raise ValueError(f"{op!r} is not a kerax.ops function.")
    arguments, nodes = _template(args, kwargs)
    return OpLayer(op=op, arguments=arguments, name=name)(*nodes)


def symbolic(fn, op: str):
    """`fn` that returns a graph node when a `kerax.Node` is among its arguments."""
    if getattr(fn, "__kerax_op__", None) is not None:
        return fn
    if id(fn) in _WRAPPED:  # One function exported by two families: one op.
        return _WRAPPED[id(fn)][1]
    _FUNCTIONS.setdefault(op, fn)
    slots = _SLOTS.setdefault(op, _tensor_slots(fn, op))

    @functools.wraps(fn)
    def dispatch(*args, **kwargs):
        if _holds_node(args, kwargs):
            return op_node(op, args, kwargs)
        args, kwargs = _as_arrays(slots, args, kwargs)
        return fn(*args, **kwargs)

    dispatch.__kerax_op__ = op
    _WRAPPED[id(fn)] = (fn, dispatch)
    return dispatch


def wrap_module(module, prefix: str = "") -> dict[str, Any]:
    """Puts the dispatch point on `module`'s public functions; `{name: wrapped}`."""
    wrapped = {}
    for name in module.__all__:
        fn = module.__dict__.get(name)
        if (
            not callable(fn)
            or isinstance(fn, type)
            or inspect.ismodule(fn)
            or name in _NOT_SYMBOLIC
        ):
            continue
        # An alias (`abs = absolute`) records the function's own name, as
        # Keras names the op after its class (`Absolute`).
        own = getattr(fn, "__name__", name)
        canonical = own if module.__dict__.get(own) is fn else name
        new = symbolic(fn, prefix + canonical)
        _FAMILIES.setdefault(new.__kerax_op__, module.__name__.rsplit(".", 1)[-1])
        setattr(module, name, new)
        wrapped[name] = new
    return wrapped


def _node_op(name: str, *args, **kwargs) -> Node:
    """What `Node`'s operators call (installed into kerax.core.node)."""
    return op_node(name, args, kwargs)


node_module.set_op_dispatcher(_node_op)

__all__: list[str] = []  # Internal: the public surface is kerax.ops itself.
