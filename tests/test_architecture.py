"""Dependencies point down: imports checked from the source with `ast`.

Every module of the `kerax` package sits on a floor (the table below, also in
docs/design.md under "Dependencies"); a module may import its own floor and
the floors below, never a floor above, not even inside a function. Module-level
imports must also form no cycle that spans more than one unit of the table
(a cycle inside one package is Python's business; one across packages means
the floors are not real).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "kerax"

# Unit (a package or module under kerax/) -> floor. Lower floors never import
# higher ones. `registry` is kerax.core.registry, which imports nothing from kerax.
FLOORS: dict[str, int] = {
    "registry": 0,
    "_version": 0,
    "core": 1,
    "tree": 1,
    "activations": 2,
    "initializers": 2,
    "regularizers": 2,
    "constraints": 2,
    "ops": 2,
    "random": 2,
    "config": 2,
    "dtype_policies": 2,
    "backend": 3,
    "layers": 3,
    "models": 4,
    "losses": 5,
    "metrics": 5,
    "optimizers": 5,
    "interop": 6,
    "mixed_precision": 6,
    "distribute": 7,
    "utils": 7,
    "datasets": 7,
    "training": 7,
    "checkpoint": 8,
    "saving": 8,
    "applications": 8,
    "distribution": 8,
    "wrappers": 8,
    "distillation": 8,
    "export": 9,
    "callbacks": 10,
    "utils namespace": 10,
    "testing": 10,
    "cli": 10,
    "preprocessing": 10,
    "kerax": 10,  # The package's own __init__: the public surface.
}

# Imports of modules still being moved by their owners: (importer, imported
# unit). Empty when every floor holds.
EXEMPT: set[tuple[str, str]] = set()


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


# Modules that are a unit of their own. `kerax.utils`, Keras's grab-bag
# namespace, re-exports names from several floors (`custom_object_scope` from
# saving, as `keras.utils` does); its modules stay on the utils floor.
MODULE_UNITS = {"kerax.core.registry": "registry", "kerax.utils": "utils namespace"}


def unit(module: str) -> str:
    """The unit of the floor table a module belongs to."""
    if module in MODULE_UNITS:
        return MODULE_UNITS[module]
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kerax"


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _runs_at_import(tree: ast.Module):
    """Nodes executed when the module is imported: not function bodies, not
    `if TYPE_CHECKING:` blocks (class bodies and module-level if/try are)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _imports(module: str, path: pathlib.Path):
    """`(imported module, line, at_import_time)` for every kerax import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    top_level = {id(node) for node in _runs_at_import(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from kerax import layers` imports the module kerax.layers.
            targets = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                for a in node.names
            ]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "kerax" or target.startswith("kerax."):
                yield target, node.lineno, id(node) in top_level


IMPORTS = {m: list(_imports(m, p)) for m, p in MODULES.items()}


def test_every_unit_has_a_floor():
    missing = sorted({unit(m) for m in MODULES} - set(FLOORS))
    assert not missing, (
        f"Units without a floor: {missing}. Add them to FLOORS here and to the "
        "Dependencies section of docs/design.md."
    )


def test_no_import_points_up():
    upward = []
    for module, imports in IMPORTS.items():
        here = FLOORS.get(unit(module))
        for target, line, _ in imports:
            there = FLOORS.get(unit(target))
            if here is None or there is None or there <= here:
                continue
            if (module, unit(target)) in EXEMPT:
                continue
            upward.append(
                f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {module} "
                f"(floor {here}, {unit(module)}) imports {target} "
                f"(floor {there}, {unit(target)})"
            )
    assert not upward, "Imports that point up the floors:\n" + "\n".join(upward)


def _cycles_across_units() -> list[list[str]]:
    """Strongly connected components of the module-level import graph spanning units."""
    graph = {
        m: sorted(
            {t if t in MODULES else t.rsplit(".", 1)[0] for t, _, top in imports if top}
            & set(MODULES) - {m}
        )
        for m, imports in IMPORTS.items()
    }
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        # Tarjan's algorithm, iterative: the graph is a few hundred modules deep.
        work = [(v, iter(graph[v]))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == node:
                            break
                    if len({unit(m) for m in component}) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_across_packages():
    cycles = _cycles_across_units()
    assert not cycles, "Module-level import cycles across packages:\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_registry_imports_nothing_from_kerax():
    assert IMPORTS["kerax.core.registry"] == []


@pytest.mark.parametrize(
    ("source", "expect_up"),
    [
        ("from kerax.models import Model\n", True),
        ("def f():\n    from kerax.training import Trainer\n", True),
        ("from kerax.core import registry\n", False),
    ],
)
def test_the_checker_sees_upward_imports(tmp_path, source, expect_up):
    """The parser flags module-level and function-local imports alike."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    found = list(_imports("kerax.core.probe", path))
    here = FLOORS[unit("kerax.core.probe")]
    up = any(FLOORS[unit(t)] > here for t, _, _ in found)
    assert up is expect_up


def test_exemptions_are_still_needed():
    stale = [
        (importer, target_unit)
        for importer, target_unit in EXEMPT
        if not any(unit(t) == target_unit for t, _, _ in IMPORTS.get(importer, []))
    ]
    assert not stale, f"Remove these exemptions, the imports are gone: {stale}"
