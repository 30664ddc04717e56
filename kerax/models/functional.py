"""Functional models: a graph of layers called on `kerax.Input` nodes.

`Model(inputs, outputs)` takes any pytree of nodes for both. A layer object
called twice is shared: one entry in `params`, and its k-th call folds
`name/k` into its key. Applying the model walks the nodes in topological
order, threading each layer's state through its calls.
"""

from __future__ import annotations

import jax

from kerax.core import authoring, mutation, naming, registry, serialization
from kerax.core.layer import BOUND, Layer, is_empty
from kerax.core.node import (
    InputLayer,
    Node,
    bind,
    bound_origin,
    merged_names,
    unwrap,
)
from kerax.core.spec import is_symbolic, shape_str
from kerax.models.handles import KerasModelMethods
from kerax.models.subclassed import SubclassedModel


def _is_node(x) -> bool:
    return isinstance(x, Node)


class _Graph:
    """The traced graph: nodes in order, layer names, call indices."""

    def __init__(self, model_name: str, inputs, outputs, hints=None):
        self.inputs, self.outputs = inputs, outputs
        input_leaves = jax.tree.leaves(inputs, is_leaf=_is_node)
        for leaf in input_leaves:
            if not isinstance(leaf, Node) or not isinstance(leaf.op, InputLayer):
                raise TypeError(
                    f"Model '{model_name}': `inputs` must be kerax.Input nodes, got {leaf!r}."
                )
        output_leaves = jax.tree.leaves(outputs, is_leaf=_is_node)
        for leaf in output_leaves:
            if not isinstance(leaf, Node):
                raise TypeError(
                    f"Model '{model_name}': `outputs` must be nodes made from kerax.Input, got {leaf!r}."
                )
        input_ids = {id(n) for n in input_leaves}
        if len(input_ids) != len(input_leaves):
            raise ValueError(
                f"Model '{model_name}': the same Input appears twice in `inputs`."
            )

        order: list[Node] = []
        done: set[int] = set()
        active: set[int] = set()

        def visit(node: Node):
            if id(node) in done:
                return
            if id(node) in active:
                raise ValueError(
                    f"Model '{model_name}': the graph has a cycle through {node!r}."
                )
            active.add(id(node))
            if node.parent is not None:
                visit(node.parent)
            elif isinstance(node.op, InputLayer):
                if id(node) not in input_ids:
                    raise ValueError(
                        f"Model '{model_name}': an output depends on Input '{node.op.scope_name}' "
                        f"(shape {shape_str(node.shape)}) which is not in `inputs`. Add it to inputs=..."
                    )
            else:
                for dep in jax.tree.leaves((node.args, node.kwargs), is_leaf=_is_node):
                    if isinstance(dep, Node):
                        visit(dep)
            active.discard(id(node))
            done.add(id(node))
            order.append(node)

        for leaf in input_leaves:
            visit(leaf)
        for leaf in output_leaves:
            visit(leaf)
        self.order = order

        # Layers in order of first use (inputs first), each named once.
        layers, seen = [], set()
        for node in order:
            if node.op is not None and id(node.op) not in seen:
                seen.add(id(node.op))
                layers.append(node.op)
        # Names that handles from a source model carry (feature extraction).
        hints = dict(hints or {})
        for node in order:
            for k, (_, name) in (node.names or {}).items():
                hints.setdefault(k, name)
        # Auto names follow the order the script called the layers in (Keras
        # numbers layers as they are made): an encoder built before its
        # decoder gets `embedding`, the decoder `embedding_1`.
        first_call: dict[int, int] = {}
        for node in order:
            if node.op is not None:
                seq = first_call.get(id(node.op), node.seq)
                first_call[id(node.op)] = min(seq, node.seq)
        by_call = sorted(layers, key=lambda layer: first_call[id(layer)])
        names = naming.unique_names(by_call, owner=f"Model '{model_name}'", hints=hints)
        self.layers = layers
        self.name_of = {id(layer): n for layer, n in zip(by_call, names)}
        self.call_index: dict[int, int] = {}
        counts: dict[int, int] = {}
        for node in order:
            if node.op is not None and not isinstance(node.op, InputLayer):
                k = counts.get(id(node.op), 0)
                self.call_index[id(node)] = k
                counts[id(node.op)] = k + 1

    def call_name(self, node: Node) -> str:
        name = self.name_of[id(node.op)]
        k = self.call_index[id(node)]
        return name if k == 0 else f"{name}/{k}"

    def keras_order(self) -> list[Layer]:
        """The layers in Keras's `Functional.layers` order.

        Keras orders operations by graph depth (inputs first) and, within one
        depth, by first visit in a depth-first walk from the outputs
        (`keras.src.ops.function.map_graph`); `model.layers` and
        `get_weights()` follow it.
        """

        def base(n):
            while n.parent is not None:
                n = n.parent
            return n

        def parents(n):
            return [
                base(a)
                for a in jax.tree.leaves((n.args, n.kwargs), is_leaf=_is_node)
                if isinstance(a, Node)
            ]

        finished, order, op_index = set(), [], {}

        def visit(n):
            n = base(n)
            if id(n) in finished:
                return
            op_index.setdefault(id(n.op), len(op_index))
            if not isinstance(n.op, InputLayer):
                for p in parents(n):
                    visit(p)
            finished.add(id(n))
            order.append(n)

        for out in jax.tree.leaves(self.outputs, is_leaf=_is_node):
            visit(out)
        node_depth, op_depth = {}, {}
        in_graph = {id(n) for n in order}
        for n in reversed(order):
            depth = max(node_depth.setdefault(id(n), 0), op_depth.get(id(n.op), 0))
            op_depth[id(n.op)] = depth
            node_depth[id(n)] = depth
            if not isinstance(n.op, InputLayer):
                for p in parents(n):
                    if id(p) in in_graph:
                        node_depth[id(p)] = max(depth + 1, node_depth.get(id(p), 0))
        for n in jax.tree.leaves(self.inputs, is_leaf=_is_node):
            if id(n.op) not in op_depth:  # An input no output depends on.
                op_depth[id(n.op)], op_index[id(n.op)] = 0, -1
        layers = {id(layer): layer for layer in self.layers}
        return sorted(
            (layers[i] for i in op_depth),
            key=lambda op: (-op_depth[id(op)], op_index[id(op)]),
        )

    def names(self) -> dict:
        """`{id(layer): (layer, name)}`: what handles from this graph carry."""
        if not hasattr(self, "_names"):
            self._names = {id(x): (x, self.name_of[id(x)]) for x in self.layers}
        return self._names

    def nodes_of(self, layer: Layer) -> list[Node]:
        """The nodes `layer` made in this graph, in call order."""
        return [n for n in self.order if n.op is layer and n.parent is None]


