"""Keras's `JaxLayer` and `FlaxLayer`: JAX functions and Flax modules as layers.

`JaxLayer` wraps a pure `call_fn` (and the `init_fn` that makes its params),
`FlaxLayer` a Flax linen module (or an NNX module). Their params and state
live in kerax's params/state trees under the layer's name like any layer's,
so they train with `Trainer`, shard, save (functions and module classes by
their `kerax.register`-ed names, as Keras requires registration) and
export.

Keras's arguments are named by what the function asks for: `call_fn` takes
any of `params`, `state`, `rng`, `inputs` (required), `training`, in any
order; with `state` it returns `(outputs, new_state)`. `init_fn` takes any of
`rng`, `inputs` (required), `training` and returns `params`, or
`(params, state)` when `call_fn` takes `state`. The `rng` is the key that
kerax passes to `init`/`apply` (Keras draws it from a hidden seed
generator): in inference it is None, as in Keras.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import jax
import jax.numpy as jnp

from kerax.core import registry
from kerax.core.layer import Layer

__all__ = ["FlaxLayer", "JaxLayer"]

_CALL_ARGS = ("params", "state", "rng", "inputs", "training")
_INIT_ARGS = ("rng", "inputs", "training")


def _arguments(fn: Callable, what: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(inspect.signature(fn).parameters)
    unknown = [n for n in names if n not in allowed]
    if unknown or "inputs" not in names:
        raise ValueError(
            f"{what} must take arguments named from {list(allowed)} (with "
            f"`inputs` required), as Keras's JaxLayer; got {list(names)}."
        )
    return names


def _example_inputs(spec):
    """Concrete inputs of `spec`'s shapes (symbolic dimensions as 1, as Keras)."""
    return jax.tree.map(
        lambda s: jnp.ones(
            tuple(d if isinstance(d, int) else 1 for d in s.shape), s.dtype
        ),
        spec,
    )


def _check_preset(layer: Layer, params, state) -> None:
    if params is not None or state is not None:
        raise ValueError(
            f"{layer.describe()}: kerax keeps params and state outside the layer. "
            "Instead of params=/state= (or variables=), put them in the trees "
            f"you pass to apply: params[{layer.scope_name!r}] = your_params "
            "(and state likewise), e.g. after `params, state = model.init(...)`."
        )


