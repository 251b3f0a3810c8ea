"""The layout rules a newcomer relies on, checked on the source tree itself.

- The domain core (`chatserver/core/`) and the assistant's package (`responses/`) are sans-I/O:
  they import no network, database, web or async library, no clock, and nothing from transport.
  `responses/` never imports `chatserver` at all.
- No import cycle between the project's modules (counting every import, also inside functions
  and `TYPE_CHECKING` blocks: an import hidden there still ties the two modules together).
- No source file over 600 lines outside data and tests.
- The adapters (`chatserver/transport/`) read the core only through its immutable views
  (`presence`, `queue_view`, `conversation`, `directory`), never its mutable state.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("chatserver", "responses")

# Libraries that wait on the network, the disk or a clock; the core must not see them.
IO_LIBRARIES = frozenset(
    {
        "asyncio",
        "socket",
        "selectors",
        "threading",
        "subprocess",
        "time",
        "sqlite3",
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "psycopg",
        "redis",
        "starlette",
        "uvicorn",
        "websockets",
        "httpx",
    }
)
MAX_LINES = 600
SOURCE_SUFFIXES = (".py", ".js", ".css", ".html")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module `module` imports (absolute names), with the line it does so on."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


def _project_target(name: str) -> str | None:
    """The project module a dotted import name lands in (a module, else its package)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("layer", ["chatserver.core", "responses"])
def test_pure_layers_import_no_io_and_no_transport(layer: str) -> None:
    offending = []
    for module, path in MODULES.items():
        if not _in(module, layer):
            continue
        for name, line in _imports(module, path):
            top = name.split(".")[0]
            forbidden = (
                top in IO_LIBRARIES
                or _in(name, "chatserver.transport")
                or _in(name, "chatserver.storage")
                or _in(name, "chatserver.broker")
                or (layer == "responses" and top == "chatserver")
            )
            if forbidden:
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offending == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _line in _imports(module, path):
            target = _project_target(name)
            # A package's own __init__ is where its modules are found, not a dependency of theirs.
            if target is not None and target != module and not _in(module, target):
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    """Guards the test above: two modules importing each other are reported."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_source_file_over_600_lines() -> None:
    too_long = []
    for folder in ("chatserver", "responses", "widget", "bench"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                lines = len(path.read_text(encoding="utf-8").splitlines())
                if lines > MAX_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert too_long == []


# The core's mutable state, and the old queries kept for its own tests; the adapters use the views.
ENGINE_INTERNALS = re.compile(
    r"engine\.(roster|queue|conversations|parked|queue_snapshot|operator_chats|figures)\b"
)


def test_transport_reads_the_core_only_through_its_views() -> None:
    reaching_in = []
    for path in sorted((ROOT / "chatserver" / "transport").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found = ENGINE_INTERNALS.search(line)
            if found:
                reaching_in.append(f"{path.relative_to(ROOT)}:{number} reads {found.group(0)}")
    assert reaching_in == []


def test_the_internals_pattern_sees_a_read() -> None:
    """Guards the test above: direct reads are reported, the views are not."""
    assert ENGINE_INTERNALS.search("if cid in self._engine.queue:")
    assert ENGINE_INTERNALS.search("conv = hub.engine.conversations.get(cid)")
    assert ENGINE_INTERNALS.search("len(engine.roster.serving(team))")
    assert not ENGINE_INTERNALS.search("engine.queue_view.snapshot()")
    assert not ENGINE_INTERNALS.search("engine.conversation(cid)")
