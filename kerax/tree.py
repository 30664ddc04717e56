"""Keras's `keras.tree`: nested-structure utilities with Keras's rules.

The same names, arguments and results as `keras.tree` (Keras 3.15, optree
implementation), on JAX's pytree registry instead of optree:

- `None` is a leaf (`flatten(None) == [None]`), except in
  `map_structure(..., none_is_leaf=False)`;
- a dict's values come in sorted-key order, an `OrderedDict`'s in its own
  order, and a rebuilt dict keeps the key order of the structure it was
  built from;
- lists, tuples, namedtuples and deques are different structures (two
  namedtuple classes too); dict, `OrderedDict` and `defaultdict` with the
  same keys are the same;
- mismatches raise `ValueError`.

One difference: classes registered as JAX pytrees (kerax's `TrainState`,
optimizer states, `jax.tree_util.register_dataclass` classes, ...) are nodes
here, where Keras's optree namespace would see them as leaves. A class
registered with `register_tree_node_class` is a node in both.

Example:
    >>> kerax.tree.flatten({"b": 2, "a": [1, None]})
    [1, None, 2]
    >>> kerax.tree.pack_sequence_as({"key3": 0, "key1": 0}, ["v1", "v3"])
    {'key3': 'v3', 'key1': 'v1'}
    >>> kerax.tree.map_structure(lambda x: x * 2, {"a": (1, 2), "b": 3})
    {'a': (2, 4), 'b': 6}
"""

from __future__ import annotations

import collections
import warnings
from collections.abc import Callable

import jax

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "register_tree_node_class",
    "traverse",
]

_MISMATCH = "Structures don't have the same nested structure."


class MAP_TO_NONE:
    """Special value for `traverse`: replace the sub-tree with None."""


def register_tree_node_class(cls):
    """Registers `cls` as a tree node: it defines `tree_flatten(self) ->
    (children, aux_data)` and the classmethod `tree_unflatten(aux_data,
    children)` (Keras's and JAX's protocol). Returns `cls`, so it is a
    decorator."""
    return jax.tree_util.register_pytree_node_class(cls)


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _dict_keys(d) -> list:
    if isinstance(d, collections.OrderedDict):
        return list(d)
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def _jax_key(entry):
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return getattr(entry, attr)
    return entry


def _node(x):
    """`(kind, keys, children, rebuild)` of a node, or None for a leaf.

    `kind` is what must match between structures; `keys` are the paths of
    the children (dict keys, sequence indices); `rebuild(children)` makes a
    node of the same type from new children (in `children`'s order).
    """
    if x is None:
        return None
    if isinstance(x, dict):
        keys = _dict_keys(x)
        order = list(x)

        def rebuild(values, x=x, keys=keys, order=order):
            by_key = dict(zip(keys, values))
            items = [(k, by_key[k]) for k in order]
            if isinstance(x, collections.defaultdict):
                return collections.defaultdict(x.default_factory, items)
            if type(x) is dict:
                return dict(items)
            return type(x)(items)

        return "dict", keys, [x[k] for k in keys], rebuild
    t = type(x)
    if _is_namedtuple(x):
        return t, list(range(len(x))), list(x), lambda v: t(*v)
    if isinstance(x, (list, tuple)):
        return t, list(range(len(x))), list(x), lambda v: t(v)
    if isinstance(x, collections.deque):
        return (
            collections.deque,
            list(range(len(x))),
            list(x),
            lambda v, m=x.maxlen: collections.deque(v, maxlen=m),
        )
    pairs, treedef = jax.tree_util.tree_flatten_with_path(
        x, is_leaf=lambda y: y is not x
    )
    if treedef.num_nodes == 1 and treedef.num_leaves == 1:
        return None  # A leaf for JAX too (arrays, numbers, strings, ...).
    keys = [_jax_key(path[0]) if path else i for i, (path, _) in enumerate(pairs)]
    return (
        ("jax", treedef.node_data()),
        keys,
        [c for _, c in pairs],
        treedef.unflatten,
    )


