"""`Sequential`: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import dataclasses
import functools

from kerax.core import naming, serialization
from kerax.core.authoring import INPUT_SHAPE_ARG
from kerax.core.chain import apply_chain, build_chain
from kerax.core.fields import field
from kerax.core.layer import BOUND, Layer
from kerax.core.node import InputLayer, Node, bind, bound_origin
from kerax.models.handles import KerasModelMethods


def _as_layers(layers) -> tuple[Layer, ...]:
    # `keras.Sequential([keras.Input(...), ...])` idiom: the Input's layer.
    layers = tuple(
        x.unwrap().op if isinstance(x, Node) and isinstance(x.op, InputLayer) else x
        for x in (layers or ())
    )
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"item {i} is not a kerax layer: {layer!r}.")
        if isinstance(layer, InputLayer) and i > 0:
            raise ValueError(
                f"an Input may only come first; item {i} is {layer.describe()}."
            )
    # A view from `model.get_layer` stands for the model's own layer.
    return tuple(bound_origin(layer) for layer in layers)


class Sequential(KerasModelMethods, Layer):
    """A linear stack of layers, like `keras.Sequential`.

    A leading `kerax.Input(shape)` (or `InputLayer`) fixes the input spec, so
    `summary()` and `init(key)` need no spec argument, and the model then
    has Keras's handles: `model.inputs`, `model.outputs` and
    `model.get_layer(name).output` for feature extraction.

    As in Keras, `model.layers` are the layers after the Input; the Input's
    layer is `model.input_layer` (and first in the config's `"layers"`).

    Args:
        layers: The layers in order, optionally led by `kerax.Input(shape)`.
        input_layer: The `InputLayer`, when not given first in `layers`.
        name: The model's name (default `"sequential"`).
        dtype: The dtype policy of the model's layers that set none.
        trainable: `False` freezes every layer of the model.

    Example:
        >>> model = kerax.Sequential([
        ...     kerax.Input((4,)),
        ...     kerax.layers.Dense(8, activation="relu"),
        ...     kerax.layers.Dense(1),
        ... ])
        >>> params, state = model.init(jax.random.key(0))
        >>> model.get_layer("dense").output.shape
        (None, 8)
    """

    layers: tuple[Layer, ...] = field((), converter=_as_layers)
    input_layer: InputLayer | None = dataclasses.field(default=None, kw_only=True)

    autocast = False

    def __post_init__(self):
        super().__post_init__()
        if self.layers and isinstance(self.layers[0], InputLayer):
            if self.input_layer is not None:
                raise ValueError(
                    f"{self.describe()}: an Input both first in `layers` and as `input_layer`; "
                    "give it once."
                )
            # Keras's `Sequential.layers` leaves the Input out; the config keeps it first.
            object.__setattr__(self, "input_layer", self.layers[0])
            object.__setattr__(self, "layers", self.layers[1:])
        shape = getattr(self.layers[0], INPUT_SHAPE_ARG, None) if self.layers else None
        if shape is not None and self.input_layer is None:
            # Keras: a first layer made with `input_shape=`/`input_dim=`
            # starts the model with an Input of that shape.
            object.__setattr__(self, "input_layer", InputLayer(shape=shape))
        if self.input_layer is not None and not isinstance(
            self.input_layer, InputLayer
        ):
            raise TypeError(
                f"{self.describe()}: `input_layer` must be an InputLayer (kerax.Input(shape)), "
                f"got {self.input_layer!r}."
            )
        names = naming.unique_names(self._stack, owner=self.describe())
        # Derived from the config (not config itself): the per-container names.
        object.__setattr__(self, "_names", tuple(names))

    @property
    def _stack(self) -> tuple[Layer, ...]:
        """The Input's layer (if any), then `layers`: what runs and is saved."""
        if self.input_layer is None:
            return self.layers
        return (self.input_layer, *self.layers)

    @property
    def default_name(self) -> str:
        return "sequential"

    def add(self, layer):
        raise TypeError(
            "kerax models are immutable config objects: build Sequential([...]) with all its layers, "
            "or make a new one: Sequential([*model.layers, layer], input_layer=model.input_layer)."
        )

    @property
    def input_spec(self):
        return None if self.input_layer is None else self.input_layer.input_spec

    def named_layers(self):
        return [
            (n, layer)
            for n, layer in zip(self._names, self._stack)
            if not isinstance(layer, InputLayer)
        ]

    def children(self):
        return self.named_layers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name`, or the `index`-th layer after the Input.

        As in Keras; with a leading `kerax.Input` the layer comes bound to
        this model, so `.input` and `.output` are its nodes here.
        """
        if (name is None) == (index is None):
            raise ValueError(
                f"{self.describe()}.get_layer: give exactly one of `name` and `index`, got "
                f"name={name!r}, index={index!r}."
            )
        if index is not None:
            named = self.named_layers()
            if not -len(named) <= index < len(named):
                raise ValueError(
                    f"{self.describe()}.get_layer: index {index} is out of range; the model "
                    f"has {len(named)} layers after its Input."
                )
            name = named[index][0]
        for n, layer in zip(self._names, self._stack):
            if n == name:
                return self._bind(layer)
        raise ValueError(
            f"{self.describe()} has no layer named {name!r}; layers: {list(self._names)}."
        )

    @functools.cached_property
    def _nodes(self) -> dict | None:
        """`{id(layer): node}`: the stack as a graph from its Input (None without one)."""
        if self.input_spec is None:
            return None
        names = {id(x): (x, n) for x, n in zip(self._stack, self._names)}
        node = Node(self.input_spec, op=self.input_layer, names=names)
        nodes = {id(self.input_layer): node}
        for layer in self.layers:
            spec, mask = layer.output_spec_masked(node.spec, mask=node.mask)
            node = Node(spec, op=layer, args=(node,), names=names, mask=mask)
            nodes[id(layer)] = node
        return nodes

    def _bind(self, layer: Layer) -> Layer:
        if self._nodes is None:
            return layer  # No Input: the layer has no nodes in this model.
        node = self._nodes[id(layer)]
        inputs = node if isinstance(layer, InputLayer) else node.args[0]
        return bind(layer, (inputs,), (node,))

    def _ends(self, what: str) -> Node:
        if self._nodes is None:
            raise AttributeError(
                f"{self.describe()} has no `{what}`: it does not start with an Input. Start it "
                "with kerax.Input(shape), as Keras's Sequential must be built for this."
            )
        layer = self._stack[0] if what in ("input", "inputs") else self._stack[-1]
        return self._nodes[id(layer)]

    @property
    def input(self) -> Node:
        """The model's input node (needs a leading `kerax.Input`).

        Got through an outer model (`outer.get_layer("sequential")`): its
        input node in the outer graph.
        """
        if BOUND in vars(self):
            return self._bound_node("input", None)
        return self._ends("input")

    @property
    def output(self) -> Node:
        """The model's output node (needs a leading `kerax.Input`).

        Got through an outer model: its output node in the outer graph.
        """
        if BOUND in vars(self):
            return self._bound_node("output", None)
        return self._ends("output")

    @property
    def inputs(self) -> list[Node]:
        """`[model.input]`, as Keras's `Sequential.inputs`."""
        return [self._ends("inputs")]

    @property
    def outputs(self) -> list[Node]:
        """`[model.output]`, as Keras's `Sequential.outputs`."""
        return [self._ends("outputs")]

    def init(self, key, *specs, **kwargs):
        if not specs:
            if self.input_spec is None:
                raise TypeError(
                    f"{self.describe()}.init(key, spec) needs an input spec (e.g. kerax.spec((None, 16))), "
                    "or start the model with kerax.Input(shape)."
                )
            specs = (self.input_spec,)
        return super().init(key, *specs, **kwargs)

    def output_spec(self, *specs, **kwargs):
        if not specs and self.input_spec is not None:
            specs = (self.input_spec,)
        return super().output_spec(*specs, **kwargs)

    def build(self, key, spec):
        return build_chain(self.named_layers(), key, spec)

    def call(self, params, state, x, *, key, training, mask=None):
        y, state, _ = self.apply_masked(
            params, state, x, key=key, training=training, mask=mask
        )
        return y, state

    def apply_masked(
        self, params, state, x, *, key=None, training=False, mask=None, **kwargs
    ):
        del kwargs
        return apply_chain(
            self.named_layers(),
            params,
            state,
            x,
            key=key,
            training=training,
            mask=mask,
        )

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": serialization.serialize_value(self.dtype),
            "layers": [
                dict(
                    serialization.serialize(layer),
                    config=dict(layer.get_config(), name=n),
                )
                for n, layer in zip(self._names, self._stack)
            ],
        }
