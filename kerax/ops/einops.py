"""Keras's `ops.rearrange`: einops-style axis rearrangement.

Keras implements the pattern language itself (not the `einops` package):
names (`b h w c`), groups in parentheses (`(h w)`), and `**axes_lengths`
for the sizes of split axes. kerax parses it the same way and adds checks
that name the problem. The result is a reshape, a transpose and a reshape.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.rearrange(jnp.zeros((2, 3, 4)), "b h w -> b (h w)").shape
    (2, 12)
    >>> ops.rearrange(jnp.zeros((2, 12)), "b (h w) -> w b h", h=3).shape
    (4, 2, 3)
"""

from __future__ import annotations

import math
import re

import jax.numpy as jnp

from kerax.ops._variables import accept_variables

_TOKEN = re.compile(r"\w+|\([^()]*\)|\S")


def _groups(side: str, pattern: str) -> list[list[str]]:
    """`"b (h w) c"` -> `[["b"], ["h", "w"], ["c"]]`."""
    groups = []
    for token in _TOKEN.findall(side):
        if token.startswith("("):
            names = token[1:-1].split()
            if not names or not all(re.fullmatch(r"\w+", n) for n in names):
                raise ValueError(
                    f"rearrange: bad group {token!r} in pattern {pattern!r}: a group "
                    "holds one or more axis names."
                )
            groups.append(names)
        elif re.fullmatch(r"\w+", token):
            groups.append([token])
        else:
            raise ValueError(
                f"rearrange: unsupported {token!r} in pattern {pattern!r}; Keras's "
                "patterns have axis names and (grouped names) only."
            )
    return groups


def rearrange(tensor, pattern, **axes_lengths):
    """Rearranges axes by an einops pattern, e.g. `"b h w c -> b (h w) c"`."""
    tensor = jnp.asarray(tensor)
    sides = re.split(r"\s*->\s*", pattern.strip())
    if len(sides) != 2:
        raise ValueError(
            f"rearrange: `pattern` must be 'input axes -> output axes'; got {pattern!r}."
        )
    inputs, outputs = _groups(sides[0], pattern), _groups(sides[1], pattern)
    if len(inputs) != tensor.ndim:
        raise ValueError(
            f"rearrange: the pattern's input {sides[0]!r} names {len(inputs)} axes, "
            f"but the tensor has rank {tensor.ndim} (shape {tensor.shape})."
        )
    flat_in = [n for g in inputs for n in g]
    flat_out = [n for g in outputs for n in g]
    for flat, side in ((flat_in, "input"), (flat_out, "output")):
        if len(set(flat)) != len(flat):
            raise ValueError(
                f"rearrange: an axis repeats in the {side} of {pattern!r}."
            )
    if set(flat_in) != set(flat_out):
        raise ValueError(
            f"rearrange: the input and output of {pattern!r} must name the same axes; "
            f"only in the input: {sorted(set(flat_in) - set(flat_out))}, only in the "
            f"output: {sorted(set(flat_out) - set(flat_in))}."
        )
    unknown = sorted(set(axes_lengths) - set(flat_in))
    if unknown:
        raise ValueError(
            f"rearrange: `axes_lengths` names axes not in {pattern!r}: {unknown}."
        )
    sizes = {}
    for group, dim in zip(inputs, tensor.shape):
        missing = [n for n in group if n not in axes_lengths]
        if len(group) == 1 and not missing:
            sizes[group[0]] = axes_lengths[group[0]]
        elif len(group) == 1:
            sizes[group[0]] = dim
        elif len(missing) > 1:
            raise ValueError(
                f"rearrange: cannot split an axis of size {dim} into {group}: pass the "
                f"sizes of all but one of {missing} in `axes_lengths`."
            )
        else:
            known = [n for n in group if n in axes_lengths]
            sizes.update({n: axes_lengths[n] for n in known})
            product = math.prod(sizes[n] for n in known)
            for n in missing:
                sizes[n] = dim // product if product else 0
        if math.prod(sizes[n] for n in group) != dim:
            raise ValueError(
                f"rearrange: axis sizes {[sizes[n] for n in group]} of {group} do not "
                f"make the tensor's {dim}."
            )
    tensor = jnp.reshape(tensor, [sizes[n] for n in flat_in])
    tensor = jnp.transpose(tensor, [flat_in.index(n) for n in flat_out])
    return jnp.reshape(tensor, [math.prod(sizes[n] for n in g) for g in outputs])


__all__ = ["rearrange"]

# Inside a Keras-style `call`, variables are accepted where arrays are.
accept_variables(globals(), __all__)
