"""The scheduler package's import rules, read from its source: no cycle between its
modules (none hidden behind TYPE_CHECKING either), Ray only in its thin wrappers, and
nothing of the project outside what the package may use."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGE = "cluster.scheduler"
SOURCE = REPO_ROOT / "cluster" / "scheduler"
RAY_WRAPPERS = {"cluster.scheduler.ray_cluster", "cluster.scheduler.actor", "cluster.scheduler.client"}
# What the scheduler may import of the project; of the camera actor only its Ray
# boundary (to create camera actors and wrap their handles).
ALLOWED = (
    "cluster.domain",
    "cluster.config",
    "cluster.support",
    "cluster.control",
    "cluster.actors.camera_actor",
    "cluster.actors.handle",
)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved, `from x import y` as x."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            if node.module is None or target == package:  # `from . import x`: x is a module
                found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports_of(p) for p in sorted(SOURCE.glob("*.py"))}


def test_no_module_of_the_scheduler_hides_an_import_behind_type_checking():
    offenders = sorted(p.name for p in SOURCE.glob("*.py") if "TYPE_CHECKING" in p.read_text(encoding="utf-8"))
    assert not offenders, f"TYPE_CHECKING imports (a cycle in disguise): {offenders}"


def test_the_scheduler_modules_import_each_other_without_a_cycle():
    graph = {m: {i for i in imported if i in MODULES and i != m} for m, imported in MODULES.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, f"import cycle: {' -> '.join([*visiting[visiting.index(module) :], module])}"
        visiting.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_only_the_thin_wrappers_import_ray():
    users = sorted(m for m, imported in MODULES.items() if any(i == "ray" or i.startswith("ray.") for i in imported))
    assert set(users) <= RAY_WRAPPERS, f"Ray outside ray_cluster/actor/client: {sorted(set(users) - RAY_WRAPPERS)}"


def test_the_scheduler_imports_only_what_it_may_of_the_project():
    bad = {
        m: sorted(
            i
            for i in imported
            if i.startswith("cluster.")
            and not i.startswith(PACKAGE)
            and not any(i == a or i.startswith(f"{a}.") for a in ALLOWED)
        )
        for m, imported in MODULES.items()
    }
    bad = {m: i for m, i in bad.items() if i}
    assert not bad, f"imports outside domain/config/support/control/the camera actor's boundary: {bad}"
    actors = sorted(m for m, imported in MODULES.items() if any(i.startswith("cluster.actors") for i in imported))
    assert set(actors) <= RAY_WRAPPERS, f"only the Ray wrappers reach the camera actor: {actors}"
