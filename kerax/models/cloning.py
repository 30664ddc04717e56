"""Models made from models: `clone_model` and freezing layers by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import jax

from kerax.core import authoring
from kerax.core.layer import Layer
from kerax.core.node import Input, InputLayer, Node
from kerax.models.functional import Model
from kerax.models.sequential import Sequential


def clone_model(model: Layer, clone_function: Callable[[Layer], Layer] | None = None):
    """A model with the same architecture, each layer passed through `clone_function`.

    As `keras.models.clone_model`: `clone_function(layer)` returns the layer
    to use (default: a fresh layer from the same config). The clone names its
    layers as the original does, so the original's params fit it.

    Args:
        model: A `kerax.Model` or `kerax.Sequential`.
        clone_function: Called once per layer (not on Inputs); returns the
            layer to put in its place.

    Example:
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, name="out")])
        >>> clone = kerax.models.clone_model(model)
        >>> clone.get_layer("out").units
        2
    """
    if clone_function is None:
        clone_function = _with_config

    memo: dict[int, Layer] = {}

    def clone(layer):
        if id(layer) not in memo:
            new = clone_function(layer)
            if not isinstance(new, Layer):
                raise TypeError(
                    f"clone_model: clone_function must return a kerax layer, got {new!r} "
                    f"for {layer.describe()}."
                )
            memo[id(layer)] = new
        return memo[id(layer)]

    if isinstance(model, Sequential):
        return Sequential(
            [clone(x) for _, x in model.named_layers()],
            input_layer=model.input_layer,
            name=model.name,
            dtype=model.dtype,
            trainable=model.trainable,
        )
    if not isinstance(model, Model):
        raise TypeError(
            f"clone_model: expected a kerax.Model or kerax.Sequential, got {model!r}."
        )
    return _rebuild(model, clone)


def _rebuild(model, replace_layer):
    """The functional `model` rebuilt node by node with `replace_layer(layer)`."""
    g = model._graph
    new: dict[int, Node] = {}
    is_node = lambda v: isinstance(v, Node)  # noqa: E731

    def mapped(tree):
        return jax.tree.map(
            lambda v: new[id(v)] if isinstance(v, Node) else v, tree, is_leaf=is_node
        )

    for node in g.order:
        if node.parent is not None:
            (index,) = node.path
            new[id(node)] = new[id(node.parent)][index]
        elif isinstance(node.op, InputLayer):
            op = node.op
            new[id(node)] = Input(
                batch_shape=(op.batch_size, *op.shape),
                dtype=op.input_dtype,
                name=g.name_of[id(op)] if op.name is not None else None,
            )
        else:
            new[id(node)] = replace_layer(node.op)(
                *mapped(node.args), **mapped(node.kwargs)
            )
    return Model(
        mapped(model.inputs),
        mapped(model.outputs),
        name=model.name,
        dtype=model.dtype,
        trainable=model.trainable,
    )


def set_trainable(
    model: Layer,
    layers: str | Iterable[str] | Callable[[str, Layer], bool],
    trainable: bool,
):
    """A copy of `model` whose named layers have `trainable` set, as Keras's
    `model.get_layer(name).trainable = False` does in place.

    Freezing for fine-tuning is one call; the params keep their paths, so the
    same params (and a `Trainer` built on the new model) train only the rest.
    Keras's assignment works too and changes `model` itself:
    `model.get_layer(name).trainable = False` (a model's flag sets every
    sublayer's, as here); make the `Trainer` after it. `set_trainable`
    leaves `model` as it is.

    Args:
        model: A `kerax.Model` or `kerax.Sequential`.
        layers: A layer name, a list of names, or `fn(name, layer) -> bool`.
        trainable: The value to set.

    Example:
        >>> model = kerax.Sequential([
        ...     kerax.Input((3,)), kerax.layers.Dense(4, name="base"),
        ...     kerax.layers.Dense(1, name="head")])
        >>> frozen = kerax.models.set_trainable(model, "base", False)
        >>> frozen.get_layer("base").trainable, frozen.get_layer("head").trainable
        (False, True)
    """
    if callable(layers):
        chosen = layers
    else:
        wanted = {layers} if isinstance(layers, str) else set(layers)
        known = {name for name, _ in model.children()}
        unknown = wanted - known
        if unknown:
            raise ValueError(
                f"set_trainable: {model.describe()} has no layers named {sorted(unknown)}; "
                f"its layers are {sorted(known)}."
            )

        def chosen(name, layer):
            del layer
            return name in wanted

    names = {id(layer): name for name, layer in model.children()}
    replaced: dict[int, Layer] = {}

    def replace(layer):
        # A layer given twice (shared in a Sequential) stays one layer.
        if id(layer) not in replaced:
            replaced[id(layer)] = _replace(layer)
        return replaced[id(layer)]

    def _replace(layer):
        name = names.get(id(layer))
        if name is None or not chosen(name, layer):
            return layer
        if isinstance(layer, (Model, Sequential)):
            # Keras's `model.trainable = value` sets it on every sublayer too.
            inner = set_trainable(layer, lambda name, layer: True, trainable)
            if any(
                a is not b for (_, a), (_, b) in zip(inner.children(), layer.children())
            ):
                layer = inner
        if layer.trainable == trainable:
            return layer
        return _with_config(layer, trainable=trainable)

    if isinstance(model, Sequential):
        return Sequential(
            [replace(x) for _, x in model.named_layers()],
            input_layer=model.input_layer,
            name=model.name,
            dtype=model.dtype,
            trainable=model.trainable,
        )
    return _rebuild(model, replace)


def _with_config(layer: Layer, **changes) -> Layer:
    """A new `layer` from its config, with entries replaced (`trainable=False`)."""
    if not authoring.is_keras_style(type(layer)):
        return dataclasses.replace(layer, **changes)
    arguments = authoring.init_args(layer)
    if arguments is None:
        raise ValueError(
            f"{layer.describe()} was made with `*args` or positional-only arguments, so kerax "
            "cannot make it again from its config."
        )
    for k in changes:
        if not authoring.accepts_argument(type(layer), k):
            raise ValueError(
                f"{layer.describe()}: its __init__ takes no `{k}`; add `**kwargs` passed to "
                "`super().__init__(**kwargs)`, as Keras layers do."
            )
    return type(layer)(**{**arguments, **changes})