class JaxLayer(Layer):
    """A layer from a pure JAX function `call_fn` and its `init_fn`.

    Args:
        call_fn: `call_fn(params?, state?, rng?, inputs, training?)`; returns
            outputs, or `(outputs, new_state)` when it takes `state`.
        init_fn: `init_fn(rng?, inputs, training?)`; returns params, or
            `(params, state)` when `call_fn` takes `state`. Required when
            `call_fn` takes params or state.
        params: Not supported: kerax's params live in the tree passed to
            `apply` (an error says where to put them).
        state: Likewise.
        seed: Not supported: randomness comes from the `key` passed to
            `init`/`apply`.
        native_serialization_platforms: Not supported here: the exporters
            take the platforms (`kerax.export.saved_model(...,
            platforms=("cpu", "cuda"))`); an error says so.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import kerax
        >>> def init_fn(rng, inputs):
        ...     return {"w": jax.random.normal(rng, (inputs.shape[-1], 2))}
        >>> def call_fn(params, inputs):
        ...     return inputs @ params["w"]
        >>> layer = JaxLayer(call_fn, init_fn)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> layer.apply(params, state, jnp.ones((4, 3)))[0].shape
        (4, 2)
    """

    call_fn: Callable[..., object] = None
    init_fn: Callable[..., object] | None = None
    params: None = None
    state: None = None
    seed: None = None
    native_serialization_platforms: tuple[str, ...] | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.call_fn is None:
            raise ValueError(f"{self.describe()}: pass `call_fn`.")
        _check_preset(self, self.params, self.state)
        if self.native_serialization_platforms is not None:
            raise ValueError(
                f"{self.describe()}: native_serialization_platforms= belongs to the "
                "export, not the layer in kerax: pass platforms=(...) to "
                "kerax.export.saved_model / stablehlo."
            )
        if self.seed is not None:
            raise ValueError(
                f"{self.describe()}: seed= is not used in kerax; the `rng` comes from "
                "the key passed to init/apply (e.g. Trainer's per-step key)."
            )
        call_args = _arguments(self.call_fn, f"{self.describe()}: call_fn", _CALL_ARGS)
        if self.init_fn is None and {"params", "state"} & set(call_args):
            raise ValueError(
                f"{self.describe()}: `init_fn` is required when call_fn takes "
                "`params` or `state` (kerax has no params=/state= arguments)."
            )
        if self.init_fn is not None:
            _arguments(self.init_fn, f"{self.describe()}: init_fn", _INIT_ARGS)

    def _call_arguments(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.call_fn).parameters)

    def _run_init(self, key, spec):
        names = tuple(inspect.signature(self.init_fn).parameters)
        given = {"rng": key, "inputs": _example_inputs(spec), "training": True}
        return self.init_fn(*(given[n] for n in names))

    def build(self, key, spec):
        if self.init_fn is None:
            return {}, {}
        result = self._run_init(key, spec)
        if "state" in self._call_arguments():
            params, state = result
            return params, state
        return result, {}

    def _rng(self, key, training):
        if "rng" not in self._call_arguments() or not training:
            return None
        if key is None:
            raise ValueError(
                f"{self.describe()} draws randomness in training (its call_fn takes "
                "`rng`): pass key= to apply (Trainer does)."
            )
        return key

    def call(self, params, state, x, *, key, training):
        given = {
            "params": params,
            "state": state,
            "rng": self._rng(key, training),
            "inputs": x,
            "training": training,
        }
        out = self.call_fn(*(given[n] for n in self._call_arguments()))
        if "state" in self._call_arguments():
            y, new_state = out
            return y, new_state
        return out, state


def _is_nnx(module) -> bool:
    # Flax is imported only when a Flax module is wrapped (an optional dependency).
    from flax import nnx

    return isinstance(module, nnx.Module)


