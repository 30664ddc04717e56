"""From param paths and logical axes to `PartitionSpec`s, checked.

Two ways to say where a param goes, usable together (a LayoutMap entry wins):

- Logical axes: layers declare names for their params' dimensions
  (`Dense.axes()` is `{"kernel": ("embed", "mlp"), "bias": ("mlp",)}`), and
  `rules` map each logical name to a mesh axis, a tuple of mesh axes, or None
  (replicated): `{"embed": None, "mlp": "model"}`.
- A Keras-style `LayoutMap`: regular expressions, matched with `re.fullmatch`
  on the param path `"/".join(path)` (`"dense_1/kernel"`), to one mesh axis
  (or None) per dimension.

Every mistake is a `ValueError` naming the param path, never a silent
replication: a LayoutMap key or rule that matches no param, a logical name
with no rule, a path matched by two keys, an unknown mesh axis, a mesh axis
used twice in one spec, or a dimension not divisible by its mesh axes' size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, MutableMapping

import jax
from jax.sharding import PartitionSpec as P

__all__ = [
    "LayoutMap",
    "path_str",
    "check_spec",
    "logical_to_spec",
    "named_leaves",
    "axes_at",
]


def path_str(path) -> str:
    """A pytree key path as the Keras variable path: `"dense_1/kernel"`."""
    parts = []
    for k in path:
        for attr in ("key", "name", "idx"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
        else:
            parts.append(str(k))
    return "/".join(parts)


def named_leaves(tree) -> list[tuple[tuple, str, object]]:
    """`(key_path, "a/b", leaf)` for every leaf of `tree`."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return [(p, path_str(p), leaf) for p, leaf in flat]


def _mesh_sizes(mesh) -> dict:
    return dict(mesh.shape)


def _entry_axes(entry) -> tuple:
    if entry is None:
        return ()
    if isinstance(entry, str):
        return (entry,)
    return tuple(entry)


def check_spec(spec, shape, mesh, where: str) -> P:
    """Validates `spec` for an array of `shape` on `mesh`; returns it as a `P`.

    Args:
        spec: one entry per dimension (None, a mesh axis name or a tuple of
            names); may be shorter than the rank (the rest is replicated).
        where: how the error names the array, e.g. "param 'dense/kernel'".
    """
    entries = tuple(spec)
    shape = tuple(shape)
    if len(entries) > len(shape):
        raise ValueError(
            f"{where} has shape {shape} (rank {len(shape)}) but its sharding {P(*entries)} has {len(entries)} entries."
        )
    sizes = _mesh_sizes(mesh)
    used: list[str] = []
    for dim, entry in enumerate(entries):
        axes = _entry_axes(entry)
        for a in axes:
            if not isinstance(a, str) or a not in sizes:
                raise ValueError(
                    f"{where}: sharding {P(*entries)} names mesh axis {a!r}, but the mesh has axes {tuple(sizes)}."
                )
            if a in used:
                raise ValueError(
                    f"{where}: sharding {P(*entries)} uses mesh axis {a!r} for two dimensions; a mesh axis can shard one dimension only."
                )
            used.append(a)
        n = math.prod(sizes[a] for a in axes)
        if n > 1 and shape[dim] % n:
            raise ValueError(
                f"{where} has shape {shape}: dimension {dim} (size {shape[dim]}) is not divisible by mesh axis "
                f"{' x '.join(repr(a) for a in axes)} of size {n} (sharding {P(*entries)}). Change the mesh, the layout, or the layer size."
            )
    return P(*entries)


# ----------------------------------------------------------- logical axes


def axes_at(axes_tree, path) -> tuple | None:
    """The logical axes recorded for `path` in a `model.param_axes(...)` tree (None if none)."""
    node = axes_tree
    for k in path:
        key = getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))
        if isinstance(node, tuple) or node is None:
            return None
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    if node is None:
        return None
    if isinstance(node, tuple) and all(a is None or isinstance(a, str) for a in node):
        return node
    return None


