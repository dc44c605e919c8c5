"""The import graph keeps the layers of docs/architecture.md: imports point down, no cycles.

An AST walk over foitrack/ rather than import-linter contracts: it sees imports inside
functions (which once held a 16-file cycle together) and ``if TYPE_CHECKING:`` blocks, names
the file and line of every offence, and needs no configuration kept in step with the package.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import foitrack

PACKAGE_DIR = Path(foitrack.__file__).parent

# Layers, lowest first: a module may import its own layer and the layers below it.
LAYERS = ("domain", "models", "exporters", "services", "web", "cli", "worker")
RANK = {"domain": 0, "models": 1, "exporters": 2, "services": 3, "web": 4, "cli": 4, "worker": 4}

# The plumbing beside the layers: what each module may import itself...
PLUMBING_IMPORTS: dict[str, set[str]] = {
    "foitrack.errors": set(),
    "foitrack.paths": set(),
    "foitrack.storage": set(),
    "foitrack.config": {"domain"},  # the clock's settings are a domain value
    "foitrack.db": {"foitrack.config"},
    "foitrack.migrate": {"foitrack.config", "foitrack.paths"},
    "foitrack.backups": {"foitrack.migrate", "foitrack.db", "foitrack.paths", "foitrack.storage",
                         "models"},
    "foitrack.broker": {"foitrack.db"},
    # create_app binds everything, so the package itself sits on top of web (as cli does).
    "foitrack": {"foitrack.config", "foitrack.db", "foitrack.migrate", "foitrack.paths", "web",
                 "foitrack.broker"},
    "foitrack.wsgi": {"foitrack"},
}
# ...and who may import it (a layer name or a plumbing module).
ALL = {*LAYERS, *PLUMBING_IMPORTS}
PLUMBING_IMPORTERS: dict[str, set[str]] = {
    "foitrack.errors": ALL,
    "foitrack.paths": ALL,
    "foitrack.db": {"models", "services", "web", "cli", "worker", "foitrack", "foitrack.backups",
                    "foitrack.broker"},
    "foitrack.storage": {"services", "web", "cli", "worker", "foitrack.backups"},
    # Jobs are asked for by services (handed over after commit) and run by the worker.
    "foitrack.broker": {"services", "web", "cli", "worker", "foitrack"},
    "foitrack.config": {"foitrack.db", "foitrack.migrate", "foitrack", "worker"},
    "foitrack.migrate": {"cli", "foitrack", "foitrack.backups"},
    "foitrack.backups": {"cli"},
    "foitrack": {"cli", "worker", "foitrack.wsgi"},
    "foitrack.wsgi": set(),
}

# Known offences, each waiting on a move (none now: the last, charts importing services and
# the services.campaigns <-> services.design cycle, were moved). An entry here must name a
# real offence: test_known_offences_still_exist fails once one is stale.
KNOWN_OFFENCES: set[tuple[str, str]] = set()
KNOWN_CYCLES: set[frozenset[str]] = set()


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int
    type_checking: bool

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for child in ast.walk(node))
    return inside


def _imported_names(node: ast.Import | ast.ImportFrom, package: str,
                    modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    # `from foitrack.web import page_cache` imports the submodule, not the package.
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names]


def _owning_module(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> list[Edge]:
    """Every import of one foitrack module by another, those inside functions included."""
    modules = _modules()
    edges = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        type_checking = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported_names(node, package, modules):
                target = _owning_module(name, modules) if name.startswith("foitrack") else None
                if target is not None and target != module:
                    edges.add(Edge(module, target, node.lineno, id(node) in type_checking))
    return sorted(edges, key=lambda e: (e.importer, e.line, e.imported))


def layer_of(module: str) -> str:
    """The layer a module belongs to, or the plumbing module's own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else module


def _allowed(edge: Edge) -> bool:
    importer, imported = layer_of(edge.importer), layer_of(edge.imported)
    if importer == imported:
        return _allowed_within(edge) if importer == "web" else True
    if imported in PLUMBING_IMPORTERS and importer not in PLUMBING_IMPORTERS[imported]:
        return False
    if importer in PLUMBING_IMPORTS:
        return imported in PLUMBING_IMPORTS[importer] or edge.imported in PLUMBING_IMPORTS[importer]
    if imported in PLUMBING_IMPORTS:
        return True
    # web and cli share a rank but stand apart: neither imports the other.
    return RANK[imported] < RANK[importer]


def _allowed_within(edge: Edge) -> bool:
    """Inside web: app.py wires everything and nothing imports it; the API and the pages
    stand apart (what both need lives in context, downloads or a service)."""
    if edge.imported == "foitrack.web.app":
        return False
    sides = ("foitrack.web.api", "foitrack.web.views")
    for side in sides:
        other = sides[1 - sides.index(side)]
        if edge.importer.startswith(side) and edge.imported.startswith(other):
            return False
    return True


def offences(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if not _allowed(e)]


def cycles(edges: list[Edge]) -> list[frozenset[str]]:
    """Strongly connected groups of modules; a type-checking import in models does not count
    (the models name each other in annotations, resolved lazily by SQLAlchemy)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        if not (e.type_checking and layer_of(e.importer) == "models"):
            graph[e.importer].add(e.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph is shallow enough to recurse
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_point_down_only() -> None:
    found = [e for e in offences(import_graph()) if (e.importer, e.imported) not in KNOWN_OFFENCES]
    assert not found, "imports against the layers (docs/architecture.md):\n" + "\n".join(
        map(str, found))


def test_no_import_cycles() -> None:
    edges = import_graph()
    found = [c for c in cycles(edges) if c not in KNOWN_CYCLES]
    described = []
    for group in found:
        described.append(", ".join(sorted(group)) + "\n" + "\n".join(
            f"    {e}" for e in edges if e.importer in group and e.imported in group))
    assert not found, "import cycles:\n" + "\n".join(described)


def test_known_offences_still_exist() -> None:
    """The allow-lists only shrink: an entry whose import has gone must be removed."""
    edges = import_graph()
    present = {(e.importer, e.imported) for e in offences(edges)}
    assert present >= KNOWN_OFFENCES, f"stale: {KNOWN_OFFENCES - present}"
    assert set(cycles(edges)) >= KNOWN_CYCLES, f"stale: {KNOWN_CYCLES - set(cycles(edges))}"


def test_the_walk_sees_imports_inside_functions() -> None:
    edges = {(e.importer, e.imported) for e in import_graph()}
    # create_app imports the web wiring inside the function, so importing foitrack stays light.
    assert ("foitrack", "foitrack.web.app") in edges
    assert ("foitrack.web.views.campaigns", "foitrack.web.page_cache") in edges


def test_the_rules_refuse_an_upward_import_and_a_cycle() -> None:
    up = Edge("foitrack.domain.clock", "foitrack.services.requests", 1, False)
    across = Edge("foitrack.web.api", "foitrack.web.views.data", 1, False)
    sideways = Edge("foitrack.web.views.main", "foitrack.cli", 1, False)
    plumbing = Edge("foitrack.domain.clock", "foitrack.db", 1, False)
    assert offences([up, across, sideways, plumbing]) == [up, across, sideways, plumbing]
    loop = [Edge("foitrack.services.a", "foitrack.services.b", 1, False),
            Edge("foitrack.services.b", "foitrack.services.a", 9, False)]
    assert cycles(loop) == [frozenset({"foitrack.services.a", "foitrack.services.b"})]
    typed = [Edge("foitrack.models.a", "foitrack.models.b", 1, True),
             Edge("foitrack.models.b", "foitrack.models.a", 1, False)]
    assert cycles(typed) == []
