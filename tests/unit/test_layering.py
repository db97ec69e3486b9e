"""The package's layers: each subpackage imports only the layers below it, and no import cycle exists.

The order, lowest first, is the one each package's docstring states. Every import counts, those under
``TYPE_CHECKING`` and inside functions included: a dependency is a dependency, whenever it is paid.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mockserver", "contracts")

# The layers, lowest first. A module's layer is the first entry that is a prefix of its dotted name.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("mockserver.errors", "mockserver.limits", "mockserver.installation"),
    ("mockserver.documents",),
    ("mockserver.data",),
    ("mockserver.kinds",),
    ("mockserver.declarations",),
    ("mockserver.drifts",),
    ("mockserver.state",),
    ("mockserver.engine",),
    ("mockserver.serving",),
    ("mockserver.intercept",),
    ("mockserver.testing",),
    ("mockserver.authoring",),
    ("mockserver.cli", "mockserver.__main__", "=mockserver"),  # the command line, the public API
    ("contracts.targets",),
    ("contracts.checks",),
    ("contracts.reporting",),
    ("contracts.tools",),
    # the suite's own entry points
    ("=contracts", "contracts.__main__", "contracts.conftest", "contracts.test_contract"),
)
# "=name" is that module only (a package's __init__), never its submodules: a new subpackage is in no
# layer until it is added here, rather than silently at the top.
# The one allowed upward edge: ``vendor-emulator contracts ...`` hands over to the contract suite's
# command line, imported only when that command runs. Nothing else of mockserver knows contracts.
COMPOSITION_ROOT = {("mockserver.cli", "contracts.tools.cli")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    paths = (path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")))
    return {module_name(path): path for path in paths}


def imported(module: str, path: Path, known: set[str]) -> Iterator[str]:
    """The project modules ``module`` imports (``from pkg import submodule`` names the submodule)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [name if name in known else base for name in names]
        else:
            continue
        yield from (name for name in names if name in known and name != module)


def _in(module: str, entry: str) -> bool:
    if entry.startswith("="):
        return module == entry[1:]
    return module == entry or module.startswith(entry + ".")


def layer_of(module: str) -> int:
    for index, entries in enumerate(LAYERS):
        if any(_in(module, entry) for entry in entries):
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS (and say why in its docstring)")


MODULES = source_modules()
KNOWN = set(MODULES)
GRAPH = {module: set(imported(module, path, KNOWN)) for module, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_its_own_layer_or_lower(module: str) -> None:
    upward = sorted(
        target
        for target in GRAPH[module]
        if layer_of(target) > layer_of(module) and (module, target) not in COMPOSITION_ROOT
    )
    assert not upward, f"{module} (layer {layer_of(module)}) imports a higher layer: {upward}"


def test_mockserver_never_imports_contracts_but_through_the_command_line() -> None:
    reverse = sorted(
        (module, target)
        for module, targets in GRAPH.items()
        for target in targets
        if module.startswith("mockserver") and target.startswith("contracts")
    )
    assert set(reverse) <= COMPOSITION_ROOT, reverse


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


def test_there_is_no_import_cycle() -> None:
    """Every edge counts, a package's ``__init__`` re-exporting its modules included: such a package is
    in a cycle only when one of those modules imports the package back."""
    assert cycles(GRAPH) == []


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer_of(module)  # raises, naming the module, for one that is in no layer


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
