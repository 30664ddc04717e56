"""Rematerialization (gradient checkpointing): Keras's `remat` and `RematScope`.

`remat(f)` is `jax.checkpoint(f)`: the backward pass recomputes what `f`
computed instead of keeping its intermediate values, trading compute for
activation memory. `RematScope(mode)` marks the layers *created* inside it
(as Keras's `Layer.__init__` reads the scope into `layer._remat_mode`);
`Layer.apply` then rematerializes their call as Keras's `__call__` does:

- `"full"`: every layer (models too: their whole call, then each layer);
- `"activations"`: the activation function of layers that have an
  `activation` (`Dense`, `Conv2D`, `Activation`, ...);
- `"larger_than"`: layers whose output, at the call's actual shapes (the
  batch included), holds more than `output_size_threshold` elements;
- `"list_of_layers"`: layers whose `name` is in `layer_names`;
- `None`: none (an inner `RematScope(None)` switches an outer one off).

The mode is kept beside the layer's config, never in it: `get_config`,
equality, params and a layer made outside any scope are as before.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import namedtuple

import jax
import numpy as np

from kerax.core import aux_losses, registry

MODES = ("full", "activations", "larger_than", "list_of_layers", None)
# Where a layer made inside a scope keeps its mode (instance dict, beside the
# config; the `_kerax_` prefix keeps it out of sublayer discovery).
REMAT_ATTR = "_kerax_remat_mode"

RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])

_local = threading.local()


def _scopes() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class RematScope:
    """Rematerializes the layers created inside it, as `keras.RematScope`.

    Rematerialization (gradient checkpointing) recomputes a layer's
    intermediate values in the backward pass instead of keeping them, which
    lowers peak memory for a little more compute. The scope applies to
    layers *created* in it (it is read when the layer is made, as in
    Keras); they are rematerialized whenever they run, inside the scope or
    not. Outputs and gradients are unchanged.

    Args:
        mode: `"full"` (every layer), `"activations"` (the activation
            function of layers that have one), `"larger_than"` (layers whose
            output, batch included, has more than `output_size_threshold`
            elements), `"list_of_layers"` (layers whose `name` is in
            `layer_names`) or `None` (none).
        output_size_threshold: The size for `"larger_than"`. Default 1024.
        layer_names: The names for `"list_of_layers"` (the `name=` given to
            the layers: an unnamed layer gets its name from its model later
            and never matches). Default: none.

    Example:
        >>> with kerax.RematScope("full"):
        ...     layer = kerax.layers.Dense(4, activation="relu")
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> def loss(p):
        ...     return layer.apply(p, state, jnp.ones((2, 3)))[0].sum()
        >>> "remat2" in str(jax.make_jaxpr(jax.grad(loss))(params))  # jax.checkpoint
        True
    """

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in MODES:
            raise ValueError(
                f"RematScope: invalid mode {mode!r}. Supported modes are: 'full', "
                "'activations', 'larger_than', 'list_of_layers', or None."
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = list(layer_names or [])
        self._pop_on_exit = False

    def __enter__(self):
        _scopes().append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc):
        if self._pop_on_exit:
            _scopes().pop()
            self._pop_on_exit = False

    def __repr__(self):
        return (
            f"RematScope(mode={self.mode!r}, output_size_threshold="
            f"{self.output_size_threshold!r}, layer_names={self.layer_names!r})"
        )


def get_current_remat_mode() -> RematMode | None:
    """The innermost active `RematScope` as a `RematMode`, or None outside any.

    Example:
        >>> with kerax.RematScope("larger_than", output_size_threshold=64):
        ...     kerax.core.remat.get_current_remat_mode().output_size_threshold
        64
    """
    stack = _scopes()
    if not stack:
        return None
    scope = stack[-1]
    return RematMode(scope.mode, scope.output_size_threshold, tuple(scope.layer_names))


def _is_array(x) -> bool:
    return isinstance(x, jax.Array | np.ndarray)


def _split(tree):
    """`(arrays, rebuild)`: the array leaves of `tree`, and the function that
    puts arrays back among its other (static) leaves."""
    leaves, treedef = jax.tree.flatten(tree)
    dynamic = [_is_array(x) for x in leaves]

    def rebuild(arrays):
        it = iter(arrays)
        return jax.tree.unflatten(
            treedef, [next(it) if d else x for d, x in zip(dynamic, leaves)]
        )

    return [x for d, x in zip(dynamic, leaves) if d], rebuild


def _own_frame(args):
    """The open frame of the layer whose `call` is `f` (`args[0]` is that
    layer), or None: a Keras-style layer's sublayer calls write to it."""
    from kerax.core import authoring  # authoring imports this module.

    stack = authoring._stack()
    if args and stack and stack[-1].owner is args[0]:
        return stack[-1]
    return None


