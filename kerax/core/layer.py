"""The layer contract: a frozen config object with a pure `init`/`apply` pair.

Authors write `build(key, spec) -> (params, state)` and
`call(params, state, x, *, key, training) -> (y, state)`; users call
`init`, `apply` and `output_spec`. The base class adds what every layer needs
once: dataclass (or Keras-style `__init__`) config, sublayer discovery,
named scopes, the dtype policy, output specs through `jax.eval_shape`,
masks, regularization, constraints and graph building.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import (
    authoring,
    aux_losses,
    mutation,
    naming,
    registry,
    remat,
    serialization,
    variables,
)
from kerax.core.fields import constrained_param, converter_of, regularized_param
from kerax.core.input_spec import check_layer_input
from kerax.core.policy import DTypePolicy, get_policy
from kerax.core.spec import shape_str, to_spec

BOUND = authoring.BOUND

# Config fields whose values are resolved through a registry family's `get`.
_RESOLVED_SUFFIXES = {
    "_initializer": "initializers",
    "_regularizer": "regularizers",
    "_constraint": "constraints",
}


def _freeze(value):
    """Config values must be hashable: lists become tuples, recursively."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _resolve_field(field_name: str, value):
    if value is None:
        return None
    for suffix, module in _RESOLVED_SUFFIXES.items():
        if field_name.endswith(suffix):
            return registry.resolve(module, value)
    return value


def cast_floating(tree, dtype):
    """Casts the floating-point leaves of `tree` to `dtype` (others untouched)."""
    if dtype is None:
        return tree

    def one(x):
        if (
            hasattr(x, "dtype")
            and jnp.issubdtype(x.dtype, jnp.floating)
            and x.dtype != dtype
        ):
            return x.astype(dtype)
        return x

    def walk(t):
        # Plain dicts keep their order (the order `build` created the
        # variables in, which `get_weights` reports as Keras does);
        # jax.tree.map would sort their keys.
        if type(t) is dict:
            return {k: walk(v) for k, v in t.items()}
        return jax.tree.map(one, t)

    return walk(tree)


def is_empty(tree) -> bool:
    return not jax.tree.leaves(tree)


