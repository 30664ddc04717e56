"""`Sequential`: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import dataclasses
import warnings

import jax

from kerax.core import mutation, naming, serialization
from kerax.core.authoring import INPUT_SHAPE_ARG
from kerax.core.chain import apply_chain, build_chain
from kerax.core.fields import field
from kerax.core.layer import BOUND, Layer
from kerax.core.node import InputLayer, Node, bind, bound_origin
from kerax.core.spec import keras_shape
from kerax.models.functional import Model, missing_params_error
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


def _input_of_first(layers) -> InputLayer | None:
    """Keras's `_maybe_rebuild`: the Input a model first in `layers` implies.

    Keras builds a Sequential whose first layer has an `input_shape` (a
    functional model, or a Sequential with an Input) and is followed by
    another layer: it starts the stack with an `InputLayer` of that batch
    shape and of the first layer's compute dtype (and writes it first in the
    config). A model of several inputs (a list or dict of them) implies none.
    """
    if len(layers) < 2 or not isinstance(layers[0], Model | Sequential):
        return None
    try:
        specs = jax.tree.leaves(layers[0].input_spec)
    except (AttributeError, TypeError):  # A model with no Inputs of its own.
        return None
    if len(specs) != 1:
        return None
    batch, *shape = keras_shape(specs[0].shape)
    dtype = layers[0].policy.compute_dtype
    return InputLayer(shape=tuple(shape), batch_size=batch, input_dtype=dtype)


# Kept here for the modules that import them from this one.
ArchitectureWatch = mutation.ModelWatch
architecture_version = mutation.architecture_version


class _NamedLayers:
    """`Sequential.layers`: the config's layers as views named by the model.

    The config (what `get_config`, `==` and hashing see) holds the layers as
    given; reading `model.layers` gives views that report the name the model
    gave each one (`"dense_1"`, as Keras's layers carry) and stand for the
    model's own layer (`bound_origin`), as `get_layer` gives.
    """

    def __get__(self, model, owner=None):
        if model is None:
            return self
        if "_names" not in vars(model):  # While the dataclass is being made.
            return vars(model)["layers"]
        views = model._views()
        names = model._names[len(model._names) - len(vars(model)["layers"]) :]
        return tuple(views[n] for n in names)

    def __set__(self, model, value):
        vars(model)["layers"] = value


class Sequential(KerasModelMethods, Layer):
    """A linear stack of layers, like `keras.Sequential`.

    A leading `kerax.Input(shape)` (or `InputLayer`) fixes the input spec, so
    `summary()` and `init(key)` need no spec argument, and the model then
    has Keras's handles: `model.inputs`, `model.outputs` and
    `model.get_layer(name).output` for feature extraction.

    As in Keras, `model.layers` are the layers after the Input, each
    reporting the name the model gave it (`"dense"`, `"dense_1"`, ...); the
    Input's layer is `model.input_layer` (and first in the config's
    `"layers"`). `model.add(layer)` and `model.pop()` change the model in
    place, as Keras's do; params, Trainers and steps made before are for
    the old layers (a stale Trainer says so).

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

        Built a layer at a time, as Keras's guides do:

        >>> model = kerax.Sequential()
        >>> model.add(kerax.Input((4,)))
        >>> model.add(kerax.layers.Dense(8))
        >>> model.add(kerax.layers.Dense(2))
        >>> [layer.name for layer in model.layers]
        ['dense', 'dense_1']
        >>> model.pop().name, model.output.shape
        ('dense_1', (None, 8))
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
        if self.input_layer is None:
            # Keras: a first model (functional, or Sequential with an Input)
            # gives the stack its input.
            object.__setattr__(self, "input_layer", _input_of_first(self.layers))
        if self.input_layer is not None and not isinstance(
            self.input_layer, InputLayer
        ):
            raise TypeError(
                f"{self.describe()}: `input_layer` must be an InputLayer (kerax.Input(shape)), "
                f"got {self.input_layer!r}."
            )
        self._derive()

    def _derive(self) -> None:
        """What the config determines: the per-container names (not config)."""
        names = naming.unique_names(self._stack, owner=self.describe())
        object.__setattr__(self, "_names", tuple(names))
        vars(self).pop("_kerax_nodes", None)  # The cached graph of the old stack.
        vars(self).pop("_kerax_layer_views", None)  # And its views.

    def _views(self) -> dict:
        """`{name: view}` of the stack, kept until a model changes (`add`/`pop`).

        `model.layers[0] is model.layers[0]`, as in Keras. A change to any
        model (this one, or one nested in it) makes them afresh, with the
        graph they know.
        """
        cached = vars(self).get("_kerax_layer_views")
        if cached is not None and cached[0] == mutation.ARCHITECTURE[0]:
            return cached[1]
        views = {}
        for layer, name in zip(self._stack, self._names):
            views[name] = self._bind(layer, name)
            mutation.register_view(layer, views[name])
        vars(self)["_kerax_layer_views"] = (mutation.ARCHITECTURE[0], views)
        return views

    # Compared and hashed by the config, the layers as given (not the views
    # `model.layers` hands out).
    def _config_key(self) -> tuple:
        return tuple(vars(self).get(f.name) for f in dataclasses.fields(self))

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._config_key() == other._config_key()

    def __hash__(self):
        return hash(self._config_key())

    def __repr__(self):  # The config's layers, as dataclasses show them.
        shown = ", ".join(
            f"{f.name}={vars(self).get(f.name)!r}"
            for f in dataclasses.fields(self)
            if f.repr
        )
        return f"{type(self).__qualname__}({shown})"

    @property
    def _stack(self) -> tuple[Layer, ...]:
        """The Input's layer (if any), then `layers`: what runs and is saved."""
        layers = vars(self)["layers"]
        if self.input_layer is None:
            return layers
        return (self.input_layer, *layers)

    @property
    def default_name(self) -> str:
        return "sequential"

    def add(self, layer, rebuild: bool = True) -> None:
        """Adds `layer` on top of the stack, in place, as Keras's `Sequential.add`.

        `layer` is a layer, a model, or `kerax.Input(shape)` (the model's
        input, before any layer). A first layer made with `input_shape=`
        starts the model with an Input of that shape, as the constructor
        does. The model then equals `Sequential([...])` of the same layers.

        Params, Trainers and steps made before stay with the old layers:
        run `model.init(key)` again and make a new `kerax.Trainer`, as Keras
        needs `compile()` again (a stale Trainer says so).

        Args:
            layer: The layer to add.
            rebuild: Accepted for Keras compatibility (kerax models have no
                built state).
        """
        del rebuild
        origin = bound_origin(self)
        if origin is not self:  # A view (`outer.layers[0]`): the model's own.
            origin.add(layer)
            _sync_view(self, origin)
            return
        if isinstance(layer, Node):
            node = layer.unwrap()
            if node.parent is None and isinstance(node.op, InputLayer):
                layer = node.op  # `model.add(kerax.Input(shape))`.
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{self.describe()}.add: only kerax layers (and kerax.Input(shape)) can be added "
                f"to a Sequential model; got {layer!r} (of type {type(layer).__name__}). "
                "Wrap a function in kerax.layers.Lambda."
            )
        layer = bound_origin(layer)
        if isinstance(layer, InputLayer):
            if self.input_layer is not None:
                raise ValueError(
                    f"{self.describe()} has already been configured to use input shape "
                    f"{keras_shape(self.input_layer.input_spec.shape)}. You cannot add a "
                    "different Input layer to it: make a new Sequential for another input."
                )
            if vars(self)["layers"]:
                raise ValueError(
                    f"{self.describe()}.add: an Input may only come first, but the model has "
                    f"layers already; add the Input first (or give the first layer "
                    "`input_shape=`)."
                )
            object.__setattr__(self, "input_layer", layer)
        else:
            if layer.name is not None and any(
                n == layer.name and x is not layer
                for n, x in zip(self._names, self._stack)
            ):
                raise ValueError(
                    f"{self.describe()}.add: all layers added to a Sequential model should have "
                    f"unique names. Name {layer.name!r} is already the name of a layer in this "
                    "model. Update the `name` argument to pass a unique name."
                )
            layers = (*vars(self)["layers"], layer)
            shape = getattr(layers[0], INPUT_SHAPE_ARG, None)
            if shape is not None and self.input_layer is None:
                # Keras: a first layer made with `input_shape=` starts the model.
                object.__setattr__(self, "input_layer", InputLayer(shape=shape))
            if self.input_layer is None:  # Keras: a first model gives its input.
                object.__setattr__(self, "input_layer", _input_of_first(layers))
            object.__setattr__(self, "layers", layers)
        self._changed()

    def pop(self, rebuild: bool = True) -> Layer:
        """Removes the last layer, in place, and returns it, as Keras's `Sequential.pop`.

        With only the Input left, removes the Input. Params made before
        keep working for the layers that remain (their names do not
        change); make a new `kerax.Trainer` for the smaller model.

        Args:
            rebuild: Accepted for Keras compatibility.
        """
        del rebuild
        origin = bound_origin(self)
        if origin is not self:  # A view (`outer.layers[0]`): the model's own.
            removed = origin.pop()
            _sync_view(self, origin)
            return removed
        layers = vars(self)["layers"]
        if layers:
            removed = self._bind(layers[-1], self._names[-1], nodes=False)
            object.__setattr__(self, "layers", layers[:-1])
        elif self.input_layer is not None:
            removed = self._bind(self.input_layer, self._names[0], nodes=False)
            object.__setattr__(self, "input_layer", None)
        else:
            raise IndexError(
                f"{self.describe()}.pop(): the model has no layers to remove. "
                "Add one first with `model.add(layer)`."
            )
        self._changed()
        return removed

    def _changed(self) -> None:
        """After `add`/`pop`: names and caches again, and a note for stale users."""
        self._derive()
        object.__setattr__(
            self, "_kerax_mutations", vars(self).get("_kerax_mutations", 0) + 1
        )
        for view in mutation.views_of(self):  # `outer.layers[i]` of this model.
            _sync_view(view, self)
        mutation.changed(architecture=True)
        if vars(self).get("_kerax_used"):
            # A `jax.jit` of code that applied the model (`jax.jit(model.apply)`,
            # or a function closing over the model and a NumPy input) would
            # replay the old layers for arguments of the same shapes: JAX
            # caches by them, not by the model. Its caches are dropped (a
            # recompile), as Keras's `clear_session` does.
            jax.clear_caches()
            vars(self).pop("_kerax_used")

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
        """`(name, layer)` of each layer once (a shared layer at its first place)."""
        seen = set()
        return [
            (n, x) for n, x in self.named_layers() if not (n in seen or seen.add(n))
        ]

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
        views = self._views()
        if name in views:
            return views[name]
        raise ValueError(
            f"{self.describe()} has no layer named {name!r}; layers: {list(self._names)}."
        )

    @property
    def _nodes(self) -> dict | None:
        """`{id(layer): [node, ...]}`: the stack as a graph from its Input (None without one).

        A layer given twice (shared) has a node for each place.

        Kept until a model changes (`add`/`pop`, a nested model's too).
        """
        cached = vars(self).get("_kerax_nodes")
        if cached is not None and cached[0] == mutation.ARCHITECTURE[0]:
            return cached[1]
        nodes = self._make_nodes()
        vars(self)["_kerax_nodes"] = (mutation.ARCHITECTURE[0], nodes)
        return nodes

    def _make_nodes(self) -> dict | None:
        if self.input_spec is None:
            return None
        names = {id(x): (x, n) for x, n in zip(self._stack, self._names)}
        node = Node(self.input_spec, op=self.input_layer, names=names)
        nodes = {id(self.input_layer): [node]}
        for layer in vars(self)["layers"]:
            spec, mask = layer.output_spec_masked(node.spec, mask=node.mask)
            node = Node(spec, op=layer, args=(node,), names=names, mask=mask)
            nodes.setdefault(id(layer), []).append(node)
        return nodes

    def _bind(self, layer: Layer, name: str | None = None, nodes: bool = True) -> Layer:
        """A view of `layer` named as this model names it, with its nodes here.

        Without an Input (or `nodes=False`) the view has no nodes.
        """
        if name is None:
            name = self._names[[id(x) for x in self._stack].index(id(layer))]
        if not nodes or self._nodes is None:
            return bind(layer, (), (), name=name)
        nodes = self._nodes[id(layer)]
        if isinstance(layer, InputLayer):
            return bind(layer, tuple(nodes), tuple(nodes), name=name)
        return bind(layer, tuple(n.args[0] for n in nodes), tuple(nodes), name=name)

    def _ends(self, what: str) -> Node:
        if self._nodes is None:
            raise AttributeError(
                f"{self.describe()} has no `{what}`: it does not start with an Input. Start it "
                "with kerax.Input(shape), as Keras's Sequential must be built for this."
            )
        if what in ("input", "inputs"):
            return self._nodes[id(self._stack[0])][0]
        return self._nodes[id(self._stack[-1])][-1]

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
        vars(self)["_kerax_used"] = True  # Initialized: see `apply_masked`.
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
        if "_kerax_used" not in vars(self):
            # Applied (traced or not): a later `add`/`pop` drops JAX's caches.
            vars(self)["_kerax_used"] = True
        try:
            return apply_chain(
                self.named_layers(),
                params,
                state,
                x,
                key=key,
                training=training,
                mask=mask,
            )
        except Exception as e:
            error = missing_params_error(self, params, x)
            if error is None:
                raise
            raise error from e

    def get_config(self) -> dict:
        """The config as Keras writes it: a shared layer once, at its first place.

        Keras's format cannot say that a layer comes twice: a model loaded
        from it applies the layer once (as Keras's own reload does), so
        kerax warns.
        """
        stack = dict(zip(self._names, self._stack))
        if len(stack) < len(self._stack):
            warnings.warn(
                f"{self.describe()}: a layer comes more than once in this Sequential "
                f"(shared: {sorted(n for n in stack if self._names.count(n) > 1)}). Keras's "
                "config lists each layer once, so a model loaded from it applies the layer "
                "once, as Keras's own saved file does. Use a functional kerax.Model to "
                "save a model that reuses a layer.",
                stacklevel=2,
            )
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": serialization.serialize_value(self.dtype),
            "layers": [
                dict(
                    serialization.serialize(layer),
                    config=dict(layer.get_config(), name=n),
                )
                for n, layer in stack.items()
            ],
        }


def _sync_view(view: Sequential, origin: Sequential) -> None:
    """`view` (a `bind` copy of `origin`) shows `origin`'s layers again."""
    if view is origin:
        return
    vars(view).pop("_kerax_nodes", None)
    for name in ("layers", "input_layer", "_kerax_mutations"):
        if name in vars(origin):
            vars(view)[name] = vars(origin)[name]
    view._derive()


# Installed after the dataclass is made: the field stays the config.
Sequential.layers = _NamedLayers()
