"""Functional models: a graph of layers called on `kerax.Input` nodes.

`Model(inputs, outputs)` takes any pytree of nodes for both. A layer object
called twice is shared: one entry in `params`, and its k-th call folds
`name/k` into its key. Applying the model walks the nodes in topological
order, threading each layer's state through its calls.
"""

from __future__ import annotations

import jax

from kerax.core import naming, serialization
from kerax.core.layer import Layer, is_empty
from kerax.core.node import InputLayer, Node
from kerax.core.spec import is_symbolic, shape_str


def _is_node(x) -> bool:
    return isinstance(x, Node)


class _Graph:
    """The traced graph: nodes in order, layer names, call indices."""

    def __init__(self, model_name: str, inputs, outputs):
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
        names = naming.unique_names(layers, owner=f"Model '{model_name}'")
        self.layers = layers
        self.name_of = {id(layer): n for layer, n in zip(layers, names)}
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


class Model(Layer):
    """A functional model: `Model(inputs, outputs, name=...)`.

    `inputs` and `outputs` are any pytree of nodes (one node, a list, a dict).
    `apply` takes inputs in the same structure and returns outputs in theirs.

    Example:
        >>> x = kerax.Input((8,))
        >>> y = kerax.layers.Dense(2)(kerax.layers.Dense(4, activation="relu")(x))
        >>> model = kerax.Model(x, y)
        >>> params, state = model.init(jax.random.key(0), kerax.spec((None, 8)))
    """

    inputs: object = None
    outputs: object = None

    autocast = False

    def __post_init__(self):
        inputs, outputs = self.inputs, self.outputs
        super().__post_init__()
        # Keep the user's containers as given: lists stay lists, so inputs and
        # outputs have the structure the user wrote.
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "outputs", outputs)
        object.__setattr__(
            self, "_graph", _Graph(self.scope_name, self.inputs, self.outputs)
        )

    @property
    def default_name(self) -> str:
        return "functional"

    # A graph is identified by its objects, not compared by value.
    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    @property
    def layers(self) -> list[Layer]:
        """The model's layers in order of first use, `InputLayer`s included."""
        return list(self._graph.layers)

    def get_layer(self, name: str) -> Layer:
        for layer in self._graph.layers:
            if self._graph.name_of[id(layer)] == name:
                return layer
        raise ValueError(
            f"{self.describe()} has no layer named {name!r}; layers: {[self.layer_name(x) for x in self.layers]}."
        )

    def layer_name(self, layer: Layer) -> str:
        return self._graph.name_of[id(layer)]

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
        y, state, _ = self._run(params, state, x, key=key, training=training, mask=mask)
        return y, state

    def apply_masked(
        self, params, state, x, *, key=None, training=False, mask=None, **kwargs
    ):
        del kwargs
        return self._run(params, state, x, key=key, training=training, mask=mask)

    def compute_mask(self, x, mask=None):
        raise NotImplementedError("Use apply_masked to get a model's output mask.")

    def _run(self, params, state, x, *, key, training, mask):
        g = self._graph
        input_nodes = jax.tree.leaves(self.inputs, is_leaf=_is_node)
        where = f"{self.describe()} inputs"
        xs = flatten_like(self.inputs, x, _is_node, where)
        masks = (
            [None] * len(xs)
            if mask is None
            else flatten_like(self.inputs, mask, _is_node, where)
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
            entry["config"] = dict(entry["config"], name=g.name_of[id(layer)])
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
    def from_config(cls, config: dict):
        config = dict(config)
        layers = {}
        for entry in config.pop("layers"):
            layer = serialization.from_config(entry)
            layers[layer.name] = layer
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