def _same_keys(a, b) -> bool:
    return set(a) == set(b) if len(a) == len(b) else False


def _children_like(node, other):
    """`other`'s children in `node`'s key order, or ValueError if `other`
    is not the same kind of node with the same keys."""
    kind, keys, _, _ = node
    found = _node(other)
    if found is None or found[0] != kind:
        raise ValueError(_MISMATCH)
    if kind == "dict":
        if not _same_keys(keys, found[1]):
            raise ValueError(_MISMATCH)
        return [other[k] for k in keys]
    if len(found[2]) != len(keys):
        raise ValueError(_MISMATCH)
    return found[2]


def is_nested(structure) -> bool:
    """True for a sequence, mapping, namedtuple or other tree node; False
    for a leaf (None included).

    Example:
        >>> is_nested(42), is_nested({"foo": 42}), is_nested(None)
        (False, True, False)
    """
    return _node(structure) is not None


def _leaves(x, path, out, with_path):
    node = _node(x)
    if node is None:
        out.append((path, x) if with_path else x)
        return
    _, keys, children, _ = node
    for k, c in zip(keys, children):
        _leaves(c, path + (k,), out, with_path)


def flatten(structure) -> list:
    """The leaves of `structure` in Keras's order (dicts by sorted key).

    Example:
        >>> flatten([[1, 2, 3], [4, [5], [[6]]]]), flatten(None)
        ([1, 2, 3, 4, 5, 6], [None])
        >>> flatten({100: "world!", 6: "Hello"})
        ['Hello', 'world!']
    """
    out: list = []
    _leaves(structure, (), out, False)
    return out


def flatten_with_path(structure) -> list:
    """`[(path, leaf), ...]`; a path is the tuple of keys and indices to the leaf.

    Example:
        >>> flatten_with_path([{"foo": 42}])
        [((0, 'foo'), 42)]
    """
    out: list = []
    _leaves(structure, (), out, True)
    return out


def _is_leaf(x, none_is_leaf) -> bool:
    return none_is_leaf if x is None else _node(x) is None


def _map(func, structures, none_is_leaf, check):
    first = structures[0]
    if first is None and not none_is_leaf:  # None as an empty node.
        if any(s is not None for s in structures[1:]):
            raise ValueError(_MISMATCH)
        return None
    node = _node(first)
    if node is None:
        if check and not all(_is_leaf(s, none_is_leaf) for s in structures[1:]):
            raise ValueError(_MISMATCH)
        return func(*structures)
    columns = [node[2]] + [_children_like(node, s) for s in structures[1:]]
    return node[3](
        [_map(func, list(args), none_is_leaf, check) for args in zip(*columns)]
    )


def map_structure(func: Callable, *structures, none_is_leaf: bool = True):
    """`func` applied leaf by leaf to structures of the same layout.

    Args:
        func: takes as many arguments as there are structures.
        *structures: structures nested the same way.
        none_is_leaf: False: None is left as None, `func` is not called on it.

    Raises:
        ValueError: no structure, or structures nested differently.

    Example:
        >>> map_structure(lambda x, y: x * y, [[1], [2]], [[3], [4]])
        [[3], [8]]
        >>> map_structure(lambda x: 0, [1, None], none_is_leaf=False)
        [0, None]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    return _map(func, list(structures), none_is_leaf, True)


def _map_up_to(shallow, func, structures):
    node = _node(shallow)
    if node is None:
        return func(*structures)
    columns = [_children_like(node, s) for s in structures]
    return node[3](
        [_map_up_to(c, func, list(args)) for c, *args in zip(node[2], *columns)]
    )


def map_structure_up_to(shallow_structure, func: Callable, *structures):
    """`map_structure` down to the leaves of `shallow_structure` only:
    deeper parts of `structures` are passed to `func` whole.

    Example:
        >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2]])
        [2, 2]
        >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
        ['[1, 1]', ['2', '2']]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    return _map_up_to(shallow_structure, func, list(structures))


