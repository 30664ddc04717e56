"""Keras's `plot_model`: a picture of a model's layer graph, no Graphviz needed.

Keras renders through pydot and the Graphviz `dot` binary. kerax lays the
graph out itself (layers in ranks by their longest path from the inputs) and
draws it with matplotlib for raster formats, or writes SVG text directly.
"""

from __future__ import annotations

import html
import os

import jax

from kerax.core.layer import Layer
from kerax.core.node import InputLayer, Node
from kerax.core.spec import shape_str
from kerax.models.functional import Model
from kerax.models.sequential import Sequential

__all__ = ["plot_model"]

_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 260.0, 0.0, 40.0, 50.0
_LINE_H, _PAD = 16.0, 8.0


def _shape_text(spec) -> str:
    leaves = jax.tree.leaves(spec)
    if not leaves:
        return "?"
    if len(leaves) == 1:
        return shape_str(leaves[0].shape)
    return "[" + ", ".join(shape_str(s.shape) for s in leaves) + "]"


def _dtype_text(spec) -> str:
    return ", ".join(sorted({str(s.dtype) for s in jax.tree.leaves(spec)})) or "?"


def _graph(model: Layer):
    """`(boxes, edges)`: per layer its (name, layer, input spec, output spec)."""
    if isinstance(model, Model):
        g = model._graph
        boxes, edges = [], set()
        index = {id(layer): i for i, layer in enumerate(g.layers)}
        for layer in g.layers:
            nodes = [n for n in g.order if n.op is layer]
            ins = []
            for n in nodes:
                for dep in jax.tree.leaves(
                    (n.args, n.kwargs), is_leaf=lambda v: isinstance(v, Node)
                ):
                    if isinstance(dep, Node):
                        base = dep
                        while base.parent is not None:
                            base = base.parent
                        edges.add((index[id(base.op)], index[id(layer)]))
                        ins.append(dep.spec)
            out = nodes[0].spec if nodes else None
            in_spec = None if isinstance(layer, InputLayer) else ins
            boxes.append((g.name_of[id(layer)], layer, in_spec, out))
        return boxes, sorted(edges)
    if isinstance(model, Sequential):
        spec = model.input_spec
        boxes = []
        for name, layer in model.named_layers():
            out = layer.output_spec(spec) if spec is not None else None
            boxes.append((name, layer, spec, out))
            spec = out
        return boxes, [(i, i + 1) for i in range(len(boxes) - 1)]
    spec = getattr(model, "input_spec", None)
    out = model.output_spec(spec) if spec is not None else None
    return [(model.scope_name, model, spec, out)], []


def _label(name, layer, in_spec, out_spec, options) -> list[str]:
    kind = type(layer).__name__
    lines = [f"{name} ({kind})" if options["show_layer_names"] else kind]
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        lines.append(
            f"Activation: {getattr(activation, '__name__', None) or activation}"
        )
    if options["show_shapes"]:
        if in_spec is not None and not isinstance(layer, InputLayer):
            lines.append(f"Input shape: {_shape_text(in_spec)}")
        lines.append(
            f"Output shape: {_shape_text(out_spec) if out_spec is not None else '?'}"
        )
    if options["show_dtype"]:
        lines.append(
            f"Output dtype: {_dtype_text(out_spec) if out_spec is not None else '?'}"
        )
    if options["show_trainable"]:
        lines.append(f"Trainable: {getattr(layer, 'trainable', True)}")
    return lines


def _layout(labels, edges, rankdir):
    """Box centers and sizes: ranks by longest path, spread within a rank."""
    rank = [0] * len(labels)
    for _ in labels:  # Longest path; the graph is a DAG, so this settles.
        for a, b in edges:
            rank[b] = max(rank[b], rank[a] + 1)
    by_rank: dict[int, list[int]] = {}
    for i, r in enumerate(rank):
        by_rank.setdefault(r, []).append(i)
    sizes = [
        (
            max(_BOX_W, 7.2 * max(len(s) for s in lab) + 2 * _PAD),
            len(lab) * _LINE_H + 2 * _PAD,
        )
        for lab in labels
    ]
    horizontal = rankdir in ("LR", "RL")
    step = max(w for w, _ in sizes) + _GAP_X if horizontal else None
    centers = [(0.0, 0.0)] * len(labels)
    along = 0.0
    for r in sorted(by_rank):
        members = by_rank[r]
        if horizontal:
            heights = [sizes[i][1] for i in members]
            total = sum(heights) + _GAP_Y * (len(members) - 1)
            y = -total / 2
            for i, h in zip(members, heights):
                centers[i] = (along + step / 2, y + h / 2)
                y += h + _GAP_Y
            along += step
        else:
            widths = [sizes[i][0] for i in members]
            total = sum(widths) + _GAP_X * (len(members) - 1)
            x = -total / 2
            for i, w in zip(members, widths):
                centers[i] = (x + w / 2, along + max(sizes[j][1] for j in members) / 2)
                x += w + _GAP_X
            along += max(sizes[j][1] for j in members) + _GAP_Y
    if rankdir in ("BT", "RL"):
        centers = [(-x, -y) if rankdir == "RL" else (x, -y) for x, y in centers]
    xs = [c[0] - s[0] / 2 for c, s in zip(centers, sizes)]
    ys = [c[1] - s[1] / 2 for c, s in zip(centers, sizes)]
    dx, dy = _PAD - min(xs), _PAD - min(ys)
    centers = [(x + dx, y + dy) for x, y in centers]
    width = max(c[0] + s[0] / 2 for c, s in zip(centers, sizes)) + _PAD
    height = max(c[1] + s[1] / 2 for c, s in zip(centers, sizes)) + _PAD
    return centers, sizes, width, height


