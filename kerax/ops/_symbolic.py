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
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import node as node_module
from kerax.core import registry
from kerax.core.layer import Layer
from kerax.core.naming import to_snake_case
from kerax.core.node import Node, holds_nodes
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
    "extract_patches_3d": "ExtractPatches",
    "fft2": "FFT2",
    "hsv_to_rgb": "HSVToRGB",
    "ifft2": "IFFT2",
    "irfft": "IRFFT",
    "isin": "IsIn",
    "istft": "ISTFT",
    "jvp": "JVP",
    "layer_normalization": "LayerNorm",
    "psnr": "PSNR",
    "rfft": "RFFT",
    "rgb_to_grayscale": "RGBToGrayscale",
    "rgb_to_hsv": "RGBToHSV",
    "rms_normalization": "RMSNorm",
    "searchsorted": "SearchSorted",
    "ssim": "SSIM",
    "stft": "STFT",
    "svd": "SVD",
}
_KERAS_OPS = {class_name: op for op, class_name in _KERAS_CLASSES.items()}
_KERAS_OPS["Abs"] = "absolute"  # Keras's alias of `Absolute`.


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
            return values[v.index] if isinstance(v, _Input) else v

        return _map_arguments(one, self.args), _map_arguments(one, self.kwargs)


def _map_arguments(fn, v):
    """`v` with `fn` applied to each value inside its lists, tuples
    (namedtuples kept as their own type) and dicts."""
    if isinstance(v, list):
        return [_map_arguments(fn, x) for x in v]
    if isinstance(v, tuple):
        values = [_map_arguments(fn, x) for x in v]
        return type(v)(*values) if hasattr(v, "_fields") else tuple(values)
    if isinstance(v, dict):
        return {k: _map_arguments(fn, x) for k, x in v.items()}
    return fn(v)


