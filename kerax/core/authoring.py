"""Keras-style layer authoring: `__init__` layers, sublayer discovery and calls.

Two ways to write a layer share one contract. Dataclass fields (`units: int =
32`) are one; Keras's `__init__(self, units, **kwargs)` assigning attributes
is the other. For the second, `LayerMeta.__call__` runs `__init__` with the
instance writable and freezes it afterwards (Equinox's rule), records the
`__init__` arguments as the layer's config (Keras's auto-config), and makes
the layer hash and compare by that config, so jit caches and `output_spec`
caching treat it like any other layer.

Sublayers are found, never declared: every attribute holding a layer, alone
or in a list, tuple or dict, in order of assignment. Their params sit under
their names (Keras's `outer/dense/kernel`, collisions numbered `_1`, `_2`).
Inside `call`, `self.dense(x)` on arrays runs the sublayer with its slice of
params, state and key from a frame the outer `apply` opens (a trace-time
stack like `aux_losses`: pure from JAX's point of view), and `init` builds
sublayers that `build` left out by tracing `call` once for their input specs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jax

from kerax.core import naming, remat, variables
from kerax.core.input_spec import check_layer_input
from kerax.core.spec import to_spec

# Instance-dict keys the base class owns; sublayer discovery skips them.
_INITIALIZING = variables.INITIALIZING
_INIT_ARGS = "_kerax_init_args"
_CONFIG_KEY = "_kerax_config_key"
# Keras's deprecated `input_shape=`/`input_dim=` on any layer: kept beside
# the config (never in it) for `Sequential`, which starts with an Input of
# that shape when the layer comes first, as Keras's does.
INPUT_SHAPE_ARG = "_kerax_input_shape"
_INPUT_SHAPE_WARNING = (
    "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
    "models, prefer using an `Input(shape)` object as the first layer in the model instead."
)


@functools.cache
def _own_arguments(cls) -> frozenset:
    """The argument names a layer class takes itself (its fields, or its
    `__init__`'s named parameters)."""
    if "__dataclass_fields__" in cls.__dict__ and not cls.__dict__.get("_keras_style"):
        return frozenset(cls.__dataclass_fields__)
    return frozenset(inspect.signature(cls.__init__).parameters)


def _pop_input_shape(cls, kwargs: dict):
    """Keras's `Layer.__init__` handling of `input_dim`/`input_shape`: only
    where the layer has no argument of that name (`Embedding(input_dim)`)."""
    if "input_dim" not in kwargs and "input_shape" not in kwargs:
        return None
    if cls.__dict__.get("_input_shape_is_shape", False):
        # Keras's InputLayer reads a legacy `input_shape` as its `shape`.
        if "input_shape" in kwargs and "shape" not in kwargs:
            kwargs["shape"] = kwargs.pop("input_shape")
        return None
    own = _own_arguments(cls)
    input_dim = kwargs.pop("input_dim", None) if "input_dim" not in own else None
    shape = kwargs.pop("input_shape", None) if "input_shape" not in own else None
    if input_dim is not None:
        shape = (input_dim,)
    if shape is None:
        return None
    import warnings

    warnings.warn(_INPUT_SHAPE_WARNING, stacklevel=3)
    return (shape,) if isinstance(shape, int) else tuple(shape)


_CHILDREN = "_kerax_children"
# A view from `model.get_layer`: (the model's layer, input nodes, output nodes).
BOUND = "_kerax_bound"
PRIVATE_PREFIX = "_kerax_"


class LayerMeta(type):
    """The metaclass of `kerax.Layer`: runs Keras-style `__init__`s, then freezes.

    Dataclass-style layers are made as usual. A class that writes its own
    `__init__` gets its instance writable only while that `__init__` runs.
    """

    def __new__(mcs, name, bases, namespace, **kwargs):
        if "call" in namespace:
            # Keras's subclassed model: `class VAE(kerax.Model)` writing `call`
            # computes in `call`, not from a graph; kerax.Model names the base
            # that such classes get instead (`_subclassed_base`).
            bases = tuple(b.__dict__.get("_subclassed_base", b) for b in bases)
        return super().__new__(mcs, name, bases, namespace, **kwargs)

    def __call__(cls, *args, **kwargs):
        input_shape = _pop_input_shape(cls, kwargs)
        self = cls._construct(*args, **kwargs)
        remat.mark(self)  # Inside a kerax.RematScope: kept beside the config.
        if input_shape is not None:
            object.__setattr__(self, INPUT_SHAPE_ARG, input_shape)
        return self

    def _construct(cls, *args, **kwargs):
        if not cls.__dict__.get("_keras_style", False):
            return super().__call__(*args, **kwargs)
        self = cls.__new__(cls)
        vars(self)[_INITIALIZING] = True
        try:
            cls.__init__(self, *args, **kwargs)
        finally:
            vars(self).pop(_INITIALIZING, None)
        if "trainable" not in vars(self):
            raise TypeError(
                f"{cls.__name__}.__init__ must call `super().__init__(**kwargs)`, as in Keras: "
                "it sets the layer's name, dtype and trainable."
            )
        held = {}
        for k, v in list(vars(self).items()):
            if k.startswith(PRIVATE_PREFIX):
                continue
            if variables.holds_variables(v):
                # Read through `__getattr__`: arrays inside `call`, declarations outside.
                held[k] = _freeze(vars(self).pop(k))
            else:
                # Lists built up in __init__ become tuples: the layer is a frozen config.
                vars(self)[k] = _freeze(v)
        if held:
            vars(self)[variables.WEIGHT_ATTRS] = held
        if variables.DECLARED in vars(self):
            variables.finish_names(self, vars(self)[variables.DECLARED])
        arguments = init_arguments(cls, args, kwargs)
        vars(self)[_INIT_ARGS] = arguments
        vars(self)[_CONFIG_KEY] = _config_key(self, arguments)
        return self


def _freeze(value):
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    return value


def is_keras_style(cls) -> bool:
    """Whether `cls` (or a base below `Layer`) writes its own `__init__`."""
    return bool(cls.__dict__.get("_keras_style", False))


def prepare_subclass(cls, make_dataclass: Callable[[type], type]) -> None:
    """Called by `Layer.__init_subclass__`: a dataclass, or a Keras-style class.

    Also notes whether `call` and `build` are written the Keras way
    (`call(self, inputs)`, `build(self, input_shape)`) or kerax's
    (`call(self, params, state, x, *, key, training)`, `build(self, key, spec)`).
    """
    cls._keras_call = variables.keras_signature(cls.call, "params")
    cls._keras_build = variables.keras_signature(cls.build, "key")
    inherited = any(b.__dict__.get("_keras_style", False) for b in cls.__mro__[1:])
    if "__init__" in cls.__dict__ or inherited:
        cls._keras_style = True
        cls.__setattr__ = _setattr
        cls.__delattr__ = _delattr
        cls.__eq__ = _eq
        cls.__hash__ = _hash
        cls.__getattr__ = _getattr
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = _repr
        return
    cls._keras_style = False
    if "__dataclass_fields__" not in cls.__dict__:
        make_dataclass(cls)
    if cls._keras_call or cls._keras_build:
        # After the dataclass is made (it refuses a class's own __setattr__):
        # `build(input_shape)` assigns `self.w = self.add_weight(...)`.
        cls.__setattr__ = _setattr
        cls.__getattr__ = _getattr


def is_initializing(layer) -> bool:
    """Whether `layer`'s Keras-style `__init__` is running."""
    return _INITIALIZING in vars(layer)


def _setattr(self, name: str, value: Any) -> None:
    recorder = variables.recorder_for(self)
    if recorder is not None:  # Inside `build(input_shape)`: recorded, not stored.
        if find_sublayers_in(value):
            raise TypeError(
                f"{self.describe()}.build: create sublayers in `__init__` (`self.{name} = ...`), "
                "not in `build`: a kerax layer is a frozen config, and its sublayers are part "
                "of it. kerax builds them from their first call in `call`."
            )
        variables.name_variables(value, name)
        recorder.attrs[name] = value
        return
    if _INITIALIZING in vars(self):
        variables.name_variables(value, name)
        object.__setattr__(self, name, value)
        return
    raise dataclasses.FrozenInstanceError(
        f"{self.describe()} is frozen after __init__ (a kerax layer is a config): cannot set "
        f"`{name}`. Make a new layer with the value you want instead."
    )


def _delattr(self, name: str) -> None:
    raise dataclasses.FrozenInstanceError(
        f"{self.describe()} is frozen after __init__: cannot delete `{name}`."
    )


def _getattr(self, name: str):
    """Attributes that hold variables, and those `build(input_shape)` sets.

    Only reached when normal lookup fails. Inside `call`, variables read
    as arrays of the running `apply`; outside, as their declarations.
    """
    if name.startswith("__") or name.startswith(PRIVATE_PREFIX):
        raise AttributeError(name)
    descriptor = inspect.getattr_static(type(self), name, None)
    if isinstance(descriptor, property):
        # Python falls back here when a property's getter raises AttributeError:
        # run it again so its own message (`Layer.losses`, `Model.output`) shows.
        return descriptor.fget(self)
    recorder = variables.recorder_for(self)
    if recorder is not None and name in recorder.attrs:
        return recorder.attrs[name]
    f = owner_frame(self)
    if f is not None and f.attrs is not None and name in f.attrs:
        return variables.resolve(f.attrs[name], f)
    held = vars(self).get(variables.WEIGHT_ATTRS, {})
    if name in held:
        return held[name] if f is None else variables.resolve(held[name], f)
    hint = ""
    if type(self)._keras_build:
        hint = (
            " Attributes that `build(input_shape)` sets exist inside `call` only (a kerax layer "
            "is a frozen config); outside, read the arrays from the params and state."
        )
    raise AttributeError(
        f"{type(self).__name__!r} object has no attribute {name!r}.{hint}"
    )


def _eq(self, other) -> bool:
    if self is other:
        return True
    if type(self) is not type(other):
        return NotImplemented
    mine, theirs = vars(self).get(_CONFIG_KEY), vars(other).get(_CONFIG_KEY)
    return mine is not None and mine == theirs


def _hash(self) -> int:
    key = vars(self).get(_CONFIG_KEY)
    return object.__hash__(self) if key is None else hash((type(self), key))


def _repr(self) -> str:
    arguments = vars(self).get(_INIT_ARGS) or {}
    shown = {k: v for k, v in arguments.items() if k not in ("dtype", "trainable")}
    if self.name is not None:
        shown["name"] = self.name
    return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def init_arguments(cls, args: tuple, kwargs: dict) -> dict | None:
    """The `__init__` arguments by name, defaults filled in, `**kwargs` expanded.

    None when they cannot be a config (Keras's rule: positional-only or
    `*args` arguments cannot be passed back to `cls(**config)`).
    """
    signature = inspect.signature(cls.__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    out = {}
    for i, (name, value) in enumerate(bound.arguments.items()):
        param = signature.parameters[name]
        if i == 0:
            continue  # self
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            return None
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        else:
            out[name] = value
    return out


def accepts_argument(cls, name: str) -> bool:
    params = inspect.signature(cls.__init__).parameters
    return name in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def _hashable(value):
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    hash(value)  # Raises TypeError for arrays and other unhashable values.
    return value


def _config_key(layer, arguments: dict | None):
    """What a Keras-style layer is compared and hashed by; None: by identity."""
    if arguments is None:
        return None
    base = {k: getattr(layer, k) for k in ("name", "dtype", "trainable")}
    try:
        return _hashable({**arguments, **base})
    except TypeError:
        return None


def init_args(layer) -> dict | None:
    """The recorded `__init__` arguments of a Keras-style layer (None otherwise)."""
    return vars(layer).get(_INIT_ARGS)


# --------------------------------------------------------------- discovery
def find_sublayers_in(value) -> list:
    """The layers in `value`: a layer, or lists, tuples and dicts holding some."""
    found = []

    def walk(v):
        if isinstance(type(v), LayerMeta):
            found.append(v)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, Mapping):
            for x in v.values():
                walk(x)

    walk(value)
    return found


def find_sublayers(layer) -> list:
    """Layers held by `layer`'s attributes, alone or in lists/tuples/dicts.

    In order of assignment (dataclass fields in field order, then what
    `__init__` or `__post_init__` set), each layer once.
    """
    found, seen = [], {id(layer)}
    for name, value in vars(layer).items():
        if name.startswith(PRIVATE_PREFIX):
            continue
        for sublayer in find_sublayers_in(value):
            if id(sublayer) not in seen:
                seen.add(id(sublayer))
                found.append(sublayer)
    return found


def discovered_children(layer) -> list[tuple[str, Any]]:
    """`(name, sublayer)` pairs, names unique the Keras way (cached per layer)."""
    cached = vars(layer).get(_CHILDREN)
    if cached is not None:
        return list(cached)
    found = find_sublayers(layer)
    names = naming.unique_names(found, owner=layer.describe())
    children = tuple(zip(names, found))
    if _INITIALIZING not in vars(layer):
        vars(layer)[_CHILDREN] = children  # A cache, not config: eq/hash ignore it.
    return list(children)


# ------------------------------------------------------- sublayer calls
_local = threading.local()


def _stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class Frame:
    """One layer's `apply` (or build trace): what its sublayer calls read."""

    def __init__(self, owner, children, params, state, key, training, building):
        self.owner = owner
        self.names = {id(layer): name for name, layer in children}
        self.params = params
        self.state = state
        self.key = key
        self.training = training
        # During the build trace: {name: recorded input specs} for sublayers
        # that `build` left out and that `init` must build from their first call.
        self.building = building
        self.new_state: dict = {}
        self.counts: dict = {}
        # Keras-style layers: what `build(input_shape)` set (None: not run),
        # the values assigned to non-trainable variables, and random draws.
        self.attrs: dict | None = None
        self.assigned: dict = {}
        self.draws = 0


@contextlib.contextmanager
def frame(owner, children, params, state, *, key, training, building=None):
    f = Frame(owner, children, params, state, key, training, building)
    _stack().append(f)
    try:
        yield f
    finally:
        _stack().pop()


def frame_for(layer) -> Frame | None:
    """The innermost frame whose owner holds `layer` as a sublayer."""
    stack = _stack()
    if stack and id(layer) in stack[-1].names:
        return stack[-1]
    return None


def in_call() -> bool:
    """Whether some layer's `call` is running (a frame is open) in this thread."""
    return bool(getattr(_local, "stack", None))


def owner_frame(layer) -> Frame | None:
    """The innermost frame of `layer`'s own running `apply`."""
    for f in reversed(_stack()):
        if f.owner is layer:
            return f
    return None


def draw_key(op: str):
    """A fresh key for `kerax.random.*(seed=None)` inside a layer's `call`.

    Keras draws from a hidden seed generator; here the running layer's
    `apply(..., key=...)` key, folded with a count of draws, stands in.
    None outside any layer's `call`.
    """
    stack = _stack()
    if not stack:
        return None
    f = stack[-1]
    if f.key is None:
        raise ValueError(
            f"{f.owner.describe()}: `{op}` draws random numbers in `call`, so apply needs a "
            "PRNG key: apply(params, state, x, key=jax.random.key(seed)) (Trainer passes one)."
        )
    f.draws += 1
    return jax.random.fold_in(naming.child_key(f.key, "random"), f.draws)


def run_call(layer, f: Frame, inputs: tuple, kwargs: dict):
    """Runs `layer.call` in its frame `f`, the Keras way or kerax's: `(y, state)`."""
    if not type(layer)._keras_call:
        y, state = layer.call(
            f.params, f.state, *inputs, key=f.key, training=f.training, **kwargs
        )
        return y, state
    if type(layer)._keras_build:
        f.attrs = variables.run_build(layer, to_spec(inputs)).attrs
        # Keras's `self.input_spec = InputSpec(...)` set in `build` (one set
        # in `__init__` is checked by `Layer.init`/`apply`).
        if f.attrs.get("input_spec") is not None:
            check_layer_input(layer, inputs, f.attrs["input_spec"])
    if _takes(type(layer), "training"):
        kwargs = {"training": f.training, **kwargs}
    y = layer.call(*inputs, **kwargs)
    return variables.unwrap_tree(y), {**f.state, **f.assigned}


@functools.cache
def _takes(cls, argument: str) -> bool:
    params = inspect.signature(cls.call).parameters
    return argument in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def calling_owner():
    """The layer whose `call` is running (None outside any frame)."""
    stack = _stack()
    return stack[-1].owner if stack else None


def call_sublayer(f: Frame, layer, args: tuple, kwargs: dict):
    """`self.dense(x)` inside `call`: runs the sublayer, threads its state."""
    name = f.names[id(layer)]
    k = f.counts.get(name, 0)
    f.counts[name] = k + 1
    key = kwargs.pop("key", None)
    training = kwargs.pop("training", f.training)
    if key is None:
        key = naming.child_key(f.key, name if k == 0 else f"{name}/{k}")
    if f.building is not None and name not in f.params and name not in f.building:
        specs = _specs_of(args)
        f.building[name] = specs
        p, s = layer.init(naming.child_key(f.key, name), *specs)
        f.params = {**f.params, name: p}
        f.state = {**f.state, name: s}
    state = f.new_state.get(name, _get(f.state, name))
    try:
        y, s = layer.apply(
            _get(f.params, name), state, *args, key=key, training=training, **kwargs
        )
    except KeyError as e:
        if f.building is None and name not in f.params and name not in f.state:
            raise KeyError(
                f"{f.owner.describe()}: its sublayer {layer.describe()} has no params: `init` "
                f"builds sublayers from their calls in `call`, and `call` did not call it then "
                f"(in inference nor in training). Build it in `build`: "
                f"`params[{name!r}], state[{name!r}] = self.<attribute>.init(key, spec)`."
            ) from e
        raise
    if jax.tree.leaves(s) or name in f.new_state:
        f.new_state[name] = s
    return y


def _get(tree, name):
    return tree.get(name, {}) if isinstance(tree, Mapping) else {}


def _specs_of(args):
    def one(x):
        if hasattr(x, "shape") and hasattr(x, "dtype"):
            return jax.ShapeDtypeStruct(tuple(x.shape), x.dtype)
        return x

    return jax.tree.map(one, args)


def build_called_sublayers(layer, key, specs, kwargs, params, state, missing):
    """Builds the sublayers `missing` from `build` by tracing `call`.

    The trace (`jax.eval_shape`, no computation) records each sublayer's
    input specs at its first call; the sublayers are then built for real
    with their own keys, as a functional model builds its layers. The
    inference trace comes first; a training trace follows only if some
    sublayer was not called in inference (an auxiliary head, a noise layer).
    """
    children = layer.children()
    recorded: dict = {}
    arrays = {k: v for k, v in kwargs.items() if _is_arraylike(v)}
    static = {k: v for k, v in kwargs.items() if k not in arrays}

    def trace(specs, arrays, training, building):
        trace_key = jax.random.key(0) if key is None else key
        with frame(
            layer,
            children,
            dict(params),
            dict(state),
            key=trace_key,
            training=training,
            building=building,
        ) as f:
            try:
                run_call(layer, f, specs, {**arrays, **static})
            except KeyError as e:
                name = e.args[0] if e.args else None
                if name in missing:
                    raise KeyError(
                        f"{layer.describe()}: `call` reads params[{name!r}], which `build` did not create. "
                        f"Call the sublayer as `self.<attribute>(x)` inside `call` (kerax then builds it), "
                        f"or create its params in `build`: "
                        f"`params[{name!r}], state[{name!r}] = sublayer.init(key, spec)`."
                    ) from e
                raise

    for training in (False, True):
        building: dict = {}
        run = functools.partial(trace, training=training, building=building)
        jax.eval_shape(run, to_spec(specs), to_spec(arrays))
        for name, child_specs in building.items():
            recorded.setdefault(name, child_specs)
        if missing <= set(recorded):
            break
    params, state = dict(params), dict(state)
    by_name = dict(children)
    for name, child_specs in recorded.items():
        if name not in missing:
            continue
        p, s = by_name[name].init(naming.child_key(key, name), *child_specs)
        if jax.tree.leaves(p):
            params[name] = p
        if jax.tree.leaves(s):
            state[name] = s
    return params, state


def _is_arraylike(v) -> bool:
    leaves = jax.tree.leaves(v)
    return bool(leaves) and all(hasattr(x, "shape") for x in leaves)