def _anchor(center, size, toward):
    """Where the segment from `center` to `toward` leaves the box."""
    (x, y), (w, h), (tx, ty) = center, size, toward
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return x, y
    scale = min(
        (w / 2) / abs(dx) if dx else float("inf"),
        (h / 2) / abs(dy) if dy else float("inf"),
    )
    return x + dx * scale, y + dy * scale


def _write_svg(path, labels, edges, centers, sizes, width, height):
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" '
        'refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#333"/>'
        "</marker></defs>",
    ]
    for a, b in edges:
        x1, y1 = _anchor(centers[a], sizes[a], centers[b])
        x2, y2 = _anchor(centers[b], sizes[b], centers[a])
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            'stroke="#333" marker-end="url(#arrow)"/>'
        )
    for lines, (cx, cy), (w, h) in zip(labels, centers, sizes):
        out.append(
            f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" rx="6" fill="#ffffff" stroke="#333"/>'
        )
        top = cy - h / 2 + _PAD + _LINE_H * 0.75
        for k, text in enumerate(lines):
            weight = ' font-weight="bold"' if k == 0 else ""
            out.append(
                f'<text x="{cx:.1f}" y="{top + k * _LINE_H:.1f}" '
                f'text-anchor="middle"{weight}>{html.escape(text)}</text>'
            )
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def _write_raster(path, fmt, labels, edges, centers, sizes, width, height, dpi):
    # matplotlib is imported only here: drawing is optional to importing kerax.
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt

    px = 100.0  # Layout units per inch.
    fig = plt.figure(figsize=(width / px, height / px))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    for a, b in edges:
        start = _anchor(centers[a], sizes[a], centers[b])
        end = _anchor(centers[b], sizes[b], centers[a])
        ax.annotate(
            "", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "#333"}
        )
    for lines, (cx, cy), (w, h) in zip(labels, centers, sizes):
        ax.add_patch(
            patches.FancyBboxPatch(
                (cx - w / 2, cy - h / 2),
                w,
                h,
                boxstyle="round,pad=0,rounding_size=6",
                facecolor="white",
                edgecolor="#333",
            )
        )
        top = cy - h / 2 + _PAD + _LINE_H / 2
        for k, text in enumerate(lines):
            ax.text(
                cx,
                top + k * _LINE_H,
                text,
                ha="center",
                va="center",
                fontsize=8.5,
                fontweight="bold" if k == 0 else "normal",
            )
    fig.savefig(path, format=fmt, dpi=dpi)
    plt.close(fig)


def plot_model(
    model: Layer,
    to_file: str = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs,
) -> str:
    """Draws the model's layer graph into `to_file`, as `keras.utils.plot_model`.

    Args:
        model: A functional `kerax.Model`, a `kerax.Sequential` (its shapes
            need an `Input` first) or any layer (one box).
        to_file: The file to write; its extension picks the format: ".svg"
            is written directly, others (".png", ".pdf", ".jpg") through
            matplotlib. No extension means PNG, as in Keras.
        show_shapes: Print each layer's input and output shapes.
        show_dtype: Print each layer's output dtype.
        show_layer_names: Print layer names beside their classes.
        rankdir: "TB" (top to bottom), "BT", "LR" or "RL".
        expand_nested: Keras draws nested models' insides; kerax draws a
            nested model as one box and raises if this is True.
        dpi: Resolution of raster formats.
        show_layer_activations: Print the `activation` of layers that have one.
        show_trainable: Print whether each layer is trainable.
        **kwargs: Keras's Graphviz options (`splines`, ...) are accepted and
            have no effect without Graphviz.

    Returns:
        The path written (Keras returns an IPython image when IPython is
        installed; `IPython.display.Image(path)` gives the same).

    Example:
        >>> import os, tempfile
        >>> import kerax
        >>> from kerax import layers
        >>> x = kerax.Input((8,), name="features")
        >>> model = kerax.Model(x, layers.Dense(2)(layers.Dense(4)(x)))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.svg")
        >>> plot_model(model, to_file=path, show_shapes=True) == path
        True
        >>> "Output shape: (None, 2)" in open(path).read()
        True
    """
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(
            f"plot_model: `rankdir` must be 'TB', 'BT', 'LR' or 'RL'; got {rankdir!r}."
        )
    if expand_nested:
        raise ValueError(
            "plot_model: expand_nested=True is not supported by kerax (a nested "
            "model is drawn as one box); pass expand_nested=False."
        )
    unknown = set(kwargs) - {"splines", "subgraph", "layer_range"}
    if unknown:
        raise TypeError(f"plot_model got unexpected arguments {sorted(unknown)}.")
    options = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
    }
    boxes, edges = _graph(model)
    labels = [_label(*box, options) for box in boxes]
    centers, sizes, width, height = _layout(labels, edges, rankdir)
    fmt = os.path.splitext(to_file)[1][1:].lower() or "png"
    directory = os.path.dirname(to_file)
    if directory:
        os.makedirs(directory, exist_ok=True)
    if fmt == "svg":
        _write_svg(to_file, labels, edges, centers, sizes, width, height)
    else:
        _write_raster(to_file, fmt, labels, edges, centers, sizes, width, height, dpi)
    return to_file
