"""How much of a keras-io guide a kerax port keeps: code lines, not prose.

Usage:
    python scripts/guide_line_count.py PORT ORIGINAL [PORT ORIGINAL ...]

ORIGINAL is the guide as published in keras-team/keras-io (each port names
its source file and commit in its docstring). Both files are reduced to their
code lines: the guide's prose (top-level string statements) and blank lines
are dropped, trailing whitespace is ignored, and the original's `keras` is
read as `kerax`. The original's lines are then matched in order against the
port's (difflib), markers aside; the port's changed lines carry a
`# kerax: ...` marker on their statement, and `# kerax: state` marks a change
that makes state explicit (params, state, TrainState, keys), which the
measure allows: original lines replaced only by such lines count as kept.

Reported per guide: original code lines; lines kept verbatim; lines replaced
by explicit-state lines; other changes; and kept = (verbatim + state) /
original.
"""

from __future__ import annotations

import ast
import difflib
import re
import sys

MARK = re.compile(r"\s*# kerax:(?P<why>.*)$")


_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.While,
    ast.If,
    ast.With,
    ast.Try,
)


def code_lines(source: str) -> list[str]:
    """The lines outside top-level string statements, without blank lines.

    A `# kerax:` marker anywhere in a simple statement (one that a formatter
    may spread over several lines) marks all of its lines.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    prose = set()
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                prose.update(range(node.lineno, node.end_lineno + 1))
    marker: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND):
            span = range(node.lineno, node.end_lineno + 1)
            found = [m for i in span if (m := MARK.search(lines[i - 1]))]
            if found:
                for i in span:
                    marker.setdefault(i, found[0].group(0).strip())
    out = []
    for i, line in enumerate(lines, start=1):
        if i in prose or not line.strip():
            continue
        if i in marker and not MARK.search(line):
            line = f"{line}  {marker[i]}"
        out.append(line.rstrip())
    return out


def as_kerax(line: str) -> str:
    return re.sub(r"\bkeras\b", "kerax", line)


def count(port_source: str, original_source: str) -> dict[str, float]:
    original = [as_kerax(line) for line in code_lines(original_source)]
    port = code_lines(port_source)
    marks = [MARK.search(line) for line in port]
    # Lines are compared without their markers: a line of a marked statement
    # that is still the original's counts as verbatim.
    stripped = [MARK.sub("", line).rstrip() for line in port]
    verbatim = state = 0
    matcher = difflib.SequenceMatcher(None, original, stripped, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            verbatim += i2 - i1
        elif tag in ("replace", "delete"):
            # Comment lines the port adds (section titles) are not code.
            replaced = [
                marks[j] for j in range(j1, j2) if not port[j].lstrip().startswith("#")
            ]
            state_lines = sum(
                1 for m in replaced if m and m["why"].strip().startswith("state")
            )
            # An original line counts as a state change only when every line
            # that replaces it is marked as one.
            if replaced and state_lines == len(replaced):
                state += i2 - i1
    total = len(original)
    return {
        "original": total,
        "verbatim": verbatim,
        "state": state,
        "other": total - verbatim - state,
        "kept": (verbatim + state) / total if total else 1.0,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__)
        return 2
    for port_path, original_path in zip(argv[::2], argv[1::2]):
        with open(port_path) as f:
            port = f.read()
        with open(original_path) as f:
            original = f.read()
        c = count(port, original)
        print(
            f"{port_path}: {c['original']} original code lines, "
            f"{c['verbatim']} verbatim, {c['state']} explicit-state, "
            f"{c['other']} other changes: kept {100 * c['kept']:.1f}%"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
