"""Deterministic per-container names and the keys derived from them."""

from __future__ import annotations

import re
import zlib

import jax


def to_snake_case(name: str) -> str:
    """Keras's own snake_case rule: `BatchNormalization` -> `batch_normalization`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_names(layers, owner: str = "model", hints=None) -> list[str]:
    """Names for `layers` in order: explicit names win, then `base`, `base_1`, ...

    Never a global counter: building the same model twice gives the same names.
    A layer object given twice (shared) gets one name, in both places.
    Raises on two explicit names that clash. `hints` (`{id(layer): name}`)
    are names a source model gave its layers: a model built from its nodes
    (feature extraction) keeps them where they do not clash, so its params
    are a sub-tree of the source model's.

    Example:
        >>> from kerax.core.naming import unique_names
        >>> dense = kerax.layers.Dense(2)
        >>> unique_names([dense, kerax.layers.Dense(3), kerax.layers.Dense(4, name="dense_1")])
        ['dense', 'dense_2', 'dense_1']
    """
    hints = hints or {}
    # A layer object given twice (shared, as `Sequential([d, d])`) is one
    # layer: one name, at its first place.
    every = list(layers)
    layers = list({id(layer): layer for layer in every}.values())
    explicit = [layer.name for layer in layers if layer.name is not None]
    seen = set()
    for n in explicit:
        if n in seen:
            raise ValueError(
                f"{owner}: two layers are both named {n!r}. Layer names must be unique "
                "within a model: give one of them another `name=`."
            )
        seen.add(n)
    taken, names, counts = set(explicit), [], {}
    hinted = {}
    for layer in layers:
        hint = hints.get(id(layer))
        if layer.name is None and hint is not None and hint not in taken:
            hinted[id(layer)] = hint
            taken.add(hint)
    for layer in layers:
        if layer.name is not None:
            names.append(layer.name)
            continue
        if id(layer) in hinted:
            names.append(hinted[id(layer)])
            continue
        base = layer.default_name
        k = counts.get(base, 0)
        candidate = base if k == 0 else f"{base}_{k}"
        while candidate in taken:
            k += 1
            candidate = f"{base}_{k}"
        counts[base] = k + 1
        taken.add(candidate)
        names.append(candidate)
    if len(layers) == len(every):
        return names
    name_of = {id(layer): n for layer, n in zip(layers, names)}
    return [name_of[id(layer)] for layer in every]


def child_key(key, name: str):
    """`fold_in(key, crc32(name))`: a child's randomness depends on its name only."""
    if key is None:
        return None
    return jax.random.fold_in(key, zlib.crc32(name.encode()) & 0x7FFFFFFF)