def assert_same_structure(a, b, check_types=None) -> None:
    """Raises `ValueError` unless `a` and `b` are nested the same way.

    `check_types` is deprecated in Keras and has no effect.

    Example:
        >>> assert_same_structure([(0, 1)], [(2, 3)])
        >>> assert_same_structure([0, 1], (2, 3))
        Traceback (most recent call last):
        ...
        ValueError: Structures don't have the same nested structure.
    """
    if check_types is not None:
        warnings.warn(
            "The `check_types` argument is deprecated and no longer has any "
            "effect. For a looser check, use `kerax.tree.assert_same_paths()`.",
            DeprecationWarning,
            stacklevel=2,
        )
    _map(lambda *_: None, [a, b], True, True)


def assert_same_paths(a, b) -> None:
    """Raises `ValueError` unless `a` and `b` have the same leaf paths (node
    types are not compared: a list and a tuple match).

    Example:
        >>> assert_same_paths([0, 1], (2, 3))
    """
    a_paths = {p for p, _ in flatten_with_path(a)}
    b_paths = {p for p, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        msg = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            msg += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            msg += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(msg)


def pack_sequence_as(structure, flat_sequence):
    """The leaves `flat_sequence` put into the layout of `structure` (the
    inverse of `flatten`).

    Raises:
        TypeError: `flat_sequence` is not iterable.
        ValueError: it has too few or too many items.

    Example:
        >>> pack_sequence_as((("a", "b"), "c"), [1.0, 2.0, 3.0])
        ((1.0, 2.0), 3.0)
    """
    items = list(flat_sequence)
    n = len(flatten(structure))
    if len(items) != n:
        raise ValueError(
            f"Too {'few' if len(items) < n else 'many'} leaves for the structure: "
            f"expected {n}, got {len(items)}. Structure: {structure!r}"
        )
    it = iter(items)
    return _map(lambda _: next(it), [structure], True, False)


def traverse(func: Callable, structure, top_down: bool = True):
    """Applies `func` to every sub-structure, depth first.

    Top down: where `func(sub)` is not None it replaces `sub` and its
    children are not visited. Bottom up: children first, then `func` on the
    rebuilt node; None keeps it. `MAP_TO_NONE` puts None in its place.

    Example:
        >>> v = []
        >>> traverse(v.append, [(1, 2), {"a": 4}])
        [(1, 2), {'a': 4}]
        >>> v
        [[(1, 2), {'a': 4}], (1, 2), 1, 2, {'a': 4}, 4]
    """

    def children(x):
        node = _node(x)
        if node is None:
            return x
        return node[3]([traverse(func, c, top_down=top_down) for c in node[2]])

    if top_down:
        ret = func(structure)
        if ret is None:
            return children(structure)
    else:
        rebuilt = children(structure)
        ret = func(rebuilt)
        if ret is None:
            return rebuilt
    return None if ret is MAP_TO_NONE else ret


def lists_to_tuples(structure):
    """`structure` with every list made a tuple.

    Example:
        >>> lists_to_tuples({"a": [1, [2]]})
        {'a': (1, (2,))}
    """
    return traverse(
        lambda x: tuple(x) if isinstance(x, list) else None, structure, top_down=False
    )


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(
        isinstance(e, (int, type(None))) for e in x
    )


def map_shape_structure(func: Callable, structure):
    """`map_structure` where a list or tuple of ints and Nones (a shape) is
    one leaf.

    Example:
        >>> map_shape_structure(len, {"x": (None, 3), "y": [(2, 2, 1)]})
        {'x': 2, 'y': [3]}
    """
    if _is_shape(structure):
        return func(structure)
    node = _node(structure)
    if node is None:
        return func(structure)
    return node[3]([map_shape_structure(func, c) for c in node[2]])
