"""Keras-style weights: `self.add_weight(...)`, `build(input_shape)`, `call(inputs)`.

Keras layers create variables in `__init__` or `build(input_shape)` and read
them as `self.w` in `call(inputs)`. kerax keeps that way of writing and
keeps the layer a pure config:

- `add_weight` returns a `Variable`: a declaration (shape, initializer,
  trainable, ...), not an array. Declared in `__init__`, it is part of the
  config; declared in `build(input_shape)`, it is recorded while `init`
  runs `build`, and the layer itself is not changed.
- `init(key, spec)` creates the arrays: trainable variables go to `params`,
  the others to `state`, under the attribute name (`params["w"]`).
- In `call`, `self.w` reads the array from the running `apply` (a
  trace-time frame, like sublayer calls; pure from JAX's point of view). A
  non-trainable variable reads as a `BoundVariable`, whose
  `assign`/`assign_add`/`assign_sub` become the new `state` that `apply`
  returns: Keras's `self.total.assign_add(x)` without hidden state.
- `build(input_shape)` runs again (Python only, at trace time) when `apply`
  needs its attributes, so it must depend on `input_shape` and the config
  alone, as Keras's does.
"""

from __future__ import annotations

import contextlib
import inspect
import operator
import threading
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import naming, registry
from kerax.core.spec import is_symbolic

# Instance-dict keys (kept out of the config, see authoring.PRIVATE_PREFIX).
INITIALIZING = "_kerax_initializing"  # Set while a Keras-style __init__ runs.
DECLARED = "_kerax_declared"  # Variables made by add_weight in __init__, in order.
WEIGHT_ATTRS = "_kerax_weight_attrs"  # __init__ attributes that hold Variables.
BUILT = "_kerax_built_variables"  # {name: Variable} recorded by the last build.


class Variable:
    """A weight declared by `layer.add_weight(...)`: Keras's `keras.Variable`.

    Holds what `init` needs to create the array. Inside `call`, the layer's
    attribute reads the array itself (trainable) or a `BoundVariable`
    (non-trainable); outside, it is this declaration, so Keras's
    `layer.weights == [layer.w, layer.b]` holds.
    """

    def __init__(
        self,
        owner: str,
        shape,
        initializer,
        dtype,
        trainable: bool,
        regularizer,
        constraint,
        name: str | None,
    ):
        self.owner = owner
        self.shape = tuple(shape)
        self.initializer = initializer
        self.dtype = jnp.dtype(dtype)
        self.trainable = bool(trainable)
        self.regularizer = regularizer
        self.constraint = constraint
        self.name = name

    @property
    def path(self) -> str:
        """Keras's `variable.path`: `"<layer>/<name>"`."""
        return f"{self.owner}/{self.name}"

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype.name}, "
            f"trainable={self.trainable}>"
        )

    def create(self, key) -> jax.Array:
        value = self.initializer(key, self.shape, self.dtype)
        return jnp.asarray(value, self.dtype)