class FlaxLayer(Layer):
    """A layer from a Flax module: linen (as Keras's FlaxLayer) or NNX.

    (Keras's FlaxLayer subclasses JaxLayer; here both are plain layers, so
    that `FlaxLayer(module)` takes the module first as Keras's does.)

    Linen: params are `{"params": ...}` (the "params" collection) and state
    holds every other collection (e.g. `batch_stats`), updated in calls as
    Keras does (`mutable=DenyList(["params"])`). The module method (default
    `__call__`) takes `inputs` and optionally `training`; in training the
    key becomes the `dropout` rng, at init the `params` and `dropout` rngs.

    NNX: the module's `nnx.Param`s are the params and its other variables
    (batch statistics, RNG counters) the state; in training the key reseeds
    the module's `dropout` stream. `method` names a method of the module.

    Args:
        module: A `flax.linen.Module` or a `flax.nnx.Module`.
        method: The method to call (a method of `module` or its name), or
            None for `__call__`.
        variables: Not supported: pass the variables in kerax's params and
            state trees (an error says how).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import flax.linen as nn
        >>> import kerax
        >>> class MLP(nn.Module):
        ...     @nn.compact
        ...     def __call__(self, inputs):
        ...         return nn.Dense(2)(nn.relu(nn.Dense(8)(inputs)))
        >>> layer = FlaxLayer(MLP())
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> sorted(params["params"])
        ['Dense_0', 'Dense_1']
        >>> layer.apply(params, state, jnp.ones((4, 3)))[0].shape
        (4, 2)
    """

    module: object = None
    method: Callable[..., object] | str | None = None
    variables: None = None

    def __post_init__(self):
        if self.module is None:
            raise ValueError(f"{self.describe()}: pass a Flax `module`.")
        _check_preset(self, self.variables, None)
        method = self.method
        if method is not None and not isinstance(method, str):
            method = method.__name__
        object.__setattr__(self, "method", method)
        super().__post_init__()

    def _method_name(self) -> str:
        return self.method or "__call__"

    def _takes_training(self) -> bool:
        fn = getattr(type(self.module), self._method_name())
        return "training" in inspect.signature(fn).parameters

    def build(self, key, spec):
        inputs = _example_inputs(spec)
        if _is_nnx(self.module):
            from flax import nnx

            _, params, state = nnx.split(self.module, nnx.Param, ...)
            return nnx.to_pure_dict(params), nnx.to_pure_dict(state)
        k_params, k_dropout = jax.random.split(key)
        extra = {"training": False} if self._takes_training() else {}
        variables = self.module.init(
            {"params": k_params, "dropout": k_dropout},
            inputs,
            method=self._method_name(),
            **extra,
        )
        variables = dict(variables)
        params = {"params": variables.pop("params")} if "params" in variables else {}
        return params, variables

    def call(self, params, state, x, *, key, training):
        if _is_nnx(self.module):
            return self._call_nnx(params, state, x, key=key, training=training)
        from flax.linen import DenyList

        rngs = {}
        if training and key is not None:
            rngs = {"dropout": key}
        extra = {"training": training} if self._takes_training() else {}
        y, updates = self.module.apply(
            {**params, **state},
            x,
            rngs=rngs,
            method=self._method_name(),
            mutable=DenyList(["params"]),
            **extra,
        )
        return y, {**state, **dict(updates)}

    def _call_nnx(self, params, state, x, *, key, training):
        from flax import nnx

        graphdef, abstract_params, abstract_state = nnx.split(
            self.module, nnx.Param, ...
        )
        nnx.replace_by_pure_dict(abstract_params, params)
        nnx.replace_by_pure_dict(abstract_state, state)
        module = nnx.merge(graphdef, abstract_params, abstract_state)
        # NNX modules switch Dropout/BatchNorm by a mode flag, not an argument.
        module.train() if training else module.eval()
        if training and key is not None and _has_stream(module, "dropout"):
            nnx.reseed(module, dropout=key)
        extra = {"training": training} if self._takes_training() else {}
        y = getattr(module, self._method_name())(x, **extra)
        _, _, new_state = nnx.split(module, nnx.Param, ...)
        return y, nnx.to_pure_dict(new_state)

    def get_config(self) -> dict:
        module = self.module
        name = registry.registered_name(type(module))
        if name is None:
            raise ValueError(
                f"{self.describe()}: cannot save the Flax module class "
                f"{type(module).__name__}: register it with kerax.register("
                f"{type(module).__name__}) so loading can find it by name (Keras "
                "requires registration too)."
            )
        if _is_nnx(module):
            raise ValueError(
                f"{self.describe()}: an NNX module has no config to save (its "
                "constructor arguments are not recorded); save the params and "
                "rebuild the layer from code."
            )
        fields = {
            f.name: getattr(module, f.name)
            for f in dataclasses.fields(module)
            if f.init and f.name not in ("parent", "name")
        }
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype,
            "module": {"class_name": name, "config": fields},
            "method": self.method,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        module_config = config.pop("module")
        module_cls = registry.lookup_custom(module_config["class_name"])
        if module_cls is None:
            raise ValueError(
                f"FlaxLayer.from_config: the Flax module class "
                f"{module_config['class_name']!r} is not registered; call "
                "kerax.register(YourModule) before loading."
            )
        return cls(module=module_cls(**module_config["config"]), **config)


def _has_stream(module, name: str) -> bool:
    from flax import nnx

    return any(
        isinstance(m, nnx.Rngs)
        and name in m
        or getattr(m, "rng_collection", None) == name
        for _, m in nnx.iter_graph(module)
    )