@dataclasses.dataclass(frozen=True)
class Layer(metaclass=authoring.LayerMeta):
    """Base class of every kerax layer and model.

    A layer is a frozen, hashable config with a pure `init`/`apply` pair.
    Write one in either of two ways, with the same contract underneath:

    - dataclass fields: subclasses are made frozen dataclasses
      automatically; declare fields (`units: int = 32`), `build` and `call`;
    - Keras's way: `__init__(self, units, **kwargs)` calling
      `super().__init__(**kwargs)` and assigning attributes. The instance is
      writable only during `__init__`; its config is its `__init__`
      arguments (so `get_config`/`from_config` need no code) and it hashes
      and compares by them.

    Sublayers held by attributes (alone, or in lists, tuples and dicts) are
    found automatically (`children()`); their params sit under their names.
    Inside `call`, `self.dense(x)` runs a sublayer on arrays, and `init`
    builds the sublayers that `build` leaves out.

    Args:
        name: The layer's name, unique within its model; by default the
            snake_case class name (`dense`, then `dense_1`, ... per model).
        dtype: The dtype policy (`"float32"`, `"mixed_bfloat16"`, or a
            `kerax.DTypePolicy`); by default the global policy.
        trainable: `False` freezes the layer's params (and its sublayers').
            The one field that can also be assigned, as in Keras:
            `layer.trainable = False` sets it on the layer and every
            sublayer, in place (see `kerax.models.set_trainable`).

    Example:
        >>> class Scale(kerax.Layer):
        ...     init_value: float = 1.0
        ...     def build(self, key, spec):
        ...         return {"scale": jnp.full(spec.shape[-1:], self.init_value)}, {}
        ...     def call(self, params, state, x, *, key, training):
        ...         return x * params["scale"], state
        >>> params, state = Scale(2.0).init(jax.random.key(0), kerax.spec((None, 3)))
        >>> Scale(2.0).apply(params, state, jnp.ones((1, 3)))[0]
        Array([[2., 2., 2.]], dtype=float32)

        The same layer written the Keras way, holding a sublayer:

        >>> class ScaledDense(kerax.Layer):
        ...     def __init__(self, units, init_value=1.0, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.dense = kerax.layers.Dense(units)
        ...         self.init_value = init_value
        ...     def build(self, key, spec):
        ...         return {"scale": jnp.full((), self.init_value)}, {}
        ...     def call(self, params, state, x, *, key, training):
        ...         return self.dense(x) * params["scale"], state
        >>> layer = ScaledDense(4, init_value=2.0)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> sorted(params), layer.get_config()["units"]
        (['dense', 'scale'], 4)

        Frozen as in Keras, in place, its sublayers too:

        >>> layer.trainable = False
        >>> layer.dense.trainable, any(jax.tree.leaves(layer.trainable_mask(params)))
        (False, False)
    """

    name: str | None = dataclasses.field(default=None, kw_only=True)
    dtype: str | DTypePolicy | None = dataclasses.field(default=None, kw_only=True)
    trainable: bool = dataclasses.field(default=True, kw_only=True)

    # Keras's `supports_masking`: pass an incoming mask through unchanged.
    supports_masking: ClassVar[bool] = False
    # Whether `call`/`build` are written the Keras way (set per subclass).
    _keras_call: ClassVar[bool] = False
    _keras_build: ClassVar[bool] = False
    # Containers leave casting to their children.
    autocast: ClassVar[bool] = True
    # Which param a `<prefix>_regularizer` / `<prefix>_constraint` field acts on.
    param_for_prefix: ClassVar[dict] = {
        "recurrent": "recurrent_kernel",
        "depthwise": "depthwise_kernel",
        "pointwise": "pointwise_kernel",
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A dataclass, unless the class writes a Keras-style `__init__`.
        authoring.prepare_subclass(cls, dataclasses.dataclass(frozen=True))
        # `layer.trainable = False`, as in Keras: the one assignable field.
        _allow_trainable_assignment(cls)
        # Loadable names are not registered here: each family package adds its
        # public classes to the registry, so private bases stay unloadable.

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            convert = converter_of(f)
            if convert is not None:
                try:
                    value = convert(value)
                except (TypeError, ValueError) as e:
                    raise type(e)(f"{self.describe()}: argument `{f.name}`: {e}") from e
            else:
                # Transitional: fields not yet declared with kerax.field(converter=...).
                value = _resolve_field(f.name, value)
            new = _freeze(value)
            if new is not getattr(self, f.name):
                object.__setattr__(self, f.name, new)
        if self.name is not None and (
            not isinstance(self.name, str) or "/" in self.name or not self.name
        ):
            raise ValueError(
                f"{type(self).__name__}: name must be a non-empty string without '/', got {self.name!r}."
            )

    # ------------------------------------------------------------------ names
    @property
    def default_name(self) -> str:
        return naming.to_snake_case(type(self).__name__)

    @property
    def scope_name(self) -> str:
        return self.name or self.default_name

    def describe(self) -> str:
        """`Dense 'classifier'`: how errors name this layer."""
        return f"{type(self).__name__} '{self.scope_name}'"

    @property
    def policy(self) -> DTypePolicy:
        return get_policy(self.dtype)

    # --------------------------------------------------------- the contract
    def build(self, key, *specs, **kwargs):
        """Creates `(params, state)` for inputs described by `specs`. Override."""
        del key, specs, kwargs
        return {}, {}

    def call(self, params, state, *inputs, key, training, **kwargs):
        """Computes `(y, state)`. Override."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement call(params, state, x, *, key, training)."
        )

    def init(self, key, *specs, **kwargs):
        """Returns `(params, state)`: arrays only, so it works under jit and vmap."""
        if not specs:
            raise TypeError(
                f"{self.describe()}.init(key, spec) needs an input spec, e.g. kerax.spec((None, 16))."
            )
        specs = to_spec(specs)
        kwargs = {
            k: to_spec(v) if _is_arraylike_tree(v) else v for k, v in kwargs.items()
        }
        self.check_input(*specs)
        check_layer_input(self, specs)  # Keras's `self.input_spec = InputSpec(...)`.
        static = (self, specs, tuple(sorted(kwargs.items())))
        if not isinstance(key, jax.core.Tracer) and _hashable(static):
            # Called eagerly: one compiled program makes every array (see
            # `_init_program`), not one per operation.
            return _init_once_compiled(*static[:1], key, *static[1:])
        return self._init(key, specs, kwargs)

    def _init(self, key, specs, kwargs):
        with jax.named_scope(self.scope_name):
            params, state = self._build_own(key, specs, kwargs)
            params, state = self._build_sublayers(key, specs, kwargs, params, state)
        self._check_params_owned(params, state)
        if self.autocast:
            params = cast_floating(params, self.policy.variable_dtype)
        return params, state

    def apply(self, params, state, *inputs, key=None, training: bool = False, **kwargs):
        """Runs the layer: `(y, state)`, state unchanged in inference."""
        if not inputs:
            raise TypeError(
                f"{self.describe()}.apply(params, state, x) needs an input."
            )
        if not isinstance(training, bool):
            raise TypeError(
                f"{self.describe()}: `training` must be a Python bool (it is static under jit), got {type(training).__name__}."
            )
        check_layer_input(self, inputs)
        if "mask" in kwargs and kwargs["mask"] is None:
            del kwargs["mask"]
        if "mask" in kwargs and not self.accepts_mask():
            del kwargs[
                "mask"
            ]  # Like Keras: layers that ignore masks are not handed one.
        mode = remat.mode_of(self)  # Made inside a kerax.RematScope.
        if mode is not None:
            run = functools.partial(self._apply_body, training=training)
            return remat.apply(self, mode, run, (params, state, inputs, key, kwargs))
        return self._apply_body(params, state, inputs, key, kwargs, training=training)

    def _apply_body(self, params, state, inputs, key, kwargs, *, training):
        if self.autocast:
            compute = self.policy.compute_dtype
            inputs = cast_floating(inputs, compute)
            params = cast_floating(params, compute)
        children = self.children()
        if not children and not self._needs_frame():
            with jax.named_scope(self.scope_name):
                return self.call(
                    params, state, *inputs, key=key, training=training, **kwargs
                )
        # Sublayers called as `self.dense(x)` and variables read as `self.w`
        # inside `call` read this frame.
        with (
            jax.named_scope(self.scope_name),
            authoring.frame(
                self, children, params, state, key=key, training=training
            ) as f,
        ):
            y, state = authoring.run_call(self, f, inputs, kwargs)
        if f.new_state:
            state = {**state, **f.new_state}
        return y, state

    def _needs_frame(self) -> bool:
        return self._keras_call or self._keras_build or variables.DECLARED in vars(self)

    def _build_own(self, key, specs, kwargs):
        """`build`'s params and state, with the variables `add_weight` declared."""
        if not (self._keras_build or variables.DECLARED in vars(self)):
            return self.build(key, *specs, **kwargs)
        params, state = variables.create(
            self, key, specs, keras_build=self._keras_build
        )
        if not self._keras_build:  # kerax's build(key, spec) beside __init__ variables.
            more_params, more_state = self.build(key, *specs, **kwargs)
            params, state = {**params, **more_params}, {**state, **more_state}
        return params, state

    # ------------------------------------------- Keras's way of writing layers
    # Keras's `self.add_weight(...)`, in `__init__` or `build(input_shape)`.
    add_weight = variables.add_weight

    def add_loss(self, loss) -> None:
        """Keras's `self.add_loss(x)` in `call`: the same as `kerax.add_loss(x)`."""
        aux_losses.add_loss(loss)

    @property
    def losses(self):
        raise AttributeError(
            f"{self.describe()}: kerax layers keep no losses between calls; "
            "`y, state, loss = layer.apply_with_losses(params, state, x, ...)` returns the "
            "sum of what `add_loss` and the weight regularizers added in that call."
        )

    def _build_sublayers(self, key, specs, kwargs, params, state):
        """Builds discovered sublayers that `build` left out, from their calls."""
        if type(self).children is not Layer.children:
            return params, state  # Containers build their own children.
        missing = {
            name
            for name, _ in self.children()
            if name not in params and name not in state
        }
        if not missing:
            return params, state
        return authoring.build_called_sublayers(
            self, key, specs, kwargs, params, state, missing
        )

    def _check_params_owned(self, params, state) -> None:
        """A params subtree that no sublayer owns would escape `trainable`,
        regularizers, constraints and sharding: refuse it at `init`."""
        children = self.children()
        if not children:
            return
        names = [name for name, _ in children]
        for what, tree in (("params", params), ("state", state)):
            if not isinstance(tree, dict):
                continue
            for k, v in tree.items():
                if isinstance(v, dict) and k not in names:
                    raise ValueError(
                        f"{self.describe()}: {what}[{k!r}] is a subtree that no sublayer owns; its "
                        f"sublayers are {names}. Put each sublayer's {what} under its name "
                        f"({what}[self.sublayer_name(layer)] = ...), or call sublayers as "
                        "`self.<attribute>(x)` in `call` and leave them out of `build`: kerax "
                        "builds them. Keep the layer's own variables at the top level."
                    )

    def apply_masked(
        self, params, state, *inputs, key=None, training=False, mask=None, **kwargs
    ):
        """`apply` that also returns the output mask: `(y, state, mask)`."""
        y, state = self.apply(
            params, state, *inputs, key=key, training=training, mask=mask, **kwargs
        )
        return y, state, self.compute_mask(*inputs, mask=mask)

    def apply_with_losses(
        self, params, state, *inputs, key=None, training=False, **kwargs
    ):
        """`apply` plus the auxiliary loss: `(y, state, aux_loss)`.

        The auxiliary loss is the sum of weight regularization
        (`kernel_regularizer`, ...) and activity losses added in `call`.
        This is what training minimizes on top of the task loss.
        """
        with aux_losses.collect() as losses:
            y, state = self.apply(
                params, state, *inputs, key=key, training=training, **kwargs
            )
        return y, state, aux_losses.total(losses) + self.regularization_loss(params)

    def __call__(self, *args, **kwargs):
        """On `kerax.Input` nodes: builds a graph (see `kerax.Model`).

        On arrays inside an outer layer's `call`: runs this sublayer with its
        slice of the outer params, state and key, and returns its output
        (Keras's `self.dense(x)`).
        """
        f = authoring.frame_for(self)
        if f is not None and not _holds_nodes((args, kwargs)):
            return authoring.call_sublayer(f, self, args, dict(kwargs))
        owner = authoring.calling_owner()
        if owner is not None and not _holds_nodes((args, kwargs)):
            raise TypeError(
                f"{self.describe()} is called inside {owner.describe()}.call but is not one of its "
                "sublayers, so it has no params there: assign it to an attribute in __init__ "
                "(self.x = layer), or call `layer.apply(params, state, x)` yourself."
            )
        from kerax.core import node  # node.py imports this module.

        return node.call_layer(self, args, kwargs)

    # ------------------------------------------------- nodes in a model
    @property
    def output(self):
        """This layer's output node in a functional model, as in Keras.

        A layer is a config and remembers no graph: read it through the model,
        `model.get_layer("dense").output` (or `model.layers[i].output`).
        """
        return self._bound_node("output", None)

    @property
    def input(self):
        """This layer's input node(s) in a functional model (see `output`)."""
        return self._bound_node("input", None)

    def get_output_at(self, node_index: int):
        """The output node of this layer's `node_index`-th call in the model."""
        return self._bound_node("output", node_index)

    def get_input_at(self, node_index: int):
        """The input node(s) of this layer's `node_index`-th call in the model."""
        return self._bound_node("input", node_index)

    def _bound_node(self, what: str, index: int | None):
        bound = vars(self).get(BOUND)
        if bound is None:
            raise AttributeError(
                f"{self.describe()} has no `{what}` of its own: a kerax layer is a config and "
                f"remembers no graph. Read it through the model: `model.get_layer({self.scope_name!r}).{what}`."
            )
        nodes = bound[1] if what == "input" else bound[2]
        if not nodes:  # In a model with no graph: a Sequential without Input.
            raise AttributeError(
                f"{self.describe()} has no `{what}`: its model has no Input, so no graph "
                "was built. Start the model with `kerax.Input(shape)` (e.g. "
                "`kerax.Sequential([kerax.Input((16,)), ...])`) to read its layers' "
                f"`{what}`."
            )
        if index is None:
            if len(nodes) != 1:
                raise AttributeError(
                    f"{self.describe()} is called {len(nodes)} times in this model, so it has "
                    f"several {what}s: use `get_{what}_at(node_index)`."
                )
            index = 0
        if not 0 <= index < len(nodes):
            raise ValueError(
                f"{self.describe()}: node_index {index} is out of range; it is called "
                f"{len(nodes)} time(s) in this model."
            )
        return nodes[index]

    # --------------------------------------------------------------- specs
    def output_spec(self, *specs, **kwargs):
        """The output spec for inputs `specs`, by `jax.eval_shape` (cached)."""
        return _output_spec(self, False, *_spec_key(specs, kwargs))

    def output_spec_masked(self, *specs, mask=None, **kwargs):
        """`(output spec, output mask spec)` for inputs `specs` carrying `mask`.

        What a functional graph computes when the layer is called on nodes:
        `apply_masked` traced with `jax.eval_shape` (cached), so a layer's
        `call` sees its input mask (as a spec) and its `compute_mask` runs,
        as Keras's symbolic call does. The mask spec is None without a mask.
        """
        return _output_spec(self, True, *_spec_key(specs, dict(kwargs, mask=mask)))

    def check_input(self, *specs) -> None:
        """Raises a clear error for inputs this layer cannot take. Override."""

    def expect_ndim(self, spec, *, min_ndim=None, ndim=None, what="inputs"):
        """Helper for `check_input`: a rank check with a Keras-style message."""
        n = len(spec.shape)
        if ndim is not None and n != ndim:
            raise ValueError(
                f"{self.describe()} expected {what} of rank {ndim}, got shape {shape_str(spec.shape)} (rank {n})."
            )
        if min_ndim is not None and n < min_ndim:
            raise ValueError(
                f"{self.describe()} expected {what} of rank >= {min_ndim}, got shape {shape_str(spec.shape)} (rank {n})."
            )

    # --------------------------------------------------------------- masks
    @classmethod
    def accepts_mask(cls) -> bool:
        return _accepts_mask(cls)

    def compute_mask(self, *inputs, mask=None):
        """The output mask. Default: pass it through when `supports_masking`."""
        return mask if self.supports_masking else None

    # ---------------------------------------------------- tree utilities
    def children(self) -> list[tuple[str, Layer]]:
        """`(name, layer)` for each sublayer whose params sit under `params[name]`.

        Found from the attributes: each layer held alone or in a list, tuple
        or dict, in order of assignment, named like Keras names sublayer
        variables (the sublayer's name, `_1`, `_2` on collisions).
        Containers with their own naming override this.
        """
        return authoring.discovered_children(self)

    def sublayer_name(self, layer: Layer) -> str:
        """The key of `layer`'s params in this layer's params."""
        for name, child in self.children():
            if child is layer:
                return name
        raise ValueError(
            f"{layer.describe()} is not a sublayer of {self.describe()}: assign it to an "
            "attribute (self.x = layer) in __init__ or declare it as a field."
        )

    def _prefixed_fields(self, suffix):
        declared = regularized_param if suffix == "_regularizer" else constrained_param
        for f in dataclasses.fields(self):
            param = declared(f)
            if param is not None:
                value = getattr(self, f.name)
                if value is not None:
                    yield param, value
            elif (
                f.name.endswith(suffix)
                and f.name != "activity" + suffix
                and not f.metadata
            ):
                # Transitional: the field-name rule for fields not yet declared
                # with kerax.field(regularizes=/constrains=).
                value = getattr(self, f.name)
                if value is not None:
                    prefix = f.name[: -len(suffix)]
                    yield self.param_for_prefix.get(prefix, prefix), value

    def regularization_loss(self, params) -> jnp.ndarray:
        """Sum of the Keras weight regularizers (`kernel_regularizer`, ...)."""
        total = jnp.zeros((), jnp.float32)
        for param_name, reg in self._prefixed_fields("_regularizer"):
            if param_name in params:
                total = total + jnp.asarray(reg(params[param_name]), jnp.float32)
        if self._needs_frame():
            total = total + variables.weight_penalty(self, params)
        for name, child in self.children():
            if name in params:
                total = total + child.regularization_loss(params[name])
        return total

    def constrain(self, params):
        """Applies Keras constraints (`kernel_constraint`, ...) after an update."""
        changed = dict(params) if isinstance(params, dict) else params
        for param_name, constraint in self._prefixed_fields("_constraint"):
            if param_name in changed:
                changed[param_name] = constraint(changed[param_name])
        if self._needs_frame() and isinstance(changed, dict):
            changed = variables.constrain(self, changed)
        for name, child in self.children():
            if name in changed:
                changed[name] = child.constrain(changed[name])
        return changed

    def trainable_mask(self, params):
        """A pytree of bools like `params`: False under `trainable=False` layers."""
        if not self.trainable:
            return jax.tree.map(lambda _: False, params)
        if not self.children():
            return jax.tree.map(lambda _: True, params)
        out = {}
        kids = dict(self.children())
        for k, v in params.items():
            out[k] = (
                kids[k].trainable_mask(v)
                if k in kids
                else jax.tree.map(lambda _: True, v)
            )
        return out

    def param_axes(self, params):
        """Logical axis names per param (for sharding), None where unspecified."""
        own = self.axes()
        kids = dict(self.children())
        out = {}
        for k, v in params.items():
            if k in kids:
                out[k] = kids[k].param_axes(v)
            elif k in own:
                out[k] = own[k]
            else:
                out[k] = jax.tree.map(lambda _: None, v)
        return out

    def axes(self) -> dict:
        """Logical axes of this layer's own params, e.g. `{"kernel": ("embed", "mlp")}`."""
        return {}

    # -------------------------------------------------------------- config
    def get_config(self) -> dict:
        """The Keras-style config: this layer's fields, JSON-safe.

        A Keras-style layer (own `__init__`) gets its config from its
        `__init__` arguments, as Keras's auto-config does. One that writes its
        own `get_config` gets its base's config from `super().get_config()`,
        as in Keras: `Layer`'s `name`, `trainable` and `dtype` (a built-in
        base's arguments), not the auto-config, so
        `dict(units=self.units, **super().get_config())` works.
        """
        cls = type(self)
        if authoring.is_keras_style(cls):
            owner = next(c for c in cls.__mro__ if "get_config" in c.__dict__)
            if owner is Layer or not authoring.is_keras_style(owner):
                return self._init_config()
        return {
            f.name: serialization.serialize_value(
                getattr(self, f.name), f"{self.describe()}.{f.name}"
            )
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuilds the layer from `get_config()` output (allowlisted values only).

        `custom_objects` (`{name: class or function}`) are loadable while it
        runs, as in Keras's `Model.from_config(config, custom_objects=...)`.
        """
        if custom_objects:
            with registry.custom_object_scope(custom_objects):
                return cls.from_config(config)
        if authoring.is_keras_style(cls):
            kwargs = {k: serialization.deserialize_value(v) for k, v in config.items()}
            try:
                return cls(**kwargs)
            except TypeError as e:
                raise TypeError(
                    f"{cls.__name__}.from_config could not call {cls.__name__}(**config) with keys "
                    f"{sorted(config)}: {e}. Write get_config and from_config for it."
                ) from e
        return serialization.construct(cls, config)

    def _init_config(self) -> dict:
        arguments = authoring.init_args(self)
        if arguments is None:
            raise NotImplementedError(
                f"{self.describe()}: {type(self).__name__} was made with positional-only or `*args` "
                "arguments, which cannot be a config. Write `get_config` returning "
                "{**super().get_config(), 'arg': self.arg, ...} (and `from_config` if needed)."
            )
        config = {}
        for k in ("name", "trainable", "dtype"):
            if authoring.accepts_argument(type(self), k):
                config[k] = getattr(self, k)
        config.update(
            {k: v for k, v in arguments.items() if k not in config},
        )
        try:
            return {
                k: serialization.serialize_value(v, f"{self.describe()}.{k}")
                for k, v in config.items()
            }
        except (TypeError, ValueError) as e:
            raise NotImplementedError(
                f"{e} {type(self).__name__} holds an `__init__` argument kerax cannot save: write "
                "`get_config` for it, as in Keras."
            ) from e

    def summary(self, *specs, print_fn=print, **kwargs):
        """Prints the Keras-style summary table (see `kerax.models.summary`)."""
        # kerax.models provides the table: core must not import a higher floor.
        return registry.provided("summary")(self, *specs, print_fn=print_fn, **kwargs)

    def count_params(self, *specs) -> int:
        shapes = jax.eval_shape(lambda: self.init(jax.random.key(0), *specs))[0]
        return sum(int(x.size) for x in jax.tree.leaves(shapes))

    def require_key(self, key, what: str = "training") -> None:
        """Raises the standard error for a random layer called without a key."""
        if key is None:
            raise ValueError(
                f"{self.describe()} is random in {what} and needs a PRNG key: "
                "call apply(params, state, x, key=jax.random.key(seed), training=True)."
            )


registry.set_base("layers", Layer)


# ------------------------------------------------ `layer.trainable = ...`
def _allow_trainable_assignment(cls) -> None:
    """Wraps `cls`'s own `__setattr__` (the frozen dataclass's, or the
    Keras-style layer's) so that `trainable`, and only it, is assignable."""
    inner = cls.__dict__.get("__setattr__")
    if inner is None or hasattr(inner, "_kerax_inner"):
        return

    def __setattr__(self, name, value):
        if (
            name == "trainable"
            and not authoring.is_initializing(self)
            and variables.recorder_for(self) is None
        ):
            set_trainable_in_place(self, value)
            return
        inner(self, name, value)

    __setattr__._kerax_inner = inner
    cls.__setattr__ = __setattr__


def set_trainable_in_place(layer: Layer, value) -> None:
    """Keras's `layer.trainable = value`: sets the flag on `layer` and,
    recursively, on every sublayer (`children()`), in place.

    A view from `model.get_layer(...)` / `model.layers` sets it on the
    model's own layer too. A `Trainer` made before the change refuses to
    `fit` (Keras needs `compile()` again); make a new one. A change drops
    JAX's traced programs (`jax.clear_caches()`), so a `jax.jit` of the
    model's `apply` traces again with the new flags.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{layer.describe()}: `trainable` must be True or False, got {value!r} "
            f"({type(value).__name__}). Write `layer.trainable = False` to freeze the layer "
            "and its sublayers, `= True` to unfreeze them."
        )
    value = bool(value)
    seen: set[int] = set()
    changed = []

    def walk(target):
        origin = vars(target).get(BOUND, (None,))[0]
        for one in (target, origin):
            if one is None or id(one) in seen:
                continue
            seen.add(id(one))
            # The views models handed out of this layer (`model.layers[i]`,
            # kept by the model) show the new flag too.
            for view in mutation.views_of(one):
                if view.trainable is not value:
                    _store_trainable(view, value)
            if one.trainable is not value:
                changed.append(one)
                _store_trainable(one, value)
            for _, child in one.children():
                walk(child)

    walk(layer)
    if changed:
        # Trainers and steps made before compare the flags at their next use.
        mutation.changed(architecture=False)
        # JAX caches traces by the function's identity (`jax.jit(model.apply)`
        # is the same bound method before and after) and by static arguments
        # (a functional model hashes by its graph): a program traced with the
        # old flag (a BatchNormalization in training mode) would run again.
        # Like `keras.backend.clear_session()`, drop them: the next call
        # traces with the new flags.
        jax.clear_caches()


def _store_trainable(layer: Layer, value: bool) -> None:
    object.__setattr__(layer, "trainable", value)
    if not authoring.is_keras_style(type(layer)):
        return
    # A Keras-style layer is compared and hashed by its recorded `__init__`
    # arguments: record the new flag there too (caches keyed by the layer
    # then see a new key; `get_config` and `clone_model` see the new flag).
    arguments = authoring.init_args(layer)
    if arguments is not None and "trainable" in arguments:
        arguments = {**arguments, "trainable": value}
        vars(layer)[authoring._INIT_ARGS] = arguments
    vars(layer)[authoring._CONFIG_KEY] = authoring._config_key(layer, arguments)


# `trainable_flags` lives in `kerax.core.mutation` (what the watches compare).
trainable_flags = mutation.trainable_flags


_allow_trainable_assignment(Layer)


def _holds_nodes(tree) -> bool:
    from kerax.core.node import holds_nodes  # node.py imports this module.

    return holds_nodes(tree)


# Eager `init` runs as one jitted program compiled at XLA's cheapest LLVM
# level. Op by op, every random initializer of a new shape compiled its own
# threefry program (0.1-0.3 s each on CPU), so a small CNN took seconds to
# initialize; one program at the cheapest level takes a third to a quarter
# of that (LSTM 1.7 -> 0.7 s, an 8-conv CNN 4.2 -> 1.2 s, six transformer
# blocks 3.2 -> 2.0 s on 2 CPU cores). The program runs once, so its code
# quality does not matter. The draws are the same (identical PRNG bits);
# the float transforms after them (normal, truncated normal) may differ in
# the last bit, as op-by-op init and `jax.jit(model.init)` already differed:
# how LLVM orders float arithmetic depends on the program and the level.
# XLA's cheapest LLVM level, for programs that run once (see above).
RUN_ONCE_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


@functools.lru_cache(maxsize=64)
def _init_program(layer, specs, kwargs):
    """`(program, structure)`: the jitted init of `layer` for these inputs
    (a function of the key), and the structure of its output.

    Dicts come out of `jit` with sorted keys; kerax's params keep Keras's
    variable order (dict order: `get_weights`, `.keras` files). So the
    program returns the leaves as a list in that order, and the structure,
    read while tracing, rebuilds the dicts. An LRU keeps the last 64
    programs: a loop that makes many models does not keep them all.
    """
    structure = []

    def init(key):
        leaves, tree = _flatten_in_order(layer._init(key, specs, dict(kwargs)))
        structure[:] = [tree]
        return leaves

    program = jax.jit(init, compiler_options=RUN_ONCE_COMPILER_OPTIONS)
    return program, structure


def _init_once_compiled(layer, key, specs, kwargs):
    program, structure = _init_program(layer, specs, kwargs)
    leaves = program(key)  # Traced on the first call: fills `structure`.
    return _unflatten_in_order(structure[0], iter(leaves))


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _flatten_in_order(tree):
    """`(leaves, structure)` of nested dicts, lists and tuples, dicts in
    their insertion order (anything else is a leaf)."""
    leaves = []

    def walk(node):
        if isinstance(node, dict):
            return (dict, tuple((k, walk(v)) for k, v in node.items()))
        if type(node) in (list, tuple):
            return (type(node), tuple(walk(v) for v in node))
        leaves.append(node)
        return None

    return leaves, walk(tree)


def _unflatten_in_order(structure, leaves):
    if structure is None:
        return next(leaves)
    kind, items = structure
    if kind is dict:
        return {k: _unflatten_in_order(v, leaves) for k, v in items}
    return kind(_unflatten_in_order(v, leaves) for v in items)


def _is_arraylike_tree(v) -> bool:
    leaves = jax.tree.leaves(v)
    return bool(leaves) and all(
        isinstance(x, jax.ShapeDtypeStruct)
        or hasattr(x, "shape")
        and hasattr(x, "dtype")
        for x in leaves
    )


@functools.cache
def _accepts_mask(cls) -> bool:
    params = inspect.signature(cls.call).parameters
    return "mask" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def clear_caches() -> None:
    """Empties the traced output-spec caches and the compiled inits
    (`kerax.backend.clear_session`)."""
    _output_spec.cache_clear()
    _init_program.cache_clear()


def _spec_key(specs, kwargs) -> tuple:
    """`(leaves, treedef, static items)`: the hashable cache key of an
    output-spec query (array-like kwargs as specs, the others static)."""
    static, dynamic = {}, {}
    for k, v in kwargs.items():
        (dynamic if _is_arraylike_tree(v) else static)[k] = v
    dynamic = {k: to_spec(v) for k, v in dynamic.items()}
    leaves, treedef = jax.tree.flatten((to_spec(specs), dynamic))
    return tuple(leaves), treedef, tuple(sorted(static.items()))


@functools.lru_cache(maxsize=8192)
def _output_spec(layer, masked, leaves, treedef, static_items):
    """The output spec (`masked`: and the output mask spec) of `layer`."""
    specs, dynamic = jax.tree.unflatten(treedef, leaves)
    static = dict(static_items)

    def forward(specs, dynamic):
        key = jax.random.key(0)
        params, state = layer.init(key, *specs)
        # A key, so layers that sample even in inference (a VAE's Sampling)
        # have symbolic outputs too.
        run = layer.apply_masked if masked else layer.apply
        out = run(params, state, *specs, key=key, training=False, **dynamic, **static)
        return (out[0], out[2]) if masked else out[0]

    return jax.eval_shape(forward, specs, dynamic)
