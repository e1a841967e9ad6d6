"""The import structure of towerplan: one direction of flow, no cycles.

Every ``import`` of a towerplan module in the source is an edge, wherever it stands (module
level, inside a function, under ``TYPE_CHECKING``). The graph must be acyclic, and every edge
must point to the same or a lower layer of :data:`LAYERS`: stage modules (radio, io,
coverage, analysis, outputs) never import the pipeline, the commands or the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "towerplan"

#: Layers from the bottom up; a module belongs to the first entry that is it or its package.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("towerplan._version", "towerplan.errors", "towerplan._scenario_checks"),
    ("towerplan.radio",),
    ("towerplan.scenario", "towerplan.programme_scenario", "towerplan.i18n",
     "towerplan.columns"),
    ("towerplan.io", "towerplan.fetch"),
    ("towerplan.coverage",),
    ("towerplan.inputs",),
    ("towerplan.analysis",),
    ("towerplan.results",),
    ("towerplan.outputs",),
    ("towerplan.pipeline",),
    ("towerplan.commands",),
    ("towerplan.cli", "towerplan.__main__", "towerplan"),
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _edges(module: str, path: Path) -> set[tuple[str, str, bool]]:
    """(importer, imported, inside a function) for every towerplan import of *module*."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    in_function = {id(node) for fn in ast.walk(tree)
                   if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                   for node in ast.walk(fn)}
    edges = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            target = _resolve(name) if name.startswith("towerplan") else None
            if target is not None and target != module:
                edges.add((module, target, id(node) in in_function))
    return edges


EDGES = {e for module, path in MODULES.items() for e in _edges(module, path)}


def _layer(module: str) -> int:
    for k, members in enumerate(LAYERS):
        for m in members:
            if module == m or (m != "towerplan" and module.startswith(m + ".")):
                return k
    raise AssertionError(f"{module} is in no layer of LAYERS")


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_the_import_graph_has_no_cycle() -> None:
    graph = nx.DiGraph((a, b) for a, b, _ in EDGES)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_imports_point_down_the_layers() -> None:
    upward = sorted(f"{a} -> {b}" for a, b, _ in EDGES if _layer(b) > _layer(a))
    assert upward == []


@pytest.mark.parametrize("stage", ["towerplan.radio", "towerplan.io", "towerplan.coverage",
                                   "towerplan.analysis", "towerplan.outputs"])
def test_stage_modules_never_import_the_orchestrator_or_commands(stage: str) -> None:
    top = ("towerplan.pipeline", "towerplan.commands", "towerplan.cli")
    bad = sorted(f"{a} -> {b}" for a, b, _ in EDGES
                 if (a == stage or a.startswith(stage + ".")) and b.startswith(top))
    assert bad == []


def test_function_local_imports_are_only_lazy_command_entry_points() -> None:
    """Inside functions, only the command line imports towerplan modules (to start fast)."""
    local = sorted(f"{a} -> {b}" for a, b, inside in EDGES
                   if inside and a not in ("towerplan.cli", "towerplan"))
    assert local == []


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks above can fail: a module importing the commands from a stage module is
    reported as upward, and two modules importing each other as a cycle."""
    fake = tmp_path / "towerplan" / "analysis"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    bad = fake / "bad.py"
    bad.write_text("def f():\n    from towerplan.commands import plan\n", encoding="utf-8")
    edges = _edges("towerplan.analysis.bad", bad)
    assert ("towerplan.analysis.bad", "towerplan.commands.plan", True) in {
        (a, b, c) for a, b, c in edges} or ("towerplan.analysis.bad", "towerplan.commands",
                                             True) in edges
    graph = nx.DiGraph([("a", "b"), ("b", "a")])
    assert [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert _layer("towerplan.commands.plan") > _layer("towerplan.analysis.audit")


def test_no_numba_kernel_uses_fast_math() -> None:
    """numba compiles a callee shared by two callers with the flags of the caller that
    compiles it first (numba issue 7168): one fast-math kernel calling ITM's kernels made
    exact ITM coverage depend on which mode ran first. No kernel may ask for fast-math."""
    offenders = []
    for name, path in sorted(_modules().items()):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "fastmath":
                value = node.value
                if not (isinstance(value, ast.Constant) and value.value in (False, None)):
                    offenders.append(f"{name}:{node.value.lineno}")
    assert offenders == []