def logical_to_spec(
    axes, rules: Mapping, shape, where: str, used_rules: set | None = None
) -> tuple:
    """Logical axes (one name or None per dimension) to mesh-axis entries via `rules`.

    Axes shorter than the rank are aligned to the trailing dimensions (the
    leading ones replicated): stacked params (`Repeat`, `jax.vmap(init)`)
    keep their block's axes.
    """
    axes = tuple(axes)
    if len(axes) > len(shape):
        raise ValueError(
            f"{where} has shape {tuple(shape)} but its layer declares {len(axes)} logical axes {axes}."
        )
    axes = (None,) * (len(shape) - len(axes)) + axes
    entries = []
    for name in axes:
        if name is None:
            entries.append(None)
            continue
        if name not in rules:
            raise ValueError(
                f"{where}: logical axis {name!r} (axes {axes}) has no rule; rules cover {sorted(rules)}. "
                f"Add {{{name!r}: <mesh axis or None>}} to the rules."
            )
        if used_rules is not None:
            used_rules.add(name)
        entries.append(rules[name])
    return tuple(entries)


# -------------------------------------------------------------- LayoutMap


def _normalize_layout(key, value) -> tuple | None:
    if value is None:
        return None  # Explicitly replicated.
    if isinstance(value, P):
        value = tuple(value)
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, tuple | list):
        raise TypeError(
            f"LayoutMap[{key!r}]: expected a tuple of mesh axis names (or None per dimension), got {value!r}."
        )
    out = []
    for entry in value:
        if entry is None or isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, tuple | list) and all(isinstance(a, str) for a in entry):
            out.append(tuple(entry))
        else:
            raise TypeError(
                f"LayoutMap[{key!r}]: entry {entry!r} must be None, a mesh axis name or a tuple of names."
            )
    return tuple(out)


class LayoutMap(MutableMapping):
    """Regex on param path -> mesh axes per dimension, like `keras.distribution.LayoutMap`.

    Keys are regular expressions matched with `re.fullmatch` against the
    param path `"/".join(path)` (the Keras `variable.path`, e.g.
    `"encoder/dense_1/kernel"`). Values give one entry per dimension: a
    mesh axis name, a tuple of names, or None (that dimension replicated);
    a value of None (or `()`) replicates the whole param. A `PartitionSpec`
    works as a value too.

    Differences from Keras, on purpose: a key that matches no param is an
    error (a renamed layer must not silently fall back to replication), and
    the value's length must equal the param's rank. Params that no key
    matches are replicated, as in Keras, or follow the logical-axis rules
    when `ModelParallel` has both.

    Example:
        >>> layout = kerax.distribute.LayoutMap()
        >>> layout["dense.*/kernel"] = (None, "model")
        >>> layout["dense.*/bias"] = ("model",)
        >>> mesh = kerax.distribute.make_mesh((4, 2), ("data", "model"))
        >>> strategy = kerax.distribute.ModelParallel(mesh, layout_map=layout)
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(4)])
        >>> params, state = strategy.init(model, jax.random.key(0))
        >>> tuple(params["dense"]["kernel"].sharding.spec)
        (None, 'model')
    """

    def __init__(self, layouts: Mapping | None = None, *, mesh=None):
        self.mesh = mesh  # Optional, for Keras's `LayoutMap(device_mesh)` shape.
        self._layouts: dict[str, tuple | None] = {}
        self._patterns: dict[str, re.Pattern] = {}
        for k, v in (layouts or {}).items():
            self[k] = v

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str):
            raise TypeError(
                f"LayoutMap keys are regular expressions (str), got {key!r}."
            )
        try:
            pattern = re.compile(key)
        except re.error as e:
            raise ValueError(
                f"LayoutMap key {key!r} is not a valid regular expression: {e}."
            ) from e
        self._layouts[key] = _normalize_layout(key, value)
        self._patterns[key] = pattern

    def __getitem__(self, key: str):
        return self._layouts[key]

    def __delitem__(self, key: str) -> None:
        del self._layouts[key]
        del self._patterns[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._layouts)

    def __len__(self) -> int:
        return len(self._layouts)

    def __repr__(self) -> str:
        return f"LayoutMap({self._layouts!r})"

    def match(self, path: str) -> str | None:
        """The key whose regex fully matches `path`, or None; two matches are an error."""
        hits = [k for k, pat in self._patterns.items() if pat.fullmatch(path)]
        if len(hits) > 1:
            raise ValueError(
                f"LayoutMap: param {path!r} matches several keys {hits}; make the regular expressions exclusive."
            )
        return hits[0] if hits else None

    def spec_for(self, key: str, shape, where: str) -> tuple:
        value = self._layouts[key]
        if value is None or value == ():
            return ()
        if len(value) != len(shape):
            raise ValueError(
                f"{where} has shape {tuple(shape)} (rank {len(shape)}), but LayoutMap key {key!r} gives "
                f"{len(value)} axes {value}; give one entry (mesh axis or None) per dimension."
            )
        return value