def _template(args, kwargs) -> tuple[_Arguments, list[Node]]:
    """`(arguments with nodes as _Input, the nodes in order)`."""
    nodes: list[Node] = []

    def one(v):
        if isinstance(v, Node):
            nodes.append(v)
            return _Input(len(nodes) - 1)
        return v

    return _Arguments(
        _map_arguments(one, tuple(args)), _map_arguments(one, dict(kwargs))
    ), nodes


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

        As Keras writes it: Keras's op class (found in Keras's op modules,
        `keras.src.ops.numpy.Reshape`), its `__init__` arguments (the op's
        options, by name) in the config, the tensors (`inputs`, the input
        nodes, in their places, and array constants) as call arguments.
        """
        return keras_operation(self, inputs)

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


# ------------------------------------------------------------ Keras op files
# A `.keras` file records a keras.ops call as Keras's op class (module and
# name), its `__init__` arguments in the config and its tensors as the node's
# call arguments. The class, and which arguments are options, come from
# Keras's own op modules, imported only when a file is written or read.
_KERAS_MODULES = ("numpy", "nn", "math", "linalg", "image", "core", "einops")
# `Cls(...).symbolic_call(` in a Keras op function: the class it builds.
_SYMBOLIC_CALL = re.compile(
    r"\b([A-Z]\w*)\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\s*(?:\.symbolic_call|\()",
    re.DOTALL,
)


@functools.cache
def _keras_modules() -> dict | None:
    """`{family: keras.src.ops.<family>}`, or None without Keras."""
    try:
        import importlib

        return {
            m: importlib.import_module(f"keras.src.ops.{m}") for m in _KERAS_MODULES
        }
    except ImportError:
        return None


@functools.cache
def keras_op_class(op: str):
    """`(family, Keras's op class)` of the kerax op `op`, or None.

    The class Keras's function of the same name builds on symbolic tensors
    (`keras.ops.unstack` -> `keras.src.ops.core.Unstack`), looked up first in
    the op's own family. None where Keras has no such op or class (its
    function refuses symbolic tensors, e.g. `kaiser`), or without Keras.
    """
    modules = _keras_modules()
    if modules is None:
        return None
    from keras.src.ops.operation import Operation

    family, name = _FAMILIES.get(op, "numpy"), op.rsplit(".", 1)[-1]
    for m in (family, *(m for m in _KERAS_MODULES if m != family)):
        fn = modules[m].__dict__.get(name)
        if fn is None or isinstance(fn, type) or not callable(fn):
            continue
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        for class_name in _SYMBOLIC_CALL.findall(source):
            cls = modules[m].__dict__.get(class_name)
            if isinstance(cls, type) and issubclass(cls, Operation):
                return m, cls
    return None


@functools.cache
def _keras_classes() -> dict:
    """`{(Keras module, class name): kerax op}` for every op Keras has."""
    table = {}
    for op in sorted(_FUNCTIONS, key=lambda o: ("." in o, o)):
        found = keras_op_class(op)
        if found is not None:
            family, cls = found
            table.setdefault((f"keras.src.ops.{family}", cls.__name__), op)
    return table


def keras_entry_op(module: str, class_name: str) -> str:
    """The kerax op of Keras's op class `class_name` in `module`.

    From Keras's op modules where Keras is installed; else by name
    (`Resize` in `keras.src.ops.image` -> `image.resize`, `IsIn` -> `isin`).
    """
    if _keras_modules() is not None:
        op = _keras_classes().get((module, class_name))
        if op is not None:
            return op
    op = keras_class_op(class_name)
    family = module.rsplit(".", 1)[-1]
    if f"{family}.{op}" in _FUNCTIONS:
        return f"{family}.{op}"
    return op


def _parameters(fn, skip: int = 0) -> list:
    try:
        return list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):
        return []


def _holds_input(value) -> bool:
    if isinstance(value, (_Input, Node)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_input(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_input(v) for v in value.values())
    return False


def keras_operation(layer: OpLayer, inputs) -> tuple[dict, list]:
    """`OpLayer.keras_operation`: Keras's entry and call arguments."""
    fn = _FUNCTIONS[layer.op]
    args, kwargs = layer.arguments.fill(inputs)
    try:
        signature = inspect.signature(fn)
        bound = signature.bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{layer.describe()}: cannot bind its arguments: {e}") from e
    given, kinds = {}, {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            for k, v in value.items():
                given[k], kinds[k] = v, inspect.Parameter.KEYWORD_ONLY
        else:
            given[name], kinds[name] = value, kind
    found = keras_op_class(layer.op)
    if found is None and _keras_modules() is not None:
        raise ValueError(
            f"{layer.describe()}: Keras has no op class for kerax.ops.{layer.op} "
            "(keras.ops has no such op on symbolic tensors), so a .keras file cannot "
            "hold it. Save with kerax's own format (kerax.saving.save_model to a path "
            "not ending in .keras), or compute it in a layer."
        )
    if found is not None:
        family, cls = found
        class_name = cls.__name__
        init = [
            p.name
            for p in _parameters(cls.__init__, 1)
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "name"
        ]
        call = _parameters(cls.call, 1)
        n_call = sum(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in call
        )
        var_call = any(p.kind is p.VAR_POSITIONAL for p in call)
    else:  # No Keras: kerax's parameter names (Keras's in most ops).
        family, class_name = _FAMILIES.get(layer.op, "numpy"), layer.keras_class_name
        init = [
            n
            for n, v in given.items()
            if kinds[n] is not inspect.Parameter.VAR_POSITIONAL
            and n not in _TENSOR_PARAMETERS | _TENSOR_SEQUENCES
            and not _holds_input(v)
        ]
        n_call, var_call = len(given), True
    config = {}
    for name in init:
        if name in given:
            value = given.pop(name)
        else:  # kerax's default, which may not be Keras's.
            p = signature.parameters.get(name)
            if p is None or p.default is p.empty:
                continue
            try:  # A default Keras cannot hold (a sentinel): Keras's own.
                config[name] = keras_encode(p.default, layer, option=True)
            except TypeError:
                pass
            continue
        if _holds_input(value):
            raise ValueError(
                f"{layer.describe()}: its argument `{name}` is a graph tensor, but "
                f"Keras's {class_name} takes it as a constant option: a .keras file "
                "cannot hold this call."
            )
        config[name] = keras_encode(value, layer, option=True)
    call_args = []
    for name, value in given.items():
        if kinds[name] is inspect.Parameter.VAR_POSITIONAL:
            call_args.extend((name, v) for v in value)
        else:
            call_args.append((name, value))
    if not var_call and len(call_args) > n_call:
        extra = [n for n, _ in call_args[n_call:]]
        raise ValueError(
            f"{layer.describe()}: Keras's op {class_name} has no option {extra} "
            f"(its options: {init}), so a .keras file cannot hold this call. Leave "
            "them at their defaults, or save with kerax's own format."
        )
    entry = {
        "module": f"keras.src.ops.{family}",
        "class_name": class_name,
        "config": {"name": layer.name, **config},
        "registered_name": class_name,
    }
    return entry, [keras_encode(v, layer) for _, v in call_args]


def keras_encode(value, layer, option: bool = False):
    """An op argument as Keras serializes it (`keras_decode` reads it).

    Slices and Ellipsis as Keras's `__slice__` / `__ellipsis__` objects,
    NumPy / JAX arrays as `__numpy__` call arguments (options, which Keras
    keeps as plain data, as lists), NumPy scalars as numbers, dtypes by name.
    """
    if value is None or isinstance(value, (bool, int, float, str, Node)):
        return value
    if isinstance(value, (list, tuple)):
        return [keras_encode(v, layer, option) for v in value]
    if isinstance(value, dict):
        return {str(k): keras_encode(v, layer, option) for k, v in value.items()}
    if isinstance(value, slice):
        return {
            "class_name": "__slice__",
            "config": {
                k: keras_encode(getattr(value, k), layer, option)
                for k in ("start", "stop", "step")
            },
        }
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, jax.Array)):
        a = np.asarray(value)
        if option or a.ndim == 0:
            return a.tolist()
        return {
            "class_name": "__numpy__",
            "config": {"value": a.tolist(), "dtype": a.dtype.name},
        }
    try:
        return np.dtype(value).name
    except TypeError:
        pass
    raise TypeError(
        f"{layer.describe()}: cannot write the argument {value!r} of type "
        f"{type(value).__name__} into a Keras config."
    )