class BoundVariable:
    """A non-trainable variable inside `call`: an array that can be assigned.

    Reads like the array (operators, `ops.*`, `.shape`, `.numpy()`);
    `assign`/`assign_add`/`assign_sub` record the new value, which `apply`
    returns in `state`. `jnp` functions need the array: `v.value`.
    """

    __slots__ = ("_frame", "_variable")

    def __init__(self, frame, variable: Variable):
        self._frame = frame
        self._variable = variable

    @property
    def value(self) -> jax.Array:
        name = self._variable.name
        assigned = self._frame.assigned
        return assigned[name] if name in assigned else self._frame.state[name]

    def assign(self, value) -> BoundVariable:
        value = jnp.asarray(unwrap(value))
        old = self.value
        if tuple(value.shape) != tuple(old.shape):
            raise ValueError(
                f"{self._variable.path}.assign: the variable has shape {tuple(old.shape)}, "
                f"got a value of shape {tuple(value.shape)}."
            )
        self._frame.assigned[self._variable.name] = value.astype(old.dtype)
        return self

    def assign_add(self, value) -> BoundVariable:
        return self.assign(self.value + unwrap(value))

    def assign_sub(self, value) -> BoundVariable:
        return self.assign(self.value - unwrap(value))

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def path(self) -> str:
        return self._variable.path

    @property
    def trainable(self) -> bool:
        return False

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __jax_array__(self):
        return self.value

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return iter(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __repr__(self) -> str:
        return f"<BoundVariable path={self.path}, value={self.value!r}>"

    __hash__ = None  # `==` gives an array, as on Keras variables.


def _binary(op, reflected=False):
    if reflected:
        return lambda self, other: op(unwrap(other), self.value)
    return lambda self, other: op(self.value, unwrap(other))


for _name, _op in {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "matmul": operator.matmul,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
}.items():
    setattr(BoundVariable, f"__{_name}__", _binary(_op))
    setattr(BoundVariable, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
    "getitem": operator.getitem,
}.items():
    setattr(BoundVariable, f"__{_name}__", _binary(_op))
for _name, _op in {
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": operator.abs,
    "invert": operator.invert,
}.items():
    setattr(BoundVariable, f"__{_name}__", lambda self, _op=_op: _op(self.value))


def unwrap(value):
    """The array behind a `BoundVariable` (anything else unchanged)."""
    return value.value if isinstance(value, BoundVariable) else value


def unwrap_tree(tree):
    """`unwrap` over a pytree: what `call` returns becomes arrays."""
    return jax.tree.map(
        unwrap, tree, is_leaf=lambda v: isinstance(v, BoundVariable | Variable)
    )


# ------------------------------------------------------------ declaring
_local = threading.local()


def _recorders() -> list:
    if not hasattr(_local, "recorders"):
        _local.recorders = []
    return _local.recorders


class Recorder:
    """What one run of a Keras-style `build(input_shape)` assigned."""

    def __init__(self, owner):
        self.owner = owner
        self.attrs: dict[str, Any] = {}
        self.declared: list[Variable] = []


def recorder_for(layer) -> Recorder | None:
    for r in reversed(_recorders()):
        if r.owner is layer:
            return r
    return None


@contextlib.contextmanager
def _recording(layer):
    r = Recorder(layer)
    _recorders().append(r)
    try:
        yield r
    finally:
        _recorders().pop()


def add_weight(
    layer,
    shape=None,
    initializer=None,
    dtype=None,
    trainable=True,
    autocast=True,
    regularizer=None,
    constraint=None,
    aggregation="none",
    overwrite_with_gradient=False,
    name=None,
) -> Variable:
    """Declares a variable, as Keras's `add_weight` (in `__init__` or `build`).

    `Layer.add_weight` is this function. It returns a declaration; `init`
    creates the array (`params[name]`, or `state[name]` when
    `trainable=False`), and inside `call` the attribute holding it reads the
    array. `name` defaults to the attribute's name. Keras's defaults:
    `initializer` "glorot_uniform" for floats ("zeros" otherwise), `dtype`
    the layer's variable dtype.

    Example:
        >>> class Linear(kerax.layers.Layer):
        ...     def __init__(self, units=32):
        ...         super().__init__()
        ...         self.units = units
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1], self.units))
        ...         self.b = self.add_weight(shape=(self.units,), initializer="zeros")
        ...     def call(self, inputs):
        ...         return kerax.ops.matmul(inputs, self.w) + self.b
        >>> params, state = Linear(4).init(jax.random.key(0), kerax.spec((None, 2)))
        >>> {k: v.shape for k, v in params.items()}
        {'w': (2, 4), 'b': (4,)}
        >>> Linear(4).apply(params, state, jnp.ones((3, 2)))[0].shape
        (3, 4)
    """
    del autocast, aggregation  # kerax casts by the layer's policy; no replicas.
    initializing = INITIALIZING in vars(layer)
    recorder = recorder_for(layer)
    if recorder is None and not initializing:
        raise RuntimeError(
            f"{layer.describe()}.add_weight: a kerax layer is a frozen config, so variables are "
            "declared in `__init__` or in `build(self, input_shape)` (which kerax runs during "
            "`init`), not later."
        )
    if overwrite_with_gradient:
        raise ValueError(
            f"{layer.describe()}.add_weight(overwrite_with_gradient=True) is not supported: "
            "kerax optimizers update every trainable variable from its gradient."
        )
    if name is not None and (not isinstance(name, str) or not name or "/" in name):
        raise ValueError(
            f"{layer.describe()}.add_weight: `name` must be a non-empty string without '/', "
            f"got {name!r}."
        )
    policy = layer.policy
    dtype = jnp.dtype(dtype or policy.variable_dtype)
    if initializer is None:
        floating = jnp.issubdtype(dtype, jnp.floating)
        initializer = "glorot_uniform" if floating else "zeros"
    try:
        shape = () if shape is None else tuple(int(d) for d in shape)
    except TypeError as e:
        raise ValueError(
            f"{layer.describe()}.add_weight: `shape` must be a tuple of ints, got {shape!r} "
            "(in `build(input_shape)`, unknown dimensions of `input_shape` are None)."
        ) from e
    variable = Variable(
        owner=layer.scope_name,
        shape=shape,
        initializer=registry.get("initializers", initializer),
        dtype=dtype,
        trainable=trainable,
        regularizer=None
        if regularizer is None
        else registry.get("regularizers", regularizer),
        constraint=None
        if constraint is None
        else registry.get("constraints", constraint),
        name=name,
    )
    if recorder is not None:
        recorder.declared.append(variable)
    else:
        vars(layer).setdefault(DECLARED, []).append(variable)
    return variable


def name_variables(value, attr: str) -> None:
    """Names unnamed Variables after the attribute that holds them."""
    found = [v for v in _variables_in(value) if v.name is None]
    if len(found) == 1 and isinstance(value, Variable):
        value.name = attr
        return
    for i, v in enumerate(found):
        v.name = f"{attr}_{i}"


def _variables_in(value) -> list[Variable]:
    return [
        v
        for v in jax.tree.leaves(value, is_leaf=lambda v: isinstance(v, Variable))
        if isinstance(v, Variable)
    ]


def holds_variables(value) -> bool:
    return bool(_variables_in(value))


def finish_names(layer, declared: list[Variable]) -> None:
    taken = {v.name for v in declared if v.name is not None}
    k = 0
    for v in declared:
        if v.name is None:  # Keras's default names: variable, variable_1, ...
            while (candidate := "variable" if k == 0 else f"variable_{k}") in taken:
                k += 1
            v.name = candidate
            taken.add(candidate)
    seen = set()
    for v in declared:
        if v.name in seen:
            raise ValueError(
                f"{layer.describe()}: two variables are named {v.name!r}; give each "
                "`add_weight(..., name=...)` a different name."
            )
        seen.add(v.name)


# ------------------------------------------------------------ building
def keras_signature(fn, kerax_first: str) -> bool:
    """Whether `fn(self, ...)` is written the Keras way (first argument not `kerax_first`)."""
    parameters = list(inspect.signature(fn).parameters.values())[1:]
    positional = [
        p
        for p in parameters
        if p.kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return bool(positional) and positional[0].name != kerax_first


def keras_shape(spec_tree):
    """Keras's `input_shape`: tuples with None for unknown dimensions."""

    def one(spec):
        return tuple(None if is_symbolic(d) else int(d) for d in spec.shape)

    return jax.tree.map(one, spec_tree)


def run_build(layer, specs) -> Recorder:
    """Runs a Keras-style `build(input_shape)` and returns what it assigned.

    Also keeps the declarations on the layer (a cache, not config: eq/hash
    ignore it) for `regularization_loss`, `constrain` and the `.keras`
    layout: names, regularizers and constraints depend on the config only,
    and every `init` and traced `apply` refreshes them.
    """
    shapes = keras_shape(specs)
    with _recording(layer) as r:
        layer.build(*shapes)
    finish_names(layer, [*vars(layer).get(DECLARED, ()), *r.declared])
    vars(layer)[BUILT] = {v.name: v for v in r.declared}
    return r


def declared_variables(layer) -> list[Variable]:
    """`__init__` variables, then those `build` declared (Keras's creation order)."""
    if layer._keras_build and BUILT not in vars(layer):
        raise RuntimeError(
            f"{layer.describe()}: its variables are declared in `build(input_shape)`, which has "
            "not run on this layer object yet; `init` (or `apply`) it first."
        )
    return [*vars(layer).get(DECLARED, ()), *vars(layer).get(BUILT, {}).values()]


def create(layer, key, specs, *, keras_build: bool):
    """`(params, state)` for the variables `layer` declares."""
    if keras_build:
        run_build(layer, specs)
    declared = declared_variables(layer)
    clash = {v.name for v in declared} & {name for name, _ in layer.children()}
    if clash:
        raise ValueError(
            f"{layer.describe()}: variable and sublayer share the name(s) {sorted(clash)}; "
            "rename one (`add_weight(..., name=...)` or the sublayer's `name=`)."
        )
    params, state = {}, {}
    for v in declared:
        value = v.create(naming.child_key(key, v.name))
        (params if v.trainable else state)[v.name] = value
    return params, state


def weight_penalty(layer, params) -> jax.Array:
    total = jnp.zeros((), jnp.float32)
    for v in declared_variables(layer):
        if v.regularizer is not None and v.name in params:
            total = total + jnp.asarray(v.regularizer(params[v.name]), jnp.float32)
    return total


def constrain(layer, params):
    for v in declared_variables(layer):
        if v.constraint is not None and v.name in params:
            params[v.name] = v.constraint(params[v.name])
    return params


def resolve(value, frame):
    """What `self.<attr>` reads inside `call`: arrays for Variables."""

    def one(v):
        if not isinstance(v, Variable):
            return v
        if v.trainable:
            if v.name not in frame.params:
                raise KeyError(_missing(frame.owner, v, "params"))
            return frame.params[v.name]
        if v.name not in frame.state and v.name not in frame.assigned:
            raise KeyError(_missing(frame.owner, v, "state"))
        return BoundVariable(frame, v)

    return jax.tree.map(one, value, is_leaf=lambda v: isinstance(v, Variable))


def _missing(owner, v: Variable, where: str) -> str:
    return (
        f"{owner.describe()}: variable {v.name!r} is not in the {where} passed to apply; "
        f"make them with `{owner.scope_name}.init(key, spec)` (or the model's init)."
    )
