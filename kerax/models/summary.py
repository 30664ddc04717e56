"""`model.summary()`: the Keras-style table, computed from specs only."""

from __future__ import annotations

import jax
import numpy as np

from kerax.core import registry
from kerax.core.layer import Layer
from kerax.core.node import InputLayer, Node
from kerax.core.spec import shape_str, to_spec
from kerax.models.functional import Model
from kerax.models.sequential import Sequential


def _type_name(layer) -> str:
    """The type Keras's summary shows: the class, or Keras's class of an op
    node (`add (Add)`, where kerax's is an `OpLayer`)."""
    return getattr(layer, "keras_class_name", None) or type(layer).__name__


def _count(tree) -> tuple[int, int]:
    leaves = jax.tree.leaves(tree)
    return sum(int(np.prod(x.shape)) for x in leaves), sum(
        int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in leaves
    )


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"  # Keras's format: "0.00 B", "1.50 KB".
        n /= 1024
    return f"{n} B"


def _out_shape(spec) -> str:
    leaves = jax.tree.leaves(spec)
    if len(leaves) == 1 and isinstance(spec, jax.ShapeDtypeStruct):
        return shape_str(spec.shape)
    return "[" + ", ".join(shape_str(s.shape) for s in leaves) + "]"


def _table(rows, headers, print_fn, title):
    widths = [
        max(len(str(r[i])) for r in [headers, *rows]) + 2 for i in range(len(headers))
    ]
    line = "─" * (sum(widths) + len(widths) + 1)
    print_fn(title)
    print_fn(line)
    print_fn("│" + "│".join(str(h).ljust(w) for h, w in zip(headers, widths)) + "│")
    print_fn(line.replace("─", "━"))
    for r in rows:
        print_fn("│" + "│".join(str(c).ljust(w) for c, w in zip(r, widths)) + "│")
    print_fn(line)


def summary(
    model: Layer, *specs, print_fn=print, params=None, state=None, show_trainable=False
):
    """Prints the Keras-style summary of `model` for input `specs`.

    `show_trainable=True` adds Keras's "Trainable" column: `Y` or `N` for a
    layer with weights (its `trainable` flag), `-` for one without.

    Sequential models that start with `kerax.Input` and functional models
    know their input spec; other layers need one. A `Sequential` without an
    Input and without `specs` prints Keras's table of a model not built yet
    (`?` shapes, `0 (unbuilt)` params). Returns the table as text.
    """
    lines: list[str] = []

    def emit(s):
        lines.append(s)
        if print_fn is not None:
            print_fn(s)

    if not specs:
        spec = getattr(model, "input_spec", None)
        if spec is None and isinstance(model, Sequential):
            # Keras's summary of a model not built yet: no shapes, no params.
            rows = [
                (f"{name} ({_type_name(layer)})", "?", "0 (unbuilt)")
                + (("-",) if show_trainable else ())  # Keras: no weights yet.
                for name, layer in model.named_layers()
            ]
            _table(
                rows,
                ("Layer (type)", "Output Shape", "Param #")
                + (("Trainable",) if show_trainable else ()),
                emit,
                f'Model: "{model.scope_name}"',
            )
            for what in ("Total", "Trainable", "Non-trainable"):
                emit(f" {what} params: 0 ({_fmt_bytes(0)})")
            return "\n".join(lines)
        if spec is None:
            raise ValueError(
                f"{model.describe()}.summary(spec) needs an input spec, e.g. kerax.spec((None, 16))."
            )
        specs = (spec,)
    specs = to_spec(specs)
    if params is None or state is None:
        params, state = jax.eval_shape(lambda: model.init(jax.random.key(0), *specs))
    rows = []

    def trait(layer, name):
        # Keras's "Trainable" column: Y/N for a layer with weights, "-" without.
        if not show_trainable:
            return ()
        weights = (
            (params, state) if name is None else (params.get(name), state.get(name))
        )
        if not jax.tree.leaves(weights):
            return ("-",)
        return ("Y" if layer.trainable else "N",)

    if isinstance(model, Model):
        g = model._graph
        headers = ("Layer (type)", "Output Shape", "Param #", "Connected to")
        if show_trainable:
            headers += ("Trainable",)
        for layer in g.keras_order():  # Keras's table lists `model.layers`.
            name = g.name_of[id(layer)]
            nodes = [n for n in g.order if n.op is layer]
            out = _out_shape(nodes[0].spec) if nodes else "?"
            count = _count((params.get(name, {}), state.get(name, {})))[0]
            connected = []
            for n in nodes:
                for dep in jax.tree.leaves(
                    (n.args, n.kwargs), is_leaf=lambda v: isinstance(v, Node)
                ):
                    if isinstance(dep, Node):
                        # Keras's `layer[call][output]`: which output of which call.
                        base, index = dep, 0
                        while base.parent is not None:
                            if isinstance(base.path[0], int):
                                index = base.path[0]
                            base = base.parent
                        k = g.call_index.get(id(base), 0)
                        connected.append(f"{g.name_of[id(base.op)]}[{k}][{index}]")
            if isinstance(layer, InputLayer):
                connected = ["-"]
            rows.append(
                (
                    f"{name} ({_type_name(layer)})",
                    out,
                    f"{count:,}",
                    ", ".join(connected) or "-",
                )
                + trait(layer, name)
            )
    else:
        headers = ("Layer (type)", "Output Shape", "Param #")
        if show_trainable:
            headers += ("Trainable",)
        children = (
            model.named_layers() if isinstance(model, Sequential) else model.children()
        )
        if children:
            spec, mask = specs[0], None
            for name, layer in children:
                spec, mask = (
                    layer.output_spec_masked(spec, mask=mask)
                    if isinstance(model, Sequential)
                    else (None, None)
                )
                count = _count((params.get(name, {}), state.get(name, {})))[0]
                rows.append(
                    (
                        f"{name} ({_type_name(layer)})",
                        _out_shape(spec) if spec is not None else "?",
                        f"{count:,}",
                    )
                    + trait(layer, name)
                )
        else:
            out = model.output_spec(*specs)
            rows.append(
                (
                    f"{model.scope_name} ({type(model).__name__})",
                    _out_shape(out),
                    f"{_count((params, state))[0]:,}",
                )
                + trait(model, None)
            )
    _table(rows, headers, emit, f'Model: "{model.scope_name}"')
    mask = model.trainable_mask(params)
    trainable = jax.tree.leaves(
        jax.tree.map(lambda p, m: p if m else None, params, mask)
    )
    total_n, total_b = _count(params)
    train_n, train_b = _count(trainable)
    state_n, state_b = _count(state)
    emit(f" Total params: {total_n + state_n:,} ({_fmt_bytes(total_b + state_b)})")
    emit(f" Trainable params: {train_n:,} ({_fmt_bytes(train_b)})")
    emit(
        f" Non-trainable params: {total_n - train_n + state_n:,} ({_fmt_bytes(total_b - train_b + state_b)})"
    )
    return "\n".join(lines)


# `Layer.summary` (in core, a floor below) calls this through the registry.
registry.provide("summary", summary)
