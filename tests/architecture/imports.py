"""The platform's dependency rules, checked on the source by walking every import.

An AST walk rather than import-linter: it needs no extra dependency, it sees every
``import`` statement wherever it sits (module level, inside functions, under
``TYPE_CHECKING``), it can say "a feature may import another feature's ``api`` and
nothing else" directly (import-linter's contracts forbid whole modules and have no
"only this one" form), and it reports cycles with the file and line of each import.

The rules, written once:

- the core (``lms``) imports no plugin package;
- a plugin imports from another plugin only its public face, ``<plugin>.api``
  (or, if that grows into a package, the modules under it): not the package itself,
  not any other module;
- no import cycles among modules. Imports under ``if TYPE_CHECKING:`` never run, so
  they count for the first two rules but not for cycles; late imports inside
  functions count for all three (they hide a cycle, they do not remove it).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

CORE = "lms"
PUBLIC_FACE = "api"
PLUGIN_ENTRY_POINTS = "lms.plugins"

# Rule id -> what it forbids, as reports print it. The checks that apply them are
# ``layer_violations`` and ``cycle_violations`` below.
RULES = {
    "core-imports-plugin": "the core (lms) imports no plugin package",
    "feature-internals": (
        f"a plugin imports from another plugin only <plugin>.{PUBLIC_FACE} (or modules under it)"
    ),
    "cycle": "no module imports, directly or not, a module that imports it back",
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int
    late: bool  # inside a function: runs when called, not when the module loads
    type_only: bool  # under ``if TYPE_CHECKING:``: never runs


@dataclass(frozen=True)
class Violation:
    """``key`` identifies the violation across edits (no line numbers); ``detail`` says
    where to look."""

    rule: str
    key: str
    detail: str


def plugin_packages(pyproject: Path) -> list[str]:
    """Top-level packages of the plugins declared in ``[project.entry-points."lms.plugins"]``."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    declared = data.get("project", {}).get("entry-points", {}).get(PLUGIN_ENTRY_POINTS, {})
    return sorted({target.split(":")[0].split(".")[0] for target in declared.values()})


def modules_of(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``packages`` under ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement with (late, type_only)."""

    def walk(
        node: ast.AST, late: bool, type_only: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, late, type_only
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), late, True)
                for statement in child.orelse:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), late, type_only)
            else:
                inner = late or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                yield from walk(child, inner, type_only)

    yield from walk(tree, False, False)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` names, or its nearest enclosing one; None if outside."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def project_imports(root: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import between modules of the project, resolved to the module it loads."""
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for statement, late, type_only in _statements(tree):
            if isinstance(statement, ast.Import):
                targets = [alias.name for alias in statement.names]
            else:
                base = statement.module or ""
                if statement.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (statement.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from a import b`` loads the module a.b when there is one, else a.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in statement.names
                ]
            for target in dict.fromkeys(targets):
                imported = _resolve(target, modules)
                if imported is not None and imported != module:
                    found.append(Import(module, imported, path, statement.lineno, late, type_only))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def _where(item: Import, root: Path) -> str:
    how = " (late, inside a function)" if item.late else ""
    return f"{item.path.relative_to(root)}:{item.line}: imports {item.imported}{how}"


def _is_public_face(module: str, package: str) -> bool:
    face = f"{package}.{PUBLIC_FACE}"
    return module == face or module.startswith(face + ".")


def layer_violations(
    imports: list[Import], plugins: Iterable[str], root: Path, core: str = CORE
) -> list[Violation]:
    """The first two rules, one violation per pair of modules (the first import shown).
    Imports under ``TYPE_CHECKING`` count: a type is part of what a module depends on."""
    plugins = set(plugins)
    found: dict[str, Violation] = {}
    for item in imports:
        source, target = _top(item.importer), _top(item.imported)
        if source == target or target not in plugins:
            continue
        if source == core:
            rule = "core-imports-plugin"
        elif source in plugins and not _is_public_face(item.imported, target):
            rule = "feature-internals"
        else:
            continue
        key = f"{rule}: {item.importer} -> {item.imported}"
        found.setdefault(key, Violation(rule, key, _where(item, root)))
    return sorted(found.values(), key=lambda v: v.key)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (import chains can be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(start: str, graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no cycle")


def cycle_violations(imports: list[Import], root: Path) -> list[Violation]:
    """One violation per set of modules that import each other (a strongly connected
    component), illustrated by a shortest cycle with the line of each import."""
    running = [item for item in imports if not item.type_only]
    graph: dict[str, set[str]] = {}
    first: dict[tuple[str, str], Import] = {}
    for item in running:
        graph.setdefault(item.importer, set()).add(item.imported)
        graph.setdefault(item.imported, set())
        first.setdefault((item.importer, item.imported), item)
    found = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        path = _shortest_cycle(component[0], graph, set(component))
        steps = "; ".join(_where(first[(a, b)], root) for a, b in zip(path, path[1:], strict=False))
        key = "cycle: " + " <-> ".join(component)
        found.append(Violation("cycle", key, f"{' -> '.join(path)} ({steps})"))
    return sorted(found, key=lambda v: v.key)


def check(root: Path, plugins: Iterable[str], core: str = CORE) -> list[Violation]:
    """All violations of the rules in the packages ``core`` and ``plugins`` under ``root``."""
    plugins = sorted(plugins)
    modules = modules_of(root, [core, *plugins])
    imports = project_imports(root, modules)
    return layer_violations(imports, plugins, root, core) + cycle_violations(imports, root)


def report(violations: Iterable[Violation]) -> str:
    """One line per violation under the rule it breaks, for a test's failure message."""
    violations = list(violations)
    lines = []
    for rule, meaning in RULES.items():
        broken = [v for v in violations if v.rule == rule]
        if broken:
            lines.append(f"{meaning}:")
            lines += [f"  {v.detail}" for v in broken]
    return "\n".join(lines)