def remat(f):
    """Applies rematerialization to `f`, as `keras.remat`: `jax.checkpoint(f)`.

    The backward pass recomputes `f`'s intermediate values instead of
    keeping them. Arguments that are not arrays (a layer, `training=True`,
    Python numbers) stay Python values (static), so `remat` also decorates a
    layer's `call(self, params, state, x, *, key, training)`; losses added
    with `add_loss` inside `f` reach the enclosing `apply_with_losses`.

    Args:
        f: The function to rematerialize; it returns arrays.

    Returns:
        A function computing the same values as `f`.

    Example:
        >>> f = kerax.remat(lambda x: jnp.sin(jnp.sin(x)))
        >>> bool(jnp.allclose(jax.grad(f)(1.0), jax.grad(lambda x: jnp.sin(jnp.sin(x)))(1.0)))
        True

        On a layer's `call`:

        >>> class Block(kerax.Layer):
        ...     def build(self, key, spec):
        ...         return {"w": jnp.ones(spec.shape[-1:])}, {}
        ...     @kerax.remat
        ...     def call(self, params, state, x, *, key, training):
        ...         return jnp.tanh(jnp.tanh(x * params["w"])), state
        >>> Block().apply({"w": jnp.ones(2)}, {}, jnp.zeros((1, 2)))[0]
        Array([[0., 0.]], dtype=float32)
    """
    if not callable(f):
        raise TypeError(f"kerax.remat(f): `f` must be callable, got {f!r}.")

    @functools.wraps(f)
    def rematerialized(*args, **kwargs):
        frame = _own_frame(args)
        if frame is not None and frame.building is not None:
            return f(*args, **kwargs)  # `init` tracing the call: no gradient.
        arrays, rebuild = _split((args, kwargs))
        collecting = aux_losses.is_collecting()

        def inner(arrays):
            a, k = rebuild(arrays)
            loss = None
            if collecting:
                with aux_losses.collect() as losses:
                    out = f(*a, **k)
                loss = aux_losses.total(losses)
            else:
                out = f(*a, **k)
            # A Keras-style `call`: its sublayers' new state and assigned
            # variables leave through the outputs, not the frame.
            moved = (frame.new_state, frame.assigned) if frame is not None else None
            return out, loss, moved

        out, loss, moved = jax.checkpoint(inner)(arrays)
        if collecting:
            aux_losses.add_loss(loss)
        if frame is not None:
            frame.new_state, frame.assigned = moved
        return out

    return rematerialized


def mode_of(layer) -> RematMode | None:
    """The `RematMode` `layer` was created under, or None (`layer._remat_mode`)."""
    return vars(layer).get(REMAT_ATTR)


def mark(layer) -> None:
    """Records the current scope's mode on a newly made layer (none: nothing)."""
    mode = get_current_remat_mode()
    if mode is not None and mode.mode is not None:
        object.__setattr__(layer, REMAT_ATTR, mode)


def _output_size(run, args) -> int:
    """Keras's size: the elements of every output at the call's shapes."""
    arrays, rebuild = _split(args)

    def shapes(arrays):
        with aux_losses.collect():  # Losses added while sizing are dropped.
            return run(*rebuild(arrays))[0]

    out = jax.eval_shape(shapes, arrays)
    # A symbolic dimension (the batch while a spec is traced) counts as 1,
    # as Keras counts None.
    return sum(
        math.prod(d if isinstance(d, int) else 1 for d in y.shape)
        for y in jax.tree.leaves(out)
    )


def _identity(x):
    return x


def apply(layer, mode: RematMode, run, args):
    """`run(*args)` (the layer's un-rematerialized apply), rematerialized
    as `mode` says, the way Keras's `Layer.rematerialized_call` decides."""
    if mode.mode == "full":
        return remat(run)(*args)
    if mode.mode == "list_of_layers":
        return remat(run)(*args) if layer.name in mode.layer_names else run(*args)
    if mode.mode == "larger_than":
        size = _output_size(run, args)
        if size and size > mode.output_size_threshold:
            return remat(run)(*args)
        return run(*args)
    if mode.mode == "activations" and "activation" in vars(layer):
        original = vars(layer)["activation"]
        # `kerax.activations.get`, from the registry it fills (kerax.core
        # sits below kerax.activations); None is the identity ("linear").
        function = (
            _identity if original is None else registry.get("activations", original)
        )
        object.__setattr__(layer, "activation", remat(function))
        try:
            return run(*args)
        finally:
            object.__setattr__(layer, "activation", original)
    return run(*args)
