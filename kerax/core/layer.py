"""The layer contract: a frozen config object with a pure `init`/`apply` pair.

Authors write `build(key, spec) -> (params, state)` and
`call(params, state, x, *, key, training) -> (y, state)`; users call
`init`, `apply` and `output_spec`. The base class adds what every layer needs
once: dataclass config, named scopes, the dtype policy, output specs through
`jax.eval_shape`, masks, regularization, constraints and graph building.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from kerax.core import aux_losses, naming, registry, serialization
from kerax.core.fields import constrained_param, converter_of, regularized_param
from kerax.core.policy import DTypePolicy, get_policy
from kerax.core.spec import shape_str, to_spec

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

    return jax.tree.map(one, tree)


def is_empty(tree) -> bool:
    return not jax.tree.leaves(tree)


@dataclasses.dataclass(frozen=True)
class Layer:
    """Base class of every kerax layer and model.

    A layer is a frozen, hashable dataclass whose fields are its Keras config.
    Subclasses are made dataclasses automatically: declare fields, `build`
    and `call`.

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
    """

    name: str | None = dataclasses.field(default=None, kw_only=True)
    dtype: Any = dataclasses.field(default=None, kw_only=True)
    trainable: bool = dataclasses.field(default=True, kw_only=True)

    # Keras's `supports_masking`: pass an incoming mask through unchanged.
    supports_masking: ClassVar[bool] = False
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
        if "__dataclass_fields__" not in cls.__dict__:
            dataclasses.dataclass(frozen=True)(cls)
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
        with jax.named_scope(self.scope_name):
            params, state = self.build(key, *specs, **kwargs)
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
        if "mask" in kwargs and kwargs["mask"] is None:
            del kwargs["mask"]
        if "mask" in kwargs and not self.accepts_mask():
            del kwargs[
                "mask"
            ]  # Like Keras: layers that ignore masks are not handed one.
        if self.autocast:
            compute = self.policy.compute_dtype
            inputs = cast_floating(inputs, compute)
            params = cast_floating(params, compute)
        with jax.named_scope(self.scope_name):
            return self.call(
                params, state, *inputs, key=key, training=training, **kwargs
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
        """Calling a layer on `kerax.Input` nodes builds a graph (see `kerax.Model`)."""
        from kerax.core import node

        return node.call_layer(self, args, kwargs)

    # --------------------------------------------------------------- specs
    def output_spec(self, *specs, **kwargs):
        """The output spec for inputs `specs`, by `jax.eval_shape` (cached)."""
        specs = to_spec(specs)
        static, dynamic = {}, {}
        for k, v in kwargs.items():
            (dynamic if _is_arraylike_tree(v) else static)[k] = v
        dynamic = {k: to_spec(v) for k, v in dynamic.items()}
        leaves, treedef = jax.tree.flatten((specs, dynamic))
        return _output_spec(self, tuple(leaves), treedef, tuple(sorted(static.items())))

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
        """`(name, layer)` for each sublayer whose params sit under `params[name]`."""
        return []

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
        """The Keras-style config: this layer's fields, JSON-safe."""
        return {
            f.name: serialization.serialize_value(
                getattr(self, f.name), f"{self.describe()}.{f.name}"
            )
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds the layer from `get_config()` output (allowlisted values only)."""
        return serialization.construct(cls, config)

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


@functools.lru_cache(maxsize=8192)
def _output_spec(layer, leaves, treedef, static_items):
    specs, dynamic = jax.tree.unflatten(treedef, leaves)
    static = dict(static_items)

    def forward(specs, dynamic):
        params, state = layer.init(jax.random.key(0), *specs)
        y, _ = layer.apply(params, state, *specs, training=False, **dynamic, **static)
        return y

    return jax.eval_shape(forward, specs, dynamic)