def keras_decode(value):
    """A Keras-serialized op argument (`keras_encode`'s form) as Python values;
    nodes and other values kept."""
    if isinstance(value, Node):
        return value
    if isinstance(value, dict):
        kind, config = value.get("class_name"), value.get("config")
        if kind == "__slice__":
            return slice(
                *(keras_decode(config.get(k)) for k in ("start", "stop", "step"))
            )
        if kind == "__ellipsis__":
            return Ellipsis
        if kind in ("__numpy__", "__tensor__"):
            return np.asarray(config["value"], dtype=config["dtype"])
        return {k: keras_decode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(keras_decode(v) for v in value)
    return value


def keras_call_arguments(op: str, options: dict, args: list) -> tuple[tuple, dict]:
    """kerax's `(args, kwargs)` for `kerax.ops.<op>` from a Keras op node:
    its class's config `options` (by name) and its call `args` (the tensors,
    in order, filling the parameters the options leave)."""
    options, rest = dict(options), list(args)
    positional, keywords, by_position = [], {}, True
    for p in _parameters(_FUNCTIONS[op]):
        if p.kind is p.VAR_POSITIONAL:
            if by_position:
                positional.extend(rest)
                rest = []
            continue
        if p.kind is p.VAR_KEYWORD:
            keywords.update(options)
            options = {}
            continue
        if p.name in options:
            value = options.pop(p.name)
        elif rest and p.kind is not p.KEYWORD_ONLY:
            value = rest.pop(0)
        else:
            by_position = False
            continue
        if by_position and p.kind is not p.KEYWORD_ONLY:
            positional.append(value)
        else:
            keywords[p.name] = value
    keywords.update(options)  # Unknown names: kerax's error names them.
    return (*positional, *rest), keywords


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
        if holds_nodes(args) or (kwargs and holds_nodes(kwargs)):
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
