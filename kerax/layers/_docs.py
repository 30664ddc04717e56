"""`Args:` sections written once per layer family, in Keras's words.

Layers of one family share most arguments (a Conv1D, Conv2D and Conv3D
differ only in how many integers `kernel_size` takes), so each family keeps
one table of argument descriptions, and `document_args(table)` writes a
class's `Args:` section from its dataclass fields, in field order. A field
without a description is an error when the module is imported, so the
documentation cannot drift from the fields.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Mapping

# Every layer's keyword fields (Keras's base-layer arguments), documented once
# in `kerax.Layer`.
_BASE_FIELDS = frozenset({"name", "dtype", "trainable"})


def document_args(
    descriptions: Mapping[str, str], **words: object
) -> Callable[[type], type]:
    """Class decorator: inserts an `Args:` section before the `Example:` section.

    Each description may use `{rank}` (the class's `rank`, when it has one)
    and the given `words` as `str.format` fields.

    Args:
        descriptions: Argument name to Keras's description of it.
        **words: More `str.format` fields for the descriptions.

    Example:
        >>> @document_args({"units": "Positive integer, the output size."})
        ... class Units(kerax.Layer):
        ...     '''A layer with one argument.
        ...
        ...     Example:
        ...         >>> Units(3).units
        ...         3
        ...     '''
        ...     units: int = 1
        >>> print(Units.__doc__.split("Args:")[1].split("Example:")[0].strip())
        units: Positive integer, the output size.
    """

    def decorate(cls: type) -> type:
        fmt = {"rank": getattr(cls, "rank", None), **words}
        lines = ["    Args:"]
        for f in dataclasses.fields(cls):
            if f.name in _BASE_FIELDS:
                continue
            if f.name not in descriptions:
                raise KeyError(
                    f"document_args: {cls.__name__}.{f.name} has no description; "
                    f"add one to the family's argument table."
                )
            text = " ".join(descriptions[f.name].format(**fmt).split())
            lines += textwrap.wrap(
                f"{f.name}: {text}",
                width=84,
                initial_indent=" " * 8,
                subsequent_indent=" " * 12,
                break_on_hyphens=False,
            )
        head, sep, example = (cls.__doc__ or "").partition("\n    Example:")
        cls.__doc__ = head.rstrip() + "\n\n" + "\n".join(lines) + "\n" + sep + example
        return cls

    return decorate


def undocumented_args(cls: type) -> list[str]:
    """The fields of `cls` that its `Args:` section does not describe.

    Example:
        >>> undocumented_args(kerax.layers.Conv2D)
        []
    """
    doc = cls.__doc__ or ""
    _, _, args = doc.partition("\n    Args:\n")
    args = args.partition("\n    Example:")[0]
    described = {
        line.strip().split(":")[0]
        for line in args.splitlines()
        if line.startswith(" " * 8) and not line.startswith(" " * 9)
    }
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in _BASE_FIELDS and f.name not in described
    ]