# Nodes in a model's inputs/outputs: one node, or a list, tuple or dict of them.
NodeTree = Node | list | tuple | dict


class Model(KerasModelMethods, Layer):
    """A functional model: `Model(inputs, outputs, name=...)`.

    `apply` takes inputs in the structure of `inputs` and returns outputs in
    the structure of `outputs`; a model with a list of inputs also takes a
    dict keyed by the inputs' names, as in Keras.

    As in Keras, `model.layers` and `model.get_layer(name)` give the layers,
    and a layer got through the model knows its nodes:
    `model.get_layer("dense").output`. A model built from those nodes
    (feature extraction) names its layers as this one does, so its params
    are a sub-tree of this model's params.

    Args:
        inputs: The model's `kerax.Input` nodes: one node, or a list, tuple
            or dict of them.
        outputs: The nodes the model returns, made by calling layers on
            `inputs`: one node, or a list, tuple or dict of them.
        name: The model's name (default `"functional"`).
        dtype: The dtype policy of the model's layers that set none.
        trainable: `False` freezes every layer of the model.

    Example:
        >>> x = kerax.Input((8,))
        >>> y = kerax.layers.Dense(2)(kerax.layers.Dense(4, activation="relu")(x))
        >>> model = kerax.Model(x, y)
        >>> params, state = model.init(jax.random.key(0), kerax.spec((None, 8)))
        >>> [layer.name for layer in model.layers]
        ['input_layer', 'dense', 'dense_1']
        >>> model.get_layer("dense").output.shape
        (None, 4)
    """

    inputs: NodeTree | None = None
    outputs: NodeTree | None = None

    autocast = False

    def __post_init__(self):
        # Handles from another model (`model.get_layer("x").output`) stand for
        # that model's nodes and carry its layer names.
        leaves = jax.tree.leaves((self.inputs, self.outputs), is_leaf=_is_node)
        hints = {k: name for k, (_, name) in (merged_names(leaves) or {}).items()}
        inputs, outputs = unwrap(self.inputs), unwrap(self.outputs)
        super().__post_init__()
        # Keep the user's containers as given (the base class would freeze
        # lists into tuples): outputs come back in the structure written.
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "outputs", outputs)
        object.__setattr__(
            self, "_graph", _Graph(self.scope_name, inputs, outputs, hints)
        )

    @property
    def default_name(self) -> str:
        return "functional"

    # A graph is identified by its objects, not compared by value; a view
    # from an outer model's `get_layer` shares the graph and so is equal.
    def __hash__(self):
        return id(self._graph)

    def __eq__(self, other):
        return isinstance(other, Model) and self._graph is other._graph

    @property
    def operations(self) -> list[Layer]:
        """The model's layers in Keras's `Functional.operations` order.

        The layers themselves (not the handles `layers` gives): what Keras's
        weights files and `get_weights()` are ordered by.
        """
        return self._graph.keras_order()

    @property
    def layers(self) -> list[Layer]:
        """The model's layers in Keras's order, `InputLayer`s included.

        Each knows its nodes in this model (`model.layers[1].output`).
        Op nodes (`x + y`, `kerax.ops.mean(x)`) are in `operations`, not
        here, as in Keras.
        """
        views = vars(self).get("_kerax_layers")
        if views is None or views[0] is not self._graph:
            views = (
                self._graph,
                [
                    self._views()[id(layer)]
                    for layer in self._graph.keras_order()
                    if not getattr(layer, "_keras_op", False)
                ],
            )
            vars(self)["_kerax_layers"] = views
        return list(views[1])

    def _views(self) -> dict:
        """`{id(layer): view}`: made once per model (its graph never changes),
        so `model.layers[0] is model.layers[0]`, as in Keras."""
        views = vars(self).get("_kerax_layer_views")
        if views is None or views[0] is not self._graph:
            views = (
                self._graph,
                {id(layer): self._bind(layer) for layer in self._graph.layers},
            )
            for layer in self._graph.layers:
                mutation.register_view(layer, views[1][id(layer)])
            vars(self)["_kerax_layer_views"] = views
        return views[1]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name` (or at `index` in `model.layers`), as in Keras.

        The layer comes bound to this model: `.input` and `.output` are its
        nodes here, and calling it calls this model's layer (shared weights).
        """
        if (name is None) == (index is None):
            raise ValueError(
                f"{self.describe()}.get_layer: give exactly one of `name` and `index`, got "
                f"name={name!r}, index={index!r}."
            )
        if index is not None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{self.describe()}.get_layer: index {index} is out of range; the model "
                    f"has {len(layers)} layers."
                )
            return layers[index]
        for layer in self._graph.layers:
            if self._graph.name_of[id(layer)] == name:
                return self._views()[id(layer)]
        raise ValueError(
            f"{self.describe()} has no layer named {name!r}; layers: "
            f"{[self._graph.name_of[id(x)] for x in self._graph.keras_order()]}."
        )

    def _bind(self, layer: Layer) -> Layer:
        g, names = self._graph, self._graph.names()

        def handle(tree):
            return jax.tree.map(
                lambda v: v.with_names(names) if isinstance(v, Node) else v,
                tree,
                is_leaf=_is_node,
            )

        nodes = g.nodes_of(layer)
        if isinstance(layer, InputLayer):
            inputs = outputs = tuple(handle(n) for n in nodes)
        else:
            inputs = tuple(
                handle(n.args[0] if len(n.args) == 1 else list(n.args)) for n in nodes
            )
            outputs = tuple(handle(n) for n in nodes)
        return bind(layer, inputs, outputs, name=g.name_of[id(layer)])

    @property
    def input(self):
        """The model's inputs, as `kerax.Model(model.input, ...)` takes them.

        A nested model got through the outer model (`outer.get_layer("m")`)
        gives its input node in the outer graph instead.
        """
        if BOUND in vars(self):
            return self._bound_node("input", None)
        names = self._graph.names()
        return jax.tree.map(
            lambda n: n.with_names(names), self.inputs, is_leaf=_is_node
        )

    @property
    def output(self):
        """The model's outputs, as `kerax.Model(..., model.output)` takes them.

        A nested model got through the outer model gives its output node in
        the outer graph instead, so `outer.get_layer("encoder").output`
        extracts features as for any layer.
        """
        if BOUND in vars(self):
            return self._bound_node("output", None)
        names = self._graph.names()
        return jax.tree.map(
            lambda n: n.with_names(names), self.outputs, is_leaf=_is_node
        )

    def layer_name(self, layer: Layer) -> str:
        return self._graph.name_of[id(bound_origin(layer))]

    def _structured(self, x):
        """Inputs as `inputs` are structured; a dict keyed by input names too."""
        if (
            isinstance(self.inputs, list | tuple)
            and len(self.inputs) == 1
            and not isinstance(x, list | tuple | dict)
        ):
            return type(self.inputs)(
                [x]
            )  # One input in a list: a bare array, as Keras.
        if not isinstance(x, dict) or isinstance(self.inputs, dict):
            return x
        nodes, treedef = jax.tree.flatten(self.inputs, is_leaf=_is_node)
        names = [self._graph.name_of[id(n.op)] for n in nodes]
        if set(x) != set(names):
            raise ValueError(
                f"{self.describe()}: a dict of inputs must have one entry per Input, keyed by "
                f"the Inputs' names {names}; got keys {sorted(x)}."
            )
        return jax.tree.unflatten(treedef, [x[n] for n in names])

    def children(self):
        return [
            (self._graph.name_of[id(layer)], layer)
            for layer in self._graph.layers
            if not isinstance(layer, InputLayer)
        ]

    @property
    def input_spec(self):
        return jax.tree.map(lambda n: n.spec, self.inputs, is_leaf=_is_node)

    def init(self, key, *specs, **kwargs):
        """Like `Layer.init`; the spec defaults to the model's `kerax.Input`s."""
        return super().init(key, *(specs or (self.input_spec,)), **kwargs)

    def output_spec(self, *specs, **kwargs):
        return super().output_spec(*(specs or (self.input_spec,)), **kwargs)

    def check_input(self, spec) -> None:
        spec = self._structured(spec)
        expected = jax.tree.leaves(self.inputs, is_leaf=_is_node)
        got = flatten_like(self.inputs, spec, _is_node, f"{self.describe()} inputs")
        for node, g in zip(expected, got):
            want = node.spec
            ok = len(want.shape) == len(g.shape) and all(
                is_symbolic(w) or is_symbolic(d) or w == d
                for w, d in zip(want.shape, g.shape)
            )
            if not ok:
                raise ValueError(
                    f"{self.describe()}: input '{node.op.scope_name}' expected shape {shape_str(want.shape)}, "
                    f"got {shape_str(g.shape)}."
                )

    def build(self, key, spec):
        params, state = {}, {}
        g = self._graph
        for node in g.order:
            layer = node.op
            if (
                layer is None
                or isinstance(layer, InputLayer)
                or g.call_index[id(node)] > 0
            ):
                continue
            name = g.name_of[id(layer)]
            args = jax.tree.map(
                lambda n: n.spec if isinstance(n, Node) else n,
                node.args,
                is_leaf=_is_node,
            )
            # Params depend on the positional inputs' shapes only (batch excluded).
            p, s = layer.init(naming.child_key(key, name), *args)
            if not is_empty(p):
                params[name] = p
            if not is_empty(s):
                state[name] = s
        return params, state

    def call(self, params, state, x, *, key, training, mask=None):
        y, state, _ = self.apply_masked(
            params, state, x, key=key, training=training, mask=mask
        )
        return y, state

    def apply_masked(
        self, params, state, x, *, key=None, training=False, mask=None, **kwargs
    ):
        del kwargs
        try:
            return self._run(params, state, x, key=key, training=training, mask=mask)
        except Exception as e:
            error = missing_params_error(self, params, x)
            if error is None:
                raise
            raise error from e

    def compute_mask(self, x, mask=None):
        raise NotImplementedError("Use apply_masked to get a model's output mask.")

    def _run(self, params, state, x, *, key, training, mask):
        g = self._graph
        input_nodes = jax.tree.leaves(self.inputs, is_leaf=_is_node)
        where = f"{self.describe()} inputs"
        xs = flatten_like(self.inputs, self._structured(x), _is_node, where)
        masks = (
            [None] * len(xs)
            if mask is None
            else flatten_like(self.inputs, self._structured(mask), _is_node, where)
        )
        values = {id(n): v for n, v in zip(input_nodes, xs)}
        node_masks = {id(n): m for n, m in zip(input_nodes, masks)}
        new_state = dict(state)

        def value(n):
            return values[id(n)] if isinstance(n, Node) else n

        for node in g.order:
            if id(node) in values:
                continue
            if node.parent is not None:
                (index,) = node.path
                values[id(node)] = values[id(node.parent)][index]
                m = node_masks.get(id(node.parent))
                node_masks[id(node)] = (
                    m[index] if isinstance(m, (tuple, list, dict)) else m
                )
                continue
            layer = node.op
            name = g.name_of[id(layer)]
            args = jax.tree.map(value, node.args, is_leaf=_is_node)
            kwargs = jax.tree.map(value, node.kwargs, is_leaf=_is_node)
            in_masks = [
                jax.tree.map(lambda n: node_masks.get(id(n)), a, is_leaf=_is_node)
                for a in node.args
            ]
            in_mask = in_masks[0] if len(in_masks) == 1 else tuple(in_masks)
            if all(
                m is None for m in jax.tree.leaves(in_mask, is_leaf=lambda v: v is None)
            ):
                in_mask = None
            if "mask" in kwargs:  # An explicit mask wins, as in Keras.
                in_mask = kwargs.pop("mask")
            # `layer(x, training=False)` in the graph is recorded (files keep it)
            # but, as in Keras 3, the mode the model is applied with wins.
            kwargs.pop("training", None)
            y, s, m = layer.apply_masked(
                params.get(name, {}),
                new_state.get(name, {}),
                *args,
                key=naming.child_key(key, g.call_name(node)),
                training=training,
                mask=in_mask,
                **kwargs,
            )
            if not is_empty(s) or name in new_state:
                new_state[name] = s
            values[id(node)] = y
            node_masks[id(node)] = m
        outputs = jax.tree.map(lambda n: values[id(n)], self.outputs, is_leaf=_is_node)
        out_masks = jax.tree.map(
            lambda n: node_masks.get(id(n)), self.outputs, is_leaf=_is_node
        )
        if all(
            m is None for m in jax.tree.leaves(out_masks, is_leaf=lambda v: v is None)
        ):
            out_masks = None
        return outputs, new_state, out_masks

    # -------------------------------------------------------------- config
    def get_config(self) -> dict:
        g = self._graph
        refs = {}

        def ref(n: Node):
            if n.parent is not None:
                base = dict(refs[id(n.parent)])
                base["path"] = list(base.get("path", [])) + list(n.path)
                return base
            return refs[id(n)]

        def encode(tree):
            def one(v):
                if isinstance(v, Node):
                    return ref(v)
                return serialization.serialize_value(v, self.describe())

            return _encode(tree, one)

        nodes = []
        for node in g.order:
            if node.parent is not None:
                refs[id(node)] = ref(node)
                continue
            name = g.name_of[id(node.op)]
            if isinstance(node.op, InputLayer):
                refs[id(node)] = {"__node__": name, "call": 0}
                continue
            refs[id(node)] = {"__node__": name, "call": g.call_index[id(node)]}
            nodes.append(
                {
                    "layer": name,
                    "args": encode(list(node.args)),
                    "kwargs": encode(dict(node.kwargs)),
                }
            )

        layers = []
        for layer in g.layers:
            entry = serialization.serialize(layer)
            name = g.name_of[id(layer)]
            if authoring.is_keras_style(type(layer)) and not authoring.accepts_argument(
                type(layer), "name"
            ):
                # An `__init__` without `name` (Keras allows it): the name goes
                # beside the config, where Keras keeps it too.
                entry["name"] = name
            else:
                entry["config"] = dict(entry["config"], name=name)
            layers.append(entry)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": serialization.serialize_value(self.dtype),
            "layers": layers,
            "nodes": nodes,
            "inputs": encode(self.inputs),
            "outputs": encode(self.outputs),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        if custom_objects:  # Loadable while the model is rebuilt, as in Keras.
            with registry.custom_object_scope(custom_objects):
                return cls.from_config(config)
        config = dict(config)
        layers = {}
        for entry in config.pop("layers"):
            layer = serialization.from_config(entry)
            layers[entry.get("name", layer.name)] = layer
        calls: dict[tuple, object] = {}
        inputs_made: dict[str, Node] = {}

        def resolve(ref):
            name, k = ref["__node__"], ref.get("call", 0)
            if name not in layers:
                raise ValueError(f"Model config refers to unknown layer {name!r}.")
            layer = layers[name]
            if isinstance(layer, InputLayer):
                if name not in inputs_made:
                    inputs_made[name] = Node(layer.input_spec, op=layer)
                out = inputs_made[name]
            else:
                if (name, k) not in calls:
                    raise ValueError(
                        f"Model config uses call {k} of layer {name!r} before it is made."
                    )
                out = calls[(name, k)]
            for index in ref.get("path", []):
                out = out[index]
            return out

        def decode(tree):
            return _decode(tree, resolve)

        counts: dict[str, int] = {}
        for n in config.pop("nodes"):
            name = n["layer"]
            layer = layers[name]
            args = decode(n["args"])
            kwargs = decode(n["kwargs"])
            k = counts.get(name, 0)
            counts[name] = k + 1
            calls[(name, k)] = layer(*args, **kwargs)
        inputs = decode(config.pop("inputs"))
        outputs = decode(config.pop("outputs"))
        kwargs = {k: serialization.deserialize_value(v) for k, v in config.items()}
        return cls(inputs=inputs, outputs=outputs, **kwargs)


def _encode(tree, leaf_fn):
    if isinstance(tree, dict):
        return {"__dict__": {str(k): _encode(v, leaf_fn) for k, v in tree.items()}}
    if isinstance(tree, (list, tuple)):
        return [_encode(v, leaf_fn) for v in tree]
    return leaf_fn(tree)


def _decode(tree, resolve):
    if isinstance(tree, dict):
        if "__node__" in tree:
            return resolve(tree)
        if "__dict__" in tree:
            return {k: _decode(v, resolve) for k, v in tree["__dict__"].items()}
        return serialization.deserialize_value(tree)
    if isinstance(tree, list):
        return [_decode(v, resolve) for v in tree]
    return tree


def flatten_like(structure, tree, is_leaf, where="inputs"):
    """Leaves of `tree` in the order of `structure`'s leaves, lists and tuples alike."""
    if is_leaf(structure):
        return [tree]
    if isinstance(structure, dict):
        if not isinstance(tree, dict) or set(tree) != set(structure):
            got = sorted(tree) if isinstance(tree, dict) else type(tree).__name__
            raise ValueError(
                f"{where}: expected a dict with keys {sorted(structure)}, got {got}."
            )
        return [
            leaf
            for k in sorted(structure)
            for leaf in flatten_like(structure[k], tree[k], is_leaf, f"{where}[{k!r}]")
        ]
    if isinstance(structure, (list, tuple)):
        if not isinstance(tree, (list, tuple)) or len(tree) != len(structure):
            got = (
                f"{len(tree)} items"
                if isinstance(tree, (list, tuple))
                else type(tree).__name__
            )
            raise ValueError(
                f"{where}: expected a list of {len(structure)} items, got {got}."
            )
        return [
            leaf
            for i, (s, t) in enumerate(zip(structure, tree))
            for leaf in flatten_like(s, t, is_leaf, f"{where}[{i}]")
        ]
    raise TypeError(f"{where}: unsupported structure {type(structure).__name__}.")


# `class VAE(kerax.Model)` with its own `call` is Keras's subclassed model:
# the metaclass gives it this base instead of the functional one.
Model._subclassed_base = SubclassedModel


def missing_params_error(model, params, x) -> ValueError | None:
    """On an error path of `model.apply`: the error for params that lack layers.

    A ValueError that names the layers whose entry `params` lacks (made for
    another model, or before `model.add(...)`) and says to run
    `model.init(key)` again; None when no entry is missing (or the inputs do
    not fit either: the first error says why).
    """
    if not isinstance(params, dict):
        return None
    try:
        spec = jax.tree.map(lambda v: jax.ShapeDtypeStruct(v.shape, v.dtype), x)
        wanted, _ = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    except Exception:
        return None
    missing = [n for n in wanted if n not in params]
    if not missing:
        return None
    return ValueError(
        f"{model.describe()}: the params have no entry for layer(s) {missing} (they "
        f"have {sorted(params)}): they were made for other layers, e.g. for another "
        "model or before `model.add(...)`. Make them for the model as it is now: "
        "`params, state = model.init(key)`."
    )
